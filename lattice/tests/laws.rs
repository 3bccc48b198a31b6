//! Every lattice type obeys the lattice laws on proptest-generated triples, ⊥ is the identity
//! where the type has one, conversions preserve the element, and the checker rejects a
//! known non-lattice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use proptest::prelude::*;
use stratus_lattice::laws::{LawViolation, check_all, check_bottom, check_triple};
use stratus_lattice::strategies as st;
use stratus_lattice::*;

/// One proptest per lattice: all laws on a random triple, plus ⊥ laws where available.
macro_rules! law_test {
    ($name:ident, $strategy:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn $name(a in $strategy, b in $strategy, c in $strategy) {
                check_triple(&a, &b, &c).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
        }
    };
    ($name:ident, $strategy:expr, with_bottom) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn $name(a in $strategy, b in $strategy, c in $strategy) {
                check_triple(&a, &b, &c).map_err(|e| TestCaseError::fail(e.to_string()))?;
                check_bottom(&a).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
        }
    };
}

law_test!(max_u8, st::max(any::<u8>()), with_bottom);
law_test!(max_string, st::max("[a-c]{0,2}"));
law_test!(min_i16, st::min(-3i16..3), with_bottom);
law_test!(set_union_hash, st::set_union_hash(0u8..6), with_bottom);
law_test!(set_union_btree, st::set_union_btree(0u8..6), with_bottom);
law_test!(
    map_union_hash,
    st::map_union_hash(0u8..4, st::max(0u8..4)),
    with_bottom
);
law_test!(
    map_union_btree_of_sets,
    st::map_union_btree(0u8..4, st::set_union_btree(0u8..4)),
    with_bottom
);
law_test!(
    pair_max_set,
    st::pair(st::max(0u8..4), st::set_union_btree(0u8..4)),
    with_bottom
);
law_test!(
    dom_pair_total_key,
    st::dom_pair(st::max(0u8..4), st::set_union_btree(0u8..4)),
    with_bottom
);
law_test!(
    with_bot_max_string,
    st::with_bot(st::max("[a-c]{0,2}")),
    with_bottom
);
law_test!(with_top_max_u8, st::with_top(st::max(0u8..4)));
law_test!(lww_u8, st::lww(0u8..3), with_bottom);
law_test!(vector_clock, st::vector_clock(), with_bottom);
law_test!(
    single_key_causal,
    st::single_key_causal(0u8..4),
    with_bottom
);
law_test!(multi_key_causal, st::multi_key_causal(0u8..4), with_bottom);
law_test!(g_counter, st::g_counter(), with_bottom);
law_test!(pn_counter, st::pn_counter(), with_bottom);

product_lattice! {
    /// A user struct turned into a product lattice by the macro.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Stats {
        /// Highest value seen.
        pub high: Max<u8>,
        /// Values seen.
        pub seen: SetUnionBTreeSet<u8>,
        /// Hit counts.
        pub hits: GCounter,
    }
}

law_test!(
    product_macro,
    (
        st::max(0u8..4),
        st::set_union_btree(0u8..4),
        st::g_counter()
    )
        .prop_map(|(high, seen, hits)| Stats { high, seen, hits }),
    with_bottom
);

#[test]
fn the_checker_rejects_a_dom_pair_with_a_partially_ordered_key() {
    // Sets are only partially ordered: {1} and {2} are incomparable keys.
    let v =
        |k: &[u8], val: u8| DomPair::new(SetUnionBTreeSet::from_elems(k.iter().copied()), Max(val));
    let values = [v(&[1], 5), v(&[2], 1), v(&[1, 2], 0), v(&[], 9)];
    let err = check_all(&values).expect_err("DomPair over a partial order is not a lattice");
    assert!(
        matches!(
            err,
            LawViolation::Associativity { .. } | LawViolation::Order { .. }
        ),
        "{err}"
    );
}

