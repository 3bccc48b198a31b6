//! Inference for progressive sampling: the first layer folded into one table of
//! per-slot contributions, so that a sample's first layer is updated in `O(hidden)` when one
//! of its columns is sampled, whatever the input encoding.

use ndarray::{Array1, Array2, ArrayView1, s};

use super::{InputEncoding, Network, Real};

/// A network prepared for estimation.
#[derive(Clone, Debug)]
pub(crate) struct Compiled<'a, F> {
    model: &'a Network<F>,
    /// Per column, `domain × hidden`: what knowing code `v` adds to the first layer's
    /// pre-activation, relative to the column being masked.
    delta: Vec<Array2<F>>,
    /// The first layer's pre-activation with every column masked.
    base: Array1<F>,
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
        Compiled { model, delta, base }
    }

    /// The first layer with every column masked.
    pub(crate) fn base(&self) -> &Array1<F> {
        &self.base
    }

    /// What learning `code` of column `col` adds to the first layer.
    pub(crate) fn delta(&self, col: usize, code: u32) -> ArrayView1<'_, F> {
        self.delta[col].row(code as usize)
    }

    /// Logits of column `col` (batch × domain) for first-layer pre-activations `z0`.
    pub(crate) fn column_logits(&self, z0: Array2<F>, col: usize) -> Array2<F> {
        let m = self.model;
        let p = &m.params;
        let (_, _, last) = m.trunk(z0, false);
        let (o, dom, h) = (m.out_offsets[col], m.domains[col], m.head_offsets[col]);
        match m.reuse[col] {
            false => last.dot(&p.w_out.slice(s![.., h..h + dom])) + p.b_out.slice(s![h..h + dom]),
            true => {
                let d = m.config.embedding;
                let head = last.dot(&p.w_out.slice(s![.., h..h + d])) + p.b_out.slice(s![h..h + d]);
                head.dot(&p.embed[col].slice(s![..dom, ..]).t()) + p.b_logit.slice(s![o..o + dom])
            }
        }
    }
}
