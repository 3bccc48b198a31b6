//! MADE and ResMADE: masked networks whose outputs for column `i` depend only on the inputs
//! of columns `< i`, so their per-column softmaxes are the autoregressive conditionals
//! `P(x_i | x_<i)` of a table's joint distribution.
//!
//! Every column has `domain + 1` input *slots*: one per code and a "masked" slot for a value
//! that is unknown (a wildcard, or a column not yet sampled). Inputs are encoded one-hot,
//! in binary, or as learned embeddings ([`InputEncoding`]); outputs are a dense softmax per
//! column or reuse the input embeddings ([`OutputEncoding`], Naru's embedding reuse, which
//! makes large domains cheap: `d` numbers per value instead of a row of the output matrix).
//! The trunk is a plain MADE (a stack of masked layers) or a ResMADE (an input projection
//! followed by residual blocks of two masked layers; every hidden layer shares one
//! assignment of degrees, which is what makes the skip connections legal).
//!
//! A column with a large domain can be factorized ([`MadeConfig::factor_bits`],
//! [`crate::factor`]): the network then sees its digits as ordinary columns
//! (*sub-columns*), each with its own input slots and a small output softmax.
//!
//! Backpropagation is written by hand (module `pass`) and checked against central finite
//! differences on an `f64` network in the tests.

mod affine;
mod infer;
mod packed;
mod pass;
mod real;
mod strided;
#[cfg(test)]
mod tests;

use ndarray::{Array1, Array2};
use stratus_sim::SimRng;

use crate::error::{Error, Result};
use crate::factor::Factorization;
use crate::schema::Schema;

pub(crate) use infer::Compiled;
pub use real::Real;
pub(crate) use real::exp_nonpositive;

/// How a column's value enters the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputEncoding {
    /// One input per slot (code or masked); the first layer is a gather of weight rows.
    OneHot,
    /// The code's bits plus one "masked" flag: `⌈log2 domain⌉ + 1` inputs per column.
    Binary,
    /// A learned vector of [`MadeConfig::embedding`] numbers per slot.
    Embedding,
}

/// How a column's conditional distribution leaves the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputEncoding {
    /// A dense `hidden × domain` block of logits per column.
    OneHot,
    /// Embedding reuse: the network emits one [`MadeConfig::embedding`]-vector per column and
    /// a value's logit is its dot product with that value's input embedding (plus a bias).
    /// Requires [`InputEncoding::Embedding`].
    Embedding,
}

/// Shape of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct MadeConfig {
    /// Hidden units per layer.
    pub hidden: usize,
    /// MADE: hidden layers; ResMADE: residual blocks (two layers each). At least 1.
    pub layers: usize,
    /// ResMADE (residual blocks) instead of a plain MADE stack.
    pub residual: bool,
    /// Input encoding.
    pub input: InputEncoding,
    /// Output encoding.
    pub output: OutputEncoding,
    /// Embedding width for the embedding encodings.
    pub embedding: usize,
    /// With [`OutputEncoding::Embedding`], only columns with at least this many values reuse
    /// embeddings; smaller ones get a dense softmax (cheap for them, and more expressive).
    /// 0 (the default) reuses embeddings for every column.
    pub reuse_min_domain: usize,
    /// Column factorization: a column of more than `2^factor_bits` codes is presented to
    /// the network as the digits of its code (the fewest digits of at most `factor_bits`
    /// bits each, in a balanced base; see [`crate::factor`]). 0 never splits.
    pub factor_bits: u32,
    /// Seed for the initial weights and the hidden units' degrees.
    pub seed: u64,
}

impl Default for MadeConfig {
    /// A ResMADE with 2 blocks of 128 units, 32-wide input embeddings and a dense softmax
    /// per column: on flights (crate README) dense outputs fit markedly better than
    /// embedding reuse (65.0 vs 79.9 bits per tuple on 50,000 rows), and with the default
    /// factorization no output block is wider than 4,096 values, so their cost stays
    /// bounded on any table.
    fn default() -> Self {
        MadeConfig {
            hidden: 128,
            layers: 2,
            residual: true,
            input: InputEncoding::Embedding,
            output: OutputEncoding::OneHot,
            embedding: 32,
            reuse_min_domain: 0,
            factor_bits: DEFAULT_FACTOR_BITS,
            seed: 0,
        }
    }
}

/// [`MadeConfig::factor_bits`]' default: split only columns of more than 4,096 codes. On
/// flights (see the crate README) this splits `time_hour` alone and kept the accuracy of the
/// unsplit model at 2.2× the estimate speed; splitting every column over 1,024 codes was
/// 3.4× cheaper to train but fitted markedly worse with a 128-unit trunk.
pub const DEFAULT_FACTOR_BITS: u32 = 12;

