//! Window operators: rolling, expanding, shift, diff and cumulative, run column-wise
//! (full-column partitions, columns in parallel).

use std::collections::VecDeque;
use std::sync::Arc;

use rayon::prelude::*;

use crate::column::{Column, Prim};
use crate::error::{FrameError, Result};
use crate::frame::DataFrame;

/// The aggregation of a rolling or expanding window. Results are Float64, as in pandas;
/// missing values (null, NaN) are skipped, and a window with fewer than `min_periods`
/// values gives null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowAgg {
    /// Sum of the window.
    Sum,
    /// Mean of the window.
    Mean,
    /// Minimum of the window.
    Min,
    /// Maximum of the window.
    Max,
    /// Number of values in the window.
    Count,
    /// Sample standard deviation (ddof = 1).
    Std,
    /// Sample variance (ddof = 1).
    Var,
}

/// A running accumulation (pandas' `cumsum`, `cumprod`, `cummin`, `cummax`). Missing values
/// stay missing and are skipped; Int64 stays Int64 (wrapping on overflow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cumulative {
    /// Running sum.
    Sum,
    /// Running product.
    Prod,
    /// Running minimum.
    Min,
    /// Running maximum.
    Max,
}

impl DataFrame {
    /// Rolling window over the last `window` rows of every column (pandas'
    /// `rolling(window, min_periods).agg()`); `min_periods` defaults to `window`. Every
    /// column must be numeric.
    pub fn rolling(
        &self,
        window: usize,
        min_periods: Option<usize>,
        agg: WindowAgg,
    ) -> Result<DataFrame> {
        if window == 0 {
            return Err(FrameError::InvalidWindow {
                size: 0,
                reason: "a rolling window needs at least one row",
            });
        }
        let min_periods = min_periods.unwrap_or(window);
        if min_periods > window {
            return Err(FrameError::InvalidWindow {
                size: window as i64,
                reason: "min_periods must not exceed the window",
            });
        }
        self.numeric_columnwise("rolling", |p| {
            Column::from(rolling(p, window, min_periods, agg))
        })
    }

    /// Expanding window: every row sees all rows up to it (pandas' `expanding`).
    pub fn expanding(&self, min_periods: usize, agg: WindowAgg) -> Result<DataFrame> {
        let window = self.nrows().max(1);
        self.numeric_columnwise("expanding", |p| {
            Column::from(rolling(p, window, min_periods, agg))
        })
    }

    /// Shifts every column by `periods` rows (negative: upwards), filling with nulls.
    pub fn shift(&self, periods: i64) -> DataFrame {
        let n = self.nrows() as i64;
        let idx: Vec<Option<usize>> = (0..n)
            .map(|i| {
                let src = i - periods;
                (0..n).contains(&src).then_some(src as usize)
            })
            .collect();
        let columns = self
            .columns
            .par_iter()
            .map(|c| Arc::new(c.take_opt(&idx)))
            .collect();
        DataFrame {
            names: self.names.clone(),
            columns,
            index: self.index.clone(),
        }
    }

    /// `x[i] - x[i - periods]` for every numeric column, as Float64 (pandas' `diff`).
    pub fn diff(&self, periods: i64) -> Result<DataFrame> {
        self.numeric_columnwise("diff", |p| {
            let n = p.len() as i64;
            let out: Vec<Option<f64>> = (0..n)
                .map(|i| {
                    let j = i - periods;
                    if !(0..n).contains(&j) {
                        return None;
                    }
                    Some(p.get(i as usize)? - p.get(j as usize)?)
                })
                .collect();
            Column::from(out)
        })
    }

