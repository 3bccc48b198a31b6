//! The invariant monitor: fed audit events after every simulator step, it checks that one
//! value is chosen per slot and that every replica's executed log is a prefix of the chosen
//! log (so executed logs are prefix-compatible with each other).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use stratus_sim::NodeId;

use super::ballot::Ballot;

/// Something a role did that the monitor needs to see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditEvent {
    /// An acceptor voted for a value (by digest) in a slot at a ballot.
    Voted {
        /// The acceptor.
        acceptor: NodeId,
        /// The slot.
        slot: u64,
        /// The ballot.
        ballot: Ballot,
        /// Digest of the batch.
        digest: u64,
    },
    /// A replica executed a slot.
    Executed {
        /// The replica.
        replica: NodeId,
        /// The slot.
        slot: u64,
        /// Digest of the batch executed.
        digest: u64,
    },
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two different values were each accepted by a quorum in the same slot.
    TwoValuesChosen {
        /// The slot.
        slot: u64,
        /// Digest of the value chosen first.
        first: u64,
        /// Digest of the other one.
        second: u64,
        /// The ballot the second was chosen in.
        ballot: Ballot,
    },
    /// A replica executed a slot differently from another replica.
    ExecutedDiverged {
        /// The replica.
        replica: NodeId,
        /// The slot.
        slot: u64,
    },
    /// A replica executed a value that no quorum had accepted.
    ExecutedUnchosen {
        /// The replica.
        replica: NodeId,
        /// The slot.
        slot: u64,
    },
}

impl Violation {
    /// Whether this is the one-value-per-slot invariant.
    pub fn is_two_values_chosen(&self) -> bool {
        matches!(self, Violation::TwoValuesChosen { .. })
    }

    /// Whether this is the executed-logs invariant (divergence, or executing the unchosen).
    pub fn is_executed_log(&self) -> bool {
        matches!(
            self,
            Violation::ExecutedDiverged { .. } | Violation::ExecutedUnchosen { .. }
        )
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TwoValuesChosen {
                slot,
                first,
                second,
                ballot,
            } => write!(
                f,
                "two values chosen in slot {slot}: {first:016x}, then {second:016x} at ballot {ballot}"
            ),
            Violation::ExecutedDiverged { replica, slot } => write!(
                f,
                "executed logs diverge: {replica} executed slot {slot} differently from another replica"
            ),
            Violation::ExecutedUnchosen { replica, slot } => {
                write!(
                    f,
                    "{replica} executed slot {slot} before any value was chosen there"
                )
            }
        }
    }
}

/// Checks the safety invariants incrementally, one audit event at a time.
#[derive(Debug)]
pub struct Monitor {
    quorum: usize,
    tallies: HashMap<(u64, Ballot), BTreeMap<u64, BTreeSet<NodeId>>>,
    chosen: HashMap<u64, u64>,
    executed: HashMap<u64, u64>,
    events: u64,
}

impl Monitor {
    /// A monitor for quorums of `quorum` acceptors.
    pub fn new(quorum: usize) -> Self {
        Monitor {
            quorum,
            tallies: HashMap::new(),
            chosen: HashMap::new(),
            executed: HashMap::new(),
            events: 0,
        }
    }

    /// Audit events checked so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Slots known chosen so far.
    pub fn chosen_slots(&self) -> usize {
        self.chosen.len()
    }

    /// Checks one event.
    pub fn observe(&mut self, event: AuditEvent) -> Result<(), Violation> {
        self.events += 1;
        match event {
            AuditEvent::Voted {
                acceptor,
                slot,
                ballot,
                digest,
            } => {
                let voters = self
                    .tallies
                    .entry((slot, ballot))
                    .or_default()
                    .entry(digest)
                    .or_default();
                voters.insert(acceptor);
                if voters.len() >= self.quorum {
                    match self.chosen.get(&slot) {
                        Some(&first) if first != digest => {
                            return Err(Violation::TwoValuesChosen {
                                slot,
                                first,
                                second: digest,
                                ballot,
                            });
                        }
                        Some(_) => {}
                        None => {
                            self.chosen.insert(slot, digest);
                        }
                    }
                }
            }
            AuditEvent::Executed {
                replica,
                slot,
                digest,
            } => {
                if let Some(&seen) = self.executed.get(&slot)
                    && seen != digest
                {
                    return Err(Violation::ExecutedDiverged { replica, slot });
                }
                if self.chosen.get(&slot) != Some(&digest) {
                    return Err(Violation::ExecutedUnchosen { replica, slot });
                }
                self.executed.insert(slot, digest);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(acceptor: u32, slot: u64, round: u64, digest: u64) -> AuditEvent {
        AuditEvent::Voted {
            acceptor: NodeId(acceptor),
            slot,
            ballot: Ballot { round, leader: 0 },
            digest,
        }
    }

    #[test]
    fn the_monitor_flags_each_violation() {
        let mut m = Monitor::new(2);
        m.observe(vote(0, 0, 1, 7)).unwrap();
        m.observe(vote(1, 0, 1, 7)).unwrap();
        // A later ballot may re-choose the same value...
        m.observe(vote(1, 0, 2, 7)).unwrap();
        m.observe(vote(2, 0, 2, 7)).unwrap();
        // ...but not another one.
        m.observe(vote(0, 0, 3, 9)).unwrap();
        assert!(
            m.observe(vote(2, 0, 3, 9))
                .unwrap_err()
                .is_two_values_chosen()
        );

        let exec = |replica, slot, digest| AuditEvent::Executed {
            replica: NodeId(replica),
            slot,
            digest,
        };
        let mut m = Monitor::new(2);
        assert!(m.observe(exec(5, 0, 7)).unwrap_err().is_executed_log());
        m.observe(vote(0, 0, 1, 7)).unwrap();
        m.observe(vote(1, 0, 1, 7)).unwrap();
        m.observe(exec(5, 0, 7)).unwrap();
        m.observe(exec(6, 0, 7)).unwrap();
        assert_eq!(
            m.observe(exec(6, 0, 8)),
            Err(Violation::ExecutedDiverged {
                replica: NodeId(6),
                slot: 0
            })
        );
    }
}