#[test]
fn the_checker_rejects_keep_mine_lww() {
    // Anna's Python LWW keeps its own value on equal timestamps: not commutative.
    #[derive(Clone, Debug, PartialEq)]
    struct KeepMine(u64, &'static str);
    impl Merge for KeepMine {
        fn merge(&mut self, other: Self) -> bool {
            if other.0 > self.0 {
                *self = other;
                true
            } else {
                false
            }
        }
    }
    impl PartialOrd for KeepMine {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            self.0.partial_cmp(&other.0)
        }
    }
    let err = check_all(&[KeepMine(1, "x"), KeepMine(1, "y")]).unwrap_err();
    assert!(matches!(err, LawViolation::Commutativity { .. }), "{err}");
}

#[test]
fn the_checker_rejects_a_lying_merge_return() {
    #[derive(Clone, Debug, PartialEq, PartialOrd)]
    struct AlwaysTrue(Max<u8>);
    impl Merge for AlwaysTrue {
        fn merge(&mut self, other: Self) -> bool {
            self.0.merge(other.0);
            true
        }
    }
    let err = check_all(&[AlwaysTrue(Max(1)), AlwaysTrue(Max(2))]).unwrap_err();
    assert!(matches!(err, LawViolation::MergeReturn { .. }), "{err}");
}

#[test]
fn lww_ties_are_broken_by_writer_on_every_replica() {
    let a = Lww::new(5, 1, "from-1");
    let b = Lww::new(5, 2, "from-2");
    let left = a.clone().merge_owned(b.clone());
    let right = b.merge_owned(a);
    assert_eq!(left, right);
    assert_eq!(*left.value(), "from-2");
}

#[test]
fn causal_values_keep_concurrent_writes_and_drop_dominated_ones() {
    let c = |e: &[(u64, u64)]| VectorClock::from_entries(e.iter().copied());
    let mut v = SingleKeyCausal::new(c(&[(1, 1)]), "a");
    v.merge(SingleKeyCausal::new(c(&[(2, 1)]), "b"));
    assert_eq!(v.values(), BTreeSet::from([&"a", &"b"]));
    v.merge(SingleKeyCausal::new(c(&[(1, 1), (2, 1)]), "c"));
    assert_eq!(v.values(), BTreeSet::from([&"c"]));
    assert_eq!(v.clock(), c(&[(1, 1), (2, 1)]));
    assert!(c(&[(1, 2)]).concurrent_with(&c(&[(2, 1)])));
}

#[test]
fn conversions_between_representations_preserve_the_element() {
    let h: SetUnionHashSet<u8> = SetUnion(HashSet::from([1, 2, 3]));
    let b: SetUnionBTreeSet<u8> = LatticeFrom::lattice_from(h.clone());
    assert_eq!(b.iter().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
    let mut b2 = SetUnionBTreeSet::singleton(9);
    assert!(b2.merge(h), "merging across representations");
    assert_eq!(b2.len(), 4);
    let hm: MapUnionHashMap<u8, Max<u8>> = MapUnion(HashMap::from([(1, Max(2))]));
    let bm: MapUnionBTreeMap<u8, Max<u8>> = LatticeFrom::lattice_from(hm);
    assert_eq!(bm.as_map(), &BTreeMap::from([(1, Max(2))]));
}

#[test]
fn counters_count() {
    let mut a = PnCounter::new();
    a.add(1, 5);
    a.add(1, -2);
    let mut b = PnCounter::new();
    b.add(2, 10);
    a.merge(b.clone());
    a.merge(b);
    assert_eq!(a.value(), 13);
    let mut set = OrderedSet::from_elems([5, 1, 3]);
    set.insert(2);
    assert_eq!(set.first(), Some(&1));
    assert_eq!(set.range(2..4).copied().collect::<Vec<_>>(), vec![2, 3]);
}

#[test]
fn all_lattices_round_trip_through_serde() {
    let v = MultiKeyCausal::new(
        VectorClock::from_entries([(1, 2)]),
        BTreeMap::from([("k".to_string(), VectorClock::from_entries([(3, 1)]))]),
        7u32,
    );
    let bytes = postcard::to_allocvec(&v).unwrap();
    let back: MultiKeyCausal<u32> = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(v, back);
}
