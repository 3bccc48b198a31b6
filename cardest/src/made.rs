//! MADE: a masked multilayer perceptron whose outputs for column `i` depend only on the
//! inputs of columns `< i`, so its per-column softmaxes are the autoregressive conditionals
//! `P(x_i | x_<i)` of the table's joint distribution.
//!
//! Inputs are one-hot per column with one extra "masked" slot: a column whose value is
//! unknown (a wildcard, or a column not yet sampled) sets only that slot. Because the input
//! is sparse, the first layer is a gather of weight rows, never a dense product.
//! Backpropagation is written by hand and checked against finite differences in the tests.

use ndarray::{Array1, Array2, Axis, s};
use stratus_sim::SimRng;

use crate::error::{Error, Result};

/// Shape of a MADE model.
#[derive(Clone, Debug, PartialEq)]
pub struct MadeConfig {
    /// Hidden units per layer.
    pub hidden: usize,
    /// Number of hidden layers (at least 1).
    pub layers: usize,
    /// Seed for the initial weights and the hidden units' degrees.
    pub seed: u64,
}

impl Default for MadeConfig {
    fn default() -> Self {
        MadeConfig {
            hidden: 128,
            layers: 2,
            seed: 0,
        }
    }
}

/// The trainable tensors of a MADE (also the shape of its gradients and Adam moments).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Params {
    /// `weights[0]`: input × hidden; then hidden × hidden; last: hidden × output.
    pub(crate) weights: Vec<Array2<f64>>,
    pub(crate) biases: Vec<Array1<f64>>,
}

impl Params {
    pub(crate) fn zeros_like(other: &Params) -> Params {
        Params {
            weights: other
                .weights
                .iter()
                .map(|w| Array2::zeros(w.raw_dim()))
                .collect(),
            biases: other
                .biases
                .iter()
                .map(|b| Array1::zeros(b.raw_dim()))
                .collect(),
        }
    }
}

/// A MADE model over a table with the given per-column domain sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct Made {
    domains: Vec<usize>,
    /// Offset of column `i`'s input slots (its domain plus one masked slot).
    in_offsets: Vec<usize>,
    /// Offset of column `i`'s logits.
    out_offsets: Vec<usize>,
    pub(crate) params: Params,
    /// 0/1 connectivity masks, same shapes as the weights.
    masks: Vec<Array2<f64>>,
    /// The configuration it was built from (masks are a function of it, so files store it
    /// instead of the masks).
    config: MadeConfig,
}

/// Activations kept from a forward pass for the backward pass.
pub(crate) struct Forward {
    /// Per hidden layer, the post-ReLU activations (batch × hidden).
    acts: Vec<Array2<f64>>,
    /// Logits (batch × total output).
    pub(crate) logits: Array2<f64>,
}

