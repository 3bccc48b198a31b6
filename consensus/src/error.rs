//! Typed errors for configuring clusters, talking to them and restoring snapshots.

use stratus_sim::{NodeId, SimError};

use crate::command::ClusterId;

/// What went wrong building, driving or talking to a replicated cluster.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConsensusError {
    /// Fewer acceptors than `2f + 1`: `f` failures could not be tolerated.
    #[error("{acceptors} acceptors cannot tolerate f = {f} failures (need at least {needed})")]
    TooFewAcceptors {
        /// The number of failures to tolerate.
        f: usize,
        /// Acceptors given.
        acceptors: usize,
        /// `2f + 1`.
        needed: usize,
    },
    /// Fewer matchmakers than `2f + 1` (Matchmaker MultiPaxos).
    #[error("{matchmakers} matchmakers cannot tolerate f = {f} failures (need at least {needed})")]
    TooFewMatchmakers {
        /// The number of failures to tolerate.
        f: usize,
        /// Matchmakers given.
        matchmakers: usize,
        /// `2f + 1`.
        needed: usize,
    },
    /// A role that needs at least one node (leaders, replicas) has none.
    #[error("the cluster has no {role}")]
    EmptyRole {
        /// Which role is empty.
        role: &'static str,
    },
    /// The same node id was given twice (within a role or across roles).
    #[error("node {0} appears more than once in the layout")]
    DuplicateNode(NodeId),
    /// A node id that is not part of the deployment.
    #[error("unknown node {0}")]
    UnknownNode(NodeId),
    /// A command addressed to a cluster that this handle or node does not serve.
    #[error("unknown cluster {requested} (this deployment is cluster {serving})")]
    UnknownCluster {
        /// The cluster the command named.
        requested: ClusterId,
        /// The cluster that received it.
        serving: ClusterId,
    },
    /// Snapshot bytes that do not decode to a state machine.
    #[error("corrupt snapshot: {0}")]
    CorruptSnapshot(String),
    /// A configuration value that makes no sense (zero batch size, zero timeouts, …).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// No reply arrived within the handle's patience (the cluster may be down).
    #[error("no reply after {attempts} attempts")]
    Timeout {
        /// How many times the command was sent.
        attempts: u32,
    },
    /// The simulator or live driver refused (bad network settings, a panicked node thread…).
    #[error(transparent)]
    Sim(#[from] SimError),
}
