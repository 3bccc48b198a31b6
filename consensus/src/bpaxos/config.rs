//! BPaxos settings, layout and the deliberate bugs tests inject.

use std::collections::BTreeSet;
use std::time::Duration;

use stratus_sim::NodeId;

use crate::command::ClusterId;
use crate::error::ConsensusError;

/// Deliberate bugs, each breaking what one check guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Leaders take the dependencies of the first dependency-service reply instead of the
    /// union of a quorum's: conflicting commands can end up unordered (guarded by the
    /// conflicting-vertices-are-dependent invariant).
    FirstDepReplyOnly,
    /// Recovery skips the votes phase 1 found and proposes a no-op: two values get chosen for
    /// one vertex (guarded by the one-value-per-vertex invariant).
    RecoverIgnoringVotes,
    /// Replicas execute the members of a strongly connected component in arrival order, not
    /// by vertex id (guarded by the same-order-everywhere invariant).
    UnsortedComponents,
    /// Replicas never recover a missing dependency (guarded by the liveness check).
    NoRecovery,
    /// The dependency service reports every earlier command, conflicting or not (guarded by
    /// the commuting-commands-are-not-ordered invariant).
    DependOnEverything,
}

/// BPaxos tuning.
#[derive(Clone, Debug, PartialEq)]
pub struct BPaxosConfig {
    /// Failures tolerated: dependency-service and acceptor quorums are `f + 1` of `2f + 1`.
    pub f: usize,
    /// Housekeeping period (resends, recovery checks).
    pub tick: Duration,
    /// Unanswered requests to the dependency service or acceptors are resent after this.
    pub resend: Duration,
    /// A replica recovers a dependency that stayed uncommitted this long.
    pub recover_after: Duration,
    /// Record audit events for the invariant monitor (tests).
    pub audit: bool,
    /// A deliberate bug (tests only).
    pub bug: Option<Bug>,
}

impl BPaxosConfig {
    /// Defaults for `f` failures: 5 ms ticks, 8 ms resend, recovery after 20 ms.
    pub fn new(f: usize) -> Self {
        BPaxosConfig {
            f,
            tick: Duration::from_millis(5),
            resend: Duration::from_millis(8),
            recover_after: Duration::from_millis(20),
            audit: false,
            bug: None,
        }
    }

    /// Nodes in a quorum of the dependency service or of an acceptor group.
    pub fn quorum(&self) -> usize {
        self.f + 1
    }

    /// Rejects settings that would stall the protocol.
    pub fn validate(&self) -> Result<(), ConsensusError> {
        if self.tick.is_zero() || self.resend.is_zero() || self.recover_after.is_zero() {
            return Err(ConsensusError::InvalidConfig(
                "tick, resend and recover_after must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// Which node plays which BPaxos role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BPaxosLayout {
    /// The cluster's id.
    pub cluster: ClusterId,
    /// Leaders, each with its proposer; vertex ids name them by index.
    pub leaders: Vec<NodeId>,
    /// The dependency service (`2f + 1`).
    pub deps: Vec<NodeId>,
    /// Acceptor groups (each `2f + 1`); a vertex is decided by group `hash(vertex) % groups`.
    pub acceptor_groups: Vec<Vec<NodeId>>,
    /// Replicas.
    pub replicas: Vec<NodeId>,
}

impl BPaxosLayout {
    /// Roles on consecutive ids from 0: leaders, dependency nodes, acceptor groups, replicas.
    pub fn dense(
        cluster: ClusterId,
        leaders: usize,
        deps: usize,
        groups: usize,
        group_size: usize,
        replicas: usize,
    ) -> Self {
        let mut next = 0u32;
        let mut take = |n: usize| {
            let ids: Vec<NodeId> = (next..next + n as u32).map(NodeId).collect();
            next += n as u32;
            ids
        };
        BPaxosLayout {
            cluster,
            leaders: take(leaders),
            deps: take(deps),
            acceptor_groups: (0..groups).map(|_| take(group_size)).collect(),
            replicas: take(replicas),
        }
    }

    /// Checks sizes against `f` and that every node appears once.
    pub fn validate(&self, f: usize) -> Result<(), ConsensusError> {
        if self.leaders.is_empty() {
            return Err(ConsensusError::EmptyRole { role: "leaders" });
        }
        if self.replicas.is_empty() {
            return Err(ConsensusError::EmptyRole { role: "replicas" });
        }
        if self.acceptor_groups.is_empty() {
            return Err(ConsensusError::EmptyRole {
                role: "acceptor groups",
            });
        }
        let needed = 2 * f + 1;
        for group in self.acceptor_groups.iter().chain([&self.deps]) {
            if group.len() < needed {
                return Err(ConsensusError::TooFewAcceptors {
                    f,
                    acceptors: group.len(),
                    needed,
                });
            }
        }
        let mut seen = BTreeSet::new();
        for &id in self.all() {
            if id == NodeId::EXTERNAL || !seen.insert(id) {
                return Err(ConsensusError::DuplicateNode(id));
            }
        }
        Ok(())
    }

    /// Every node: leaders, dependency nodes, acceptors, replicas.
    pub fn all(&self) -> impl Iterator<Item = &NodeId> {
        self.leaders
            .iter()
            .chain(&self.deps)
            .chain(self.acceptor_groups.iter().flatten())
            .chain(&self.replicas)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.all().count()
    }

    /// Whether the layout is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The acceptor group deciding `vertex`.
    pub fn group_of(&self, vertex: super::VertexId) -> &[NodeId] {
        let n = self.acceptor_groups.len() as u64;
        let g = (vertex
            .seq
            .wrapping_mul(31)
            .wrapping_add(u64::from(vertex.leader)))
            % n.max(1);
        &self.acceptor_groups[g as usize]
    }
}
