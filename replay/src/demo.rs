//! A small but real training workload — a one-hidden-layer MLP trained by minibatch SGD — used
//! by the examples, the benchmark, the tour and the tests. It shows the intended shape of an
//! instrumented program: arguments, a main loop, one skip block holding model + optimizer
//! position + RNG, logs outside and inside it.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ReplayError, Result};
use crate::run::Run;

/// A binary classification data set: `n` rows of `d` standardized features.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Row-major features.
    pub x: Vec<f32>,
    /// Labels, 0 or 1.
    pub y: Vec<f32>,
    /// Features per row.
    pub d: usize,
}

/// A deterministic generator (SplitMix64); lives inside checkpointed state so replay draws
/// the same numbers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

impl Dataset {
    /// Rows in the data set.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// `n` rows of `d` features with labels from a fixed nonlinear rule plus noise.
    pub fn synthetic(n: usize, d: usize, seed: u64) -> Dataset {
        let mut rng = SplitMix(seed);
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..d).map(|_| rng.unit() * 2.0).collect();
            let score = row.iter().enumerate().fold(0.0, |acc, (j, v)| {
                acc + if j % 2 == 0 { v * v - 1.0 } else { 0.7 * v }
            }) + 0.3 * rng.unit();
            x.extend(row);
            y.push(f32::from(score > 0.0));
        }
        Dataset { x, y, d }
    }

    /// Reads the nycflights13 `flights` table (CSV, gzip if the name ends in `.gz`): predicts
    /// `arr_delay > 15` from month, day, dep_time, dep_delay, sched_arr_time, distance, hour
    /// and origin (one-hot). Rows with missing values are dropped; features standardized.
    pub fn flights_csv(path: &Path, limit: Option<usize>) -> Result<Dataset> {
        let file = std::fs::File::open(path).map_err(|e| ReplayError::io(path, e))?;
        let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
        } else {
            Box::new(BufReader::new(file))
        };
        let mut lines = reader.lines();
        let header = lines
            .next()
            .ok_or_else(|| ReplayError::InvalidData(format!("{} is empty", path.display())))?
            .map_err(|e| ReplayError::io(path, e))?;
        let cols: Vec<&str> = header.split(',').map(|c| c.trim_matches('"')).collect();
        let find = |name: &str| {
            cols.iter().position(|c| *c == name).ok_or_else(|| {
                ReplayError::InvalidData(format!("{} has no column {name:?}", path.display()))
            })
        };
        let numeric = [
            "month",
            "day",
            "dep_time",
            "dep_delay",
            "sched_arr_time",
            "distance",
            "hour",
        ]
        .map(find);
        let numeric: Vec<usize> = numeric.into_iter().collect::<Result<_>>()?;
        let (origin, target) = (find("origin")?, find("arr_delay")?);
        let origins = ["EWR", "JFK", "LGA"];
        let d = numeric.len() + origins.len();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for line in lines {
            let line = line.map_err(|e| ReplayError::io(path, e))?;
            let fields: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
            let num = |i: usize| fields.get(i).and_then(|f| f.parse::<f32>().ok());
            let Some(label) = num(target) else { continue };
            let Some(values) = numeric
                .iter()
                .map(|&i| num(i))
                .collect::<Option<Vec<f32>>>()
            else {
                continue;
            };
            x.extend(values);
            let o = fields.get(origin).copied().unwrap_or("");
            x.extend(origins.iter().map(|c| f32::from(*c == o)));
            y.push(f32::from(label > 15.0));
            if limit.is_some_and(|l| y.len() >= l) {
                break;
            }
        }
        if y.is_empty() {
            return Err(ReplayError::InvalidData(format!(
                "{} has no complete rows",
                path.display()
            )));
        }
        standardize(&mut x, d);
        Ok(Dataset { x, y, d })
    }
}

fn standardize(x: &mut [f32], d: usize) {
    let n = (x.len() / d) as f64;
    for j in 0..d {
        let col = || x.iter().skip(j).step_by(d).map(|&v| f64::from(v));
        let mean = col().sum::<f64>() / n;
        let var = col().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let sd = var.sqrt().max(1e-9);
        for v in x.iter_mut().skip(j).step_by(d) {
            *v = ((f64::from(*v) - mean) / sd) as f32;
        }
    }
}

