//! Group-by with aggregations: keys are factorized into dense codes, then each aggregation
//! folds row chunks into per-group partial states in parallel and merges them.

use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;

use crate::column::{Column, PAR_THRESHOLD, Prim, Strings};
use crate::error::{FrameError, Result};
use crate::factorize::{Groups, factorize};
use crate::frame::DataFrame;
use crate::index::Index;
use crate::ops::sort::sorted_rows;
use crate::partition::split;

/// An aggregation function. Missing values (null and NaN) are skipped, as pandas'
/// `skipna` does; a group with no value gets null (pandas: NaN), except `Sum` (0) and the
/// counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agg {
    /// Sum (Int64 stays Int64, Bool counts trues; an empty group sums to 0).
    Sum,
    /// Arithmetic mean, as Float64.
    Mean,
    /// Smallest value (numbers, strings, datetimes, bools).
    Min,
    /// Largest value.
    Max,
    /// Number of non-missing values.
    Count,
    /// Number of rows, missing values included.
    Size,
    /// Sample standard deviation (ddof = 1; null below two values).
    Std,
    /// Sample variance (ddof = 1).
    Var,
    /// First non-missing value.
    First,
    /// Last non-missing value.
    Last,
    /// Number of distinct non-missing values.
    NUnique,
    /// Median (the mean of the two middle values for an even count).
    Median,
}

impl Agg {
    /// The pandas name (`"sum"`, `"nunique"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Agg::Sum => "sum",
            Agg::Mean => "mean",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Count => "count",
            Agg::Size => "size",
            Agg::Std => "std",
            Agg::Var => "var",
            Agg::First => "first",
            Agg::Last => "last",
            Agg::NUnique => "nunique",
            Agg::Median => "median",
        }
    }
}

/// A pending group-by (pandas' `DataFrameGroupBy`); configure, then aggregate.
#[derive(Debug, Clone)]
pub struct GroupBy<'a> {
    frame: &'a DataFrame,
    keys: Vec<usize>,
    sort: bool,
    dropna: bool,
    as_index: bool,
}

impl DataFrame {
    /// Groups rows by the values of `keys`. Defaults follow pandas: groups sorted by key,
    /// null keys dropped, keys become the result's index.
    pub fn groupby(&self, keys: &[&str]) -> Result<GroupBy<'_>> {
        if keys.is_empty() {
            return Err(FrameError::InvalidArgument(
                "groupby needs at least one key column".into(),
            ));
        }
        let keys = keys
            .iter()
            .map(|k| self.position(k))
            .collect::<Result<Vec<_>>>()?;
        Ok(GroupBy {
            frame: self,
            keys,
            sort: true,
            dropna: true,
            as_index: true,
        })
    }
}

impl DataFrame {
    /// Reduces every column with each aggregation (pandas' `df.agg(["count", "mean"])`):
    /// one row per aggregation, labelled with its name; each column's type is induced from
    /// its results (Count with Mean gives Float64, as in pandas).
    pub fn reduce(&self, aggs: &[Agg]) -> Result<DataFrame> {
        let groups = Groups {
            codes: vec![0; self.nrows()],
            first_rows: vec![0],
        };
        let columns = self
            .names
            .par_iter()
            .zip(self.columns.par_iter())
            .map(|(name, col)| {
                let values = aggs
                    .iter()
                    .map(|&a| Ok(aggregate(name, col, a, &groups)?.get(0)))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(Column::from_values(values)))
            })
            .collect::<Result<Vec<_>>>()?;
        let labels: Vec<&str> = aggs.iter().map(|a| a.name()).collect();
        DataFrame::from_parts(
            self.names.clone(),
            columns,
            Index::from_column("", Column::from_strs(&labels)),
        )
    }
}

struct Plan {
    groups: Groups,
    /// The groups in output order (null groups already removed when `dropna`).
    order: Vec<usize>,
}

impl<'a> GroupBy<'a> {
    /// Sort groups by key (`true`, the default) or keep first-appearance order.
    pub fn sort(mut self, sort: bool) -> Self {
        self.sort = sort;
        self
    }

    /// Drop groups whose key has a null (`true`, the default) or keep them as groups.
    pub fn dropna(mut self, dropna: bool) -> Self {
        self.dropna = dropna;
        self
    }

    /// Keys as the result's index (`true`, the default) or as leading columns.
    pub fn as_index(mut self, as_index: bool) -> Self {
        self.as_index = as_index;
        self
    }

