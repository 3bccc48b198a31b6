//! `SetUnion<S>`: sets under union, generic over the set representation.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};
use std::hash::{BuildHasher, Hash};
use std::ops::RangeBounds;

use serde::{Deserialize, Serialize};

use crate::merge::{IsBot, LatticeFrom, Merge};

/// A set representation usable inside [`SetUnion`].
pub trait SetRepr: Default + IntoIterator<Item = Self::Elem> {
    /// Element type.
    type Elem;
    /// Inserts; `true` if the element was new.
    fn insert_elem(&mut self, elem: Self::Elem) -> bool;
    /// Membership.
    fn contains_elem(&self, elem: &Self::Elem) -> bool;
    /// Number of elements.
    fn size(&self) -> usize;
    /// Borrowing iteration.
    fn elems(&self) -> impl Iterator<Item = &Self::Elem>;
}

impl<T: Eq + Hash, S: BuildHasher + Default> SetRepr for HashSet<T, S> {
    type Elem = T;
    fn insert_elem(&mut self, elem: T) -> bool {
        self.insert(elem)
    }
    fn contains_elem(&self, elem: &T) -> bool {
        self.contains(elem)
    }
    fn size(&self) -> usize {
        self.len()
    }
    fn elems(&self) -> impl Iterator<Item = &T> {
        self.iter()
    }
}

impl<T: Ord> SetRepr for BTreeSet<T> {
    type Elem = T;
    fn insert_elem(&mut self, elem: T) -> bool {
        self.insert(elem)
    }
    fn contains_elem(&self, elem: &T) -> bool {
        self.contains(elem)
    }
    fn size(&self) -> usize {
        self.len()
    }
    fn elems(&self) -> impl Iterator<Item = &T> {
        self.iter()
    }
}

/// Sets ordered by inclusion; `a ⊔ b = a ∪ b`, ⊥ = ∅.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUnion<S>(pub S);

/// Set union over a `HashSet`.
pub type SetUnionHashSet<T> = SetUnion<HashSet<T>>;
/// Set union over a `BTreeSet` (deterministic iteration order).
pub type SetUnionBTreeSet<T> = SetUnion<BTreeSet<T>>;
/// An ordered set lattice (Anna's `OrderedSetLattice`): union over a `BTreeSet`, with
/// ordered access (`first`, `last`, `range`).
pub type OrderedSet<T> = SetUnion<BTreeSet<T>>;

impl<S: SetRepr> SetUnion<S> {
    /// A set lattice holding `elems`.
    pub fn from_elems(elems: impl IntoIterator<Item = S::Elem>) -> Self {
        let mut set = S::default();
        for e in elems {
            set.insert_elem(e);
        }
        SetUnion(set)
    }
    /// A set lattice holding one element.
    pub fn singleton(elem: S::Elem) -> Self {
        Self::from_elems([elem])
    }
    /// Adds an element; `true` if the set grew.
    pub fn insert(&mut self, elem: S::Elem) -> bool {
        self.0.insert_elem(elem)
    }
    /// Membership.
    pub fn contains(&self, elem: &S::Elem) -> bool {
        self.0.contains_elem(elem)
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.size()
    }
    /// `true` when empty (⊥).
    pub fn is_empty(&self) -> bool {
        self.0.size() == 0
    }
    /// Iterates over the elements.
    pub fn iter(&self) -> impl Iterator<Item = &S::Elem> {
        self.0.elems()
    }
    /// The representation.
    pub fn as_set(&self) -> &S {
        &self.0
    }
}

impl<T: Ord> SetUnion<BTreeSet<T>> {
    /// The least element.
    pub fn first(&self) -> Option<&T> {
        self.0.first()
    }
    /// The greatest element.
    pub fn last(&self) -> Option<&T> {
        self.0.last()
    }
    /// The elements within `range`, in order.
    pub fn range<R: RangeBounds<T>>(&self, range: R) -> impl Iterator<Item = &T> {
        self.0.range(range)
    }
}

impl<S: SetRepr, O: SetRepr<Elem = S::Elem>> Merge<SetUnion<O>> for SetUnion<S> {
    fn merge(&mut self, other: SetUnion<O>) -> bool {
        let mut changed = false;
        for e in other.0 {
            changed |= self.0.insert_elem(e);
        }
        changed
    }
}

impl<S: SetRepr + PartialEq> PartialOrd for SetUnion<S> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let (a, b) = (self.0.size(), other.0.size());
        let self_in_other = self.0.elems().all(|e| other.0.contains_elem(e));
        match a.cmp(&b) {
            Ordering::Equal if self_in_other => Some(Ordering::Equal),
            Ordering::Less if self_in_other => Some(Ordering::Less),
            Ordering::Greater if other.0.elems().all(|e| self.0.contains_elem(e)) => {
                Some(Ordering::Greater)
            }
            _ => None,
        }
    }
}

impl<S: SetRepr> IsBot for SetUnion<S> {
    fn is_bot(&self) -> bool {
        self.0.size() == 0
    }
}

impl<S: SetRepr, O: SetRepr<Elem = S::Elem>> LatticeFrom<SetUnion<O>> for SetUnion<S> {
    fn lattice_from(other: SetUnion<O>) -> Self {
        Self::from_elems(other.0)
    }
}
