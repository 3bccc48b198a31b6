//! `Pair<A, B>`: the product of two lattices.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, IsTop, LatticeFrom, Merge, product_order};

/// Both halves merge independently; ordered componentwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pair<A, B> {
    /// First component.
    pub a: A,
    /// Second component.
    pub b: B,
}

impl<A, B> Pair<A, B> {
    /// A pair of lattices.
    pub fn new(a: A, b: B) -> Self {
        Pair { a, b }
    }
}

impl<A: Merge, B: Merge> Merge for Pair<A, B> {
    fn merge(&mut self, other: Self) -> bool {
        let a = self.a.merge(other.a);
        let b = self.b.merge(other.b);
        a | b
    }
}

impl<A: PartialOrd, B: PartialOrd> PartialOrd for Pair<A, B> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        product_order([self.a.partial_cmp(&other.a), self.b.partial_cmp(&other.b)])
    }
}

impl<A: IsBot, B: IsBot> IsBot for Pair<A, B> {
    fn is_bot(&self) -> bool {
        self.a.is_bot() && self.b.is_bot()
    }
}

impl<A: IsTop, B: IsTop> IsTop for Pair<A, B> {
    fn is_top(&self) -> bool {
        self.a.is_top() && self.b.is_top()
    }
}

impl<A, B> LatticeFrom<Pair<A, B>> for Pair<A, B> {
    fn lattice_from(other: Pair<A, B>) -> Self {
        other
    }
}