    fn key_columns(&self) -> Vec<&'a Column> {
        self.keys
            .iter()
            .map(|&k| self.frame.columns[k].as_ref())
            .collect()
    }

    fn plan(&self) -> Plan {
        let keys = self.key_columns();
        let groups = if self.frame.nrows() == 0 {
            Groups {
                codes: Vec::new(),
                first_rows: Vec::new(),
            }
        } else {
            factorize(&keys)
        };
        let mut order: Vec<usize> = (0..groups.len())
            .filter(|&g| !self.dropna || !groups.null_group(&keys, g))
            .collect();
        if self.sort {
            let cols: Vec<(&Column, bool, bool)> =
                keys.iter().map(|&c| (c, false, false)).collect();
            let firsts = sorted_rows(&cols, order.iter().map(|&g| groups.first_rows[g]).collect());
            let group_of_first: std::collections::HashMap<usize, usize> =
                order.iter().map(|&g| (groups.first_rows[g], g)).collect();
            order = firsts.iter().map(|r| group_of_first[r]).collect();
        }
        Plan { groups, order }
    }

    /// Aggregates: one output column per `(column, agg)`, labelled with the column's name,
    /// or `"{column}_{agg}"` when a column is aggregated more than once.
    pub fn agg(&self, specs: &[(&str, Agg)]) -> Result<DataFrame> {
        let named: Vec<(String, &str, Agg)> = specs
            .iter()
            .map(|&(c, a)| {
                let repeated = specs.iter().filter(|(c2, _)| *c2 == c).count() > 1;
                (
                    if repeated {
                        format!("{c}_{}", a.name())
                    } else {
                        c.to_string()
                    },
                    c,
                    a,
                )
            })
            .collect();
        let refs: Vec<(&str, &str, Agg)> =
            named.iter().map(|(n, c, a)| (n.as_str(), *c, *a)).collect();
        self.agg_as(&refs)
    }

    /// Aggregates with explicit output labels: `(label, column, agg)` (pandas' named
    /// aggregation).
    pub fn agg_as(&self, specs: &[(&str, &str, Agg)]) -> Result<DataFrame> {
        let inputs = specs
            .iter()
            .map(|&(_, c, _)| self.frame.column(c).map(|col| (c, col)))
            .collect::<Result<Vec<_>>>()?;
        let plan = self.plan();
        let columns = inputs
            .par_iter()
            .zip(specs.par_iter())
            .map(|(&(name, col), &(_, _, agg))| {
                Ok(Arc::new(
                    aggregate(name, col, agg, &plan.groups)?.take(&plan.order),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let labels = specs.iter().map(|(l, _, _)| l.to_string()).collect();
        self.assemble(&plan, labels, columns)
    }

    /// The number of rows per group (pandas' `size()`), labelled `"size"`.
    pub fn size(&self) -> Result<DataFrame> {
        let plan = self.plan();
        let counts = counts(&plan.groups.codes, plan.groups.len());
        let col = Column::from_i64(plan.order.iter().map(|&g| counts[g] as i64).collect());
        self.assemble(&plan, vec!["size".into()], vec![Arc::new(col)])
    }

    /// The first `n` rows of each group, in the frame's row order (pandas' `head`).
    pub fn head(&self, n: usize) -> Result<DataFrame> {
        let plan = self.plan();
        let mut keep = vec![false; plan.groups.len()];
        for &g in &plan.order {
            keep[g] = true;
        }
        let mut seen = vec![0usize; plan.groups.len()];
        let rows: Vec<usize> = (0..self.frame.nrows())
            .filter(|&r| {
                let g = plan.groups.codes[r] as usize;
                seen[g] += 1;
                keep[g] && seen[g] <= n
            })
            .collect();
        Ok(self.frame.take_unchecked(&rows))
    }

    /// The Pearson correlation of two numeric columns within each group (NaN-free pairs
    /// only; null when undefined), labelled `"corr"`.
    pub fn corr(&self, x: &str, y: &str) -> Result<DataFrame> {
        let (xc, yc) = (
            self.frame.column(x)?.numeric(x, "corr")?,
            self.frame.column(y)?.numeric(y, "corr")?,
        );
        let plan = self.plan();
        let codes = &plan.groups.codes;
        let valid = |i: usize| {
            xc.is_valid(i) && yc.is_valid(i) && !xc.values[i].is_nan() && !yc.values[i].is_nan()
        };
        type Moments = (f64, f64, f64, f64, f64, u64);
        let sums: Vec<Moments> = fold_groups(
            codes,
            plan.groups.len(),
            (0.0, 0.0, 0.0, 0.0, 0.0, 0),
            |s, i| {
                if valid(i) {
                    let (a, b) = (xc.values[i], yc.values[i]);
                    *s = (
                        s.0 + a,
                        s.1 + b,
                        s.2 + a * a,
                        s.3 + b * b,
                        s.4 + a * b,
                        s.5 + 1,
                    );
                }
            },
            |a, b| {
                (
                    a.0 + b.0,
                    a.1 + b.1,
                    a.2 + b.2,
                    a.3 + b.3,
                    a.4 + b.4,
                    a.5 + b.5,
                )
            },
        );
        let out = plan.order.iter().map(|&g| {
            let (sx, sy, sxx, syy, sxy, n) = sums[g];
            let n = n as f64;
            let cov = sxy - sx * sy / n;
            let (vx, vy) = (sxx - sx * sx / n, syy - sy * sy / n);
            (n >= 2.0 && vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
        });
        let col = Column::from(out.collect::<Vec<Option<f64>>>());
        self.assemble(&plan, vec!["corr".into()], vec![Arc::new(col)])
    }

    fn assemble(
        &self,
        plan: &Plan,
        labels: Vec<String>,
        columns: Vec<Arc<Column>>,
    ) -> Result<DataFrame> {
        let rows: Vec<usize> = plan
            .order
            .iter()
            .map(|&g| plan.groups.first_rows[g])
            .collect();
        let key_names: Vec<String> = self
            .keys
            .iter()
            .map(|&k| self.frame.names[k].clone())
            .collect();
        let key_cols: Vec<Arc<Column>> = self
            .key_columns()
            .iter()
            .map(|c| Arc::new(c.take(&rows)))
            .collect();
        if self.as_index {
            DataFrame::from_parts(
                labels,
                columns,
                Index::Labels {
                    names: key_names,
                    levels: key_cols,
                },
            )
        } else {
            let mut names = key_names;
            names.extend(labels);
            let mut cols = key_cols;
            cols.extend(columns);
            DataFrame::from_parts(names, cols, Index::Range(rows.len()))
        }
    }
}

/// Folds rows into per-group states: row chunks run in parallel, each into its own state
/// array, merged afterwards — unless there are so many groups that the arrays would cost
/// more than the rows (then one sequential pass).
pub(crate) fn fold_groups<S, F, C>(
    codes: &[u32],
    ngroups: usize,
    identity: S,
    step: F,
    combine: C,
) -> Vec<S>
where
    S: Copy + Send + Sync,
    F: Fn(&mut S, usize) + Sync,
    C: Fn(S, S) -> S + Sync,
{
    let n = codes.len();
    let threads = rayon::current_num_threads().max(1);
    let chunks = if n >= PAR_THRESHOLD && ngroups.saturating_mul(threads) <= n {
        threads
    } else {
        1
    };
    let partials: Vec<Vec<S>> = split(n, chunks)
        .into_par_iter()
        .map(|r| {
            let mut acc = vec![identity; ngroups];
            for i in r {
                step(&mut acc[codes[i] as usize], i);
            }
            acc
        })
        .collect();
    partials
        .into_iter()
        .reduce(|mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x = combine(*x, y);
            }
            a
        })
        .unwrap_or_else(|| vec![identity; ngroups])
}

fn counts(codes: &[u32], ngroups: usize) -> Vec<u64> {
    fold_groups(codes, ngroups, 0u64, |s, _| *s += 1, |a, b| a + b)
}

/// One aggregation over all groups (in group-code order).
fn aggregate(name: &str, col: &Column, agg: Agg, groups: &Groups) -> Result<Column> {
    let codes = &groups.codes;
    let g = groups.len();
    Ok(match agg {
        Agg::Size => Column::from_i64(counts(codes, g).into_iter().map(|c| c as i64).collect()),
        Agg::Count => {
            let c = fold_groups(
                codes,
                g,
                0u64,
                |s, i| *s += u64::from(!col.is_missing(i)),
                |a, b| a + b,
            );
            Column::from_i64(c.into_iter().map(|c| c as i64).collect())
        }
        Agg::Sum => match col {
            Column::Int64(p) => {
                let v = &p.values;
                let sums = match &p.validity {
                    None => fold_groups(
                        codes,
                        g,
                        0i64,
                        |s, i| *s = s.wrapping_add(v[i]),
                        i64::wrapping_add,
                    ),
                    Some(m) => fold_groups(
                        codes,
                        g,
                        0i64,
                        |s, i| {
                            if m[i] {
                                *s = s.wrapping_add(v[i])
                            }
                        },
                        i64::wrapping_add,
                    ),
                };
                Column::from_i64(sums)
            }
            Column::Bool(p) => {
                let sums = fold_groups(
                    codes,
                    g,
                    0i64,
                    |s, i| *s += i64::from(p.get(i) == Some(true)),
                    |a, b| a + b,
                );
                Column::from_i64(sums)
            }
            _ => {
                let p = col.numeric(name, "sum")?;
                let v = &p.values;
                let sums = fold_groups(
                    codes,
                    g,
                    0.0f64,
                    |s, i| {
                        if p.is_valid(i) && !v[i].is_nan() {
                            *s += v[i]
                        }
                    },
                    |a, b| a + b,
                );
                Column::from_f64(sums)
            }
        },
        Agg::Mean => {
            let (sums, _) = sums_counts(col, name, codes, g, "mean")?;
            Column::from(
                sums.into_iter()
                    .map(|(s, n)| (n > 0).then(|| s / n as f64))
                    .collect::<Vec<_>>(),
            )
        }
        Agg::Var | Agg::Std => {
            let (sums, p) = sums_counts(col, name, codes, g, agg.name())?;
            let means: Vec<f64> = sums
                .iter()
                .map(|&(s, n)| if n > 0 { s / n as f64 } else { 0.0 })
                .collect();
            let v = &p.values;
            let ss = fold_groups(
                codes,
                g,
                0.0f64,
                |s, i| {
                    if p.is_valid(i) && !v[i].is_nan() {
                        let d = v[i] - means[codes[i] as usize];
                        *s += d * d;
                    }
                },
                |a, b| a + b,
            );
            let out: Vec<Option<f64>> = ss
                .iter()
                .zip(&sums)
                .map(|(&ss, &(_, n))| {
                    (n >= 2).then(|| {
                        let var = ss / (n - 1) as f64;
                        if agg == Agg::Std { var.sqrt() } else { var }
                    })
                })
                .collect();
            Column::from(out)
        }
        Agg::Min | Agg::Max => min_max(name, col, agg == Agg::Min, codes, g)?,
        Agg::First | Agg::Last => {
            let first = agg == Agg::First;
            let rows = fold_groups(
                codes,
                g,
                None::<usize>,
                |s, i| {
                    if !col.is_missing(i) && (!first || s.is_none()) {
                        *s = Some(i);
                    }
                },
                |a, b| if first { a.or(b) } else { b.or(a) },
            );
            col.take_opt(&rows)
        }
        Agg::NUnique => {
            let values = factorize(&[col]);
            let mut seen: HashSet<(u32, u32)> = HashSet::new();
            let mut out = vec![0i64; g];
            for i in 0..codes.len() {
                if !col.is_missing(i) && seen.insert((codes[i], values.codes[i])) {
                    out[codes[i] as usize] += 1;
                }
            }
            Column::from_i64(out)
        }
        Agg::Median => {
            let p = col.numeric(name, "median")?;
            // Bucket the values by group (a counting sort), then select within each bucket.
            let mut starts = vec![0usize; g + 1];
            for (i, &c) in codes.iter().enumerate() {
                if p.is_valid(i) && !p.values[i].is_nan() {
                    starts[c as usize + 1] += 1;
                }
            }
            for k in 0..g {
                starts[k + 1] += starts[k];
            }
            let mut fill = starts.clone();
            let mut buf = vec![0.0f64; starts[g]];
            for (i, &c) in codes.iter().enumerate() {
                if p.is_valid(i) && !p.values[i].is_nan() {
                    buf[fill[c as usize]] = p.values[i];
                    fill[c as usize] += 1;
                }
            }
            let mut slices: Vec<&mut [f64]> = Vec::with_capacity(g);
            let mut rest = buf.as_mut_slice();
            for k in 0..g {
                let (head, tail) = rest.split_at_mut(starts[k + 1] - starts[k]);
                slices.push(head);
                rest = tail;
            }
            let medians: Vec<Option<f64>> = slices.into_par_iter().map(median).collect();
            Column::from(medians)
        }
    })
}

fn median(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (_, &mut m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        return Some(m);
    }
    let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + m) / 2.0)
}