/// How the hidden units' degrees are laid out across a layer. Only the order differs: the
/// same number of units has each degree either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DegreeLayout {
    /// Degrees cycle through `1..=max` from a seeded random start (model files up to
    /// format 3).
    Cyclic,
    /// Degrees in non-decreasing order, so the units feeding column `c` (those of degree
    /// `<= c`) are a prefix of the layer: each column's output block is then a product with
    /// only those units, about half the work of the dense output layer on a table like
    /// flights, whose large columns come early.
    Sorted,
}

/// The trainable tensors (also the shape of gradients and Adam moments).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Params<F> {
    /// Per column, `(domain + 1) × embedding` (empty unless the input is embedded).
    pub(crate) embed: Vec<Array2<F>>,
    /// Input features × hidden.
    pub(crate) w_in: Array2<F>,
    pub(crate) b_in: Array1<F>,
    /// Hidden × hidden: MADE layers 2.., or two per residual block.
    pub(crate) w_hidden: Vec<Array2<F>>,
    pub(crate) b_hidden: Vec<Array1<F>>,
    /// Hidden × (Σ domains) for one-hot outputs, hidden × (columns × embedding) for reuse.
    pub(crate) w_out: Array2<F>,
    pub(crate) b_out: Array1<F>,
    /// Per-value logit biases for embedding reuse (empty for one-hot outputs).
    pub(crate) b_logit: Array1<F>,
}

impl<F: Real> Params<F> {
    pub(crate) fn zeros_like(other: &Params<F>) -> Params<F> {
        let mut p = other.clone();
        for t in p.tensors_mut() {
            t.fill(F::zero());
        }
        p
    }

    /// Every tensor as a flat slice, in a fixed order (the model file's order).
    pub(crate) fn tensors(&self) -> Vec<&[F]> {
        let mut v: Vec<&[F]> = self.embed.iter().map(flat).collect();
        v.push(flat(&self.w_in));
        v.push(self.b_in.as_slice().expect("standard layout"));
        for (w, b) in self.w_hidden.iter().zip(&self.b_hidden) {
            v.push(flat(w));
            v.push(b.as_slice().expect("standard layout"));
        }
        v.push(flat(&self.w_out));
        v.push(self.b_out.as_slice().expect("standard layout"));
        v.push(self.b_logit.as_slice().expect("standard layout"));
        v
    }

    /// Every tensor as a mutable flat slice, in [`Params::tensors`]' order.
    pub(crate) fn tensors_mut(&mut self) -> Vec<&mut [F]> {
        let mut v: Vec<&mut [F]> = self.embed.iter_mut().map(flat_mut).collect();
        v.push(flat_mut(&mut self.w_in));
        v.push(self.b_in.as_slice_mut().expect("standard layout"));
        for (w, b) in self.w_hidden.iter_mut().zip(&mut self.b_hidden) {
            v.push(flat_mut(w));
            v.push(b.as_slice_mut().expect("standard layout"));
        }
        v.push(flat_mut(&mut self.w_out));
        v.push(self.b_out.as_slice_mut().expect("standard layout"));
        v.push(self.b_logit.as_slice_mut().expect("standard layout"));
        v
    }

    /// `self += other`, tensor by tensor.
    pub(crate) fn add(&mut self, other: &Params<F>) {
        for (a, b) in self.tensors_mut().into_iter().zip(other.tensors()) {
            for (x, &y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }
}

fn flat<F>(a: &Array2<F>) -> &[F] {
    a.as_slice().expect("standard layout")
}

fn flat_mut<F>(a: &mut Array2<F>) -> &mut [F] {
    a.as_slice_mut().expect("standard layout")
}

/// A MADE / ResMADE over a table with the given per-column domain sizes, on scalar `F`.
/// [`Made`] is the `f32` network used in practice.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<F> {
    /// The table columns and how each maps onto the network's columns.
    factors: Factorization,
    /// Per network column (a table column, or one digit of a factorized one): its domain.
    domains: Vec<usize>,
    /// Offset of column `i`'s input features.
    in_offsets: Vec<usize>,
    /// Offset of column `i`'s logits.
    out_offsets: Vec<usize>,
    /// Whether column `i`'s logits come from embedding reuse.
    reuse: Vec<bool>,
    /// Offset of column `i`'s block in the output head (its logits, or its reuse vector).
    head_offsets: Vec<usize>,
    /// Binary encoding: bits per column (the masked flag comes after them).
    bits: Vec<usize>,
    /// Each hidden unit's degree: it sees the inputs of network columns `< degree` and feeds
    /// the outputs of columns `>= degree`.
    hid_deg: Vec<usize>,
    /// How `hid_deg` is laid out.
    layout: DegreeLayout,
    /// Per network column, the number of hidden units that feed it (those of degree `<= c`;
    /// with [`DegreeLayout::Sorted`] the leading ones, the rest masked out of its block).
    pub(crate) head_units: Vec<usize>,
    pub(crate) params: Params<F>,
    /// 0/1 connectivity masks of `w_in`, `w_hidden`, `w_out`.
    mask_in: Array2<F>,
    mask_hidden: Array2<F>,
    mask_out: Array2<F>,
    /// The configuration it was built from (masks are a function of it, so files store it).
    config: MadeConfig,
    /// The table it was trained on, without its rows (set by training; stored in files).
    pub(crate) schema: Option<Schema>,
}

/// The `f32` model used for training and estimation.
pub type Made = Network<f32>;

impl<F: Real> Network<F> {
    /// A freshly initialised model of a table whose columns have these domains; columns
    /// of more than `2^cfg.factor_bits` codes are factorized.
    pub fn new(domains: &[usize], cfg: &MadeConfig) -> Result<Self> {
        Self::build(domains, cfg, DegreeLayout::Sorted)
    }

