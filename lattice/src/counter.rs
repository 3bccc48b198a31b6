//! Grow-only and positive-negative counters (state-based CRDTs).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge, product_order};
use crate::vector_clock::pointwise_order;

/// A grow-only counter: one monotone count per replica; the value is their sum.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GCounter(BTreeMap<u64, u64>);

impl GCounter {
    /// Zero.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `n` on behalf of `replica` (each replica only increments its own entry).
    pub fn increment(&mut self, replica: u64, n: u64) {
        if n > 0 {
            let c = self.0.entry(replica).or_insert(0);
            *c = c.saturating_add(n);
        }
    }
    /// The total count.
    pub fn value(&self) -> u128 {
        self.0.values().map(|&c| u128::from(c)).sum()
    }
    /// One replica's contribution.
    pub fn contribution(&self, replica: u64) -> u64 {
        self.0.get(&replica).copied().unwrap_or(0)
    }
}

impl Merge for GCounter {
    fn merge(&mut self, other: Self) -> bool {
        let mut changed = false;
        for (r, c) in other.0 {
            // Zero entries are never stored, so equal counters have equal maps.
            if c > self.contribution(r) {
                self.0.insert(r, c);
                changed = true;
            }
        }
        changed
    }
}

impl PartialOrd for GCounter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        pointwise_order(&self.0, &other.0)
    }
}

impl IsBot for GCounter {
    fn is_bot(&self) -> bool {
        self.0.values().all(|&c| c == 0)
    }
}

impl LatticeFrom<GCounter> for GCounter {
    fn lattice_from(other: GCounter) -> Self {
        other
    }
}

/// A counter that goes up and down: a pair of grow-only counters, value = P − N.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PnCounter {
    /// Increments.
    pub p: GCounter,
    /// Decrements.
    pub n: GCounter,
}

impl PnCounter {
    /// Zero.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `delta` (negative to decrement) on behalf of `replica`.
    pub fn add(&mut self, replica: u64, delta: i64) {
        if delta >= 0 {
            self.p.increment(replica, delta.unsigned_abs());
        } else {
            self.n.increment(replica, delta.unsigned_abs());
        }
    }
    /// The current value.
    pub fn value(&self) -> i128 {
        self.p.value() as i128 - self.n.value() as i128
    }
}

impl Merge for PnCounter {
    fn merge(&mut self, other: Self) -> bool {
        let p = self.p.merge(other.p);
        let n = self.n.merge(other.n);
        p | n
    }
}

impl PartialOrd for PnCounter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        product_order([self.p.partial_cmp(&other.p), self.n.partial_cmp(&other.n)])
    }
}

impl IsBot for PnCounter {
    fn is_bot(&self) -> bool {
        self.p.is_bot() && self.n.is_bot()
    }
}

impl LatticeFrom<PnCounter> for PnCounter {
    fn lattice_from(other: PnCounter) -> Self {
        other
    }
}
