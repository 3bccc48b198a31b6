//! `MultiKeyCausal<T>`: Anna's / Cloudburst's multi-key causal value.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge};
use crate::single_key_causal::order_by_merge;
use crate::vector_clock::VectorClock;

/// One causal version: the values written at a clock and the versions of other keys they
/// depend on (what a reader must also see for a causally consistent cut).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CausalVersion<T: Ord> {
    /// The version's clock.
    pub clock: VectorClock,
    /// Dependencies: key → the least clock of that key a reader must see.
    pub deps: BTreeMap<String, VectorClock>,
    /// The values written at this clock.
    pub values: BTreeSet<T>,
}

/// The causally maximal versions of one key with their dependencies (multi-key causal
/// consistency, as Cloudburst's caches use). Dominated versions are dropped on merge; a
/// version's dependencies are merged pointwise when the same clock arrives twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiKeyCausal<T: Ord> {
    versions: BTreeMap<Vec<(u64, u64)>, CausalVersion<T>>,
}

impl<T: Ord> Default for MultiKeyCausal<T> {
    /// ⊥: no versions.
    fn default() -> Self {
        MultiKeyCausal {
            versions: BTreeMap::new(),
        }
    }
}

impl<T: Ord + Clone> MultiKeyCausal<T> {
    /// A single version.
    pub fn new(clock: VectorClock, deps: BTreeMap<String, VectorClock>, value: T) -> Self {
        let mut versions = BTreeMap::new();
        versions.insert(
            clock.storage_key(),
            CausalVersion {
                clock,
                deps,
                values: BTreeSet::from([value]),
            },
        );
        MultiKeyCausal { versions }
    }

    /// The join of every version's clock.
    pub fn clock(&self) -> VectorClock {
        let mut vc = VectorClock::new();
        for v in self.versions.values() {
            vc.merge(v.clock.clone());
        }
        vc
    }

    /// Every dependency of every live version, merged per key.
    pub fn dependencies(&self) -> BTreeMap<String, VectorClock> {
        let mut deps: BTreeMap<String, VectorClock> = BTreeMap::new();
        for v in self.versions.values() {
            for (k, c) in &v.deps {
                deps.entry(k.clone()).or_default().merge(c.clone());
            }
        }
        deps
    }

    /// The concurrent values.
    pub fn values(&self) -> BTreeSet<&T> {
        self.versions
            .values()
            .flat_map(|v| v.values.iter())
            .collect()
    }

    /// The live versions.
    pub fn versions(&self) -> impl Iterator<Item = &CausalVersion<T>> {
        self.versions.values()
    }
}

impl<T: Ord + Clone> Merge for MultiKeyCausal<T> {
    fn merge(&mut self, other: Self) -> bool {
        let before = self.clone();
        for (key, version) in other.versions {
            match self.versions.get_mut(&key) {
                Some(mine) => {
                    mine.values.extend(version.values);
                    for (k, c) in version.deps {
                        mine.deps.entry(k).or_default().merge(c);
                    }
                }
                None => {
                    self.versions.insert(key, version);
                }
            }
        }
        let clocks: Vec<VectorClock> = self.versions.values().map(|v| v.clock.clone()).collect();
        self.versions.retain(|_, v| {
            !clocks
                .iter()
                .any(|o| o.partial_cmp(&v.clock) == Some(Ordering::Greater))
        });
        *self != before
    }
}

impl<T: Ord + Clone> PartialOrd for MultiKeyCausal<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        order_by_merge(self, other)
    }
}

impl<T: Ord> IsBot for MultiKeyCausal<T> {
    fn is_bot(&self) -> bool {
        self.versions.is_empty()
    }
}

impl<T: Ord> LatticeFrom<MultiKeyCausal<T>> for MultiKeyCausal<T> {
    fn lattice_from(other: MultiKeyCausal<T>) -> Self {
        other
    }
}
