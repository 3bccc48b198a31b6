//! A weight matrix and its biases prepared for the estimator's products `x · W + b`, where
//! `x` keeps its first `k` inputs and the product its first `n` outputs (the estimator
//! works on top-left corners of the degree-ordered weights).
//!
//! On `f32` with AVX-512F or AVX2 the product runs a packed kernel of module `packed`; otherwise
//! (`f64`, other CPUs) `ndarray`'s. The two sum in different orders, so estimates may
//! differ between such machines in the last bits, never by more.

use ndarray::{Array1, Array2, ArrayView2, s};

use super::Real;
use super::packed::Panels;

/// `W` (`k × n`), `b` (`n`) and, where the CPU allows, their packed form.
#[derive(Clone, Debug)]
pub(crate) struct Affine<F> {
    weights: Array2<F>,
    bias: Array1<F>,
    packed: Option<Panels>,
}

impl<F: Real> Affine<F> {
    /// Prepare `weights` (`k × n`) and `bias` (`n`).
    pub(crate) fn new(weights: Array2<F>, bias: Array1<F>) -> Self {
        assert_eq!(weights.ncols(), bias.len(), "one bias per column");
        let weights = weights.as_standard_layout().into_owned();
        let bias = bias.as_standard_layout().into_owned();
        let packed = match (
            weights.as_slice().and_then(F::as_f32),
            bias.as_slice().and_then(F::as_f32),
        ) {
            (Some(w), Some(b)) => {
                let w = ArrayView2::from_shape(weights.dim(), w).expect("same shape");
                Panels::new(w, b.into())
            }
            _ => None,
        };
        Affine {
            weights,
            bias,
            packed,
        }
    }

    /// `x[.., ..k] · W[..k, ..n] + b[..n]`, row-major into the front of `out` (grown to
    /// at least `x.nrows() × n`), viewed as a matrix.
    pub(crate) fn apply_into<'b>(
        &self,
        x: ArrayView2<'_, F>,
        k: usize,
        n: usize,
        out: &'b mut Vec<F>,
    ) -> ArrayView2<'b, F> {
        let m = x.nrows();
        // The kernel reads standard-layout rows (the estimator's arrays always are).
        let fast = self.packed.as_ref().zip(x.as_slice().and_then(F::as_f32));
        match fast {
            Some((packed, x32)) => {
                // Grown, never shrunk or cleared: the kernel overwrites the first `m × n`
                // values, and refilling tens of megabytes per call would cost a tenth of
                // the product.
                if out.len() < m * n {
                    out.resize(m * n, F::zero());
                }
                let out = &mut out[..m * n];
                let out32 = F::as_f32_mut(out).expect("the same type as x");
                packed.affine_into(x32, x.ncols(), (m, k, n), out32);
                ArrayView2::from_shape((m, n), &*out).expect("m × n values")
            }
            None => self.portable(x, k, n, out),
        }
    }

    /// The same product by `ndarray`.
    fn portable<'b>(
        &self,
        x: ArrayView2<'_, F>,
        k: usize,
        n: usize,
        out: &'b mut Vec<F>,
    ) -> ArrayView2<'b, F> {
        let product =
            x.slice(s![.., ..k]).dot(&self.weights.slice(s![..k, ..n])) + self.bias.slice(s![..n]);
        out.clear();
        out.extend(product.iter().copied());
        ArrayView2::from_shape(product.dim(), out).expect("same shape")
    }
}
