//! `product_lattice!`: declare a struct whose fields are lattices and get the product lattice.

/// Declares a struct of lattice fields and implements [`crate::Merge`] (fieldwise),
/// `PartialOrd` (the product order) and [`crate::IsBot`] (every field ⊥) for it.
///
/// Derive `Clone`, `Debug`, `Default` and `PartialEq` yourself (the order needs `PartialEq`).
///
/// ```
/// use stratus_lattice::{product_lattice, Max, Merge, SetUnionBTreeSet};
///
/// product_lattice! {
///     /// Per-page statistics merged across replicas.
///     #[derive(Clone, Debug, Default, PartialEq)]
///     pub struct PageStats {
///         pub max_latency_ms: Max<u64>,
///         pub visitors: SetUnionBTreeSet<String>,
///     }
/// }
///
/// let mut a = PageStats { max_latency_ms: Max(12), visitors: SetUnionBTreeSet::singleton("ann".into()) };
/// let b = PageStats { max_latency_ms: Max(7), visitors: SetUnionBTreeSet::singleton("bo".into()) };
/// assert!(a.merge(b));
/// assert_eq!((a.max_latency_ms.0, a.visitors.len()), (12, 2));
/// ```
#[macro_export]
macro_rules! product_lattice {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $ty ),*
        }

        impl $crate::Merge for $name {
            fn merge(&mut self, other: Self) -> bool {
                let mut changed = false;
                $( changed |= $crate::Merge::merge(&mut self.$field, other.$field); )*
                changed
            }
        }

        impl ::core::cmp::PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
                $crate::product_order([
                    $( ::core::cmp::PartialOrd::partial_cmp(&self.$field, &other.$field) ),*
                ])
            }
        }

        impl $crate::IsBot for $name {
            fn is_bot(&self) -> bool {
                true $( && $crate::IsBot::is_bot(&self.$field) )*
            }
        }
    };
}
