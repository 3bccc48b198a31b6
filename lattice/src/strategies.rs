//! Proptest strategies for every lattice type (feature `proptest`).
//!
//! Domains are deliberately small (few distinct elements, keys, replicas and timestamps) so
//! that generated values collide, tie and dominate each other often — that is where lattice
//! laws break.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use proptest::collection::{btree_map, btree_set, hash_map, hash_set, vec};
use proptest::prelude::*;

use crate::{
    DomPair, GCounter, Lww, MapUnion, Max, Min, MultiKeyCausal, Pair, PnCounter, SetUnion,
    SingleKeyCausal, VectorClock, WithBot, WithTop,
};

/// `Max` over any value strategy.
pub fn max<S: Strategy>(inner: S) -> impl Strategy<Value = Max<S::Value>> {
    inner.prop_map(Max)
}

/// `Min` over any value strategy.
pub fn min<S: Strategy>(inner: S) -> impl Strategy<Value = Min<S::Value>> {
    inner.prop_map(Min)
}

/// Hash-set unions of up to 5 elements.
pub fn set_union_hash<S>(elem: S) -> impl Strategy<Value = SetUnion<HashSet<S::Value>>>
where
    S: Strategy,
    S::Value: Eq + Hash,
{
    hash_set(elem, 0..5).prop_map(SetUnion)
}

/// B-tree-set unions (also `OrderedSet`) of up to 5 elements.
pub fn set_union_btree<S>(elem: S) -> impl Strategy<Value = SetUnion<BTreeSet<S::Value>>>
where
    S: Strategy,
    S::Value: Ord,
{
    btree_set(elem, 0..5).prop_map(SetUnion)
}

/// Hash-map unions of up to 4 keys.
pub fn map_union_hash<K, V>(
    key: K,
    val: V,
) -> impl Strategy<Value = MapUnion<HashMap<K::Value, V::Value>>>
where
    K: Strategy,
    K::Value: Eq + Hash,
    V: Strategy,
{
    hash_map(key, val, 0..4).prop_map(MapUnion)
}

/// B-tree-map unions of up to 4 keys.
pub fn map_union_btree<K, V>(
    key: K,
    val: V,
) -> impl Strategy<Value = MapUnion<BTreeMap<K::Value, V::Value>>>
where
    K: Strategy,
    K::Value: Ord,
    V: Strategy,
{
    btree_map(key, val, 0..4).prop_map(MapUnion)
}

/// Products of two lattices.
pub fn pair<A: Strategy, B: Strategy>(
    a: A,
    b: B,
) -> impl Strategy<Value = Pair<A::Value, B::Value>> {
    (a, b).prop_map(|(a, b)| Pair::new(a, b))
}

/// Dominating pairs.
pub fn dom_pair<K: Strategy, V: Strategy>(
    key: K,
    val: V,
) -> impl Strategy<Value = DomPair<K::Value, V::Value>> {
    (key, val).prop_map(|(k, v)| DomPair::new(k, v))
}

/// `WithBot`, ⊥ one time in four.
pub fn with_bot<S: Strategy<Value: Clone> + 'static>(
    inner: S,
) -> impl Strategy<Value = WithBot<S::Value>> {
    prop_oneof![1 => Just(WithBot(None)), 3 => inner.prop_map(WithBot::new)]
}

/// `WithTop`, ⊤ one time in four.
pub fn with_top<S: Strategy<Value: Clone> + 'static>(
    inner: S,
) -> impl Strategy<Value = WithTop<S::Value>> {
    prop_oneof![1 => Just(WithTop::top()), 3 => inner.prop_map(WithTop::new)]
}

/// LWW registers with timestamps and writers in `0..4`, so ties are common.
pub fn lww<S: Strategy>(value: S) -> impl Strategy<Value = Lww<S::Value>> {
    (0u64..4, 0u64..4, value).prop_map(|(t, w, v)| Lww::new(t, w, v))
}

/// Vector clocks over 3 replicas with counts in `0..4`.
pub fn vector_clock() -> impl Strategy<Value = VectorClock> {
    vec((0u64..3, 0u64..4), 0..4).prop_map(VectorClock::from_entries)
}

/// Single-key causal values built from up to 3 concurrent writes.
pub fn single_key_causal<S>(value: S) -> impl Strategy<Value = SingleKeyCausal<S::Value>>
where
    S: Strategy,
    S::Value: Ord + Clone,
{
    vec((vector_clock(), value), 0..4).prop_map(|writes| {
        let mut out = SingleKeyCausal::default();
        for (clock, v) in writes {
            crate::Merge::merge(&mut out, SingleKeyCausal::new(clock, v));
        }
        out
    })
}

/// Multi-key causal values built from up to 3 writes with dependencies on keys "a"/"b".
pub fn multi_key_causal<S>(value: S) -> impl Strategy<Value = MultiKeyCausal<S::Value>>
where
    S: Strategy,
    S::Value: Ord + Clone,
{
    let deps = btree_map(
        prop_oneof![Just("a".to_string()), Just("b".to_string())],
        vector_clock(),
        0..3,
    );
    vec((vector_clock(), deps, value), 0..4).prop_map(|writes| {
        let mut out = MultiKeyCausal::default();
        for (clock, deps, v) in writes {
            crate::Merge::merge(&mut out, MultiKeyCausal::new(clock, deps, v));
        }
        out
    })
}

/// Grow-only counters over 3 replicas.
pub fn g_counter() -> impl Strategy<Value = GCounter> {
    vec((0u64..3, 0u64..5), 0..4).prop_map(|incs| {
        let mut c = GCounter::new();
        for (r, n) in incs {
            let target = c.contribution(r).max(n);
            c.increment(r, target - c.contribution(r));
        }
        c
    })
}

/// Positive-negative counters over 3 replicas.
pub fn pn_counter() -> impl Strategy<Value = PnCounter> {
    (g_counter(), g_counter()).prop_map(|(p, n)| PnCounter { p, n })
}
