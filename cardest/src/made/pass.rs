//! Forward and backward passes for training (batches of fully known rows, with some inputs
//! masked by column masking).

use ndarray::{Array2, ArrayViewMut1, ArrayViewMut2, Axis, s};

use super::strided::mat_mul;
use super::{DegreeLayout, InputEncoding, Network, OutputEncoding, Params, Real};

/// What the backward pass needs from the forward pass.
pub(crate) struct Trace<F> {
    /// The gathered embeddings (embedding inputs only).
    x: Option<Array2<F>>,
    /// MADE: the post-ReLU output of every layer. ResMADE: the residual stream before each
    /// block and after the last.
    stream: Vec<Array2<F>>,
    /// ResMADE: per block, the post-ReLU middle activations.
    inner: Vec<Array2<F>>,
    /// The trunk's output (post-ReLU).
    last: Array2<F>,
    /// Embedding reuse: the per-column output vectors.
    out: Option<Array2<F>>,
    /// Logits, batch × Σ domains.
    pub(crate) logits: Array2<F>,
}

pub(crate) fn relu<F: Real>(a: &mut Array2<F>) {
    a.mapv_inplace(|x| x.max(F::zero()));
}

/// `g *= (a > 0)`: the ReLU derivative taken from its output (or input).
fn relu_grad<F: Real>(g: &mut Array2<F>, a: &Array2<F>) {
    g.zip_mut_with(a, |g, &x| {
        if x <= F::zero() {
            *g = F::zero();
        }
    });
}

impl<F: Real> Network<F> {
    /// Call `f` with every active input feature of column `col` in `slot`
    /// (one-hot and binary encodings).
    pub(crate) fn features(&self, col: usize, slot: u32, mut f: impl FnMut(usize)) {
        let o = self.in_offsets[col];
        match self.config.input {
            InputEncoding::OneHot => f(o + slot as usize),
            InputEncoding::Binary => {
                if slot as usize == self.domains[col] {
                    f(o + self.bits[col]);
                } else {
                    for k in 0..self.bits[col] {
                        if (slot >> k) & 1 == 1 {
                            f(o + k);
                        }
                    }
                }
            }
            InputEncoding::Embedding => unreachable!("embeddings are not sparse features"),
        }
    }

    /// First-layer pre-activations for a batch of slots (`slots[b * n + c]`).
    fn first_layer(&self, slots: &[u32]) -> (Option<Array2<F>>, Array2<F>) {
        let n = self.domains.len();
        let batch = slots.len() / n;
        let p = &self.params;
        if self.config.input == InputEncoding::Embedding {
            let d = self.config.embedding;
            let mut x = Array2::zeros((batch, n * d));
            for (b, mut row) in x.axis_iter_mut(Axis(0)).enumerate() {
                for c in 0..n {
                    let slot = slots[b * n + c] as usize;
                    row.slice_mut(s![c * d..(c + 1) * d])
                        .assign(&p.embed[c].row(slot));
                }
            }
            let z = x.dot(&p.w_in) + &p.b_in;
            return (Some(x), z);
        }
        let h = p.b_in.len();
        let w = p.w_in.as_slice().expect("standard layout");
        let mut z = Array2::zeros((batch, h));
        for (b, mut row) in z.axis_iter_mut(Axis(0)).enumerate() {
            let row = row.as_slice_mut().expect("standard layout");
            row.copy_from_slice(p.b_in.as_slice().expect("standard layout"));
            for c in 0..n {
                self.features(c, slots[b * n + c], |f| {
                    for (r, &x) in row.iter_mut().zip(&w[f * h..(f + 1) * h]) {
                        *r += x;
                    }
                });
            }
        }
        (None, z)
    }

    /// The trunk from first-layer pre-activations: (stream, inner, last).
    pub(crate) fn trunk(
        &self,
        z0: Array2<F>,
        keep: bool,
    ) -> (Vec<Array2<F>>, Vec<Array2<F>>, Array2<F>) {
        let p = &self.params;
        let (mut stream, mut inner) = (Vec::new(), Vec::new());
        if self.config.residual {
            let mut h = z0;
            for k in 0..self.config.layers {
                let mut u = h.clone();
                relu(&mut u);
                let mut v = u.dot(&p.w_hidden[2 * k]) + &p.b_hidden[2 * k];
                relu(&mut v);
                let t = v.dot(&p.w_hidden[2 * k + 1]) + &p.b_hidden[2 * k + 1];
                if keep {
                    inner.push(v);
                    stream.push(h.clone());
                }
                h += &t;
            }
            if keep {
                stream.push(h.clone());
            }
            relu(&mut h);
            (stream, inner, h)
        } else {
            let mut a = z0;
            relu(&mut a);
            for (w, b) in p.w_hidden.iter().zip(&p.b_hidden) {
                let mut z = a.dot(w) + b;
                relu(&mut z);
                if keep {
                    stream.push(a);
                }
                a = z;
            }
            if keep {
                stream.push(a.clone());
            }
            (stream, inner, a)
        }
    }