/// Per-group (sum, count) of the non-missing values, and the column as floats.
type SumsCounts = (Vec<(f64, u64)>, Prim<f64>);

fn sums_counts(col: &Column, name: &str, codes: &[u32], g: usize, op: &str) -> Result<SumsCounts> {
    let p = col.numeric(name, op)?;
    let v = &p.values;
    let sums = match &p.validity {
        None => fold_groups(
            codes,
            g,
            (0.0, 0u64),
            |s, i| {
                if !v[i].is_nan() {
                    *s = (s.0 + v[i], s.1 + 1)
                }
            },
            |a, b| (a.0 + b.0, a.1 + b.1),
        ),
        Some(m) => fold_groups(
            codes,
            g,
            (0.0, 0u64),
            |s, i| {
                if m[i] && !v[i].is_nan() {
                    *s = (s.0 + v[i], s.1 + 1)
                }
            },
            |a, b| (a.0 + b.0, a.1 + b.1),
        ),
    };
    Ok((sums, p))
}

fn min_max(name: &str, col: &Column, min: bool, codes: &[u32], g: usize) -> Result<Column> {
    fn pick<T: PartialOrd + Copy>(min: bool, a: Option<T>, b: Option<T>) -> Option<T> {
        match (a, b) {
            (Some(x), Some(y)) => Some(if (y < x) == min && y != x { y } else { x }),
            (x, None) => x,
            (None, y) => y,
        }
    }
    Ok(match col {
        Column::Int64(p) | Column::Datetime(p) => {
            let out = fold_groups(
                codes,
                g,
                None::<i64>,
                |s, i| *s = pick(min, *s, p.get(i)),
                |a, b| pick(min, a, b),
            );
            let prim = Prim::from_options(out);
            if matches!(col, Column::Datetime(_)) {
                Column::Datetime(prim)
            } else {
                Column::Int64(prim)
            }
        }
        Column::Float64(p) => {
            let out = fold_groups(
                codes,
                g,
                None::<f64>,
                |s, i| {
                    if let Some(v) = p.get(i).filter(|v| !v.is_nan()) {
                        *s = pick(min, *s, Some(v));
                    }
                },
                |a, b| pick(min, a, b),
            );
            Column::from(out)
        }
        Column::Bool(p) => Column::from(fold_groups(
            codes,
            g,
            None::<bool>,
            |s, i| *s = pick(min, *s, p.get(i)),
            |a, b| pick(min, a, b),
        )),
        Column::Utf8(s) => {
            // Track the winning row per group; compare the strings in place.
            let better = |a: usize, b: usize| {
                if min {
                    s.raw(b) < s.raw(a)
                } else {
                    s.raw(b) > s.raw(a)
                }
            };
            let rows = fold_groups(
                codes,
                g,
                None::<usize>,
                |st, i| {
                    if s.is_valid(i) && st.is_none_or(|cur| better(cur, i)) {
                        *st = Some(i);
                    }
                },
                |a, b| match (a, b) {
                    (Some(x), Some(y)) => Some(if better(x, y) { y } else { x }),
                    (x, y) => x.or(y),
                },
            );
            Column::Utf8(Strings::from_options(
                rows.iter().map(|r| r.map(|r| s.raw(r))),
            ))
        }
        Column::Categorical(c) => {
            let out = fold_groups(
                codes,
                g,
                None::<u32>,
                |s, i| {
                    let code = c.codes[i];
                    if code != crate::column::NULL_CODE {
                        *s = pick(min, *s, Some(code));
                    }
                },
                |a, b| pick(min, a, b),
            );
            Column::Categorical(
                c.with_codes(
                    out.into_iter()
                        .map(|o| o.unwrap_or(crate::column::NULL_CODE))
                        .collect(),
                ),
            )
        }
        Column::Mixed(_) => {
            return Err(FrameError::TypeMismatch {
                column: name.to_string(),
                operation: if min { "min" } else { "max" }.into(),
                expected: "a typed column (call infer_types first)".into(),
                actual: col.dtype(),
            });
        }
    })
}
