//! Vertices of the dependency graph and the values consensus is reached on.

use std::fmt;

use crate::command::Command;

/// A vertex id `(leader, seq)`: the leader that created it and its sequence number there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VertexId {
    /// Index of the leader that created the vertex.
    pub leader: u32,
    /// Its number within that leader.
    pub seq: u64,
}

impl fmt::Display for VertexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.leader, self.seq)
    }
}

/// What is chosen for a vertex: a command (or a no-op, if recovery found nothing) and the
/// vertices it depends on, sorted.
#[derive(Clone, Debug, PartialEq)]
pub struct VertexValue<C> {
    /// The command; `None` is the no-op recovery chooses when nothing was proposed.
    pub command: Option<Command<C>>,
    /// Dependencies, sorted and without duplicates.
    pub deps: Vec<VertexId>,
}

impl<C> VertexValue<C> {
    /// The no-op: no command, no dependencies.
    pub fn noop() -> Self {
        VertexValue {
            command: None,
            deps: Vec::new(),
        }
    }

    /// A digest of the value (request id and dependencies) for monitors.
    pub fn digest(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        self.command.as_ref().map(|c| c.id).hash(&mut h);
        self.deps.hash(&mut h);
        h.finish()
    }
}
