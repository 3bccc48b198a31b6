//! `Lww<T>`: a last-writer-wins register with a deterministic tie-break.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge};

/// A register whose value is the one written with the highest `(timestamp, writer)`.
///
/// Ties on the timestamp are broken by the writer id — not by "keep mine", which makes
/// replicas that see the same two writes in different orders disagree forever (the bug in
/// Anna's Python LWW lattice). A writer reusing a `(timestamp, writer)` pair for two values is
/// resolved by the larger value, so merge stays commutative even then.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lww<T> {
    /// Logical or physical write time.
    pub timestamp: u64,
    /// The writer's id: the tie-break.
    pub writer: u64,
    /// The value.
    pub value: T,
}

impl<T> Lww<T> {
    /// A write of `value` at `timestamp` by `writer`.
    pub fn new(timestamp: u64, writer: u64, value: T) -> Self {
        Lww {
            timestamp,
            writer,
            value,
        }
    }
    /// The current value.
    pub fn value(&self) -> &T {
        &self.value
    }
}

impl<T: Ord> Lww<T> {
    fn rank(&self) -> (u64, u64, &T) {
        (self.timestamp, self.writer, &self.value)
    }
}

impl<T: Ord> Merge for Lww<T> {
    fn merge(&mut self, other: Self) -> bool {
        if other.rank() > self.rank() {
            *self = other;
            true
        } else {
            false
        }
    }
}

impl<T: Ord> PartialOrd for Lww<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.rank().cmp(&other.rank()))
    }
}

impl<T: Default + PartialEq> IsBot for Lww<T> {
    fn is_bot(&self) -> bool {
        self.timestamp == 0 && self.writer == 0 && self.value == T::default()
    }
}

impl<T> LatticeFrom<Lww<T>> for Lww<T> {
    fn lattice_from(other: Lww<T>) -> Self {
        other
    }
}
