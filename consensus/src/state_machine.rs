//! The `StateMachine` trait: what every protocol in this crate replicates.

use std::fmt::Debug;

use crate::error::ConsensusError;

/// A deterministic state machine replicated by the protocols of this crate.
///
/// Replicas apply the same commands in the same order (MultiPaxos) or conflicting commands in
/// the same order (BPaxos, which is why `conflicts` exists), so `apply` must be deterministic:
/// no clocks, no randomness, no iteration over hash maps that reaches the output.
pub trait StateMachine: Clone + Debug + Default + Send + 'static {
    /// What clients ask for.
    type Command: Clone + Debug + PartialEq + Send + 'static;
    /// What `apply` answers.
    type Output: Clone + Debug + PartialEq + Send + 'static;

    /// Executes one command and returns its output.
    fn apply(&mut self, command: &Self::Command) -> Self::Output;

    /// Whether the order of `a` and `b` can matter: two commands that do not conflict commute
    /// and may be executed in either order.
    fn conflicts(a: &Self::Command, b: &Self::Command) -> bool;

    /// A coarse index over [`StateMachine::conflicts`]: two commands in different classes never
    /// conflict, and a command of class `None` conflicts with nothing. The BPaxos dependency
    /// service compares a new command only with earlier ones of its class instead of with
    /// every command it has seen. The default puts every command in one class.
    fn conflict_class(_command: &Self::Command) -> Option<u64> {
        Some(0)
    }

    /// The whole state as bytes, for log garbage collection and crash recovery.
    fn snapshot(&self) -> Vec<u8>;

    /// Rebuilds the state from [`StateMachine::snapshot`] bytes; corrupt bytes are an error,
    /// never a panic.
    fn restore(bytes: &[u8]) -> Result<Self, ConsensusError>;
}
