//! Maximum-likelihood training with Adam, minibatches and column masking.
//!
//! Column masking (Naru's wildcard skipping): in each training row a random number of
//! columns have their inputs replaced by the masked slot, so the model also learns
//! `P(x_i | the known subset of x_<i)` and a wildcard can be marginalised in one step.
//! A factorized column is masked as a whole (all its digits), as a wildcard is at
//! estimation time; its digits are the targets, so the loss is still the negative
//! log-likelihood of the row's codes.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use stratus_sim::SimRng;

use crate::error::{Error, Result};
use crate::made::{Made, Params};
use crate::table::Table;

/// Training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the data (default 10; [`TrainConfig::default_epochs`] scales the count
    /// to a table's size, which small tables need).
    pub epochs: usize,
    /// Rows per minibatch.
    pub batch: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Train with random column masking (needed for wildcard skipping at estimation time).
    pub column_masking: bool,
    /// Fraction of the steps spent warming the learning rate up; the rest decays it along a
    /// cosine to 5% of [`TrainConfig::learning_rate`].
    pub warmup_fraction: f64,
    /// Seed for shuffling and masking.
    pub seed: u64,
}

/// How many rows (epochs × table rows) a training run visits when the caller gives no epoch
/// count ([`TrainConfig::default_epochs`]).
pub const DEFAULT_ROW_VISITS: usize = 2_000_000;

impl TrainConfig {
    /// A number of epochs for a table of `rows` rows: enough passes to visit about
    /// [`DEFAULT_ROW_VISITS`] rows, and at least 5 and at most 2,000. A fixed number of
    /// epochs undertrains small tables: each epoch of a 3,000-row table is only a dozen
    /// minibatches, and 5 epochs there left the q-error's 99th at 34 where this budget gives
    /// 1.5 (see the crate README, "Tables it was not tuned on").
    ///
    /// ```
    /// use stratus_cardest::TrainConfig;
    /// assert_eq!(TrainConfig::default_epochs(3_322), 603);
    /// assert_eq!(TrainConfig::default_epochs(336_776), 6);
    /// ```
    pub fn default_epochs(rows: usize) -> usize {
        DEFAULT_ROW_VISITS.div_ceil(rows.max(1)).clamp(5, 2000)
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch: 256,
            learning_rate: 5e-3,
            column_masking: true,
            warmup_fraction: 0.02,
            seed: 0,
        }
    }
}

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// 0-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's minibatches, bits per tuple (with masking).
    pub train_bits: f64,
    /// Wall time of the epoch.
    pub elapsed: Duration,
}

/// Progress reported while training.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress<'a> {
    /// A minibatch finished.
    Step {
        /// 0-based epoch number.
        epoch: usize,
        /// Rows of this epoch done so far.
        rows_done: usize,
        /// Rows per epoch.
        rows: usize,
        /// Mean loss of the epoch so far, bits per tuple.
        bits: f64,
    },
    /// An epoch finished.
    Epoch(&'a EpochReport),
}

/// Parameters per parallel task of the Adam update.
const ADAM_CHUNK: usize = 1 << 14;

/// Adam optimiser state.
struct Adam {
    m: Params<f32>,
    v: Params<f32>,
    t: i32,
}

impl Adam {
    fn step(&mut self, params: &mut Params<f32>, grads: &Params<f32>, lr: f64) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let lr = lr as f32;
        for (((p, g), m), v) in params
            .tensors_mut()
            .into_iter()
            .zip(grads.tensors())
            .zip(self.m.tensors_mut())
            .zip(self.v.tensors_mut())
        {
            // Element-wise, so splitting across threads changes nothing but the wall time
            // (the update is otherwise the one serial stretch of a training step).
            p.par_chunks_mut(ADAM_CHUNK)
                .zip(g.par_chunks(ADAM_CHUNK))
                .zip(m.par_chunks_mut(ADAM_CHUNK))
                .zip(v.par_chunks_mut(ADAM_CHUNK))
                .for_each(|(((p, g), m), v)| {
                    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                    {
                        // Tiny gradients and moments are flushed to zero so no value here
                        // ever becomes subnormal (see `flush`).
                        let g = flush(g, 1e-15);
                        *m = flush(B1 * *m + (1.0 - B1) * g, 1e-30);
                        *v = flush(B2 * *v + (1.0 - B2) * g * g, 1e-30);
                        *p -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
                    }
                });
        }
    }
}

