//! Naru's query workload and the q-error metric.
//!
//! A query takes a random row, picks 5–11 distinct columns (capped by the table's width;
//! columns that are null in every row are never picked),
//! uses `=` on columns with fewer than 10 distinct values and a random one of {`<=`, `>=`,
//! `=`} elsewhere, with the row's values as literals; so every query matches at least one
//! row. A row that is null in a chosen column is redrawn (a null matches no predicate).

use stratus_sim::SimRng;

use crate::error::{Error, Result};
use crate::predicate::{Op, Predicate, Query};
use crate::table::Table;
use crate::train::shuffle;

/// Generate `count` queries from `seed`.
pub fn generate(table: &Table, count: usize, seed: u64) -> Result<Vec<Query>> {
    let n = table.columns().len();
    if table.rows() == 0 || n == 0 {
        return Err(Error::EmptyTable("no rows or columns"));
    }
    // A column with no value at all (every cell null) can never hold a predicate a row
    // satisfies, so it is left out; on a table without one this changes nothing.
    let eligible: Vec<usize> = (0..n)
        .filter(|&c| !table.columns()[c].dictionary().is_empty())
        .collect();
    let n = eligible.len();
    if n == 0 {
        return Err(Error::EmptyTable("every column is null"));
    }
    let mut rng = SimRng::new(seed);
    let mut out = Vec::with_capacity(count);
    let mut attempts = 0usize;
    while out.len() < count {
        attempts += 1;
        if attempts > count.saturating_mul(1000).max(1000) {
            return Err(Error::Config(
                "too many null rows to draw queries from".into(),
            ));
        }
        let row = rng.below(table.rows() as u64) as usize;
        let (lo, hi) = (5.min(n), 11.min(n));
        let k = lo + rng.below((hi - lo + 1) as u64) as usize;
        let mut cols = eligible.clone();
        shuffle(&mut cols, &mut rng);
        cols.truncate(k);
        cols.sort_unstable();
        let mut preds = Vec::with_capacity(k);
        let mut null = false;
        for &c in &cols {
            let col = &table.columns()[c];
            let Some(value) = col.dictionary().value(col.codes()[row]) else {
                null = true;
                break;
            };
            let op = if col.dictionary().len() < 10 {
                Op::Eq
            } else {
                [Op::Le, Op::Ge, Op::Eq][rng.below(3) as usize]
            };
            preds.push(Predicate::new(col.name(), op, value));
        }
        if !null {
            out.push(Query::new(preds));
        }
    }
    Ok(out)
}

/// q-error: `max(est/true, true/est)` with both clamped to at least one row.
pub fn q_error(estimate: f64, truth: f64) -> f64 {
    let (e, t) = (estimate.max(1.0), truth.max(1.0));
    (e / t).max(t / e)
}

/// Quantile (nearest rank) of a slice of values; NaN when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}
