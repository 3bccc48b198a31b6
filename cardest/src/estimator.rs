//! Selectivity estimation from a trained model by progressive sampling.
//!
//! For each constrained column in model order, the model gives `P(x_i | sampled x_<i)` for
//! every in-flight sample; the sample's weight is multiplied by the probability mass inside
//! the column's allowed range, and a value is drawn from the distribution restricted to that
//! range. Wildcard columns are never sampled: they stay in the masked input slot (wildcard
//! skipping), which is why the model is trained with column masking. With only `=`
//! predicates every sample follows the same path and the estimate is the exact product of
//! conditionals.

use stratus_sim::SimRng;

use crate::error::{Error, Result};
use crate::made::Made;
use crate::predicate::{Query, Resolved};
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
    rows: usize,
    cfg: EstimatorConfig,
}

impl<'a> Estimator<'a> {
    /// An estimator for a table of `rows` rows that `model` was trained on.
    pub fn new(model: &'a Made, rows: usize, cfg: EstimatorConfig) -> Result<Self> {
        if cfg.samples == 0 {
            return Err(Error::Config("samples must be at least 1".into()));
        }
        Ok(Estimator { model, rows, cfg })
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
        let Some(last) = q.ranges.iter().rposition(Option::is_some) else {
            return Ok(1.0);
        };
        // Equality-only queries need one path; ranges need the full sample set.
        let point = q.ranges.iter().flatten().all(|r| r.len() == 1);
        let s = if point { 1 } else { self.cfg.samples };
        let mut rng = SimRng::new(self.cfg.seed);
        let mut inputs: Vec<usize> = (0..s)
            .flat_map(|_| (0..n).map(|c| self.model.input_index(c, None)))
            .collect();
        let mut weights = vec![1.0f64; s];
        for (col, range) in q.ranges.iter().enumerate().take(last + 1) {
            let Some(range) = range else { continue };
            let acts = self.model.hidden(&inputs);
            let logits = self
                .model
                .column_logits(acts.last().expect("at least one layer"), col);
            let (lo, hi) = (range.start as usize, range.end as usize);
            for (b, row) in logits.outer_iter().enumerate() {
                if weights[b] == 0.0 {
                    continue;
                }
                let max = row.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                let total: f64 = row.iter().map(|&x| (x - max).exp()).sum();
                let probs: Vec<f64> = row
                    .slice(ndarray::s![lo..hi])
                    .iter()
                    .map(|&x| (x - max).exp())
                    .collect();
                let mass: f64 = probs.iter().sum();
                weights[b] *= mass / total;
                // Draw a code inside the range in proportion to the model's probabilities.
                let mut u = rng.next_f64() * mass;
                let mut pick = hi - 1;
                for (k, p) in probs.iter().enumerate() {
                    if u < *p {
                        pick = lo + k;
                        break;
                    }
                    u -= p;
                }
                inputs[b * n + col] = self.model.input_index(col, Some(pick as u32));
            }
        }
        Ok(weights.iter().sum::<f64>() / s as f64)
    }
}
