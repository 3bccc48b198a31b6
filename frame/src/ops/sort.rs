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
        SortKey {
            column: column.to_string(),
            descending: false,
            nulls_first: false,
        }
    }

    /// Descending, nulls last.
    pub fn desc(column: &str) -> SortKey {
        SortKey {
            column: column.to_string(),
            descending: true,
            nulls_first: false,
        }
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
                (true, false) => {
                    return if *nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                }
                (false, true) => {
                    return if *nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    };
                }
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

/// One sort key per row as an order-preserving integer pair: (null rank, value bits).
/// Sorting compact pairs instead of comparing rows in place avoids a cache miss per
/// comparison, which dominates on large frames.
fn encode(col: &Column, descending: bool, nulls_first: bool) -> Vec<(u8, u64)> {
    let null = if nulls_first { 0u8 } else { 2 };
    let flip = |v: u64| if descending { !v } else { v };
    let n = col.len();
    let by = |f: &(dyn Fn(usize) -> Option<u64> + Sync)| -> Vec<(u8, u64)> {
        (0..n)
            .into_par_iter()
            .map(|i| f(i).map_or((null, 0), |v| (1, flip(v))))
            .collect()
    };
    match col {
        Column::Int64(p) | Column::Datetime(p) => by(&|i| p.get(i).map(|v| (v as u64) ^ (1 << 63))),
        Column::Float64(p) => by(&|i| {
            p.get(i).filter(|v| !v.is_nan()).map(|v| {
                let bits = (if v == 0.0 { 0.0f64 } else { v }).to_bits();
                if bits >> 63 == 1 {
                    !bits
                } else {
                    bits | (1 << 63)
                }
            })
        }),
        Column::Bool(p) => by(&|i| p.get(i).map(u64::from)),
        Column::Categorical(c) => by(&|i| (c.codes[i] != NULL_CODE).then(|| c.codes[i] as u64)),
        Column::Utf8(_) | Column::Mixed(_) => {
            // Rank the distinct values, then sort by rank.
            let groups = crate::factorize::factorize(&[col]);
            let mut uniques: Vec<usize> = (0..groups.len()).collect();
            let firsts: Vec<usize> = groups.first_rows.clone();
            let row_order = RowOrder::new(&[(col, false, false)]);
            uniques.sort_by(|&a, &b| row_order.cmp(firsts[a], firsts[b]));
            let mut rank = vec![0u64; groups.len()];
            for (r, &g) in uniques.iter().enumerate() {
                rank[g] = r as u64;
            }
            let missing: Vec<bool> = (0..n).map(|i| col.is_missing(i)).collect();
            by(&|i| (!missing[i]).then(|| rank[groups.codes[i] as usize]))
        }
    }
}

/// The rows of `rows`, stably sorted by `keys` ((column, descending, nulls_first)): one
/// stable sort per key, least significant first, over compact (key, row) pairs.
pub(crate) fn sorted_rows(keys: &[(&Column, bool, bool)], rows: Vec<usize>) -> Vec<usize> {
    let mut perm = rows;
    for &(col, desc, nf) in keys.iter().rev() {
        let enc = encode(col, desc, nf);
        // (key, position) pairs are unique, so an unstable sort of whole pairs is a stable
        // sort by key: ties keep the order the previous (less significant) pass left.
        let all_present = enc.iter().all(|e| e.0 == 1);
        perm = if all_present && perm.len() <= u32::MAX as usize {
            // The common case: no missing keys. 12-byte pairs sort faster than 24-byte ones.
            let pairs: Vec<(u64, u32)> = perm
                .iter()
                .enumerate()
                .map(|(pos, &r)| (enc[r].1, pos as u32))
                .collect();
            sort_pairs(pairs)
                .into_iter()
                .map(|p| perm[p.1 as usize])
                .collect()
        } else {
            let pairs: Vec<(u8, u64, usize)> = perm
                .iter()
                .enumerate()
                .map(|(pos, &r)| (enc[r].0, enc[r].1, pos))
                .collect();
            sort_pairs(pairs).into_iter().map(|p| perm[p.2]).collect()
        };
    }
    perm
}

fn sort_pairs<T: Ord + Send>(mut pairs: Vec<T>) -> Vec<T> {
    if pairs.len() >= crate::column::PAR_THRESHOLD {
        pairs.par_sort_unstable();
    } else {
        pairs.sort_unstable();
    }
    pairs
}

impl DataFrame {
    /// Sorts rows by several keys (pandas' `sort_values`): stable, so equal rows keep their
    /// order; each key has its own direction and null placement; labels travel with rows.
    pub fn sort_by(&self, keys: &[SortKey]) -> Result<DataFrame> {
        let cols = keys
            .iter()
            .map(|k| Ok((self.column(&k.column)?, k.descending, k.nulls_first)))
            .collect::<Result<Vec<_>>>()?;
        let rows = sorted_rows(&cols, (0..self.nrows()).collect());
        Ok(self.take_unchecked(&rows))
    }

    /// Sorts rows by their labels, ascending (pandas' `sort_index`).
    pub fn sort_index(&self) -> DataFrame {
        let levels: Vec<(String, std::sync::Arc<Column>)> = self.index.to_columns();
        let cols: Vec<(&Column, bool, bool)> = levels
            .iter()
            .map(|(_, c)| (c.as_ref(), false, false))
            .collect();
        let rows = sorted_rows(&cols, (0..self.nrows()).collect());
        self.take_unchecked(&rows)
    }
}
