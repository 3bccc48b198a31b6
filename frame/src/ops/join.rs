//! Joins (pandas' `merge` and `join`): hash joins over jointly factorized keys.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;

use crate::column::{Column, NO_ROW, PAR_THRESHOLD, Prim};
use crate::dtype::DType;
use crate::error::{FrameError, Result};
use crate::factorize::{direct_range, factorize, int_bounds};
use crate::frame::DataFrame;
use crate::index::Index;
use crate::ops::sort::sorted_rows;
use crate::partition::{filled, split, split_mut};

/// Which rows a join keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinHow {
    /// Rows whose key is on both sides, in the left frame's order.
    Inner,
    /// Every left row, in left order; unmatched rows get nulls on the right.
    Left,
    /// Every right row, in right order.
    Right,
    /// Every row of both sides, sorted by key (pandas' order for `how="outer"`).
    Outer,
}

impl DataFrame {
    /// Joins on columns (pandas' `merge(left_on=, right_on=, how=)`). Null keys match each
    /// other, as in pandas. Key columns with the same label on both sides appear once;
    /// other labels present on both sides get the suffixes `_x` and `_y`. The result has a
    /// positional index.
    pub fn merge(
        &self,
        right: &DataFrame,
        left_on: &[&str],
        right_on: &[&str],
        how: JoinHow,
    ) -> Result<DataFrame> {
        if left_on.is_empty() || left_on.len() != right_on.len() {
            return Err(FrameError::InvalidArgument(format!(
                "merge needs as many left keys as right keys, at least one (got {} and {})",
                left_on.len(),
                right_on.len()
            )));
        }
        let lk = left_on
            .iter()
            .map(|k| self.column(k))
            .collect::<Result<Vec<_>>>()?;
        let rk = right_on
            .iter()
            .map(|k| right.column(k))
            .collect::<Result<Vec<_>>>()?;
        let (lidx, ridx) = match_rows(&lk, &rk, left_on, right_on, how)?;

        let shared: HashSet<&str> = left_on
            .iter()
            .zip(right_on)
            .filter(|(l, r)| l == r)
            .map(|(l, _)| *l)
            .collect();
        let right_keep: Vec<usize> = (0..right.ncols())
            .filter(|&i| !shared.contains(right.names[i].as_str()))
            .collect();
        let left_names: HashSet<&str> = self.names.iter().map(String::as_str).collect();
        let right_names: HashSet<&str> = right_keep
            .iter()
            .map(|&i| right.names[i].as_str())
            .collect();

        let mut names = Vec::new();
        let mut columns: Vec<Arc<Column>> = Vec::new();
        let (lpick, rpick) = rayon::join(
            || Pick::new(&lidx, self.nrows()),
            || Pick::new(&ridx, right.nrows()),
        );
        // Both sides' columns in one parallel pass: a small right side's columns fill the
        // time the left side's last wide column would leave one core idle.
        let jobs: Vec<(&Pick<'_>, &Arc<Column>)> = self
            .columns
            .iter()
            .map(|c| (&lpick, c))
            .chain(right_keep.iter().map(|&i| (&rpick, &right.columns[i])))
            .collect();
        let mut gathered: Vec<Arc<Column>> = jobs.par_iter().map(|(p, c)| p.gather(c)).collect();
        let rcols = gathered.split_off(self.ncols());
        let lcols = gathered;
        for (i, name) in self.names.iter().enumerate() {
            let mut col = Arc::clone(&lcols[i]);
            if shared.contains(name.as_str()) && matches!(how, JoinHow::Right | JoinHow::Outer) {
                // The one key column shows the key of whichever side has the row.
                let rcol = ridx.gather(right.column(name)?);
                col = Arc::new(coalesce(&col, &rcol));
            }
            let label = if right_names.contains(name.as_str()) {
                format!("{name}_x")
            } else {
                name.clone()
            };
            names.push(label);
            columns.push(col);
        }
        for (&i, col) in right_keep.iter().zip(rcols) {
            let name = &right.names[i];
            names.push(if left_names.contains(name.as_str()) {
                format!("{name}_y")
            } else {
                name.clone()
            });
            columns.push(col);
        }
        DataFrame::from_parts(names, columns, Index::Range(lidx.len()))
    }

    /// Joins on row labels (pandas' `join`): index levels are matched pairwise, the result
    /// keeps the matched labels; overlapping column labels get `_x` / `_y`.
    pub fn join_on_index(&self, right: &DataFrame, how: JoinHow) -> Result<DataFrame> {
        let (lt, rt) = (self.index.to_columns(), right.index.to_columns());
        if lt.len() != rt.len() {
            return Err(FrameError::InvalidArgument(format!(
                "index levels differ: {} and {}",
                lt.len(),
                rt.len()
            )));
        }
        let lk: Vec<&Column> = lt.iter().map(|(_, c)| c.as_ref()).collect();
        let rk: Vec<&Column> = rt.iter().map(|(_, c)| c.as_ref()).collect();
        let ln: Vec<&str> = lt.iter().map(|(n, _)| n.as_str()).collect();
        let rn: Vec<&str> = rt.iter().map(|(n, _)| n.as_str()).collect();
        let (lidx, ridx) = match_rows(&lk, &rk, &ln, &rn, how)?;
        let (lidx, ridx) = (lidx.options(), ridx.options());
        let left = self.take_opt(&lidx);
        let rtaken = right.take_opt(&ridx);
        let index = match how {
            JoinHow::Right => rtaken.index.clone(),
            JoinHow::Outer => {
                let levels = lk
                    .iter()
                    .zip(&rk)
                    .map(|(l, r)| Arc::new(coalesce(&l.take_opt(&lidx), &r.take_opt(&ridx))))
                    .collect();
                Index::Labels {
                    names: ln.iter().map(|s| s.to_string()).collect(),
                    levels,
                }
            }
            _ => left.index.clone(),
        };
        let overlap: HashSet<&String> = self
            .names
            .iter()
            .filter(|n| right.names.contains(n))
            .collect();
        let mut names: Vec<String> = self
            .names
            .iter()
            .map(|n| {
                if overlap.contains(n) {
                    format!("{n}_x")
                } else {
                    n.clone()
                }
            })
            .collect();
        names.extend(right.names.iter().map(|n| {
            if overlap.contains(n) {
                format!("{n}_y")
            } else {
                n.clone()
            }
        }));
        let mut columns = left.columns;
        columns.extend(rtaken.columns);
        DataFrame::from_parts(names, columns, index)
    }
}

/// The rows one side of a join contributes to the result, in result order.
#[derive(Debug, PartialEq)]
enum Side {
    /// Every input row once, in order (the outer side of a left join on unique keys):
    /// nothing to write, and the side's columns are shared rather than copied.
    Every(usize),
    /// Result row `k` is input row `rows[k]`, [`NO_ROW`] for a null row.
    Rows(Vec<usize>),
}

impl Side {
    /// Number of result rows.
    fn len(&self) -> usize {
        match self {
            Side::Every(n) => *n,
            Side::Rows(r) => r.len(),
        }
    }