/// `x`, or zero when `|x| < tiny`. Adam's second moment of a weight whose gradient has
/// died out decays by `B2` every step and, tens of thousands of steps later, passes through
/// the subnormal range, where x86 arithmetic takes a microcode assist dozens of times
/// slower; late epochs then ran more than twice as long as early ones. Flushing moments below
/// 1e-30 and gradients below 1e-15 (whose squares would be subnormal) keeps every product
/// normal; a weight whose gradient is that small has nothing left to learn.
fn flush(x: f32, tiny: f32) -> f32 {
    if x.abs() < tiny { 0.0 } else { x }
}

/// Train `model` on `table` by maximum likelihood, calling `progress` after every minibatch
/// and every epoch. The table's [`Schema`](crate::Schema) is attached to the model
/// ([`Made::schema`]). Each minibatch is split across rayon's threads (data parallelism); the
/// result depends only on the seed and the thread count.
pub fn train(
    model: &mut Made,
    table: &Table,
    cfg: &TrainConfig,
    mut progress: impl FnMut(&Progress<'_>),
) -> Result<Vec<EpochReport>> {
    if model.domains() != table.domains().as_slice() {
        return Err(Error::SchemaMismatch(
            "model domains differ from the table's".into(),
        ));
    }
    if cfg.batch == 0 || cfg.learning_rate.is_nan() || cfg.learning_rate <= 0.0 {
        return Err(Error::Config(
            "batch must be >= 1 and learning_rate > 0".into(),
        ));
    }
    // The model now describes this table: keep its schema for estimating without the rows.
    model.schema = Some(table.schema());
    let n = table.columns().len();
    let width = model.sub_domains().len();
    let mut rng = SimRng::new(cfg.seed);
    let mut adam = Adam {
        m: Params::zeros_like(&model.params),
        v: Params::zeros_like(&model.params),
        t: 0,
    };
    let threads = rayon::current_num_threads().max(1);
    let mut order: Vec<usize> = (0..table.rows()).collect();
    let steps = cfg.epochs * order.len().div_ceil(cfg.batch);
    let mut step = 0;
    let mut reports = Vec::new();
    for epoch in 0..cfg.epochs {
        let started = Instant::now();
        shuffle(&mut order, &mut rng);
        let (mut total, mut rows_done) = (0.0, 0);
        for chunk in order.chunks(cfg.batch) {
            let mut slots = Vec::with_capacity(chunk.len() * width);
            let mut targets = Vec::with_capacity(chunk.len() * width);
            let mut cols: Vec<usize> = (0..n).collect();
            let mut is_masked = vec![false; n];
            for &r in chunk {
                // Naru masks a uniformly drawn number of columns, so every subset size is seen.
                let masked = if cfg.column_masking {
                    rng.below(n as u64 + 1) as usize
                } else {
                    0
                };
                shuffle(&mut cols, &mut rng);
                is_masked.fill(false);
                for &c in &cols[..masked] {
                    is_masked[c] = true;
                }
                for (c, col) in table.columns().iter().enumerate() {
                    model.push_column(c, col.codes()[r], is_masked[c], &mut slots, &mut targets);
                }
            }
            let scale = 1.0 / chunk.len() as f64;
            let per = chunk.len().div_ceil(threads) * width;
            let m: &Made = model;
            // Summed in chunk order, not by rayon's reduction tree (whose shape depends on
            // work stealing), so float rounding and hence the model depend only on the seed
            // and the thread count.
            let parts: Vec<(f64, Params<f32>)> = slots
                .par_chunks(per)
                .zip(targets.par_chunks(per))
                .map(|(s, t)| m.loss_and_grad(s, t, scale))
                .collect();
            let mut parts = parts.into_iter();
            let (mut loss, mut grads) = parts.next().expect("a minibatch has rows");
            for (l, g) in parts {
                loss += l;
                grads.add(&g);
            }
            let lr = cfg.learning_rate * schedule(step, steps, cfg.warmup_fraction);
            adam.step(&mut model.params, &grads, lr);
            step += 1;
            total += loss;
            rows_done += chunk.len();
            progress(&Progress::Step {
                epoch,
                rows_done,
                rows: order.len(),
                bits: total / rows_done as f64 / std::f64::consts::LN_2,
            });
        }
        let report = EpochReport {
            epoch,
            train_bits: total / rows_done.max(1) as f64 / std::f64::consts::LN_2,
            elapsed: started.elapsed(),
        };
        progress(&Progress::Epoch(&report));
        reports.push(report);
    }
    Ok(reports)
}

/// Learning-rate multiplier: linear warm-up over the first `warmup` fraction of the steps,
/// then cosine decay to 5% (large steps early move fast, small steps late settle).
fn schedule(step: usize, steps: usize, warmup: f64) -> f64 {
    let t = step as f64 / steps.max(1) as f64;
    if t < warmup {
        return (t / warmup).max(0.01);
    }
    let rest = (t - warmup) / (1.0 - warmup).max(1e-9);
    0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * rest.min(1.0)).cos())
}

