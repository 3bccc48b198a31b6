//! Predicates and queries, and their resolution to per-column code ranges.

use std::fmt;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::table::Table;
use crate::value::Literal;

/// A comparison operator (Naru's workload uses these three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `column = literal`
    Eq,
    /// `column <= literal`
    Le,
    /// `column >= literal`
    Ge,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Le => "<=",
            Op::Ge => ">=",
        })
    }
}

/// `column op literal`.
#[derive(Clone, Debug, PartialEq)]
pub struct Predicate {
    /// Column name.
    pub column: String,
    /// Operator.
    pub op: Op,
    /// Literal compared against.
    pub literal: Literal,
}

impl Predicate {
    /// A predicate.
    pub fn new(column: impl Into<String>, op: Op, literal: impl Into<Literal>) -> Self {
        Predicate {
            column: column.into(),
            op,
            literal: literal.into(),
        }
    }
}

/// A conjunction of predicates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// The conjuncts.
    pub predicates: Vec<Predicate>,
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.predicates.iter().enumerate() {
            if i > 0 {
                f.write_str(" AND ")?;
            }
            write!(f, "{} {} {}", p.column, p.op, p.literal)?;
        }
        Ok(())
    }
}

/// A query mapped onto codes: per column, `None` (a wildcard) or the allowed code range.
/// Several predicates on one column intersect. The null code is never in a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// One entry per table column.
    pub ranges: Vec<Option<Range<u32>>>,
}

impl Resolved {
    /// True when some column's range is empty: the query selects no rows.
    pub fn is_empty(&self) -> bool {
        self.ranges.iter().flatten().any(|r| r.is_empty())
    }

    /// Number of constrained columns.
    pub fn constrained(&self) -> usize {
        self.ranges.iter().flatten().count()
    }
}

impl Query {
    /// A query of these predicates.
    pub fn new(predicates: Vec<Predicate>) -> Self {
        Query { predicates }
    }

    /// Map every predicate onto its column's code range.
    pub fn resolve(&self, table: &Table) -> Result<Resolved> {
        let mut ranges: Vec<Option<Range<u32>>> = vec![None; table.columns().len()];
        for p in &self.predicates {
            let idx = table
                .column_index(&p.column)
                .ok_or_else(|| Error::UnknownColumn(p.column.clone()))?;
            let r = table.columns()[idx]
                .dictionary()
                .code_range(&p.column, p.op, &p.literal)?;
            ranges[idx] = Some(match ranges[idx].take() {
                None => r,
                Some(old) => {
                    let lo = old.start.max(r.start);
                    lo..old.end.min(r.end).max(lo)
                }
            });
        }
        Ok(Resolved { ranges })
    }
}
