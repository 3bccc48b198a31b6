//! Maximum-likelihood training with Adam, minibatches and column masking.
//!
//! Column masking (Naru's wildcard skipping): in each training row a random number of
//! columns have their inputs replaced by the masked slot, so the model also learns
//! `P(x_i | the known subset of x_<i)` and a wildcard can be marginalised in one step.

use std::time::{Duration, Instant};

use stratus_sim::SimRng;

use crate::error::{Error, Result};
use crate::made::{Made, Params};
use crate::table::Table;

/// Training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per minibatch.
    pub batch: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Train with random column masking (needed for wildcard skipping at estimation time).
    pub column_masking: bool,
    /// Seed for shuffling and masking.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch: 256,
            learning_rate: 5e-3,
            column_masking: true,
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

/// Adam optimiser state.
struct Adam {
    m: Params,
    v: Params,
    t: i32,
    lr: f64,
}

impl Adam {
    fn step(&mut self, params: &mut Params, grads: &Params) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let lr = self.lr;
        let upd = |p: &mut f64, g: f64, m: &mut f64, v: &mut f64| {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        };
        for l in 0..params.weights.len() {
            ndarray::Zip::from(&mut params.weights[l])
                .and(&grads.weights[l])
                .and(&mut self.m.weights[l])
                .and(&mut self.v.weights[l])
                .for_each(|p, &g, m, v| upd(p, g, m, v));
            ndarray::Zip::from(&mut params.biases[l])
                .and(&grads.biases[l])
                .and(&mut self.m.biases[l])
                .and(&mut self.v.biases[l])
                .for_each(|p, &g, m, v| upd(p, g, m, v));
        }
    }
}

/// Train `model` on `table`, calling `progress` after every epoch.
pub fn train(
    model: &mut Made,
    table: &Table,
    cfg: &TrainConfig,
    mut progress: impl FnMut(&EpochReport),
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
    let n = table.columns().len();
    let mut rng = SimRng::new(cfg.seed);
    let mut adam = Adam {
        m: Params::zeros_like(&model.params),
        v: Params::zeros_like(&model.params),
        t: 0,
        lr: cfg.learning_rate,
    };
    let mut order: Vec<usize> = (0..table.rows()).collect();
    let mut reports = Vec::new();
    for epoch in 0..cfg.epochs {
        let started = Instant::now();
        shuffle(&mut order, &mut rng);
        let (mut total, mut batches) = (0.0, 0);
        for chunk in order.chunks(cfg.batch) {
            let mut inputs = Vec::with_capacity(chunk.len() * n);
            let mut targets = Vec::with_capacity(chunk.len() * n);
            for &r in chunk {
                // Naru masks a uniformly drawn number of columns, so every subset size is seen.
                let masked = if cfg.column_masking {
                    rng.below(n as u64 + 1) as usize
                } else {
                    0
                };
                let mut cols: Vec<usize> = (0..n).collect();
                shuffle(&mut cols, &mut rng);
                let mut is_masked = vec![false; n];
                for &c in &cols[..masked] {
                    is_masked[c] = true;
                }
                for (c, col) in table.columns().iter().enumerate() {
                    let code = col.codes()[r];
                    targets.push(code);
                    inputs.push(model.input_index(c, (!is_masked[c]).then_some(code)));
                }
            }
            let (loss, grads) = model.loss_and_grad(&inputs, &targets);
            adam.step(&mut model.params, &grads);
            model.apply_masks();
            total += loss;
            batches += 1;
        }
        let report = EpochReport {
            epoch,
            train_bits: total / batches.max(1) as f64 / std::f64::consts::LN_2,
            elapsed: started.elapsed(),
        };
        progress(&report);
        reports.push(report);
    }
    Ok(reports)
}

/// Mean negative log-likelihood of the table under the model, in bits per tuple, with no
/// column masked. Compare with [`Table::entropy_bits`].
pub fn bits_per_tuple(model: &Made, table: &Table) -> Result<f64> {
    if model.domains() != table.domains().as_slice() {
        return Err(Error::SchemaMismatch(
            "model domains differ from the table's".into(),
        ));
    }
    let n = table.columns().len();
    let mut total = 0.0;
    let rows: Vec<usize> = (0..table.rows()).collect();
    for chunk in rows.chunks(512) {
        let mut inputs = Vec::with_capacity(chunk.len() * n);
        let mut targets = Vec::with_capacity(chunk.len() * n);
        for &r in chunk {
            for (c, col) in table.columns().iter().enumerate() {
                let code = col.codes()[r];
                targets.push(code);
                inputs.push(model.input_index(c, Some(code)));
            }
        }
        total += model.loss(&inputs, &targets) * chunk.len() as f64;
    }
    Ok(total / table.rows() as f64 / std::f64::consts::LN_2)
}

/// Fisher–Yates shuffle.
pub(crate) fn shuffle<T>(v: &mut [T], rng: &mut SimRng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}