impl Made {
    /// A freshly initialised model.
    pub fn new(domains: &[usize], cfg: &MadeConfig) -> Result<Self> {
        if domains.is_empty() || domains.contains(&0) {
            return Err(Error::EmptyTable(
                "no columns, or a column with an empty domain",
            ));
        }
        if cfg.hidden == 0 || cfg.layers == 0 {
            return Err(Error::Config("hidden and layers must be at least 1".into()));
        }
        let n = domains.len();
        let mut in_offsets = Vec::with_capacity(n);
        let mut out_offsets = Vec::with_capacity(n);
        let (mut din, mut dout) = (0, 0);
        for &d in domains {
            in_offsets.push(din);
            out_offsets.push(dout);
            din += d + 1;
            dout += d;
        }
        let mut rng = SimRng::new(cfg.seed);
        // Degrees: input column i has degree i+1; hidden units cycle through 1..=max(n-1,1)
        // (from a random start) so every conditional gets capacity.
        let max_deg = (n - 1).max(1);
        let in_deg: Vec<usize> = (0..n)
            .flat_map(|i| std::iter::repeat_n(i + 1, domains[i] + 1))
            .collect();
        let out_deg: Vec<usize> = (0..n)
            .flat_map(|i| std::iter::repeat_n(i + 1, domains[i]))
            .collect();
        let mut prev_deg = in_deg;
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        let mut masks = Vec::new();
        for l in 0..=cfg.layers {
            let last = l == cfg.layers;
            let width = if last { dout } else { cfg.hidden };
            let deg: Vec<usize> = if last {
                out_deg.clone()
            } else {
                let start = rng.below(max_deg as u64) as usize;
                (0..width).map(|j| (start + j) % max_deg + 1).collect()
            };
            let mask = Array2::from_shape_fn((prev_deg.len(), width), |(a, b)| {
                let ok = if last {
                    prev_deg[a] < deg[b]
                } else {
                    prev_deg[a] <= deg[b]
                };
                f64::from(u8::from(ok))
            });
            // He initialisation scaled by the real fan-in (the first layer sees n active inputs).
            let fan_in = if l == 0 { n } else { prev_deg.len() };
            let scale = (2.0 / fan_in as f64).sqrt();
            let w = Array2::from_shape_fn(mask.raw_dim(), |_| gaussian(&mut rng) * scale) * &mask;
            weights.push(w);
            biases.push(Array1::zeros(width));
            masks.push(mask);
            prev_deg = deg;
        }
        Ok(Made {
            domains: domains.to_vec(),
            in_offsets,
            out_offsets,
            params: Params { weights, biases },
            masks,
            config: cfg.clone(),
        })
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &MadeConfig {
        &self.config
    }

    /// Per-column domain sizes.
    pub fn domains(&self) -> &[usize] {
        &self.domains
    }

    /// Number of parameters that can be non-zero (masked-out weights excluded).
    pub fn parameter_count(&self) -> usize {
        let w: f64 = self.masks.iter().map(|m| m.sum()).sum();
        w as usize + self.params.biases.iter().map(|b| b.len()).sum::<usize>()
    }

    /// Model size in bytes if stored as f32 (the unmasked parameters only).
    pub fn size_bytes(&self) -> usize {
        self.parameter_count() * 4
    }

    /// Input slot for `code` of column `col`; `None` is the masked (unknown) slot.
    pub(crate) fn input_index(&self, col: usize, code: Option<u32>) -> usize {
        self.in_offsets[col] + code.map_or(self.domains[col], |c| c as usize)
    }

    /// The hidden activations of the last layer for a batch of sparse inputs
    /// (`inputs[b * n + i]` is row b's input slot for column i).
    pub(crate) fn hidden(&self, inputs: &[usize]) -> Vec<Array2<f64>> {
        let n = self.domains.len();
        let batch = inputs.len() / n;
        let w0 = &self.params.weights[0];
        let mut z = Array2::from_shape_fn((batch, w0.ncols()), |(_, j)| self.params.biases[0][j]);
        for (b, mut row) in z.axis_iter_mut(Axis(0)).enumerate() {
            for &idx in &inputs[b * n..(b + 1) * n] {
                row += &w0.row(idx);
            }
        }
        z.mapv_inplace(relu);
        let mut acts = vec![z];
        let hidden_layers = self.params.weights.len() - 1;
        for l in 1..hidden_layers {
            let mut z = acts[l - 1].dot(&self.params.weights[l]) + &self.params.biases[l];
            z.mapv_inplace(relu);
            acts.push(z);
        }
        acts
    }

    /// Full forward pass.
    pub(crate) fn forward(&self, inputs: &[usize]) -> Forward {
        let acts = self.hidden(inputs);
        let l = self.params.weights.len() - 1;
        let logits = acts[l - 1].dot(&self.params.weights[l]) + &self.params.biases[l];
        Forward { acts, logits }
    }

    /// Logits of column `col` only, from last-layer activations (batch × domain).
    pub(crate) fn column_logits(&self, last: &Array2<f64>, col: usize) -> Array2<f64> {
        let l = self.params.weights.len() - 1;
        let (o, d) = (self.out_offsets[col], self.domains[col]);
        last.dot(&self.params.weights[l].slice(s![.., o..o + d]))
            + self.params.biases[l].slice(s![o..o + d])
    }

    /// Mean negative log-likelihood (nats per row) of `targets` given `inputs`.
    pub(crate) fn loss(&self, inputs: &[usize], targets: &[u32]) -> f64 {
        let n = self.domains.len();
        let batch = targets.len() / n;
        let logits = self.forward(inputs).logits;
        let mut loss = 0.0;
        for (b, row) in logits.axis_iter(Axis(0)).enumerate() {
            for c in 0..n {
                let (o, d) = (self.out_offsets[c], self.domains[c]);
                let seg = row.slice(s![o..o + d]);
                let max = seg.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                let lse = seg.fold(0.0, |a, &x| a + (x - max).exp()).ln() + max;
                loss += lse - seg[targets[b * n + c] as usize];
            }
        }
        loss / batch as f64
    }

    /// Mean negative log-likelihood (nats per row) of `targets` given `inputs`, and its
    /// gradient with respect to every parameter.
    pub(crate) fn loss_and_grad(&self, inputs: &[usize], targets: &[u32]) -> (f64, Params) {
        let n = self.domains.len();
        let batch = targets.len() / n;
        let fwd = self.forward(inputs);
        let mut dlogits = fwd.logits;
        let mut loss = 0.0;
        let inv = 1.0 / batch as f64;
        for (b, mut row) in dlogits.axis_iter_mut(Axis(0)).enumerate() {
            for c in 0..n {
                let (o, d) = (self.out_offsets[c], self.domains[c]);
                let mut seg = row.slice_mut(s![o..o + d]);
                let max = seg.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                seg.mapv_inplace(|x| (x - max).exp());
                let sum = seg.sum();
                let t = targets[b * n + c] as usize;
                loss -= (seg[t] / sum).ln();
                // d(-log softmax_t)/d logit = softmax - onehot(t), averaged over the batch.
                seg.mapv_inplace(|p| p / sum * inv);
                seg[t] -= inv;
            }
        }
        let mut grads = Params::zeros_like(&self.params);
        let last = self.params.weights.len() - 1;
        let mut dz = dlogits;
        for l in (0..=last).rev() {
            grads.biases[l] = dz.sum_axis(Axis(0));
            if l == 0 {
                // Sparse input: scatter the rows of dz into the weight rows that were gathered.
                let g = &mut grads.weights[0];
                for (b, row) in dz.axis_iter(Axis(0)).enumerate() {
                    for &idx in &inputs[b * n..(b + 1) * n] {
                        let mut gr = g.row_mut(idx);
                        gr += &row;
                    }
                }
                grads.weights[0] *= &self.masks[0];
            } else {
                let a = &fwd.acts[l - 1];
                grads.weights[l] = a.t().dot(&dz) * &self.masks[l];
                let mut da = dz.dot(&self.params.weights[l].t());
                da.zip_mut_with(a, |g, &act| {
                    if act <= 0.0 {
                        *g = 0.0;
                    }
                });
                dz = da;
            }
        }
        (loss * inv, grads)
    }

    /// Re-apply the connectivity masks (after an optimiser step).
    pub(crate) fn apply_masks(&mut self) {
        for (w, m) in self.params.weights.iter_mut().zip(&self.masks) {
            *w *= m;
        }
    }
}

fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// A standard normal draw (Box–Muller).
pub(crate) fn gaussian(rng: &mut SimRng) -> f64 {
    let u1 = rng.next_f64().max(1e-300);
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Made, Vec<usize>, Vec<u32>) {
        let domains = [3, 4, 2];
        let mut m = Made::new(
            &domains,
            &MadeConfig {
                hidden: 7,
                layers: 2,
                seed: 5,
            },
        )
        .unwrap();
        // Non-zero biases keep pre-activations off ReLU's kink at 0, where a finite
        // difference straddles two slopes.
        let mut rng = SimRng::new(11);
        for b in &mut m.params.biases {
            b.mapv_inplace(|_| 0.1 * gaussian(&mut rng) + 0.05);
        }
        let targets: Vec<u32> = vec![0, 3, 1, 2, 1, 0, 1, 0, 1, 2, 2, 0];
        let masked = [
            false, false, true, false, true, false, false, false, false, true, false, false,
        ];
        let inputs = targets
            .iter()
            .enumerate()
            .map(|(k, &t)| m.input_index(k % 3, (!masked[k]).then_some(t)))
            .collect();
        (m, inputs, targets)
    }

