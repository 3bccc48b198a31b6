//! Sorting: multi-key, stable, ascending or descending per key, nulls first or last.

use std::cmp::Ordering;

use rayon::prelude::*;

use crate::column::{Categorical, Column, NULL_CODE, Prim, Strings};
use crate::error::Result;
use crate::frame::DataFrame;
use crate::value::{Value, float_cmp};

/// One sort key: a column label and its direction. Nulls (and NaN) go last unless
/// `nulls_first`, as pandas' `na_position`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The column label.
    pub column: String,
    /// Largest first.
    pub descending: bool,
    /// Missing values before the others.
    pub nulls_first: bool,
}

impl SortKey {
    /// Ascending, nulls last.
    pub fn asc(column: &str) -> SortKey {
        SortKey { column: column.to_string(), descending: false, nulls_first: false }
    }

    /// Descending, nulls last.
    pub fn desc(column: &str) -> SortKey {
        SortKey { column: column.to_string(), descending: true, nulls_first: false }
    }

    /// The same key with nulls placed first.
    pub fn nulls_first(mut self) -> SortKey {
        self.nulls_first = true;
        self
    }
}

enum Keyed<'a> {
    Int(&'a Prim<i64>),
    Float(&'a Prim<f64>),
    Bool(&'a Prim<bool>),
    Str(&'a Strings),
    Cat(&'a Categorical),
    Mixed(&'a [Value]),
}

/// Compares rows by typed key columns without materialising values.
pub(crate) struct RowOrder<'a> {
    keys: Vec<(Keyed<'a>, bool, bool)>,
}

impl<'a> RowOrder<'a> {
    /// `keys`: (column, descending, nulls_first).
    pub(crate) fn new(keys: &[(&'a Column, bool, bool)]) -> RowOrder<'a> {
        let keys = keys
            .iter()
            .map(|&(c, desc, nf)| {
                let k = match c {
                    Column::Int64(p) | Column::Datetime(p) => Keyed::Int(p),
                    Column::Float64(p) => Keyed::Float(p),
                    Column::Bool(p) => Keyed::Bool(p),
                    Column::Utf8(s) => Keyed::Str(s),
                    Column::Categorical(c) => Keyed::Cat(c),
                    Column::Mixed(v) => Keyed::Mixed(v),
                };
                (k, desc, nf)
            })
            .collect();
        RowOrder { keys }
    }

    pub(crate) fn cmp(&self, a: usize, b: usize) -> Ordering {
        for (key, desc, nulls_first) in &self.keys {
            let (ma, mb) = (missing(key, a), missing(key, b));
            let ord = match (ma, mb) {
                (true, true) => Ordering::Equal,
                (true, false) => return if *nulls_first { Ordering::Less } else { Ordering::Greater },
                (false, true) => return if *nulls_first { Ordering::Greater } else { Ordering::Less },
                (false, false) => {
                    let o = match key {
                        Keyed::Int(p) => p.values[a].cmp(&p.values[b]),
                        Keyed::Float(p) => float_cmp(p.values[a], p.values[b]),
                        Keyed::Bool(p) => p.values[a].cmp(&p.values[b]),
                        Keyed::Str(s) => s.raw(a).as_bytes().cmp(s.raw(b).as_bytes()),
                        Keyed::Cat(c) => c.codes[a].cmp(&c.codes[b]),
                        Keyed::Mixed(v) => v[a].total_cmp(&v[b]),
                    };
                    if *desc { o.reverse() } else { o }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

fn missing(key: &Keyed<'_>, i: usize) -> bool {
    match key {
        Keyed::Int(p) => !p.is_valid(i),
        Keyed::Float(p) => !p.is_valid(i) || p.values[i].is_nan(),
        Keyed::Bool(p) => !p.is_valid(i),
        Keyed::Str(s) => !s.is_valid(i),
        Keyed::Cat(c) => c.codes[i] == NULL_CODE,
        Keyed::Mixed(v) => v[i].is_missing(),
    }
}

/// Stable argsort of `rows` by `order`.
pub(crate) fn argsort(rows: &mut [usize], order: &RowOrder<'_>) {
    if rows.len() >= crate::column::PAR_THRESHOLD {
        rows.par_sort_by(|&a, &b| order.cmp(a, b));
    } else {
        rows.sort_by(|&a, &b| order.cmp(a, b));
    }
}

impl DataFrame {
    /// Sorts rows by several keys (pandas' `sort_values`): stable, so equal rows keep their
    /// order; each key has its own direction and null placement; labels travel with rows.
    pub fn sort_by(&self, keys: &[SortKey]) -> Result<DataFrame> {
        let cols = keys
            .iter()
            .map(|k| Ok((self.column(&k.column)?, k.descending, k.nulls_first)))
            .collect::<Result<Vec<_>>>()?;
        let order = RowOrder::new(&cols);
        let mut rows: Vec<usize> = (0..self.nrows()).collect();
        argsort(&mut rows, &order);
        Ok(self.take_unchecked(&rows))
    }

    /// Sorts rows by their labels, ascending (pandas' `sort_index`).
    pub fn sort_index(&self) -> DataFrame {
        let levels: Vec<(String, std::sync::Arc<Column>)> = self.index.to_columns();
        let cols: Vec<(&Column, bool, bool)> = levels.iter().map(|(_, c)| (c.as_ref(), false, false)).collect();
        let order = RowOrder::new(&cols);
        let mut rows: Vec<usize> = (0..self.nrows()).collect();
        argsort(&mut rows, &order);
        self.take_unchecked(&rows)
    }
}