/// A one-hidden-layer MLP (tanh hidden units, sigmoid output).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Mlp {
    d: usize,
    h: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: f32,
}

/// Everything a training epoch changes: checkpointed as the skip block's state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainState {
    /// The model.
    pub model: Mlp,
    /// Shuffling RNG.
    pub rng: SplitMix,
    /// SGD steps taken.
    pub steps: u64,
}

impl Mlp {
    /// Random initial weights from `rng`.
    pub fn new(d: usize, h: usize, rng: &mut SplitMix) -> Mlp {
        let s1 = 1.0 / (d as f32).sqrt();
        let s2 = 1.0 / (h as f32).sqrt();
        Mlp {
            d,
            h,
            w1: (0..d * h).map(|_| rng.unit() * s1).collect(),
            b1: vec![0.0; h],
            w2: (0..h).map(|_| rng.unit() * s2).collect(),
            b2: 0.0,
        }
    }

    fn forward(&self, row: &[f32], hidden: &mut [f32]) -> f32 {
        for (k, hk) in hidden.iter_mut().enumerate() {
            let w = &self.w1[k * self.d..(k + 1) * self.d];
            let z: f32 = w.iter().zip(row).map(|(a, b)| a * b).sum::<f32>() + self.b1[k];
            *hk = z.tanh();
        }
        let z: f32 = hidden.iter().zip(&self.w2).map(|(a, b)| a * b).sum::<f32>() + self.b2;
        1.0 / (1.0 + (-z).exp())
    }

    /// Mean cross-entropy over `rows` of `data`.
    pub fn loss(&self, data: &Dataset, rows: std::ops::Range<usize>) -> f64 {
        let mut hidden = vec![0.0; self.h];
        let n = rows.len().max(1) as f64;
        rows.map(|i| {
            let p = self.forward(&data.x[i * data.d..(i + 1) * data.d], &mut hidden);
            let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
            if data.y[i] > 0.5 {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum::<f64>()
            / n
    }

    /// Euclidean norm of all weights.
    pub fn weight_norm(&self) -> f64 {
        self.w1
            .iter()
            .chain(&self.w2)
            .map(|&w| f64::from(w) * f64::from(w))
            .sum::<f64>()
            .sqrt()
    }

    /// One SGD step on the rows `batch`; returns (mean batch loss, gradient norm).
    pub fn sgd_step(&mut self, data: &Dataset, batch: &[u32], lr: f32) -> (f64, f64) {
        let (d, h) = (self.d, self.h);
        let mut g1 = vec![0.0f32; d * h];
        let mut gb1 = vec![0.0f32; h];
        let mut g2 = vec![0.0f32; h];
        let mut gb2 = 0.0f32;
        let mut hidden = vec![0.0f32; h];
        let mut loss = 0.0f64;
        for &i in batch {
            let i = i as usize;
            let row = &data.x[i * d..(i + 1) * d];
            let p = self.forward(row, &mut hidden);
            let y = data.y[i];
            let pc = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
            loss += if y > 0.5 { -pc.ln() } else { -(1.0 - pc).ln() };
            let dz = p - y;
            gb2 += dz;
            for k in 0..h {
                g2[k] += dz * hidden[k];
                let dh = dz * self.w2[k] * (1.0 - hidden[k] * hidden[k]);
                gb1[k] += dh;
                for (g, x) in g1[k * d..(k + 1) * d].iter_mut().zip(row) {
                    *g += dh * x;
                }
            }
        }
        let scale = lr / batch.len().max(1) as f32;
        let mut norm = 0.0f64;
        for (w, g) in self
            .w1
            .iter_mut()
            .zip(&g1)
            .chain(self.w2.iter_mut().zip(&g2))
        {
            norm += f64::from(*g) * f64::from(*g);
            *w -= scale * g;
        }
        for (b, g) in self.b1.iter_mut().zip(&gb1) {
            *b -= scale * g;
        }
        self.b2 -= scale * gb2;
        (loss / batch.len().max(1) as f64, norm.sqrt())
    }
}

/// Which hindsight log statements the demo program contains — the "code edits" a developer
/// makes after the run, to replay with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hindsight {
    /// `weight_norm`, logged in the main loop after each epoch.
    pub outer: bool,
    /// `grad_norm`, logged inside the skip block every 25th step.
    pub inner: bool,
}

/// The demo's hyper-parameters (each an [`Run::arg`] in the instrumented program).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainArgs {
    /// Passes over the training rows.
    pub epochs: u32,
    /// SGD learning rate.
    pub lr: f32,
    /// Minibatch size.
    pub batch: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Seed of initial weights and shuffling.
    pub seed: u64,
}

impl Default for TrainArgs {
    fn default() -> Self {
        TrainArgs {
            epochs: 6,
            lr: 0.1,
            batch: 64,
            hidden: 16,
            seed: 7,
        }
    }
}

impl TrainArgs {
    fn from_run(run: &Run) -> Result<TrainArgs> {
        let d = TrainArgs::default();
        Ok(TrainArgs {
            epochs: run.arg("epochs", d.epochs)?,
            lr: run.arg("lr", d.lr)?,
            batch: run.arg("batch", d.batch)?,
            hidden: run.arg("hidden", d.hidden)?,
            seed: run.arg("seed", d.seed)?,
        })
    }

