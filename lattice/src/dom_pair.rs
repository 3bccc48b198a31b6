//! `DomPair<K, V>`: a key that dominates a value (e.g. a clock and the data it versions).

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge};

/// Lexicographic pair: the larger key wins outright; equal keys merge their values.
///
/// This is a lattice only when `K` is **totally** ordered. With a partially ordered key
/// (say, a set), two incomparable keys have no lexicographic join; this implementation
/// merges both halves then, which breaks associativity — the crate's law checker rejects it
/// (tested), which is why Lww and the causal types do not build on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DomPair<K, V> {
    /// The dominating part.
    pub key: K,
    /// The dominated part.
    pub val: V,
}

impl<K, V> DomPair<K, V> {
    /// A dominating pair.
    pub fn new(key: K, val: V) -> Self {
        DomPair { key, val }
    }
}

impl<K: Merge + PartialOrd, V: Merge> Merge for DomPair<K, V> {
    fn merge(&mut self, other: Self) -> bool {
        match self.key.partial_cmp(&other.key) {
            Some(Ordering::Greater) => false,
            Some(Ordering::Less) => {
                *self = other;
                true
            }
            Some(Ordering::Equal) => self.val.merge(other.val),
            None => {
                let k = self.key.merge(other.key);
                let v = self.val.merge(other.val);
                k | v
            }
        }
    }
}

impl<K: PartialOrd, V: PartialOrd> PartialOrd for DomPair<K, V> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.key.partial_cmp(&other.key)? {
            Ordering::Equal => self.val.partial_cmp(&other.val),
            o => Some(o),
        }
    }
}

impl<K: IsBot, V: IsBot> IsBot for DomPair<K, V> {
    fn is_bot(&self) -> bool {
        self.key.is_bot() && self.val.is_bot()
    }
}

impl<K, V> LatticeFrom<DomPair<K, V>> for DomPair<K, V> {
    fn lattice_from(other: DomPair<K, V>) -> Self {
        other
    }
}