    /// The output layer: `last · w_out + b_out` (batch × head width). With sorted degrees
    /// each column's block is a product with only the units that feed it; the masked-out
    /// weights it skips are zeros, so the result is the same as the dense product.
    fn head(&self, last: &Array2<F>) -> Array2<F> {
        let p = &self.params;
        if self.layout == DegreeLayout::Cyclic {
            return last.dot(&p.w_out) + &p.b_out;
        }
        let mut head = Array2::zeros((last.nrows(), p.b_out.len()));
        head += &p.b_out;
        for c in 0..self.domains.len() {
            let (m, h, w) = (self.head_units[c], self.head_offsets[c], self.head_width(c));
            if m > 0 {
                mat_mul(
                    &last.slice(s![.., ..m]),
                    &p.w_out.slice(s![..m, h..h + w]),
                    true,
                    &mut head.slice_mut(s![.., h..h + w]),
                );
            }
        }
        head
    }

    /// Backward through [`Network::head`]: fills `g.w_out` and `g.b_out` from the head's
    /// gradient `dhead` and returns the gradient of the trunk's output. With sorted degrees
    /// only the unmasked blocks of `g.w_out` are written (the rest stay zero).
    fn head_backward(&self, last: &Array2<F>, dhead: &Array2<F>, g: &mut Params<F>) -> Array2<F> {
        let p = &self.params;
        g.b_out = dhead.sum_axis(Axis(0));
        if self.layout == DegreeLayout::Cyclic {
            g.w_out = last.t().dot(dhead);
            return dhead.dot(&p.w_out.t());
        }
        let mut dlast = Array2::zeros(last.raw_dim());
        // Row-major, so the weight gradient's products read rows of it.
        let last_t = last.t().as_standard_layout().into_owned();
        for c in 0..self.domains.len() {
            let (m, h, w) = (self.head_units[c], self.head_offsets[c], self.head_width(c));
            if m == 0 {
                continue;
            }
            let dh = dhead.slice(s![.., h..h + w]);
            mat_mul(
                &last_t.slice(s![..m, ..]),
                &dh,
                false,
                &mut g.w_out.slice_mut(s![..m, h..h + w]),
            );
            mat_mul(
                &dh,
                &p.w_out.slice(s![..m, h..h + w]).t(),
                true,
                &mut dlast.slice_mut(s![.., ..m]),
            );
        }
        dlast
    }

    /// Full forward pass.
    pub(crate) fn forward(&self, slots: &[u32]) -> Trace<F> {
        let (x, z0) = self.first_layer(slots);
        let (stream, inner, last) = self.trunk(z0, true);
        let p = &self.params;
        let head = self.head(&last);
        let (out, logits) = match self.config.output {
            OutputEncoding::OneHot => (None, head),
            OutputEncoding::Embedding => {
                let d = self.config.embedding;
                let total = *self.out_offsets.last().expect("columns")
                    + self.domains.last().expect("columns");
                let mut logits = Array2::zeros((last.nrows(), total));
                for c in 0..self.domains.len() {
                    let (o, dom, h) = (self.out_offsets[c], self.domains[c], self.head_offsets[c]);
                    let mut dst = logits.slice_mut(s![.., o..o + dom]);
                    if self.reuse[c] {
                        let seg = head
                            .slice(s![.., h..h + d])
                            .dot(&p.embed[c].slice(s![..dom, ..]).t())
                            + p.b_logit.slice(s![o..o + dom]);
                        dst.assign(&seg);
                    } else {
                        dst.assign(&head.slice(s![.., h..h + dom]));
                    }
                }
                (Some(head), logits)
            }
        };
        Trace {
            x,
            stream,
            inner,
            last,
            out,
            logits,
        }
    }

    /// Total negative log-likelihood (nats, summed over rows) of `targets` given `slots`.
    pub(crate) fn loss(&self, slots: &[u32], targets: &[u32]) -> f64 {
        let logits = self.forward(slots).logits;
        let mut loss = 0.0;
        let n = self.domains.len();
        for (b, row) in logits.axis_iter(Axis(0)).enumerate() {
            for c in 0..n {
                let (o, d) = (self.out_offsets[c], self.domains[c]);
                let seg = row.slice(s![o..o + d]);
                let max = seg
                    .fold(F::of(f64::NEG_INFINITY), |m, &x| m.max(x))
                    .to_f64();
                let sum: f64 = seg.iter().map(|&x| (x.to_f64() - max).exp()).sum();
                loss += sum.ln() + max - seg[targets[b * n + c] as usize].to_f64();
            }
        }
        loss
    }

