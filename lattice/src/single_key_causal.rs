//! `SingleKeyCausal<T>`: Anna's single-key causal value, as a multi-value register.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge};
use crate::vector_clock::VectorClock;

/// A clock's entries: a total order used only to store versions canonically.
type ClockKey = Vec<(u64, u64)>;

/// The causally maximal versions of one key: each version is a vector clock with the values
/// written at it; versions dominated by another are discarded on merge, concurrent ones kept.
///
/// Anna's `SingleKeyCausalLattice` keeps one clock and one value set, and replaces the set
/// whenever one clock dominates the other; that rule is not associative (merging `a ⊔ b`
/// into a dominating `c` and `a` into `b ⊔ c` disagree). Keeping every maximal version — a
/// multi-value register — is the associative form of the same semantics: reads still see one
/// merged clock and the set of concurrent values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SingleKeyCausal<T: Ord> {
    versions: BTreeMap<ClockKey, (VectorClock, BTreeSet<T>)>,
}

impl<T: Ord> Default for SingleKeyCausal<T> {
    /// ⊥: no versions.
    fn default() -> Self {
        SingleKeyCausal {
            versions: BTreeMap::new(),
        }
    }
}

impl<T: Ord + Clone> SingleKeyCausal<T> {
    /// A single version: `value` written at `clock`.
    pub fn new(clock: VectorClock, value: T) -> Self {
        let mut versions = BTreeMap::new();
        versions.insert(clock.storage_key(), (clock, BTreeSet::from([value])));
        SingleKeyCausal { versions }
    }

    /// The join of every version's clock: what a reader has seen.
    pub fn clock(&self) -> VectorClock {
        let mut vc = VectorClock::new();
        for (clock, _) in self.versions.values() {
            vc.merge(clock.clone());
        }
        vc
    }

    /// The concurrent values (one if there is no conflict).
    pub fn values(&self) -> BTreeSet<&T> {
        self.versions
            .values()
            .flat_map(|(_, vals)| vals.iter())
            .collect()
    }

    /// Number of concurrent versions.
    pub fn versions(&self) -> usize {
        self.versions.len()
    }

    /// Drops versions strictly dominated by another; `true` if any were dropped.
    fn prune(&mut self) {
        let clocks: Vec<VectorClock> = self.versions.values().map(|(c, _)| c.clone()).collect();
        self.versions.retain(|_, (c, _)| {
            !clocks
                .iter()
                .any(|o| o.partial_cmp(c) == Some(Ordering::Greater))
        });
    }
}

impl<T: Ord + Clone> Merge for SingleKeyCausal<T> {
    fn merge(&mut self, other: Self) -> bool {
        let before = self.clone();
        for (key, (clock, vals)) in other.versions {
            match self.versions.get_mut(&key) {
                Some((_, mine)) => mine.extend(vals),
                None => {
                    self.versions.insert(key, (clock, vals));
                }
            }
        }
        self.prune();
        *self != before
    }
}

impl<T: Ord + Clone> PartialOrd for SingleKeyCausal<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        order_by_merge(self, other)
    }
}

impl<T: Ord> IsBot for SingleKeyCausal<T> {
    fn is_bot(&self) -> bool {
        self.versions.is_empty()
    }
}

impl<T: Ord> LatticeFrom<SingleKeyCausal<T>> for SingleKeyCausal<T> {
    fn lattice_from(other: SingleKeyCausal<T>) -> Self {
        other
    }
}

/// The lattice order derived from merge itself: `a ≤ b` iff `a ⊔ b = b`. Used where a direct
/// comparison would duplicate the merge rule.
pub(crate) fn order_by_merge<L: Merge + Clone + PartialEq>(a: &L, b: &L) -> Option<Ordering> {
    let a_le_b = b.clone().merge_owned(a.clone()) == *b;
    let b_le_a = a.clone().merge_owned(b.clone()) == *a;
    match (a_le_b, b_le_a) {
        (true, true) => Some(Ordering::Equal),
        (true, false) => Some(Ordering::Less),
        (false, true) => Some(Ordering::Greater),
        (false, false) => None,
    }
}