/// Mean negative log-likelihood of the table under the model, in bits per tuple, with no
/// column masked. Compare with [`Table::entropy_bits`]. For a factorized column this is the
/// sum of its digits' conditional terms, i.e. still the model's log-likelihood of the code.
pub fn bits_per_tuple(model: &Made, table: &Table) -> Result<f64> {
    if model.domains() != table.domains().as_slice() {
        return Err(Error::SchemaMismatch(
            "model domains differ from the table's".into(),
        ));
    }
    let width = model.sub_domains().len();
    let rows: Vec<usize> = (0..table.rows()).collect();
    let total: f64 = rows
        .par_chunks(512)
        .map(|chunk| {
            let mut slots = Vec::with_capacity(chunk.len() * width);
            let mut targets = Vec::with_capacity(chunk.len() * width);
            for &r in chunk {
                for (c, col) in table.columns().iter().enumerate() {
                    model.push_column(c, col.codes()[r], false, &mut slots, &mut targets);
                }
            }
            model.loss(&slots, &targets)
        })
        .sum();
    Ok(total / table.rows() as f64 / std::f64::consts::LN_2)
}

/// Fisher–Yates shuffle.
pub(crate) fn shuffle<T>(v: &mut [T], rng: &mut SimRng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::made::MadeConfig;

    /// Small tables get many passes, large ones at least five, and an empty one no panic.
    #[test]
    fn default_epochs_scale_with_the_table() {
        assert_eq!(TrainConfig::default_epochs(1_000), 2_000);
        assert_eq!(TrainConfig::default_epochs(3_322), 603);
        assert_eq!(TrainConfig::default_epochs(336_776), 6);
        assert_eq!(TrainConfig::default_epochs(10_000_000), 5);
        assert_eq!(TrainConfig::default_epochs(10), 2_000);
        assert_eq!(TrainConfig::default_epochs(0), 2_000);
        let mut last = usize::MAX;
        for rows in (1..2_000_000).step_by(9_973) {
            let e = TrainConfig::default_epochs(rows);
            assert!(
                e <= last && (5..=2_000).contains(&e),
                "{rows} rows: {e} epochs"
            );
            last = e;
        }
    }

    /// Moments whose gradients have died out decay to exactly zero instead of through the
    /// subnormal range, and tiny gradients never square into it.
    #[test]
    fn adam_moments_never_become_subnormal() {
        let cfg = MadeConfig {
            hidden: 4,
            seed: 1,
            ..Default::default()
        };
        let mut model = Made::new(&[3, 4], &cfg).unwrap();
        let mut adam = Adam {
            m: Params::zeros_like(&model.params),
            v: Params::zeros_like(&model.params),
            t: 0,
        };
        // Moments just above the flush threshold, then no gradient but a few tiny ones.
        for t in adam.m.tensors_mut().into_iter().chain(adam.v.tensors_mut()) {
            t.fill(2e-30);
        }
        let mut grads = Params::zeros_like(&model.params);
        for t in grads.tensors_mut() {
            for (k, g) in t.iter_mut().enumerate() {
                *g = if k % 2 == 0 { 1e-20 } else { 0.0 };
            }
        }
        let normal_or_zero = |x: f32| x == 0.0 || x.abs() >= f32::MIN_POSITIVE;
        for _ in 0..3000 {
            adam.step(&mut model.params, &grads, 1e-3);
            for t in adam.m.tensors().into_iter().chain(adam.v.tensors()) {
                assert!(t.iter().all(|&x| normal_or_zero(x)));
            }
        }
        // B2^3000 takes 2e-30 below the threshold: everything has been flushed.
        for t in adam.m.tensors().into_iter().chain(adam.v.tensors()) {
            assert!(t.iter().all(|&x| x == 0.0));
        }
        assert_eq!(flush(-1e-16, 1e-15), 0.0);
        assert_eq!(flush(-2e-15, 1e-15), -2e-15);
    }
}
