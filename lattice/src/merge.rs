//! The lattice traits: merge (⊔), bottom/top, conversions between representations.

/// Join (⊔) of `other` into `self`.
///
/// Laws (checked for every type in this crate by [`crate::laws`]): merge is associative,
/// commutative and idempotent, and `merge` returns `true` exactly when `self` changed
/// (grew in the lattice order).
pub trait Merge<Other = Self> {
    /// Merges `other` into `self`; `true` iff `self` grew.
    fn merge(&mut self, other: Other) -> bool;

    /// Merges and returns the result (convenient in folds).
    fn merge_owned(mut self, other: Other) -> Self
    where
        Self: Sized,
    {
        self.merge(other);
        self
    }
}

/// Whether a value is the lattice's bottom (⊥), the identity of merge.
pub trait IsBot {
    /// `true` iff `self` is ⊥.
    fn is_bot(&self) -> bool;
}

/// Whether a value is the lattice's top (⊤), which absorbs every merge.
pub trait IsTop {
    /// `true` iff `self` is ⊤.
    fn is_top(&self) -> bool;
}

/// Converts between two representations of the same lattice (e.g. a hash set union into a
/// B-tree set union) without changing the element of the lattice.
pub trait LatticeFrom<Other> {
    /// The same lattice element in this representation.
    fn lattice_from(other: Other) -> Self;
}

/// A join-semilattice: mergeable with itself, ordered consistently with merge
/// (`a ≤ b` iff `a ⊔ b == b`), and clonable. Implemented automatically.
pub trait Lattice: Merge<Self> + PartialOrd + Clone + Sized {}

impl<T: Merge<T> + PartialOrd + Clone> Lattice for T {}

/// Combines component orderings into the product order: `Less`/`Equal`/`Greater` when every
/// component agrees (allowing `Equal`), `None` when they conflict or any is incomparable.
pub fn product_order(
    components: impl IntoIterator<Item = Option<std::cmp::Ordering>>,
) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering::*;
    let mut acc = Equal;
    for c in components {
        match (acc, c?) {
            (_, Equal) => {}
            (Equal, o) => acc = o,
            (a, o) if a == o => {}
            _ => return None,
        }
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::product_order;
    use std::cmp::Ordering::*;

    #[test]
    fn product_order_combines_components() {
        assert_eq!(product_order([Some(Equal), Some(Less)]), Some(Less));
        assert_eq!(product_order([Some(Greater), Some(Equal)]), Some(Greater));
        assert_eq!(product_order([Some(Less), Some(Greater)]), None);
        assert_eq!(product_order([Some(Less), None]), None);
        assert_eq!(product_order([]), Some(Equal));
    }
}
