//! `Min<T>`: the totally ordered lattice where merge keeps the smaller value.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::bounded::Bounded;
use crate::merge::{IsBot, IsTop, LatticeFrom, Merge};

/// Keeps the minimum: `a ⊔ b = min(a, b)`; the lattice order is the reverse of `T`'s.
/// ⊥ is `T`'s maximum where it has one. `Default` is `T::MAX` (bottom) for bounded `T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Min<T>(pub T);

impl<T> Min<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Min(value)
    }
    /// The current value.
    pub fn get(&self) -> &T {
        &self.0
    }
    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: Bounded> Default for Min<T> {
    fn default() -> Self {
        Min(T::MAX)
    }
}

impl<T: Ord> Merge for Min<T> {
    fn merge(&mut self, other: Self) -> bool {
        if other.0 < self.0 {
            self.0 = other.0;
            true
        } else {
            false
        }
    }
}

impl<T: Ord> PartialOrd for Min<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(other.0.cmp(&self.0))
    }
}

impl<T: Bounded + PartialEq> IsBot for Min<T> {
    fn is_bot(&self) -> bool {
        self.0 == T::MAX
    }
}

impl<T: Bounded + PartialEq> IsTop for Min<T> {
    fn is_top(&self) -> bool {
        self.0 == T::MIN
    }
}

impl<T> LatticeFrom<Min<T>> for Min<T> {
    fn lattice_from(other: Min<T>) -> Self {
        other
    }
}