    fn check(&self, data: &Dataset) -> Result<usize> {
        if self.batch == 0 || self.hidden == 0 || data.len() < 10 {
            return Err(ReplayError::InvalidData(
                "batch and hidden must be positive, data at least 10 rows".into(),
            ));
        }
        // The last tenth is held out for validation.
        Ok(data.len() - data.len() / 10)
    }

    fn initial_state(&self, data: &Dataset) -> TrainState {
        let mut rng = SplitMix(self.seed);
        let model = Mlp::new(data.d, self.hidden, &mut rng);
        TrainState {
            model,
            rng,
            steps: 0,
        }
    }
}

/// The demo training program: `epochs` epochs of minibatch SGD over `data`, the epoch's
/// work in the skip block `train`, the held-out loss logged per epoch (`val_loss`).
/// Returns the final state.
pub fn train(run: &Run, data: &Dataset, hindsight: Hindsight) -> Result<TrainState> {
    let args = TrainArgs::from_run(run)?;
    let n_train = args.check(data)?;
    let mut state = args.initial_state(data);
    for _epoch in run.loop_over("epoch", 0..args.epochs) {
        run.skip_block("train", &mut state, |s| {
            let order = shuffled(s, n_train);
            for chunk in run.loop_over("step", order.chunks(args.batch)) {
                let grad_norm = step(s, data, chunk, &args);
                if hindsight.inner && s.steps % 25 == 0 {
                    run.log("grad_norm", &grad_norm)?;
                }
            }
            Ok(())
        })?;
        run.log("val_loss", &state.model.loss(data, n_train..data.len()))?;
        if hindsight.outer {
            run.log("weight_norm", &state.model.weight_norm())?;
        }
    }
    run.log("final_steps", &state.steps)?;
    Ok(state)
}

/// The same computation as [`train`] with no recording at all: the overhead baseline.
/// Returns the final state and the per-epoch validation losses.
pub fn train_unrecorded(data: &Dataset, args: &TrainArgs) -> Result<(TrainState, Vec<f64>)> {
    let n_train = args.check(data)?;
    let mut state = args.initial_state(data);
    let mut losses = Vec::new();
    for _epoch in 0..args.epochs {
        let order = shuffled(&mut state, n_train);
        for chunk in order.chunks(args.batch) {
            step(&mut state, data, chunk, args);
        }
        losses.push(state.model.loss(data, n_train..data.len()));
    }
    Ok((state, losses))
}

fn shuffled(s: &mut TrainState, n_train: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n_train as u32).collect();
    for i in (1..order.len()).rev() {
        let j = (s.rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

fn step(s: &mut TrainState, data: &Dataset, batch: &[u32], args: &TrainArgs) -> f64 {
    let (_loss, grad_norm) = s.model.sgd_step(data, batch, args.lr);
    s.steps += 1;
    grad_norm
}
