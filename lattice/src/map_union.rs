//! `MapUnion<M>`: maps from keys to lattices, merged key by key.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge, product_order};

/// A map representation usable inside [`MapUnion`].
pub trait MapRepr: Default + IntoIterator<Item = (Self::Key, Self::Val)> {
    /// Key type.
    type Key;
    /// Value type (a lattice).
    type Val;
    /// Mutable access to a key's value.
    fn get_val_mut(&mut self, key: &Self::Key) -> Option<&mut Self::Val>;
    /// Shared access to a key's value.
    fn get_val(&self, key: &Self::Key) -> Option<&Self::Val>;
    /// Inserts a new key.
    fn insert_val(&mut self, key: Self::Key, val: Self::Val);
    /// Number of keys.
    fn size(&self) -> usize;
    /// Borrowing iteration.
    fn entries(&self) -> impl Iterator<Item = (&Self::Key, &Self::Val)>;
}

impl<K: Eq + Hash, V, S: BuildHasher + Default> MapRepr for HashMap<K, V, S> {
    type Key = K;
    type Val = V;
    fn get_val_mut(&mut self, key: &K) -> Option<&mut V> {
        self.get_mut(key)
    }
    fn get_val(&self, key: &K) -> Option<&V> {
        self.get(key)
    }
    fn insert_val(&mut self, key: K, val: V) {
        self.insert(key, val);
    }
    fn size(&self) -> usize {
        self.len()
    }
    fn entries(&self) -> impl Iterator<Item = (&K, &V)> {
        self.iter()
    }
}

impl<K: Ord, V> MapRepr for BTreeMap<K, V> {
    type Key = K;
    type Val = V;
    fn get_val_mut(&mut self, key: &K) -> Option<&mut V> {
        self.get_mut(key)
    }
    fn get_val(&self, key: &K) -> Option<&V> {
        self.get(key)
    }
    fn insert_val(&mut self, key: K, val: V) {
        self.insert(key, val);
    }
    fn size(&self) -> usize {
        self.len()
    }
    fn entries(&self) -> impl Iterator<Item = (&K, &V)> {
        self.iter()
    }
}

/// Maps merged pointwise: keys are unioned, values under the same key merged.
///
/// An absent key sits strictly below any present value, so `merge` reports growth exactly
/// when the map changes (equality is representation equality).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapUnion<M>(pub M);

/// Map union over a `HashMap`.
pub type MapUnionHashMap<K, V> = MapUnion<HashMap<K, V>>;
/// Map union over a `BTreeMap` (deterministic iteration order).
pub type MapUnionBTreeMap<K, V> = MapUnion<BTreeMap<K, V>>;

impl<M: MapRepr> MapUnion<M>
where
    M::Val: Merge,
{
    /// A map lattice holding `entries` (values under repeated keys are merged).
    pub fn from_entries(entries: impl IntoIterator<Item = (M::Key, M::Val)>) -> Self {
        let mut map = MapUnion(M::default());
        for (k, v) in entries {
            map.merge_entry(k, v);
        }
        map
    }

    /// Merges `val` into `key`'s value; `true` if the map grew.
    pub fn merge_entry(&mut self, key: M::Key, val: M::Val) -> bool {
        match self.0.get_val_mut(&key) {
            Some(existing) => existing.merge(val),
            None => {
                self.0.insert_val(key, val);
                true
            }
        }
    }
}

impl<M: MapRepr> MapUnion<M> {
    /// The value under `key`.
    pub fn get(&self, key: &M::Key) -> Option<&M::Val> {
        self.0.get_val(key)
    }
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.size()
    }
    /// `true` when empty (⊥).
    pub fn is_empty(&self) -> bool {
        self.0.size() == 0
    }
    /// Iterates over entries.
    pub fn iter(&self) -> impl Iterator<Item = (&M::Key, &M::Val)> {
        self.0.entries()
    }
    /// The representation.
    pub fn as_map(&self) -> &M {
        &self.0
    }
}

impl<M, O> Merge<MapUnion<O>> for MapUnion<M>
where
    M: MapRepr,
    O: MapRepr<Key = M::Key, Val = M::Val>,
    M::Val: Merge,
{
    fn merge(&mut self, other: MapUnion<O>) -> bool {
        let mut changed = false;
        for (k, v) in other.0 {
            changed |= self.merge_entry(k, v);
        }
        changed
    }
}

impl<M: MapRepr + PartialEq> PartialOrd for MapUnion<M>
where
    M::Val: PartialOrd,
{
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let mut parts = Vec::with_capacity(self.0.size() + other.0.size());
        for (k, v) in self.0.entries() {
            parts.push(match other.0.get_val(k) {
                Some(w) => v.partial_cmp(w),
                None => Some(Ordering::Greater),
            });
        }
        for (k, _) in other.0.entries() {
            if self.0.get_val(k).is_none() {
                parts.push(Some(Ordering::Less));
            }
        }
        product_order(parts)
    }
}

impl<M: MapRepr> IsBot for MapUnion<M> {
    fn is_bot(&self) -> bool {
        self.0.size() == 0
    }
}

impl<M, O> LatticeFrom<MapUnion<O>> for MapUnion<M>
where
    M: MapRepr,
    O: MapRepr<Key = M::Key, Val = M::Val>,
    M::Val: Merge,
{
    fn lattice_from(other: MapUnion<O>) -> Self {
        Self::from_entries(other.0)
    }
}
