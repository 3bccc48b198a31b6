//! `Max<T>`: the totally ordered lattice where merge keeps the larger value.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::bounded::Bounded;
use crate::merge::{IsBot, IsTop, LatticeFrom, Merge};

/// Keeps the maximum: `a ⊔ b = max(a, b)`. ⊥ is `T`'s minimum where it has one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Max<T>(pub T);

impl<T> Max<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Max(value)
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

impl<T: Ord> Merge for Max<T> {
    fn merge(&mut self, other: Self) -> bool {
        if other.0 > self.0 {
            self.0 = other.0;
            true
        } else {
            false
        }
    }
}

impl<T: Ord> PartialOrd for Max<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.0.cmp(&other.0))
    }
}

impl<T: Bounded + PartialEq> IsBot for Max<T> {
    fn is_bot(&self) -> bool {
        self.0 == T::MIN
    }
}

impl<T: Bounded + PartialEq> IsTop for Max<T> {
    fn is_top(&self) -> bool {
        self.0 == T::MAX
    }
}

impl<T> LatticeFrom<Max<T>> for Max<T> {
    fn lattice_from(other: Max<T>) -> Self {
        other
    }
}