    /// [`Network::new`] with an explicit degree layout (older model files use the cyclic
    /// one).
    pub(crate) fn build(domains: &[usize], cfg: &MadeConfig, layout: DegreeLayout) -> Result<Self> {
        if domains.is_empty() || domains.contains(&0) {
            return Err(Error::EmptyTable(
                "no columns, or a column with an empty domain",
            ));
        }
        let factors = Factorization::new(domains, cfg.factor_bits);
        let domains = factors.sub_domains().to_vec();
        let domains = domains.as_slice();
        if cfg.hidden == 0 || cfg.layers == 0 {
            return Err(Error::Config("hidden and layers must be at least 1".into()));
        }
        let embedded = cfg.input == InputEncoding::Embedding;
        if (embedded || cfg.output == OutputEncoding::Embedding) && cfg.embedding == 0 {
            return Err(Error::Config("embedding width must be at least 1".into()));
        }
        if cfg.output == OutputEncoding::Embedding && !embedded {
            return Err(Error::Config(
                "embedding-reuse outputs need embedding inputs".into(),
            ));
        }
        let n = domains.len();
        let d = cfg.embedding;
        let bits: Vec<usize> = domains
            .iter()
            .map(|&dom| (usize::BITS - (dom.max(2) - 1).leading_zeros()) as usize)
            .collect();
        let in_width = |c: usize| match cfg.input {
            InputEncoding::OneHot => domains[c] + 1,
            InputEncoding::Binary => bits[c] + 1,
            InputEncoding::Embedding => d,
        };
        let reuse: Vec<bool> = domains.iter().map(|&dom| reuses(cfg, dom)).collect();
        let out_width = |c: usize| if reuse[c] { d } else { domains[c] };
        let head_offsets: Vec<usize> = (0..n)
            .scan(0, |acc, c| {
                let o = *acc;
                *acc += out_width(c);
                Some(o)
            })
            .collect();
        let (mut in_offsets, mut out_offsets) = (Vec::new(), Vec::new());
        let (mut din, mut dout) = (0, 0);
        for (c, &dom) in domains.iter().enumerate() {
            in_offsets.push(din);
            out_offsets.push(dout);
            din += in_width(c);
            dout += dom;
        }
        let out_cols: usize = (0..n).map(out_width).sum();
        let mut rng = SimRng::new(cfg.seed);
        // Degrees: column c has degree c+1; hidden units take 1..=max(n-1,1) in turn (from a
        // random start, or sorted), the same in every hidden layer (residual blocks need
        // that).
        let max_deg = (n - 1).max(1);
        let start = rng.below(max_deg as u64) as usize;
        let hid_deg: Vec<usize> = match layout {
            DegreeLayout::Cyclic => (0..cfg.hidden).map(|j| (start + j) % max_deg + 1).collect(),
            DegreeLayout::Sorted => (0..cfg.hidden)
                .map(|j| j * max_deg / cfg.hidden + 1)
                .collect(),
        };
        let head_units = (0..n)
            .map(|c| hid_deg.iter().filter(|&&deg| deg <= c).count())
            .collect();
        let in_deg: Vec<usize> = (0..n)
            .flat_map(|c| std::iter::repeat_n(c + 1, in_width(c)))
            .collect();
        let out_deg: Vec<usize> = (0..n)
            .flat_map(|c| std::iter::repeat_n(c + 1, out_width(c)))
            .collect();
        let mask = |rows: &[usize], cols: &[usize], strict: bool| {
            Array2::from_shape_fn((rows.len(), cols.len()), |(a, b)| {
                let ok = if strict {
                    rows[a] < cols[b]
                } else {
                    rows[a] <= cols[b]
                };
                F::of(f64::from(u8::from(ok)))
            })
        };
        let mask_in = mask(&in_deg, &hid_deg, false);
        let mask_hidden = mask(&hid_deg, &hid_deg, false);
        let mask_out = mask(&hid_deg, &out_deg, true);
        // He initialisation by the real fan-in; the first layer sees n active columns.
        let mut init = |m: &Array2<F>, fan_in: usize, gain: f64| {
            let scale = gain * (2.0 / fan_in.max(1) as f64).sqrt();
            let mut w = Array2::from_shape_fn(m.raw_dim(), |_| F::of(gaussian(&mut rng) * scale));
            w *= m;
            w
        };
        let first_fan = match cfg.input {
            InputEncoding::OneHot => n,
            InputEncoding::Binary => bits.iter().sum::<usize>() / 2 + n,
            InputEncoding::Embedding => n * d,
        };
        let w_in = init(&mask_in, first_fan, 1.0);
        let hidden_mats = if cfg.residual {
            2 * cfg.layers
        } else {
            cfg.layers - 1
        };
        let mut w_hidden = Vec::new();
        for k in 0..hidden_mats {
            // The second layer of a residual block starts small so each block begins near
            // the identity (a common ResNet practice that keeps early training stable).
            let gain = if cfg.residual && k % 2 == 1 { 0.1 } else { 1.0 };
            w_hidden.push(init(&mask_hidden, cfg.hidden, gain));
        }
        let w_out = init(&mask_out, cfg.hidden, 1.0);
        let embed = if embedded {
            domains
                .iter()
                .map(|&dom| {
                    Array2::from_shape_fn((dom + 1, d), |_| F::of(gaussian(&mut rng) * 0.5))
                })
                .collect()
        } else {
            Vec::new()
        };
        let b_logit_len = if cfg.output == OutputEncoding::Embedding {
            dout
        } else {
            0
        };
        let params = Params {
            embed,
            w_in,
            b_in: Array1::zeros(cfg.hidden),
            b_hidden: vec![Array1::zeros(cfg.hidden); hidden_mats],
            w_hidden,
            w_out,
            b_out: Array1::zeros(out_cols),
            b_logit: Array1::zeros(b_logit_len),
        };
        Ok(Network {
            factors,
            domains: domains.to_vec(),
            in_offsets,
            out_offsets,
            reuse,
            head_offsets,
            bits,
            hid_deg,
            layout,
            head_units,
            params,
            mask_in,
            mask_hidden,
            mask_out,
            config: cfg.clone(),
            schema: None,
        })
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &MadeConfig {
        &self.config
    }

    /// The schema of the table the model was last trained on (set by
    /// [`train`](crate::train()), kept by save and load): enough to resolve queries and scale
    /// selectivities without the table. `None` for an untrained model and for files of
    /// format 3 or 4.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// Attach a table's schema (e.g. to a model loaded from an older file); its domains must
    /// be the model's.
    pub fn set_schema(&mut self, schema: Schema) -> Result<()> {
        if schema.domains() != self.domains() {
            return Err(Error::SchemaMismatch(
                "the schema's domains differ from the model's".into(),
            ));
        }
        self.schema = Some(schema);
        Ok(())
    }

    /// The table columns' domain sizes.
    pub fn domains(&self) -> &[usize] {
        self.factors.domains()
    }

    /// How the table's columns map onto the network's (sub-)columns.
    pub fn factorization(&self) -> &Factorization {
        &self.factors
    }

    /// The network columns' domain sizes: the table's, with each factorized column replaced
    /// by its digits' domains.
    pub fn sub_domains(&self) -> &[usize] {
        &self.domains
    }

    /// Append one training row's network inputs and targets for table column `col` holding
    /// `code`: its digits as targets, and as inputs either the digits or, when `masked`,
    /// every sub-column's masked slot (a column is masked as a whole, as a wildcard is).
    pub(crate) fn push_column(
        &self,
        col: usize,
        code: u32,
        masked: bool,
        slots: &mut Vec<u32>,
        targets: &mut Vec<u32>,
    ) {
        self.factors.for_each_digit(col, code, |sub, digit| {
            targets.push(digit);
            slots.push(self.slot(sub, (!masked).then_some(digit)));
        });
    }

    /// Number of parameters that can be non-zero (masked-out weights excluded).
    pub fn parameter_count(&self) -> usize {
        let ones = |m: &Array2<F>| m.iter().filter(|&&x| x != F::zero()).count();
        let p = &self.params;
        ones(&self.mask_in)
            + ones(&self.mask_hidden) * p.w_hidden.len()
            + ones(&self.mask_out)
            + p.embed.iter().map(|e| e.len()).sum::<usize>()
            + p.b_in.len()
            + p.b_hidden.iter().map(|b| b.len()).sum::<usize>()
            + p.b_out.len()
            // Logit biases exist for every value but only reuse columns use theirs.
            + (0..self.domains.len())
                .filter(|&c| self.reuse[c])
                .map(|c| self.domains[c])
                .sum::<usize>()
    }

    /// Model size in bytes at four bytes per parameter (the unmasked parameters only).
    pub fn size_bytes(&self) -> usize {
        self.parameter_count() * 4
    }

    /// Width of network column `col`'s block of the output head: its logits, or its
    /// embedding-reuse vector.
    pub(crate) fn head_width(&self, col: usize) -> usize {
        if self.reuse[col] {
            self.config.embedding
        } else {
            self.domains[col]
        }
    }

    /// Input slot for `code` of network column `col`; `None` is the masked (unknown) slot.
    pub(crate) fn slot(&self, col: usize, code: Option<u32>) -> u32 {
        code.unwrap_or(self.domains[col] as u32)
    }

    /// Zero the gradients of masked-out weights, so the optimiser never moves them.
    pub(crate) fn mask_grads(&self, g: &mut Params<F>) {
        g.w_in *= &self.mask_in;
        for w in &mut g.w_hidden {
            *w *= &self.mask_hidden;
        }
        // Sorted degrees: the output gradient is only ever computed inside the unmasked
        // blocks (`pass::head_backward`).
        if self.layout == DegreeLayout::Cyclic {
            g.w_out *= &self.mask_out;
        }
    }

    /// Re-apply the connectivity masks (after loading weights).
    pub(crate) fn apply_masks(&mut self) {
        self.params.w_in *= &self.mask_in;
        for w in &mut self.params.w_hidden {
            *w *= &self.mask_hidden;
        }
        self.params.w_out *= &self.mask_out;
    }
}

/// The length of every tensor a model of this shape has, in [`Params::tensors`]' order,
/// computed without allocating (a model file's header is checked against it before the
/// model is built). Saturates instead of overflowing. `domains` are the table's.
pub(crate) fn tensor_lengths(domains: &[usize], cfg: &MadeConfig) -> Vec<usize> {
    let factors = Factorization::new(domains, cfg.factor_bits);
    let domains = factors.sub_domains();
    let (h, d, n) = (cfg.hidden, cfg.embedding, domains.len());
    let mul = |a: usize, b: usize| a.saturating_mul(b);
    let sum = |it: &mut dyn Iterator<Item = usize>| it.fold(0usize, |a, b| a.saturating_add(b));
    let total_domain = sum(&mut domains.iter().copied());
    let bits = |dom: usize| (usize::BITS - (dom.max(2) - 1).leading_zeros()) as usize;
    let mut v = Vec::new();
    let in_features = match cfg.input {
        InputEncoding::OneHot => total_domain.saturating_add(n),
        InputEncoding::Binary => sum(&mut domains.iter().map(|&x| bits(x) + 1)),
        InputEncoding::Embedding => {
            v.extend(domains.iter().map(|&dom| mul(dom.saturating_add(1), d)));
            mul(n, d)
        }
    };
    v.push(mul(in_features, h));
    v.push(h);
    let mats = if cfg.residual {
        cfg.layers.saturating_mul(2)
    } else {
        cfg.layers.saturating_sub(1)
    };
    for _ in 0..mats {
        v.push(mul(h, h));
        v.push(h);
    }
    let out_cols = sum(&mut domains
        .iter()
        .map(|&dom| if reuses(cfg, dom) { d } else { dom }));
    v.push(mul(h, out_cols));
    v.push(out_cols);
    v.push(if cfg.output == OutputEncoding::Embedding {
        total_domain
    } else {
        0
    });
    v
}

/// Whether a column of `domain` values reuses embeddings for its output.
fn reuses(cfg: &MadeConfig, domain: usize) -> bool {
    cfg.output == OutputEncoding::Embedding && domain >= cfg.reuse_min_domain
}

/// A standard normal draw (Box–Muller).
pub(crate) fn gaussian(rng: &mut SimRng) -> f64 {
    let u1 = rng.next_f64().max(1e-300);
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
