//! What the store can hold: any lattice, or [`AnyLattice`] when keys hold different types.

use serde::{Deserialize, Serialize};

use super::error::KvsError;
use crate::{Lattice, Lww, Max, Merge, PnCounter, SetUnionBTreeSet, SingleKeyCausal};

/// A value the store can merge puts into. Every [`Lattice`] is one (its merge never fails);
/// [`AnyLattice`] is one whose merge fails when the two sides are different lattice types.
pub trait KvsValue: Clone + Send + Sync + 'static {
    /// Merges `other` into `self`: `Ok(true)` iff `self` grew. On `Err`, `self` is unchanged.
    fn try_merge(&mut self, other: Self) -> Result<bool, KvsError>;
}

impl<T: Lattice + Send + Sync + 'static> KvsValue for T {
    fn try_merge(&mut self, other: Self) -> Result<bool, KvsError> {
        Ok(self.merge(other))
    }
}

/// A dynamically typed lattice value, for stores whose keys hold different types (as Anna's
/// keys do). Merging two different variants is a [`KvsError::TypeMismatch`], never a silent
/// overwrite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AnyLattice {
    /// Last-writer-wins bytes.
    Lww(Lww<Vec<u8>>),
    /// A grow-only set of byte strings.
    Set(SetUnionBTreeSet<Vec<u8>>),
    /// The largest integer seen.
    Max(Max<i64>),
    /// A counter that can go up and down.
    Counter(PnCounter),
    /// Concurrent versions of bytes, kept until one causally dominates (a multi-value register).
    Causal(SingleKeyCausal<Vec<u8>>),
}

impl AnyLattice {
    /// The variant's name, as errors report it.
    pub fn type_name(&self) -> &'static str {
        match self {
            AnyLattice::Lww(_) => "lww",
            AnyLattice::Set(_) => "set",
            AnyLattice::Max(_) => "max",
            AnyLattice::Counter(_) => "counter",
            AnyLattice::Causal(_) => "causal",
        }
    }
}

impl KvsValue for AnyLattice {
    fn try_merge(&mut self, other: Self) -> Result<bool, KvsError> {
        match (self, other) {
            (AnyLattice::Lww(a), AnyLattice::Lww(b)) => Ok(a.merge(b)),
            (AnyLattice::Set(a), AnyLattice::Set(b)) => Ok(a.merge(b)),
            (AnyLattice::Max(a), AnyLattice::Max(b)) => Ok(a.merge(b)),
            (AnyLattice::Counter(a), AnyLattice::Counter(b)) => Ok(a.merge(b)),
            (AnyLattice::Causal(a), AnyLattice::Causal(b)) => Ok(a.merge(b)),
            (stored, incoming) => Err(KvsError::TypeMismatch {
                stored: stored.type_name(),
                incoming: incoming.type_name(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_variants_do_not_merge_and_nothing_changes() {
        let mut v = AnyLattice::Max(Max::new(7));
        let err = v
            .try_merge(AnyLattice::Lww(Lww::new(1, 1, b"x".to_vec())))
            .unwrap_err();
        assert_eq!(
            err,
            KvsError::TypeMismatch {
                stored: "max",
                incoming: "lww"
            }
        );
        assert_eq!(v, AnyLattice::Max(Max::new(7)));
        assert!(v.try_merge(AnyLattice::Max(Max::new(9))).unwrap());
        assert_eq!(v, AnyLattice::Max(Max::new(9)));
    }

    #[test]
    fn typed_lattices_always_merge() {
        let mut m = Max::new(3u64);
        assert!(!KvsValue::try_merge(&mut m, Max::new(1)).unwrap());
        assert!(KvsValue::try_merge(&mut m, Max::new(5)).unwrap());
    }
}
