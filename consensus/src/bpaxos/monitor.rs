//! BPaxos invariants, checked after every simulator step: one value per vertex; two chosen
//! vertices with conflicting commands depend on each other one way or the other; every
//! replica executes conflicting commands in the same order; replicas execute only chosen
//! values.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::marker::PhantomData;

use stratus_sim::NodeId;

use super::vertex::{VertexId, VertexValue};
use crate::multipaxos::Ballot;
use crate::state_machine::StateMachine;

/// What a BPaxos role did that the monitor needs to see.
#[derive(Clone, Debug, PartialEq)]
pub enum BpAuditEvent<C> {
    /// An acceptor voted.
    Voted {
        /// The acceptor.
        acceptor: NodeId,
        /// The vertex.
        vertex: VertexId,
        /// The ballot.
        ballot: Ballot,
        /// The value voted for.
        value: VertexValue<C>,
    },
    /// A replica executed a vertex (no-ops and deduplicated retries included).
    Executed {
        /// The replica.
        replica: NodeId,
        /// The vertex.
        vertex: VertexId,
        /// Digest of the value executed.
        digest: u64,
    },
    /// A replica (re)started: it executes its committed graph from scratch.
    Restarted {
        /// The replica.
        replica: NodeId,
    },
}

/// A broken BPaxos invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BpViolation {
    /// Two values chosen for one vertex.
    TwoValuesChosen {
        /// The vertex.
        vertex: VertexId,
    },
    /// Two chosen vertices with conflicting commands, neither depending on the other.
    ConflictUnordered {
        /// One vertex.
        a: VertexId,
        /// The other.
        b: VertexId,
    },
    /// Two chosen vertices with commands that do not conflict, one depending on the other:
    /// commuting commands must not be ordered.
    NeedlessDependency {
        /// One vertex.
        a: VertexId,
        /// The other.
        b: VertexId,
    },
    /// Two replicas executed conflicting commands in opposite orders.
    OrderDiffers {
        /// The replica that disagreed with an earlier one.
        replica: NodeId,
        /// Executed first there.
        first: VertexId,
        /// Executed second there.
        second: VertexId,
    },
    /// A replica executed a value that was not chosen.
    ExecutedUnchosen {
        /// The replica.
        replica: NodeId,
        /// The vertex.
        vertex: VertexId,
    },
}

impl fmt::Display for BpViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BpViolation::TwoValuesChosen { vertex } => {
                write!(f, "two values chosen for vertex {vertex}")
            }
            BpViolation::ConflictUnordered { a, b } => write!(
                f,
                "conflicting vertices {a} and {b} were chosen without either depending on the other"
            ),
            BpViolation::NeedlessDependency { a, b } => write!(
                f,
                "vertices {a} and {b} do not conflict, yet one depends on the other"
            ),
            BpViolation::OrderDiffers {
                replica,
                first,
                second,
            } => write!(
                f,
                "conflicting commands executed in different orders: {replica} ran {first} before {second}, another replica the reverse"
            ),
            BpViolation::ExecutedUnchosen { replica, vertex } => {
                write!(
                    f,
                    "{replica} executed {vertex} with a value that was not chosen"
                )
            }
        }
    }
}

/// Checks the BPaxos invariants incrementally.
#[derive(Debug)]
pub struct BpMonitor<S: StateMachine> {
    quorum: usize,
    tallies: HashMap<(VertexId, Ballot), BTreeMap<u64, BTreeSet<NodeId>>>,
    chosen: BTreeMap<VertexId, VertexValue<S::Command>>,
    executed: BTreeMap<NodeId, Vec<VertexId>>,
    order: HashMap<(VertexId, VertexId), VertexId>,
    events: u64,
    _machine: PhantomData<fn() -> S>,
}

impl<S: StateMachine> BpMonitor<S> {
    /// A monitor for acceptor quorums of `quorum`.
    pub fn new(quorum: usize) -> Self {
        BpMonitor {
            quorum,
            tallies: HashMap::new(),
            chosen: BTreeMap::new(),
            executed: BTreeMap::new(),
            order: HashMap::new(),
            events: 0,
            _machine: PhantomData,
        }
    }

    /// Events checked.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Vertices seen chosen.
    pub fn chosen(&self) -> usize {
        self.chosen.len()
    }

    fn conflict(a: &VertexValue<S::Command>, b: &VertexValue<S::Command>) -> bool {
        match (&a.command, &b.command) {
            (Some(x), Some(y)) => S::conflicts(&x.op, &y.op),
            _ => false,
        }
    }

    /// Checks one event.
    pub fn observe(&mut self, event: BpAuditEvent<S::Command>) -> Result<(), BpViolation> {
        self.events += 1;
        match event {
            BpAuditEvent::Voted {
                acceptor,
                vertex,
                ballot,
                value,
            } => {
                let digest = value.digest();
                let voters = self
                    .tallies
                    .entry((vertex, ballot))
                    .or_default()
                    .entry(digest)
                    .or_default();
                voters.insert(acceptor);
                if voters.len() < self.quorum {
                    return Ok(());
                }
                if let Some(first) = self.chosen.get(&vertex) {
                    if first.digest() != digest {
                        return Err(BpViolation::TwoValuesChosen { vertex });
                    }
                    return Ok(());
                }
                for (&other, theirs) in &self.chosen {
                    let ordered = theirs.deps.binary_search(&vertex).is_ok()
                        || value.deps.binary_search(&other).is_ok();
                    let commands = theirs.command.is_some() && value.command.is_some();
                    let conflict = Self::conflict(theirs, &value);
                    if conflict && !ordered {
                        return Err(BpViolation::ConflictUnordered {
                            a: other,
                            b: vertex,
                        });
                    }
                    if commands && !conflict && ordered {
                        return Err(BpViolation::NeedlessDependency {
                            a: other,
                            b: vertex,
                        });
                    }
                }
                self.chosen.insert(vertex, value);
            }
            BpAuditEvent::Executed {
                replica,
                vertex,
                digest,
            } => {
                let Some(value) = self.chosen.get(&vertex) else {
                    return Err(BpViolation::ExecutedUnchosen { replica, vertex });
                };
                if value.digest() != digest {
                    return Err(BpViolation::ExecutedUnchosen { replica, vertex });
                }
                let before = self.executed.entry(replica).or_default();
                for &earlier in before.iter() {
                    let Some(theirs) = self.chosen.get(&earlier) else {
                        continue;
                    };
                    if !Self::conflict(theirs, value) {
                        continue;
                    }
                    let key = (earlier.min(vertex), earlier.max(vertex));
                    match self.order.get(&key) {
                        Some(&first) if first != earlier => {
                            return Err(BpViolation::OrderDiffers {
                                replica,
                                first: earlier,
                                second: vertex,
                            });
                        }
                        Some(_) => {}
                        None => {
                            self.order.insert(key, earlier);
                        }
                    }
                }
                before.push(vertex);
            }
            BpAuditEvent::Restarted { replica } => {
                self.executed.remove(&replica);
            }
        }
        Ok(())
    }
}
