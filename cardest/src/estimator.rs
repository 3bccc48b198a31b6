//! Selectivity estimation from a trained model by progressive sampling.
//!
//! For each constrained column in model order, the model gives `P(x_i | sampled x_<i)` for
//! every in-flight sample; the sample's weight is multiplied by the probability mass inside
//! the column's allowed range, and a value is drawn from the distribution restricted to that
//! range. Wildcard columns are never sampled: they stay in the masked input slot (wildcard
//! skipping), which is why the model is trained with column masking. With only `=`
//! predicates every sample follows the same path and the estimate is the exact product of
//! conditionals.

use std::collections::HashMap;

use ndarray::{Array2, Axis};
use stratus_sim::SimRng;

use crate::error::{Error, Result};
use crate::made::{Compiled, Made};
use crate::predicate::{CodeSet, Query, Resolved};
use crate::table::Table;

/// Estimator settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimatorConfig {
    /// Progressive samples per query (Naru's default: 2000).
    pub samples: usize,
    /// Seed; every query is estimated from a generator seeded with it, so the same query
    /// always gets the same estimate.
    pub seed: u64,
}

impl Default for EstimatorConfig {
    fn default() -> Self {
        EstimatorConfig {
            samples: 2000,
            seed: 0,
        }
    }
}

/// Estimates row counts of conjunctive queries with a trained [`Made`].
#[derive(Clone, Debug)]
pub struct Estimator<'a> {
    model: &'a Made,
    compiled: Compiled<'a, f32>,
    rows: usize,
    cfg: EstimatorConfig,
}

impl<'a> Estimator<'a> {
    /// An estimator for a table of `rows` rows that `model` was trained on.
    pub fn new(model: &'a Made, rows: usize, cfg: EstimatorConfig) -> Result<Self> {
        if cfg.samples == 0 {
            return Err(Error::Config("samples must be at least 1".into()));
        }
        Ok(Estimator {
            model,
            compiled: Compiled::new(model),
            rows,
            cfg,
        })
    }

    /// Estimated number of rows of `table` matching `query`.
    pub fn estimate(&self, table: &Table, query: &Query) -> Result<f64> {
        let resolved = query.resolve(table)?;
        self.estimate_resolved(&resolved)
    }

    /// Estimated number of rows matching an already-resolved query.
    pub fn estimate_resolved(&self, q: &Resolved) -> Result<f64> {
        Ok(self.selectivity(q)? * self.rows as f64)
    }

    /// Estimated fraction of rows matching `q`.
    ///
    /// Samples that have drawn the same values so far share one network evaluation: the
    /// batch at each column is the number of distinct sampled prefixes, not the number of
    /// samples. Equality predicates never split a prefix, so most of Naru's workload runs
    /// on a handful of rows until its first wide range.
    pub fn selectivity(&self, q: &Resolved) -> Result<f64> {
        let n = self.model.domains().len();
        if q.ranges.len() != n {
            return Err(Error::SchemaMismatch(format!(
                "query has {} columns, model {n}",
                q.ranges.len()
            )));
        }
        if q.is_empty() {
            return Ok(0.0);
        }
        let constrained: Vec<(usize, &CodeSet)> = q
            .ranges
            .iter()
            .enumerate()
            .filter_map(|(c, r)| r.as_ref().map(|r| (c, r)))
            .collect();
        if constrained.is_empty() {
            return Ok(1.0);
        }
        let point = constrained.iter().all(|(_, r)| r.len() == 1);
        let s = if point { 1 } else { self.cfg.samples };
        let hidden = self.compiled.base().len();
        let mut rng = SimRng::new(self.cfg.seed);
        // Distinct prefixes: their first-layer pre-activations, and each sample's prefix.
        let mut states = self.compiled.base().clone().insert_axis(Axis(0));
        let mut state_of: Vec<u32> = vec![0; s];
        let mut weights = vec![1.0f64; s];
        for (k, &(col, set)) in constrained.iter().enumerate() {
            let last = k + 1 == constrained.len();
            let logits = self.compiled.column_logits(states.clone(), col);
            let codes: Vec<u32> = set.codes().collect();
            // Samples grouped by prefix (counting sort), so each prefix's distribution is
            // normalised and accumulated once.
            let mut by_state: Vec<Vec<usize>> = vec![Vec::new(); states.nrows()];
            for (b, &u) in state_of.iter().enumerate() {
                if weights[b] > 0.0 {
                    by_state[u as usize].push(b);
                }
            }
            let mut next: HashMap<(u32, u32), u32> = HashMap::new();
            let mut next_rows: Vec<f32> = Vec::new();
            let mut cumulative = Vec::with_capacity(codes.len());
            for (u, members) in by_state.iter().enumerate() {
                if members.is_empty() {
                    continue;
                }
                let row = logits.row(u);
                let max = row.fold(f32::NEG_INFINITY, |m, &x| m.max(x));
                let total: f64 = row.iter().map(|&x| f64::from((x - max).exp())).sum();
                cumulative.clear();
                let mut acc = 0.0f64;
                for &c in &codes {
                    acc += f64::from((row[c as usize] - max).exp());
                    cumulative.push(acc);
                }
                let mass = acc / total;
                for &b in members {
                    weights[b] *= mass;
                }
                if last || acc == 0.0 {
                    continue;
                }
                // Draw each sample's value inside the allowed set in proportion to the
                // model's probabilities.
                for &b in members {
                    let x = rng.next_f64() * acc;
                    let i = cumulative.partition_point(|&c| c <= x).min(codes.len() - 1);
                    let code = codes[i];
                    let fresh = next.len() as u32;
                    let id = *next.entry((u as u32, code)).or_insert_with(|| {
                        let delta = self.compiled.delta(col, code);
                        next_rows.extend(states.row(u).iter().zip(delta).map(|(a, d)| a + d));
                        fresh
                    });
                    state_of[b] = id;
                }
            }
            if !last {
                if next.is_empty() {
                    return Ok(0.0);
                }
                states = Array2::from_shape_vec((next.len(), hidden), next_rows)
                    .expect("one row per distinct prefix");
            }
        }
        Ok(weights.iter().sum::<f64>() / s as f64)
    }
}