    /// Running accumulation of every numeric column.
    pub fn cumulative(&self, op: Cumulative) -> Result<DataFrame> {
        self.map_columns(|name, col| match col {
            Column::Int64(p) => {
                let mut acc: Option<i64> = None;
                let out: Vec<Option<i64>> = (0..p.len())
                    .map(|i| {
                        let v = p.get(i)?;
                        let next = match (acc, op) {
                            (None, _) => v,
                            (Some(a), Cumulative::Sum) => a.wrapping_add(v),
                            (Some(a), Cumulative::Prod) => a.wrapping_mul(v),
                            (Some(a), Cumulative::Min) => a.min(v),
                            (Some(a), Cumulative::Max) => a.max(v),
                        };
                        acc = Some(next);
                        acc
                    })
                    .collect();
                Ok(Column::from(out))
            }
            Column::Float64(p) => {
                let mut acc: Option<f64> = None;
                let out: Vec<f64> = (0..p.len())
                    .map(|i| {
                        let v = p.values[i];
                        if !p.is_valid(i) || v.is_nan() {
                            return f64::NAN;
                        }
                        let next = match (acc, op) {
                            (None, _) => v,
                            (Some(a), Cumulative::Sum) => a + v,
                            (Some(a), Cumulative::Prod) => a * v,
                            (Some(a), Cumulative::Min) => a.min(v),
                            (Some(a), Cumulative::Max) => a.max(v),
                        };
                        acc = Some(next);
                        next
                    })
                    .collect();
                // Missing inputs stay missing: null where the input was null, NaN where NaN.
                Ok(Column::Float64(Prim {
                    values: out,
                    validity: p.validity.clone(),
                }))
            }
            other => Err(not_numeric(name, other, "cumulative")),
        })
    }

    fn numeric_columnwise(
        &self,
        op: &str,
        f: impl Fn(&Prim<f64>) -> Column + Sync,
    ) -> Result<DataFrame> {
        self.map_columns(|name, col| match col.to_f64() {
            Some(p) if col.dtype() != crate::DType::Bool => Ok(f(&p)),
            _ => Err(not_numeric(name, col, op)),
        })
    }
}

fn not_numeric(name: &str, col: &Column, op: &str) -> FrameError {
    FrameError::TypeMismatch {
        column: name.to_string(),
        operation: op.to_string(),
        expected: "a numeric column (select the numeric columns first)".into(),
        actual: col.dtype(),
    }
}

/// O(n) rolling aggregation: running sums for sum/mean/var, monotonic deques for min/max.
fn rolling(p: &Prim<f64>, window: usize, min_periods: usize, agg: WindowAgg) -> Vec<Option<f64>> {
    let n = p.len();
    let value = |i: usize| p.get(i).filter(|v| !v.is_nan());
    let mut out = Vec::with_capacity(n);
    let (mut sum, mut sumsq, mut count) = (0.0f64, 0.0f64, 0usize);
    // Indices of candidate extremes, their values monotonic from the front.
    let mut deque: VecDeque<usize> = VecDeque::new();
    for i in 0..n {
        if let Some(v) = value(i) {
            sum += v;
            sumsq += v * v;
            count += 1;
            let evict = |back: f64| {
                if agg == WindowAgg::Min {
                    back >= v
                } else {
                    back <= v
                }
            };
            while deque.back().is_some_and(|&b| evict(p.values[b])) {
                deque.pop_back();
            }
            deque.push_back(i);
        }
        if i >= window
            && let Some(old) = value(i - window)
        {
            sum -= old;
            sumsq -= old * old;
            count -= 1;
        }
        while deque.front().is_some_and(|&f| f + window <= i) {
            deque.pop_front();
        }
        if count < min_periods.max(1) && !(agg == WindowAgg::Count && count >= min_periods) {
            out.push(None);
            continue;
        }
        let c = count as f64;
        out.push(match agg {
            WindowAgg::Sum => Some(sum),
            WindowAgg::Mean => Some(sum / c),
            WindowAgg::Count => Some(c),
            WindowAgg::Min | WindowAgg::Max => deque.front().map(|&f| p.values[f]),
            WindowAgg::Var | WindowAgg::Std => (count >= 2).then(|| {
                let var = ((sumsq - sum * sum / c) / (c - 1.0)).max(0.0);
                if agg == WindowAgg::Std {
                    var.sqrt()
                } else {
                    var
                }
            }),
        });
    }
    out
}