    /// Central finite differences agree with the hand-written backward pass on every
    /// unmasked weight and bias of a tiny model.
    #[test]
    fn gradient_matches_finite_differences() {
        let (m, inputs, targets) = tiny();
        let (_, grads) = m.loss_and_grad(&inputs, &targets);
        let eps = 1e-6;
        let mut checked = 0;
        let mut worst: f64 = 0.0;
        for l in 0..m.params.weights.len() {
            let shape = m.params.weights[l].dim();
            for i in 0..shape.0 {
                for j in 0..shape.1 {
                    if m.masks[l][(i, j)] == 0.0 {
                        assert_eq!(grads.weights[l][(i, j)], 0.0);
                        continue;
                    }
                    let mut p = m.clone();
                    p.params.weights[l][(i, j)] += eps;
                    let mut q = m.clone();
                    q.params.weights[l][(i, j)] -= eps;
                    let num = (p.loss_and_grad(&inputs, &targets).0
                        - q.loss_and_grad(&inputs, &targets).0)
                        / (2.0 * eps);
                    let ana = grads.weights[l][(i, j)];
                    worst = worst.max((num - ana).abs() / (num.abs() + ana.abs()).max(1e-4));
                    checked += 1;
                }
            }
            for j in 0..m.params.biases[l].len() {
                let mut p = m.clone();
                p.params.biases[l][j] += eps;
                let mut q = m.clone();
                q.params.biases[l][j] -= eps;
                let num = (p.loss_and_grad(&inputs, &targets).0
                    - q.loss_and_grad(&inputs, &targets).0)
                    / (2.0 * eps);
                let ana = grads.biases[l][j];
                worst = worst.max((num - ana).abs() / (num.abs() + ana.abs()).max(1e-4));
                checked += 1;
            }
        }
        assert!(checked > 100, "checked {checked}");
        assert!(worst < 1e-5, "worst relative error {worst}");
    }

    /// Output block `i` must not depend on the inputs of columns `>= i`.
    #[test]
    fn outputs_are_autoregressive() {
        let (m, inputs, _) = tiny();
        let base = m.forward(&inputs[..3]).logits;
        for col in 0..3 {
            for code in [None, Some(0), Some(1)] {
                let mut changed = inputs[..3].to_vec();
                changed[col] = m.input_index(col, code);
                let l = m.forward(&changed).logits;
                for c in 0..=col {
                    let (o, d) = (m.out_offsets[c], m.domains[c]);
                    for k in o..o + d {
                        assert!(
                            (l[(0, k)] - base[(0, k)]).abs() < 1e-12,
                            "col {c} depends on {col}"
                        );
                    }
                }
            }
        }
    }
}
