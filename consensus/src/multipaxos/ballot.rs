//! Ballots: totally ordered, unique to one leader.

use std::fmt;

/// A ballot `(round, leader)`: higher rounds win, ties broken by leader index, so two leaders
/// never use the same ballot. `Ballot::default()` (round 0) means "none yet"; leaders use
/// rounds from 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ballot {
    /// The round number.
    pub round: u64,
    /// Index of the leader that owns the ballot (into `Layout::leaders`).
    pub leader: u32,
}

impl Ballot {
    /// Whether this is a real ballot rather than the initial "none".
    pub fn is_some(self) -> bool {
        self.round > 0
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.leader)
    }
}
