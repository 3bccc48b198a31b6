//! Per-column dictionary encoding.
//!
//! Distinct non-null values are sorted (numbers numerically, strings bytewise) and numbered
//! `0..n`, so `<=` / `>=` predicates become contiguous code ranges. A column with nulls gets
//! one extra code `n` for null; it lies outside every predicate's range, so a null never
//! satisfies a predicate, yet the model still learns how often nulls occur.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::predicate::Op;
use crate::value::Literal;

/// The sorted distinct values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum Dictionary {
    /// Sorted, distinct, finite numbers.
    Num(Vec<f64>),
    /// Sorted (bytewise), distinct strings.
    Str(Vec<String>),
}

impl Dictionary {
    /// Number of distinct non-null values.
    pub fn len(&self) -> usize {
        match self {
            Dictionary::Num(v) => v.len(),
            Dictionary::Str(v) => v.len(),
        }
    }

    /// True when the column holds only nulls.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// "numeric" or "text", for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Dictionary::Num(_) => "numeric",
            Dictionary::Str(_) => "text",
        }
    }

    /// The value with code `code`, if it is not the null code.
    pub fn value(&self, code: u32) -> Option<Literal> {
        match self {
            Dictionary::Num(v) => v.get(code as usize).map(|&x| Literal::Num(x)),
            Dictionary::Str(v) => v.get(code as usize).map(|s| Literal::Str(s.clone())),
        }
    }

    /// The codes whose values satisfy `value op literal`. A literal absent from the domain
    /// gives an empty range for `=` and the codes on the right side of it for `<=` / `>=`.
    pub fn code_range(&self, column: &str, op: Op, literal: &Literal) -> Result<Range<u32>> {
        // (first code >= literal, first code > literal)
        let (lower, upper) = match (self, literal) {
            (Dictionary::Num(v), Literal::Num(x)) if !x.is_nan() => {
                (v.partition_point(|y| y < x), v.partition_point(|y| y <= x))
            }
            (Dictionary::Str(v), Literal::Str(s)) => (
                v.partition_point(|y| y.as_bytes() < s.as_bytes()),
                v.partition_point(|y| y.as_bytes() <= s.as_bytes()),
            ),
            _ => {
                return Err(Error::WrongLiteralType {
                    column: column.to_owned(),
                    expected: self.kind(),
                    literal: literal.to_string(),
                });
            }
        };
        let n = self.len();
        let r = match op {
            Op::Eq => lower..upper,
            Op::Le => 0..upper,
            Op::Ge => lower..n,
        };
        Ok(r.start as u32..r.end as u32)
    }
}
