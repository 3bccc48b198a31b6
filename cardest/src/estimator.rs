//! Selectivity estimation from a trained model by progressive sampling.
//!
//! For each constrained column in model order, the model gives `P(x_i | sampled x_<i)` for
//! every in-flight sample; the sample's weight is multiplied by the probability mass inside
//! the column's allowed range, and a value is drawn from the distribution restricted to that
//! range (by default systematically across the samples sharing a prefix: [`Sampling`]).
//! Wildcard columns are never sampled: they stay in the masked input slot (wildcard
//! skipping), which is why the model is trained with column masking. With only `=`
//! predicates every sample follows the same path and the estimate is the exact product of
//! conditionals.
//!
//! A factorized column ([`crate::factor`]) is sampled digit by digit, most significant
//! first: each digit's allowed values are those with some allowed code below them given the
//! digits already drawn ([`Factor::digit_ranges`]), so a range or `IN` set of codes becomes
//! one constraint per digit and the estimate stays an unbiased estimate of the model's
//! probability of the query's region. Each digit's distribution is renormalised over the
//! values that lead to some code of the domain (in the block of the last code, the digits
//! past it have no rows), so a column's codes have probability one in total. An `=` on a factorized column fixes every digit: still
//! a single path. A wildcard column's digits all stay masked.

use std::collections::HashMap;
use std::ops::Range;

use ndarray::{Array2, Axis, s};
use stratus_sim::SimRng;

use crate::error::{Error, Result};
use crate::factor::Factor;
use crate::made::{Compiled, Made};
use crate::predicate::{Catalog, CodeSet, Query, Resolved};
use crate::softmax;

/// Prefixes whose logits are computed together: 128 rows of a 4,000-value column's logits
/// are 2 MB, about one core's L2.
const PREFIX_BLOCK: usize = 128;

/// Estimator settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimatorConfig {
    /// Progressive samples per query (Naru's default: 2000).
    pub samples: usize,
    /// Seed; every query is estimated from a generator seeded with it, so the same query
    /// always gets the same estimate.
    pub seed: u64,
    /// How the samples sharing a prefix draw the next value.
    pub sampling: Sampling,
    /// Adaptive sample count: when the samples' final weights concentrate on a few of them
    /// (effective sample size `(Σw)² / Σw²` under `min_effective` of the samples), the
    /// query's region was reached by too few samples to trust, and it is estimated again
    /// with eight times the samples, up to this many. Not above `samples` (the default, 0):
    /// never, so the estimate's cost is fixed.
    pub max_samples: usize,
    /// The effective sample size, as a fraction of the samples, under which a query is
    /// estimated again (with [`EstimatorConfig::max_samples`] above `samples`).
    pub min_effective: f64,
}

/// How the samples that share a prefix draw their next value from the model's distribution
/// restricted to the allowed values.
///
/// Both are unbiased estimates of the model's probability of the query's region. The
/// samples sharing a prefix share its weight, and under either scheme the expected number
/// of them that draw value `v` is `m p(v)` for `m` samples and restricted probabilities
/// `p`; by linearity (and induction over the columns) the expected sum of their final
/// weights is `m` times the prefix's weight times the model's mass of the rest of the
/// region, however the draws of one prefix's samples are coupled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sampling {
    /// Every sample draws independently (Naru's progressive sampling).
    Independent,
    /// The `m` samples sharing a prefix take evenly spaced points `(u + j) / m` of the
    /// distribution's cumulative mass for one uniform `u` (systematic sampling, as in
    /// particle-filter resampling): a value of probability `p` gets `floor(m p)` or
    /// `ceil(m p)` of them instead of a binomial count, which removes most of the sampling
    /// noise that independent draws add to an estimate at the same sample count.
    #[default]
    Systematic,
}