    /// Total negative log-likelihood (nats) of `targets` given `slots`, and its gradient with
    /// respect to every parameter multiplied by `scale` (pass `1 / rows` for the mean).
    pub(crate) fn loss_and_grad(
        &self,
        slots: &[u32],
        targets: &[u32],
        scale: f64,
    ) -> (f64, Params<F>) {
        let n = self.domains.len();
        if self.config.output == OutputEncoding::OneHot && self.layout == DegreeLayout::Sorted {
            return self.loss_and_grad_by_column(slots, targets, scale);
        }
        let mut tr = self.forward(slots);
        let mut dlogits = std::mem::replace(&mut tr.logits, Array2::zeros((0, 0)));
        let mut loss = 0.0;
        let sc = F::of(scale);
        for (b, mut row) in dlogits.axis_iter_mut(Axis(0)).enumerate() {
            for c in 0..n {
                let (o, d) = (self.out_offsets[c], self.domains[c]);
                loss += softmax_backward(row.slice_mut(s![o..o + d]), targets[b * n + c], sc);
            }
        }
        let p = &self.params;
        let mut g = Params::zeros_like(p);
        // Output head.
        let dhead = match self.config.output {
            OutputEncoding::OneHot => dlogits,
            OutputEncoding::Embedding => {
                let d = self.config.embedding;
                let head = tr.out.as_ref().expect("embedding reuse keeps its head");
                let mut dhead = Array2::zeros(head.raw_dim());
                for c in 0..n {
                    let (o, dom, h) = (self.out_offsets[c], self.domains[c], self.head_offsets[c]);
                    let dl = dlogits.slice(s![.., o..o + dom]);
                    if !self.reuse[c] {
                        dhead.slice_mut(s![.., h..h + dom]).assign(&dl);
                        continue;
                    }
                    g.b_logit
                        .slice_mut(s![o..o + dom])
                        .assign(&dl.sum_axis(Axis(0)));
                    let hc = head.slice(s![.., h..h + d]);
                    g.embed[c].slice_mut(s![..dom, ..]).assign(&dl.t().dot(&hc));
                    dhead
                        .slice_mut(s![.., h..h + d])
                        .assign(&dl.dot(&p.embed[c].slice(s![..dom, ..])));
                }
                dhead
            }
        };
        let dlast = self.head_backward(&tr.last, &dhead, &mut g);
        self.trunk_backward(slots, &tr, dlast, &mut g);
        (loss, g)
    }

    /// [`Network::loss_and_grad`] for one-hot outputs and sorted degrees, one output column
    /// at a time: its logits, softmax gradient and products with the weights run while its
    /// block (`batch × domain`, a few megabytes at most) is still in cache, instead of
    /// passing the whole `batch × Σ domains` matrix through memory three times.
    fn loss_and_grad_by_column(
        &self,
        slots: &[u32],
        targets: &[u32],
        scale: f64,
    ) -> (f64, Params<F>) {
        let n = self.domains.len();
        let (x, z0) = self.first_layer(slots);
        let (stream, inner, last) = self.trunk(z0, true);
        let p = &self.params;
        let mut g = Params::zeros_like(p);
        let sc = F::of(scale);
        let batch = last.nrows();
        let widest = self.domains.iter().copied().max().unwrap_or(0);
        let mut block = vec![F::zero(); batch * widest];
        let mut dlast = Array2::zeros(last.raw_dim());
        // Row-major, so the weight gradient's products read rows of it.
        let last_t = last.t().as_standard_layout().into_owned();
        let mut loss = 0.0;
        for c in 0..n {
            let (m, h, w) = (self.head_units[c], self.head_offsets[c], self.domains[c]);
            let mut logits = ArrayViewMut2::from_shape((batch, w), &mut block[..batch * w])
                .expect("batch × domain");
            logits.assign(&p.b_out.slice(s![h..h + w]));
            let weights = p.w_out.slice(s![..m, h..h + w]);
            if m > 0 {
                mat_mul(&last.slice(s![.., ..m]), &weights, true, &mut logits);
            }
            for (b, row) in logits.axis_iter_mut(Axis(0)).enumerate() {
                loss += softmax_backward(row, targets[b * n + c], sc);
            }
            g.b_out
                .slice_mut(s![h..h + w])
                .assign(&logits.sum_axis(Axis(0)));
            if m > 0 {
                let dl = logits.view();
                mat_mul(
                    &last_t.slice(s![..m, ..]),
                    &dl,
                    false,
                    &mut g.w_out.slice_mut(s![..m, h..h + w]),
                );
                mat_mul(&dl, &weights.t(), true, &mut dlast.slice_mut(s![.., ..m]));
            }
        }
        let tr = Trace {
            x,
            stream,
            inner,
            last,
            out: None,
            logits: Array2::zeros((0, 0)),
        };
        self.trunk_backward(slots, &tr, dlast, &mut g);
        (loss, g)
    }