    /// The picked rows of one column.
    fn gather(&self, col: &Column) -> Column {
        match self {
            Side::Every(_) => col.clone(),
            Side::Rows(r) => col.take_nullable(r),
        }
    }

    /// The rows as options (`None`: a null row), for the label-join path.
    fn options(&self) -> Vec<Option<usize>> {
        match self {
            Side::Every(n) => (0..*n).map(Some).collect(),
            Side::Rows(r) => r.iter().map(|&i| (i != NO_ROW).then_some(i)).collect(),
        }
    }
}

/// How one side's columns are gathered, decided once per join rather than per column.
enum Pick<'a> {
    /// Every row taken once, in order: columns are shared, not copied.
    Same,
    /// No null rows: the cheaper plain gather.
    Plain(&'a [usize]),
    /// Some rows are null (unmatched rows of an outer side).
    Nullable(&'a [usize]),
}

impl<'a> Pick<'a> {
    fn new(side: &'a Side, rows: usize) -> Self {
        let idx = match side {
            Side::Every(_) => return Pick::Same,
            Side::Rows(idx) => idx,
        };
        if idx.len() == rows
            && idx
                .par_iter()
                .enumerate()
                .with_min_len(1 << 14)
                .all(|(i, &r)| r == i)
        {
            Pick::Same
        } else if idx.par_iter().with_min_len(1 << 14).all(|&r| r != NO_ROW) {
            Pick::Plain(idx)
        } else {
            Pick::Nullable(idx)
        }
    }

    /// The picked rows of `col`.
    fn gather(&self, col: &Arc<Column>) -> Arc<Column> {
        match self {
            Pick::Same => Arc::clone(col),
            Pick::Plain(idx) => Arc::new(col.take(idx)),
            Pick::Nullable(idx) => Arc::new(col.take_nullable(idx)),
        }
    }
}

/// The first non-null of two columns of one length.
fn coalesce(a: &Column, b: &Column) -> Column {
    let idx: Vec<usize> = (0..a.len()).collect();
    let stacked = Column::concat(&[a, b]);
    let pick: Vec<usize> = idx
        .iter()
        .map(|&i| if a.is_null(i) { a.len() + i } else { i })
        .collect();
    stacked.take(&pick)
}

/// Checks that key types can be compared and brings them to one type (borrowing both when
/// they already share one: the stacked key column copies them anyway).
fn unify<'c>(
    l: &'c Column,
    r: &'c Column,
    ln: &str,
    rn: &str,
) -> Result<(Cow<'c, Column>, Cow<'c, Column>)> {
    let (lt, rt) = (l.dtype(), r.dtype());
    let target = match (lt, rt) {
        (a, b) if a == b && a != DType::Categorical => {
            return Ok((Cow::Borrowed(l), Cow::Borrowed(r)));
        }
        (a, b) if a.is_numeric() && b.is_numeric() => DType::Float64,
        (DType::Utf8 | DType::Categorical, DType::Utf8 | DType::Categorical) => DType::Utf8,
        (DType::Mixed, _) | (_, DType::Mixed) => DType::Mixed,
        _ => {
            return Err(FrameError::IncompatibleJoinKeys {
                left: ln.to_string(),
                left_type: lt,
                right: rn.to_string(),
                right_type: rt,
            });
        }
    };
    Ok((Cow::Owned(l.cast(target)?), Cow::Owned(r.cast(target)?)))
}

/// The result's rows: (left side, right side).
type Pairs = (Side, Side);

fn match_rows(
    lk: &[&Column],
    rk: &[&Column],
    ln: &[&str],
    rn: &[&str],
    how: JoinHow,
) -> Result<Pairs> {
    let nl = lk[0].len();
    let nr = rk[0].len();
    if nl + nr == 0 {
        return Ok((Side::Rows(Vec::new()), Side::Rows(Vec::new())));
    }
    let mut stacked = Vec::with_capacity(lk.len());
    let (codes, ng) = match small_range_codes(lk, rk, how) {
        Some(direct) => direct,
        None => {
            // Factorize both sides at once, so equal keys get one code.
            for i in 0..lk.len() {
                let (l, r) = unify(lk[i], rk[i], ln[i], rn[i])?;
                stacked.push(Column::concat(&[&l, &r]));
            }
            let refs: Vec<&Column> = stacked.iter().collect();
            let groups = factorize(&refs);
            let ng = groups.len();
            (groups.codes, ng)
        }
    };
    let (lcodes, rcodes) = codes.split_at(nl);

    let (build, probe, flipped) = match how {
        JoinHow::Right => (lcodes, rcodes, true),
        _ => (rcodes, lcodes, false),
    };
    // Bucket the build side's rows by code (CSR): rows of one key stay in row order.
    let mut starts = vec![0usize; ng + 1];
    for &c in build {
        starts[c as usize + 1] += 1;
    }
    let unique = starts.iter().all(|&n| n <= 1);
    for k in 0..ng {
        starts[k + 1] += starts[k];
    }
    let mut fill = starts.clone();
    let mut rows = vec![0usize; build.len()];
    for (i, &c) in build.iter().enumerate() {
        rows[fill[c as usize]] = i;
        fill[c as usize] += 1;
    }
    let (probe_side, build_side) = if unique && matches!(how, JoinHow::Left | JoinHow::Right) {
        // Every probe row appears once, in order, with its one match or none: the probe side
        // is the identity and the build side one lookup per probe row (pandas' `m:1` case,
        // e.g. facts joined to a dimension table).
        let first: Vec<usize> = (0..ng)
            .map(|c| {
                if starts[c + 1] > starts[c] {
                    rows[starts[c]]
                } else {
                    NO_ROW
                }
            })
            .collect();
        let matched: Vec<usize> = probe
            .par_iter()
            .with_min_len(1 << 14)
            .map(|&c| first[c as usize])
            .collect();
        (Side::Every(probe.len()), Side::Rows(matched))
    } else {
        let (p, b) = match_many(probe, &starts, &rows, how);
        let (p, b) = if how == JoinHow::Outer {
            outer_order(p, b, nl, nr, &stacked)
        } else {
            (p, b)
        };
        (Side::Rows(p), Side::Rows(b))
    };
    Ok(if flipped {
        (build_side, probe_side)
    } else {
        (probe_side, build_side)
    })
}

/// Join codes for one integer key (Int64 or Datetime on both sides) whose values span a
/// small range: each value's offset from the smallest, plus one (0 is null, which matches
/// null as in pandas), left rows then right rows. Equal keys get equal codes without
/// stacking the two key columns or numbering groups by first appearance: matching only
/// buckets rows by code. `None` for other keys, wide ranges, and outer joins (whose row
/// order sorts by the stacked key).
fn small_range_codes(lk: &[&Column], rk: &[&Column], how: JoinHow) -> Option<(Vec<u32>, usize)> {
    let (l, r) = match (lk, rk, how) {
        (_, _, JoinHow::Outer) => return None,
        ([Column::Int64(l)], [Column::Int64(r)], _)
        | ([Column::Datetime(l)], [Column::Datetime(r)], _) => (l, r),
        _ => return None,
    };
    let (nl, nr) = (l.len(), r.len());
    let ((llo, lhi), (rlo, rhi)) = rayon::join(|| int_bounds(l), || int_bounds(r));
    let (lo, hi) = (llo.min(rlo), lhi.max(rhi));
    // Every key null: a range of 0, one code for all.
    let range = direct_range(lo, hi, nl + nr)?;
    let code = |p: &Prim<i64>, i: usize| {
        if p.is_valid(i) {
            (p.values[i] - lo) as u32 + 1
        } else {
            0
        }
    };
    let codes = (0..nl + nr)
        .into_par_iter()
        .with_min_len(1 << 14)
        .map(|i| if i < nl { code(l, i) } else { code(r, i - nl) })
        .collect();
    Some((codes, range + 1))
}

/// The general matching: for each probe row, a pair per build row of its key (or one pair
/// with [`NO_ROW`] on the build side when it has none and the join keeps unmatched rows).
fn match_many(
    probe: &[u32],
    starts: &[usize],
    rows: &[usize],
    how: JoinHow,
) -> (Vec<usize>, Vec<usize>) {
    let keep_unmatched = !matches!(how, JoinHow::Inner);
    let chunks = if probe.len() >= PAR_THRESHOLD {
        rayon::current_num_threads() * 2
    } else {
        1
    };
    // Two parallel passes over probe chunks: count each chunk's output rows, then write
    // every chunk's pairs straight into its slice of the result (no per-chunk vectors to
    // concatenate: copying them would cost as much as the matching).
    let ranges = split(probe.len(), chunks);
    let out_rows = |i: usize| {
        let c = probe[i] as usize;
        match starts[c + 1] - starts[c] {
            0 => usize::from(keep_unmatched),
            n => n,
        }
    };
    let counts: Vec<usize> = ranges
        .par_iter()
        .map(|r| r.clone().map(out_rows).sum())
        .collect();
    let total = counts.iter().sum();
    let mut probe_idx: Vec<usize> = filled(total, NO_ROW);
    let mut build_idx: Vec<usize> = filled(total, NO_ROW);
    let pieces: Vec<_> = ranges
        .iter()
        .cloned()
        .zip(split_mut(&mut probe_idx, counts.iter().copied()))
        .zip(split_mut(&mut build_idx, counts.iter().copied()))
        .collect();
    pieces.into_par_iter().for_each(|((r, p), b)| {
        let mut at = 0;
        for i in r {
            let c = probe[i] as usize;
            let matches = &rows[starts[c]..starts[c + 1]];
            if matches.is_empty() {
                if keep_unmatched {
                    p[at] = i;
                    at += 1;
                }
            } else {
                for &m in matches {
                    p[at] = i;
                    b[at] = m;
                    at += 1;
                }
            }
        }
    });
    (probe_idx, build_idx)
}

/// An outer join's rows: the left join's pairs, then the right rows that matched nothing,
/// all sorted by key (stable; pandas' order for `how="outer"`).
fn outer_order(
    mut left: Vec<usize>,
    mut right: Vec<usize>,
    nl: usize,
    nr: usize,
    stacked: &[Column],
) -> (Vec<usize>, Vec<usize>) {
    let mut matched = vec![false; nr];
    for &r in &right {
        if r != NO_ROW {
            matched[r] = true;
        }
    }
    for (r, m) in matched.iter().enumerate() {
        if !m {
            left.push(NO_ROW);
            right.push(r);
        }
    }
    // A row's key sits in the stacked key columns at its left row, or after the left rows.
    let key_rows: Vec<usize> = left
        .iter()
        .zip(&right)
        .map(|(&l, &r)| if l != NO_ROW { l } else { nl + r })
        .collect();
    let key_cols: Vec<Column> = stacked.iter().map(|c| c.take(&key_rows)).collect();
    let spec: Vec<(&Column, bool, bool)> = key_cols.iter().map(|c| (c, false, false)).collect();
    let perm = sorted_rows(&spec, (0..key_rows.len()).collect());
    (
        perm.iter().map(|&i| left[i]).collect(),
        perm.iter().map(|&i| right[i]).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[Option<i64>]) -> Column {
        Column::from(v.to_vec())
    }

    #[test]
    fn small_range_codes_match_equal_keys_and_nulls_only() {
        let l = ints(&[Some(-3), None, Some(7), Some(-3)]);
        let r = ints(&[Some(7), None, Some(0)]);
        let (codes, ng) = small_range_codes(&[&l], &[&r], JoinHow::Inner).expect("small range");
        assert_eq!(ng, 12); // -3..=7 and null
        assert_eq!(codes, [1, 0, 11, 1, 11, 0, 4]);
        // Every key null: one code for all.
        let n = ints(&[None, None]);
        assert_eq!(
            small_range_codes(&[&n], &[&n], JoinHow::Left),
            Some((vec![0, 0, 0, 0], 1))
        );
    }

    #[test]
    fn wide_ranges_outer_joins_and_other_types_take_the_factorizer() {
        let wide = ints(&[Some(i64::MIN), Some(i64::MAX)]);
        let small = ints(&[Some(1)]);
        assert_eq!(small_range_codes(&[&wide], &[&small], JoinHow::Inner), None);
        assert_eq!(
            small_range_codes(&[&small], &[&small], JoinHow::Outer),
            None
        );
        let text = Column::from(vec![Some("a")]);
        assert_eq!(small_range_codes(&[&text], &[&text], JoinHow::Inner), None);
        // Extreme keys still join correctly through the general path.
        let l = DataFrame::new(vec![("k", wide.clone())]).unwrap();
        let r = DataFrame::new(vec![("k", wide), ("v", Column::from(vec![1i64, 2]))]).unwrap();
        let out = l.merge(&r, &["k"], &["k"], JoinHow::Inner).unwrap();
        assert_eq!(out.column("v").unwrap(), &Column::from(vec![1i64, 2]));
    }
}