impl Default for EstimatorConfig {
    fn default() -> Self {
        EstimatorConfig {
            samples: 2000,
            seed: 0,
            sampling: Sampling::default(),
            max_samples: 0,
            min_effective: 0.02,
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
        if !(cfg.min_effective >= 0.0 && cfg.min_effective.is_finite()) {
            return Err(Error::Config(format!(
                "min_effective must be a finite fraction >= 0, not {}",
                cfg.min_effective
            )));
        }
        Ok(Estimator {
            model,
            compiled: Compiled::new(model),
            rows,
            cfg,
        })
    }

    /// An estimator from the model alone: the row count comes from the schema that
    /// training attached to it (kept by save and load), so a model loaded from disk
    /// estimates without the table. A model without a schema is an [`Error::Config`].
    pub fn for_model(model: &'a Made, cfg: EstimatorConfig) -> Result<Self> {
        let schema = model.schema().ok_or_else(|| {
            Error::Config(
                "the model carries no schema (train it, or attach one with Made::set_schema)"
                    .into(),
            )
        })?;
        Estimator::new(model, schema.rows(), cfg)
    }

    /// Estimated number of rows matching `query`, its literals resolved by the dictionaries
    /// of the table the model was trained on, or of its [`Schema`](crate::Schema)
    /// (`model.schema()`).
    pub fn estimate(&self, catalog: &impl Catalog, query: &Query) -> Result<f64> {
        let resolved = query.resolve(catalog)?;
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
        // A query resolved against another table can name codes this model has no outputs
        // for; that is a schema mismatch, not an index out of bounds.
        for (c, set) in q.ranges.iter().enumerate() {
            let beyond = set
                .as_ref()
                .and_then(|set| set.ranges().last())
                .is_some_and(|r| r.end as usize > self.model.domains()[c]);
            if beyond {
                return Err(Error::SchemaMismatch(format!(
                    "query column {c} has codes beyond the model's domain of {}",
                    self.model.domains()[c]
                )));
            }
        }
        if q.is_empty() {
            return Ok(0.0);
        }
        // One step per network column to sample: each constrained column's digits, most
        // significant first (a column that is not factorized is its own single digit).
        let factors = self.model.factorization();
        let steps: Vec<(&Factor, &CodeSet, u32, usize)> = q
            .ranges
            .iter()
            .enumerate()
            .filter_map(|(c, r)| r.as_ref().map(|r| (c, r)))
            .flat_map(|(c, set)| {
                let f = &factors.factors()[c];
                factors
                    .sub_columns(c)
                    .zip(0..)
                    .map(move |(sub, level)| (f, set, level, sub))
            })
            .collect();
        if steps.is_empty() {
            return Ok(1.0);
        }
        let point = q.ranges.iter().flatten().all(|r| r.len() == 1);
        if point {
            return Ok(self.progressive(&steps, 1).0);
        }
        let mut s = self.cfg.samples;
        loop {
            let (estimate, effective) = self.progressive(&steps, s);
            if effective >= self.cfg.min_effective * s as f64 || s >= self.cfg.max_samples {
                return Ok(estimate);
            }
            s = s.saturating_mul(8).min(self.cfg.max_samples);
        }
    }

    /// Progressive sampling with `s` samples over `steps` (per network column to sample: its
    /// factor, the column's code set, the digit's level and the network column): the
    /// estimated selectivity and the samples' effective sample size.
    fn progressive(&self, steps: &[(&Factor, &CodeSet, u32, usize)], s: usize) -> (f64, f64) {
        let hidden = self.compiled.base().len();
        let mut rng = SimRng::new(self.cfg.seed);
        // Distinct prefixes: their first-layer pre-activations, each sample's prefix, and per
        // prefix the number formed by the digits already drawn of the column being sampled.
        let mut states = self.compiled.base().clone().insert_axis(Axis(0));
        let mut partial: Vec<u32> = vec![0];
        let mut state_of: Vec<u32> = vec![0; s];
        let mut weights = vec![1.0f64; s];
        let mut allowed: Vec<Range<u32>> = Vec::new();
        let mut logit_buffer: Vec<f32> = Vec::new();
        for (k, &(factor, set, level, sub)) in steps.iter().enumerate() {
            let last = k + 1 == steps.len();
            let column_done = level + 1 == factor.digits;
            // Logits for a block of prefixes at a time: a block's logits stay in L2 for the
            // softmax right after (all of them would be tens of megabytes through memory).
            let block = |u: usize| {
                u / PREFIX_BLOCK * PREFIX_BLOCK
                    ..((u / PREFIX_BLOCK + 1) * PREFIX_BLOCK).min(states.nrows())
            };
            let mut rows = block(0);
            let mut logits = self.compiled.column_logits_into(
                states.slice(s![rows.clone(), ..]),
                sub,
                &mut logit_buffer,
            );
            // Samples grouped by prefix (a counting sort into one array: prefix `u`'s live
            // samples are `order[start[u]..start[u + 1]]`), so each prefix's distribution
            // is normalised and accumulated once.
            let mut start = vec![0usize; states.nrows() + 1];
            for (&u, &w) in state_of.iter().zip(&weights) {
                if w > 0.0 {
                    start[u as usize + 1] += 1;
                }
            }
            for u in 0..states.nrows() {
                start[u + 1] += start[u];
            }
            let mut order = vec![0usize; start[states.nrows()]];
            let mut fill = start.clone();
            for (b, (&u, &w)) in state_of.iter().zip(&weights).enumerate() {
                if w > 0.0 {
                    order[fill[u as usize]] = b;
                    fill[u as usize] += 1;
                }
            }
            let mut next: HashMap<(u32, u32), u32> = HashMap::new();
            let mut next_rows: Vec<f32> = Vec::new();
            let mut next_partial: Vec<u32> = Vec::new();
            let mut cumulative: Vec<f64> = Vec::new();
            let mut exps: Vec<f32> = Vec::with_capacity(logits.ncols());
            let mut masses: Vec<f64> = Vec::new();
            for u in 0..states.nrows() {
                let members = &order[start[u]..start[u + 1]];
                if members.is_empty() {
                    continue;
                }
                // This digit's allowed values given the digits drawn so far (for a column
                // that is not split: the column's own set).
                // The digit values leading to some code of the domain: all of them for a
                // column that is not split, all but those past the last code for a digit.
                let (ranges, valid): (&[Range<u32>], usize) = if factor.is_split() {
                    allowed.clear();
                    factor.digit_ranges(set, level, partial[u], &mut allowed);
                    (&allowed, factor.valid_digits(level, partial[u]) as usize)
                } else {
                    (set.ranges(), logits.ncols())
                };
                let count: usize = ranges.iter().map(|r| r.len()).sum();
                if !rows.contains(&u) {
                    rows = block(u);
                    logits = self.compiled.column_logits_into(
                        states.slice(s![rows.clone(), ..]),
                        sub,
                        &mut logit_buffer,
                    );
                }
                let row = logits.row(u - rows.start);
                let row = row.as_slice().expect("standard layout");
                softmax::numerators(row, &mut exps);
                // Normalised over the valid values (the digits past the domain's last code
                // have no rows; the network's mass there is dropped).
                let total = f64::from(softmax::sum(&exps[..valid]));
                masses.clear();
                masses.extend(
                    ranges
                        .iter()
                        .map(|r| f64::from(softmax::sum(&exps[r.start as usize..r.end as usize]))),
                );
                let acc: f64 = masses.iter().sum();
                // The whole domain has mass one exactly, whatever the rounding.
                let mass = if count == valid { 1.0 } else { acc / total };
                for &b in members {
                    weights[b] *= mass;
                }
                if last || acc == 0.0 {
                    continue;
                }
                // Draw each sample's value inside the allowed set in proportion to the
                // model's probabilities: a prefix-sum table when several samples share the
                // prefix, a single scan when one does (most prefixes, once they diverge).
                if members.len() > 2 {
                    cumulative.clear();
                    let mut run = 0.0f64;
                    for r in ranges {
                        for &e in &exps[r.start as usize..r.end as usize] {
                            run += f64::from(e);
                            cumulative.push(run);
                        }
                    }
                }
                let offset = match self.cfg.sampling {
                    Sampling::Independent => 0.0,
                    Sampling::Systematic => rng.next_f64(),
                };
                let stride = acc / members.len() as f64;
                // A new distinct prefix: this one extended by `code`.
                let mut extend = |code: u32| -> u32 {
                    let delta = self.compiled.delta(sub, code);
                    let delta = delta.as_slice().expect("a row of a standard array");
                    let state = states.row(u);
                    let state = state.as_slice().expect("a row of a standard array");
                    next_rows.extend(state.iter().zip(delta).map(|(a, d)| a + d));
                    next_partial.push(if column_done {
                        0
                    } else {
                        partial[u] * factor.base + code
                    });
                    next_partial.len() as u32 - 1
                };
                // The previous sample's code and prefix: systematic draws come in increasing
                // order, so equal codes are neighbours and no lookup is needed.
                let mut previous: Option<(u32, u32)> = None;
                for (j, &b) in members.iter().enumerate() {
                    let x = match self.cfg.sampling {
                        Sampling::Independent => rng.next_f64() * acc,
                        Sampling::Systematic => (offset + j as f64) * stride,
                    };
                    let i = if members.len() > 2 {
                        cumulative.partition_point(|&c| c <= x)
                    } else {
                        scan(&exps, ranges, &masses, x)
                    };
                    let code = nth_code(ranges, i.min(count - 1));
                    let id = match previous {
                        Some((c, id)) if c == code => id,
                        _ => match self.cfg.sampling {
                            Sampling::Systematic => extend(code),
                            Sampling::Independent => {
                                *next.entry((u as u32, code)).or_insert_with(|| extend(code))
                            }
                        },
                    };
                    previous = Some((code, id));
                    state_of[b] = id;
                }
            }
            if !last {
                if next_partial.is_empty() {
                    // Every sample met a value set of zero mass: no sample to trust at all.
                    return (0.0, 0.0);
                }
                states = Array2::from_shape_vec((next_partial.len(), hidden), next_rows)
                    .expect("one row per distinct prefix");
                partial = next_partial;
            }
        }
        let sum: f64 = weights.iter().sum();
        let squares: f64 = weights.iter().map(|w| w * w).sum();
        let effective = if squares > 0.0 {
            sum * sum / squares
        } else {
            0.0
        };
        (sum / s as f64, effective)
    }
}

/// The `i`-th code (0-based) of sorted disjoint `ranges`.
fn nth_code(ranges: &[Range<u32>], mut i: usize) -> u32 {
    for r in ranges {
        if i < r.len() {
            return r.start + i as u32;
        }
        i -= r.len();
    }
    ranges.last().map_or(0, |r| r.end - 1)
}

/// The position (within the codes of `ranges`, in order) where the running sum of `exps`
/// over them first exceeds `x`; `masses` are the per-range sums, so whole ranges are skipped.
fn scan(exps: &[f32], ranges: &[Range<u32>], masses: &[f64], mut x: f64) -> usize {
    let mut before = 0;
    for (r, &m) in ranges.iter().zip(masses) {
        if x < m {
            let mut run = 0.0f64;
            for (k, &e) in exps[r.start as usize..r.end as usize].iter().enumerate() {
                run += f64::from(e);
                if x < run {
                    return before + k;
                }
            }
            return before + r.len() - 1;
        }
        x -= m;
        before += r.len();
    }
    before.saturating_sub(1)
}
