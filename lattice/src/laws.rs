//! Lattice law checks, public so that users can test their own lattices the same way.
//!
//! Feed them hand-picked values or, better, values from proptest strategies (see
//! `strategies` behind the `proptest` feature): every law is checked on concrete triples and
//! a violation names the law and the values that break it.

use std::cmp::Ordering;
use std::fmt::Debug;

use crate::merge::{IsBot, Merge};

/// A broken lattice law, with the offending values rendered by `Debug`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LawViolation {
    /// `(a ⊔ b) ⊔ c ≠ a ⊔ (b ⊔ c)`.
    #[error("merge is not associative for a = {a}, b = {b}, c = {c}")]
    Associativity {
        /// First value.
        a: String,
        /// Second value.
        b: String,
        /// Third value.
        c: String,
    },
    /// `a ⊔ b ≠ b ⊔ a`.
    #[error("merge is not commutative for a = {a}, b = {b}")]
    Commutativity {
        /// First value.
        a: String,
        /// Second value.
        b: String,
    },
    /// `a ⊔ a ≠ a`, or merging `a` into itself reported growth.
    #[error("merge is not idempotent for a = {a}")]
    Idempotence {
        /// The value.
        a: String,
    },
    /// `merge` returned `true` without a change or `false` with one.
    #[error("merge returned {returned} but the value {changed} for a = {a}, b = {b}")]
    MergeReturn {
        /// Target.
        a: String,
        /// Merged in.
        b: String,
        /// What `merge` said.
        returned: bool,
        /// "changed" or "did not change".
        changed: &'static str,
    },
    /// `partial_cmp` disagrees with merge (`a ≤ b` must hold iff `a ⊔ b = b`).
    #[error("order disagrees with merge for a = {a}, b = {b}: partial_cmp says {said:?}")]
    Order {
        /// First value.
        a: String,
        /// Second value.
        b: String,
        /// What `partial_cmp` returned.
        said: Option<Ordering>,
    },
    /// `Default` is not ⊥, or ⊥ is not the identity of merge.
    #[error("bottom is not the identity of merge for a = {a} (default = {bot})")]
    Bottom {
        /// The value.
        a: String,
        /// The default.
        bot: String,
    },
}

fn show<T: Debug>(t: &T) -> String {
    format!("{t:?}")
}

/// Checks commutativity, idempotence, the return value of `merge` and order consistency on
/// the pair `(a, b)`.
pub fn check_pair<L>(a: &L, b: &L) -> Result<(), LawViolation>
where
    L: Merge + PartialOrd + Clone + PartialEq + Debug,
{
    let mut ab = a.clone();
    let grew = ab.merge(b.clone());
    let changed = ab != *a;
    if grew != changed {
        return Err(LawViolation::MergeReturn {
            a: show(a),
            b: show(b),
            returned: grew,
            changed: if changed { "changed" } else { "did not change" },
        });
    }
    let ba = b.clone().merge_owned(a.clone());
    if ab != ba {
        return Err(LawViolation::Commutativity {
            a: show(a),
            b: show(b),
        });
    }
    let mut aa = a.clone();
    if aa.merge(a.clone()) || aa != *a {
        return Err(LawViolation::Idempotence { a: show(a) });
    }
    // a ≤ b iff a ⊔ b = b; b ≤ a iff a ⊔ b = a.
    let expected = match (ab == *b, ab == *a) {
        (true, true) => Some(Ordering::Equal),
        (true, false) => Some(Ordering::Less),
        (false, true) => Some(Ordering::Greater),
        (false, false) => None,
    };
    let said = a.partial_cmp(b);
    if said != expected {
        return Err(LawViolation::Order {
            a: show(a),
            b: show(b),
            said,
        });
    }
    Ok(())
}

/// Checks every law on `(a, b, c)`: associativity plus [`check_pair`] on each pair.
pub fn check_triple<L>(a: &L, b: &L, c: &L) -> Result<(), LawViolation>
where
    L: Merge + PartialOrd + Clone + PartialEq + Debug,
{
    check_pair(a, b)?;
    check_pair(b, c)?;
    check_pair(a, c)?;
    let left = a.clone().merge_owned(b.clone()).merge_owned(c.clone());
    let right = a.clone().merge_owned(b.clone().merge_owned(c.clone()));
    if left != right {
        return Err(LawViolation::Associativity {
            a: show(a),
            b: show(b),
            c: show(c),
        });
    }
    Ok(())
}

/// Checks that `L::default()` is ⊥ and the identity of merge, on `a`.
pub fn check_bottom<L>(a: &L) -> Result<(), LawViolation>
where
    L: Merge + Default + IsBot + Clone + PartialEq + Debug,
{
    let bot = L::default();
    let err = || LawViolation::Bottom {
        a: show(a),
        bot: show(&bot),
    };
    if !bot.is_bot() {
        return Err(err());
    }
    let mut x = a.clone();
    if x.merge(bot.clone()) || x != *a {
        return Err(err());
    }
    if bot.clone().merge_owned(a.clone()) != *a {
        return Err(err());
    }
    Ok(())
}

/// Checks every law on every pair and triple drawn from `values` (exhaustive; keep the
/// slice small).
pub fn check_all<L>(values: &[L]) -> Result<(), LawViolation>
where
    L: Merge + PartialOrd + Clone + PartialEq + Debug,
{
    for a in values {
        for b in values {
            for c in values {
                check_triple(a, b, c)?;
            }
        }
    }
    Ok(())
}
