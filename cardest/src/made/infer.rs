//! Inference for progressive sampling: the first layer folded into one table of
//! per-slot contributions, so that a sample's first layer is updated in `O(hidden)` when one
//! of its columns is sampled, whatever the input encoding.
//!
//! The hidden units are reordered by degree. A unit of degree `j` depends only on units of
//! degree `<= j` in the layer below, and column `c`'s outputs only on units of degree `<= c`
//! (0-based columns), so column `c`'s logits need only the trunk's first `m_c` units in that
//! order: a `m_c × m_c` sub-matrix per hidden layer instead of `hidden × hidden`. Over the
//! columns of a table that is about a third of the trunk's work, with the same result (the
//! skipped weights are masked zeros).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};

use super::affine::Affine;
use super::pass::relu;
use super::{InputEncoding, Network, Real};

/// A network prepared for estimation.
#[derive(Clone, Debug)]
pub(crate) struct Compiled<'a, F> {
    model: &'a Network<F>,
    /// Per column, `domain × hidden`: what knowing code `v` adds to the first layer's
    /// pre-activation, relative to the column being masked (hidden units in degree order).
    delta: Vec<Array2<F>>,
    /// The first layer's pre-activation with every column masked (degree order).
    base: Array1<F>,
    /// The hidden layers (weights and biases) with units in degree order.
    hidden: Vec<Affine<F>>,
    /// Per column, its block of the output layer (its logits, or with embedding reuse its
    /// output vector) with rows (hidden units) in degree order.
    heads: Vec<Affine<F>>,
}

impl<'a, F: Real> Compiled<'a, F> {
    /// Fold the first layer of `model`.
    pub(crate) fn new(model: &'a Network<F>) -> Self {
        let p = &model.params;
        let h = p.b_in.len();
        let slot_rows: Vec<Array2<F>> = (0..model.domains.len())
            .map(|c| {
                let slots = model.domains[c] + 1;
                match model.config.input {
                    InputEncoding::Embedding => {
                        let d = model.config.embedding;
                        p.embed[c].dot(&p.w_in.slice(s![c * d..(c + 1) * d, ..]))
                    }
                    InputEncoding::OneHot | InputEncoding::Binary => {
                        let mut t = Array2::zeros((slots, h));
                        for slot in 0..slots {
                            let mut row = t.row_mut(slot);
                            model.features(c, slot as u32, |f| row += &p.w_in.row(f));
                        }
                        t
                    }
                }
            })
            .collect();
        let mut base = p.b_in.clone();
        let mut delta = Vec::with_capacity(slot_rows.len());
        for (c, rows) in slot_rows.into_iter().enumerate() {
            let dom = model.domains[c];
            let masked = rows.row(dom).to_owned();
            base += &masked;
            delta.push(rows.slice(s![..dom, ..]).to_owned() - &masked);
        }
        // Degree order (stable, so ties keep their original order).
        let mut order: Vec<usize> = (0..h).collect();
        order.sort_by_key(|&j| model.hid_deg[j]);
        // `select` along columns builds a column-major array; the estimator reads delta
        // rows as contiguous slices.
        let permute_cols =
            |a: &Array2<F>| a.select(Axis(1), &order).as_standard_layout().into_owned();
        let w_out = p.w_out.select(Axis(0), &order);
        let heads = (0..model.domains.len())
            .map(|c| {
                let h = model.head_offsets[c];
                let width = match model.reuse[c] {
                    false => model.domains[c],
                    true => model.config.embedding,
                };
                Affine::new(
                    w_out.slice(s![.., h..h + width]).to_owned(),
                    p.b_out.slice(s![h..h + width]).to_owned(),
                )
            })
            .collect();
        Compiled {
            model,
            delta: delta.iter().map(permute_cols).collect(),
            base: base.select(Axis(0), &order),
            hidden: p
                .w_hidden
                .iter()
                .zip(&p.b_hidden)
                .map(|(w, b)| {
                    Affine::new(
                        w.select(Axis(0), &order).select(Axis(1), &order),
                        b.select(Axis(0), &order),
                    )
                })
                .collect(),
            heads,
        }
    }

    /// The trunk's output for column `col`: only its first `head_units[col]` units (degree
    /// order), from first-layer pre-activations `z0` (batch × hidden, degree order).
    fn trunk(&self, z0: ArrayView2<'_, F>, col: usize) -> Array2<F> {
        let m = self.model.head_units[col];
        let cfg = &self.model.config;
        let mut scratch = Vec::new();
        let mut h = z0.slice(s![.., ..m]).to_owned();
        if cfg.residual {
            for k in 0..cfg.layers {
                let mut u = h.clone();
                relu(&mut u);
                let mut v = self.hidden[2 * k]
                    .apply_into(u.view(), m, m, &mut scratch)
                    .to_owned();
                relu(&mut v);
                h += &self.hidden[2 * k + 1].apply_into(v.view(), m, m, &mut scratch);
            }
            relu(&mut h);
        } else {
            relu(&mut h);
            for layer in &self.hidden {
                h = layer.apply_into(h.view(), m, m, &mut scratch).to_owned();
                relu(&mut h);
            }
        }
        h
    }

    /// The first layer with every column masked.
    pub(crate) fn base(&self) -> &Array1<F> {
        &self.base
    }

    /// What learning `code` of column `col` adds to the first layer.
    pub(crate) fn delta(&self, col: usize, code: u32) -> ArrayView1<'_, F> {
        self.delta[col].row(code as usize)
    }

    /// Logits of column `col` (batch × domain) for first-layer pre-activations `z0`
    /// (as built from [`Compiled::base`] and [`Compiled::delta`]).
    #[cfg(test)]
    pub(crate) fn column_logits(&self, z0: &Array2<F>, col: usize) -> Array2<F> {
        self.column_logits_into(z0.view(), col, &mut Vec::new())
            .to_owned()
    }

    /// [`Compiled::column_logits`] in the front of `out`, which is grown as needed and
    /// reused across calls (the estimator's logits run to tens of megabytes per step).
    pub(crate) fn column_logits_into<'b>(
        &self,
        z0: ArrayView2<'_, F>,
        col: usize,
        out: &'b mut Vec<F>,
    ) -> ArrayView2<'b, F> {
        let m = self.model;
        let last = self.trunk(z0, col);
        let units = m.head_units[col];
        let head = &self.heads[col];
        let (o, dom) = (m.out_offsets[col], m.domains[col]);
        match m.reuse[col] {
            false => head.apply_into(last.view(), units, dom, out),
            true => {
                let d = m.config.embedding;
                let vector = head.apply_into(last.view(), units, d, out).to_owned();
                let p = &m.params;
                let logits = vector.dot(&p.embed[col].slice(s![..dom, ..]).t())
                    + p.b_logit.slice(s![o..o + dom]);
                out.clear();
                out.extend(logits.iter().copied());
                ArrayView2::from_shape(logits.dim(), &out[..]).expect("batch × domain")
            }
        }
    }
}