    /// Backward from the trunk's output gradient `dlast` through the trunk and the input
    /// layer into `g`, then clear the gradients of masked-out weights.
    fn trunk_backward(
        &self,
        slots: &[u32],
        tr: &Trace<F>,
        mut dlast: Array2<F>,
        g: &mut Params<F>,
    ) {
        let n = self.domains.len();
        let p = &self.params;
        // Trunk.
        let dz0 = if self.config.residual {
            let blocks = self.config.layers;
            relu_grad(&mut dlast, &tr.stream[blocks]);
            let mut dh = dlast;
            for k in (0..blocks).rev() {
                let v = &tr.inner[k];
                g.w_hidden[2 * k + 1] = v.t().dot(&dh);
                g.b_hidden[2 * k + 1] = dh.sum_axis(Axis(0));
                let mut dv = dh.dot(&p.w_hidden[2 * k + 1].t());
                relu_grad(&mut dv, v);
                let mut u = tr.stream[k].clone();
                relu(&mut u);
                g.w_hidden[2 * k] = u.t().dot(&dv);
                g.b_hidden[2 * k] = dv.sum_axis(Axis(0));
                let mut du = dv.dot(&p.w_hidden[2 * k].t());
                relu_grad(&mut du, &u);
                dh += &du;
            }
            dh
        } else {
            let mut da = dlast;
            for l in (1..tr.stream.len()).rev() {
                relu_grad(&mut da, &tr.stream[l]);
                g.w_hidden[l - 1] = tr.stream[l - 1].t().dot(&da);
                g.b_hidden[l - 1] = da.sum_axis(Axis(0));
                da = da.dot(&p.w_hidden[l - 1].t());
            }
            relu_grad(&mut da, &tr.stream[0]);
            da
        };
        // Input layer.
        g.b_in = dz0.sum_axis(Axis(0));
        match &tr.x {
            Some(x) => {
                let d = self.config.embedding;
                g.w_in = x.t().dot(&dz0);
                let dx = dz0.dot(&p.w_in.t());
                for (b, row) in dx.axis_iter(Axis(0)).enumerate() {
                    for c in 0..n {
                        let slot = slots[b * n + c] as usize;
                        let mut e = g.embed[c].row_mut(slot);
                        e += &row.slice(s![c * d..(c + 1) * d]);
                    }
                }
            }
            None => {
                let h = p.b_in.len();
                let gw = g.w_in.as_slice_mut().expect("standard layout");
                for (b, row) in dz0.axis_iter(Axis(0)).enumerate() {
                    let row = row.to_slice().expect("standard layout");
                    for c in 0..n {
                        self.features(c, slots[b * n + c], |f| {
                            for (x, &r) in gw[f * h..(f + 1) * h].iter_mut().zip(row) {
                                *x += r;
                            }
                        });
                    }
                }
            }
        }
        self.mask_grads(g);
    }
}

/// The softmax of one row's logits for one column, turned in place into the gradient of
/// `scale × -log softmax[target]`; returns `-log softmax[target]` (nats).
fn softmax_backward<F: Real>(mut seg: ArrayViewMut1<'_, F>, target: u32, scale: F) -> f64 {
    let max = seg.fold(F::of(f64::NEG_INFINITY), |m, &x| m.max(x));
    let t = target as usize;
    // log softmax_t = (x_t - max) - ln Σ e^(x - max): finite even where the probability
    // itself underflows.
    let shifted = (seg[t] - max).to_f64();
    // Values more than 50 below the maximum (probability under e^-50, about 2e-22, of the
    // largest) become exactly zero: scaled into gradients they would be subnormal floats,
    // which x86 multiplies through a microcode assist dozens of times slower, and as
    // training sharpens the softmaxes they come to dominate the output layer's products.
    // Their gradient is negligible.
    seg.mapv_inplace(|x| {
        let d = x - max;
        if d < F::of(-50.0) {
            F::zero()
        } else {
            d.exp_nonpositive()
        }
    });
    let sum = seg.sum();
    // d(-log softmax_t)/d logit = softmax - onehot(t).
    let k = scale / sum;
    seg.mapv_inplace(|p| p * k);
    seg[t] -= scale;
    sum.to_f64().ln() - shifted
}
