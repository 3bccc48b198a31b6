//! Errors for invalid simulator configuration and use.

use crate::history::HistoryError;
use crate::node::NodeId;

/// What went wrong configuring or driving a simulation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A probability (loss, duplication, …) was outside `[0, 1]` or not a number.
    #[error("probability `{name}` must be within [0, 1], got {value}")]
    InvalidProbability {
        /// Which setting.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A latency distribution whose bounds or parameters make no sense.
    #[error("invalid latency distribution: {0}")]
    InvalidLatency(String),
    /// The run was started with no nodes to simulate.
    #[error("the simulation has no nodes")]
    NoNodes,
    /// A fault or injected message names a node that does not exist.
    #[error("unknown node {node} (the run has {nodes} nodes)")]
    UnknownNode {
        /// The id that was named.
        node: NodeId,
        /// How many nodes exist.
        nodes: usize,
    },
    /// A chaos setting that cannot be satisfied (e.g. more crashes allowed than nodes).
    #[error("invalid fault plan: {0}")]
    InvalidFaultPlan(String),
    /// A history recorded by simulated clients is malformed (a bug in the client node).
    #[error("malformed history: {0}")]
    MalformedHistory(#[from] HistoryError),
    /// A live cluster's node thread panicked; its panic message is attached.
    #[error("node {node} panicked: {message}")]
    NodePanicked {
        /// The node whose thread died.
        node: NodeId,
        /// The panic payload, if it was a string.
        message: String,
    },
}

pub(crate) fn check_probability(name: &'static str, value: f64) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(SimError::InvalidProbability { name, value })
    }
}
