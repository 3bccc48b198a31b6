//! Predicates and queries, and their resolution to per-column code ranges.

use std::fmt;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::schema::{ColumnSchema, Schema};
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

/// What a predicate asks of its column.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `column op literal`.
    Compare(Op, Literal),
    /// `column IN (literals)`; literals absent from the domain select nothing.
    In(Vec<Literal>),
}

/// One conjunct: a condition on a column.
#[derive(Clone, Debug, PartialEq)]
pub struct Predicate {
    /// Column name.
    pub column: String,
    /// The condition.
    pub condition: Condition,
}

impl Predicate {
    /// `column op literal`.
    pub fn new(column: impl Into<String>, op: Op, literal: impl Into<Literal>) -> Self {
        Predicate {
            column: column.into(),
            condition: Condition::Compare(op, literal.into()),
        }
    }

    /// `column IN (literals)`.
    pub fn is_in<L: Into<Literal>>(
        column: impl Into<String>,
        literals: impl IntoIterator<Item = L>,
    ) -> Self {
        Predicate {
            column: column.into(),
            condition: Condition::In(literals.into_iter().map(Into::into).collect()),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.condition {
            Condition::Compare(op, lit) => write!(f, "{} {op} {lit}", self.column),
            Condition::In(lits) => {
                write!(f, "{} IN (", self.column)?;
                for (i, l) in lits.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{l}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A set of codes as sorted, disjoint, non-empty ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeSet {
    ranges: Vec<Range<u32>>,
}

impl CodeSet {
    /// The codes in `r`.
    pub fn range(r: Range<u32>) -> Self {
        CodeSet::from_ranges(vec![r])
    }

    /// The union of `ranges` (in any order, possibly overlapping or empty).
    pub fn from_ranges(mut ranges: Vec<Range<u32>>) -> Self {
        ranges.retain(|r| !r.is_empty());
        ranges.sort_by_key(|r| r.start);
        let mut out: Vec<Range<u32>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match out.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => out.push(r),
            }
        }
        CodeSet { ranges: out }
    }

    /// The sorted, disjoint ranges.
    pub fn ranges(&self) -> &[Range<u32>] {
        &self.ranges
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.ranges.iter().map(|r| r.len()).sum()
    }

    /// True when no code is in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether `code` is in the set.
    pub fn contains(&self, code: u32) -> bool {
        let i = self.ranges.partition_point(|r| r.end <= code);
        self.ranges.get(i).is_some_and(|r| r.start <= code)
    }

    /// The codes in both sets.
    pub fn intersect(&self, other: &CodeSet) -> CodeSet {
        let mut out = Vec::new();
        for a in &self.ranges {
            for b in &other.ranges {
                let (lo, hi) = (a.start.max(b.start), a.end.min(b.end));
                if lo < hi {
                    out.push(lo..hi);
                }
            }
        }
        CodeSet::from_ranges(out)
    }

    /// Iterate over the codes in order.
    pub fn codes(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges.iter().flat_map(|r| r.clone())
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
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// A query mapped onto codes: per column, `None` (a wildcard) or the allowed codes.
/// Several predicates on one column intersect. The null code is never allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// One entry per table column.
    pub ranges: Vec<Option<CodeSet>>,
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

    /// Map every predicate onto its column's code range, by the dictionaries of a [`Table`]
    /// or of its [`Schema`].
    pub fn resolve(&self, catalog: &impl Catalog) -> Result<Resolved> {
        let mut ranges: Vec<Option<CodeSet>> = vec![None; catalog.column_count()];
        for p in &self.predicates {
            let idx = catalog
                .find_column(&p.column)
                .ok_or_else(|| Error::UnknownColumn(p.column.clone()))?;
            let dict = catalog.column(idx).dictionary();
            let set = match &p.condition {
                Condition::Compare(op, lit) => {
                    CodeSet::range(dict.code_range(&p.column, *op, lit)?)
                }
                Condition::In(lits) => CodeSet::from_ranges(
                    lits.iter()
                        .map(|l| dict.code_range(&p.column, Op::Eq, l))
                        .collect::<Result<Vec<_>>>()?,
                ),
            };
            ranges[idx] = Some(match ranges[idx].take() {
                None => set,
                Some(old) => old.intersect(&set),
            });
        }
        Ok(Resolved { ranges })
    }
}

/// The columns a query resolves against: a [`Table`], or a [`Schema`] when the rows are not
/// at hand (a model loaded from disk carries one).
pub trait Catalog {
    /// Number of columns.
    fn column_count(&self) -> usize;
    /// Column `index` without its rows (`index < column_count()`).
    fn column(&self, index: usize) -> &ColumnSchema;
    /// Index of the column named `name`.
    fn find_column(&self, name: &str) -> Option<usize> {
        (0..self.column_count()).position(|i| self.column(i).name() == name)
    }
}

impl Catalog for Table {
    fn column_count(&self) -> usize {
        self.columns().len()
    }
    fn column(&self, index: usize) -> &ColumnSchema {
        self.columns()[index].schema()
    }
}

impl Catalog for Schema {
    fn column_count(&self) -> usize {
        self.columns().len()
    }
    fn column(&self, index: usize) -> &ColumnSchema {
        &self.columns()[index]
    }
}
