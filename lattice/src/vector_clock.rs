//! `VectorClock`: one counter per replica, merged pointwise by max.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge, product_order};

/// A vector clock: replica id → count. Missing entries are 0, so `{a: 0}` equals `{}`
/// (zero entries are never stored).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VectorClock(BTreeMap<u64, u64>);

impl VectorClock {
    /// The zero clock (⊥).
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock with the given entries (zeros dropped).
    pub fn from_entries(entries: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let mut vc = VectorClock::new();
        for (replica, count) in entries {
            vc.observe(replica, count);
        }
        vc
    }

    /// `replica`'s count.
    pub fn get(&self, replica: u64) -> u64 {
        self.0.get(&replica).copied().unwrap_or(0)
    }

    /// Advances `replica`'s entry by one (a local event) and returns the new count.
    pub fn increment(&mut self, replica: u64) -> u64 {
        let c = self.0.entry(replica).or_insert(0);
        *c += 1;
        *c
    }

    /// Raises `replica`'s entry to at least `count`; `true` if it grew.
    pub fn observe(&mut self, replica: u64, count: u64) -> bool {
        if count == 0 {
            return false;
        }
        let c = self.0.entry(replica).or_insert(0);
        if count > *c {
            *c = count;
            true
        } else {
            false
        }
    }

    /// Non-zero entries in replica order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().map(|(&r, &c)| (r, c))
    }

    /// `self ≥ other` pointwise.
    pub fn dominates(&self, other: &Self) -> bool {
        matches!(
            self.partial_cmp(other),
            Some(Ordering::Greater | Ordering::Equal)
        )
    }

    /// Neither clock dominates the other: the events are concurrent.
    pub fn concurrent_with(&self, other: &Self) -> bool {
        self.partial_cmp(other).is_none()
    }

    /// A total order on clocks used only to store them canonically (not the lattice order).
    pub(crate) fn storage_key(&self) -> Vec<(u64, u64)> {
        self.entries().collect()
    }
}

impl Merge for VectorClock {
    fn merge(&mut self, other: Self) -> bool {
        let mut changed = false;
        for (r, c) in other.0 {
            changed |= self.observe(r, c);
        }
        changed
    }
}

impl PartialOrd for VectorClock {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        pointwise_order(&self.0, &other.0)
    }
}

/// The product order of two replica → count maps where a missing entry counts as 0
/// (shared by vector clocks and grow-only counters).
pub(crate) fn pointwise_order(a: &BTreeMap<u64, u64>, b: &BTreeMap<u64, u64>) -> Option<Ordering> {
    let count = |m: &BTreeMap<u64, u64>, r: &u64| m.get(r).copied().unwrap_or(0);
    let mine = a.iter().map(|(r, &c)| Some(c.cmp(&count(b, r))));
    let theirs = b
        .iter()
        .filter(|(r, _)| !a.contains_key(r))
        .map(|(_, &c)| Some(0.cmp(&c)));
    product_order(mine.chain(theirs))
}

impl IsBot for VectorClock {
    fn is_bot(&self) -> bool {
        self.0.is_empty()
    }
}

impl LatticeFrom<VectorClock> for VectorClock {
    fn lattice_from(other: VectorClock) -> Self {
        other
    }
}
