//! An AVX-512 kernel for the estimator's products `x · W + b` (`f32`).
//!
//! Progressive sampling multiplies a batch of distinct prefixes (one to a few thousand rows)
//! by the same weights thousands of times per query, so the weights are packed once, at
//! load, into column panels of [`NR`] values with each panel's rows contiguous; the kernel
//! then streams a panel from L1 while it accumulates a block of [`MR`] rows in twelve
//! 512-bit registers, the bias already in them. The general-purpose `matrixmultiply`
//! behind `ndarray` has no AVX-512 kernel and packs the weights again on every call: on the
//! 2-core VM this kernel is about 2× faster at 2,000 rows and 4× at one row.
//!
//! This is the crate's only `unsafe` code. [`Panels`] exists only on a CPU that has
//! AVX-512F ([`Panels::new`] checks), and [`Panels::affine_into`] checks every dimension
//! against the slices it is given before it enters the kernel, so the kernel's raw reads
//! and writes stay inside them.
#![allow(unsafe_code)]

use ndarray::{ArrayView1, ArrayView2};

/// Columns per packed panel: two 512-bit registers of `f32`.
const NR: usize = 32;
/// Rows per register block: `MR × 2` accumulators plus two panel rows and a broadcast
/// fit in the 32 vector registers with room to spare.
const MR: usize = 6;
/// Rows per cache block: the block's inputs (`MC × k` floats) stay in L2 while every panel
/// of the weights passes through L1 once.
const MC: usize = 192;

/// A `k × n` weight matrix and an `n`-vector of biases packed for [`Panels::affine_into`].
#[derive(Clone, Debug)]
pub(crate) struct Panels {
    rows: usize,
    cols: usize,
    /// Panel `p` holds columns `p*NR..(p+1)*NR`: `rows × NR` values, row-major, the
    /// columns past `cols` zero.
    packed: Vec<f32>,
    /// The biases, zero-padded to a whole number of panels.
    bias: Vec<f32>,
}

impl Panels {
    /// Pack `weights` (`k × n`) and `bias` (`n`); `None` when this CPU lacks AVX-512F (the
    /// caller then uses a portable product).
    pub(crate) fn new(weights: ArrayView2<'_, f32>, bias: ArrayView1<'_, f32>) -> Option<Self> {
        if !supported() {
            return None;
        }
        let (rows, cols) = weights.dim();
        assert_eq!(bias.len(), cols, "one bias per column");
        let panels = cols.div_ceil(NR);
        let mut packed = vec![0.0f32; panels * rows * NR];
        for ((r, c), &w) in weights.indexed_iter() {
            packed[(c / NR) * rows * NR + r * NR + c % NR] = w;
        }
        let mut padded = vec![0.0f32; panels * NR];
        padded[..cols]
            .iter_mut()
            .zip(bias)
            .for_each(|(p, &b)| *p = b);
        Some(Panels {
            rows,
            cols,
            packed,
            bias: padded,
        })
    }

    /// `out[i][j] = b[j] + Σ_{l<k} x[i*lda + l] · W[l][j]` for `i < m`, `j < n`: the first
    /// `k` inputs of each of `m` rows (row stride `lda`) times the top-left `k × n` corner of
    /// the weights, written row-major (`m × n`) to `out`.
    ///
    /// # Panics
    /// When `k` or `n` exceed the packed matrix, `lda < k`, or `x` / `out` are too short.
    pub(crate) fn affine_into(
        &self,
        x: &[f32],
        lda: usize,
        (m, k, n): (usize, usize, usize),
        out: &mut [f32],
    ) {
        assert!(k <= self.rows && n <= self.cols, "inside the packed matrix");
        assert!(lda >= k, "rows do not overlap");
        assert!(m == 0 || x.len() >= (m - 1) * lda + k, "x holds m rows");
        assert!(out.len() >= m * n, "out holds m × n");
        if m == 0 || n == 0 {
            return;
        }
        // SAFETY: `Panels` is only built when `supported()` found AVX-512F on this CPU, so
        // the `target_feature` function may run. The assertions above bound every access
        // the kernel makes: rows `i < m` of `x` read `x[i*lda .. i*lda + k]`, inside `x`
        // by the third assertion; panel `p < ceil(n/NR) <= ceil(cols/NR)` reads
        // `packed[p*rows*NR .. p*rows*NR + k*NR]` (k <= rows) and `bias[p*NR .. p*NR+NR]`,
        // inside the padded buffers; stores are masked to columns `< n` of rows `< m`, i.e.
        // `out[..m*n]`.
        unsafe { kernel(self, x.as_ptr(), lda, m, k, n, out.as_mut_ptr()) }
    }
}

/// Whether this CPU runs the kernel.
pub(crate) fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn kernel(_: &Panels, _: *const f32, _: usize, _: usize, _: usize, _: usize, _: *mut f32) {
    unreachable!("Panels::new returns None off x86_64")
}

/// The product, by cache blocks of [`MC`] rows, then panels, then register blocks.
///
/// # Safety
/// AVX-512F must be available, and the pointers valid as [`Panels::affine_into`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn kernel(
    p: &Panels,
    x: *const f32,
    lda: usize,
    m: usize,
    k: usize,
    n: usize,
    out: *mut f32,
) {
    use std::arch::x86_64::*;
    let panels = n.div_ceil(NR);
    let mut i0 = 0;
    while i0 < m {
        let i1 = (i0 + MC).min(m);
        for q in 0..panels {
            let j0 = q * NR;
            let width = n - j0;
            let lanes = |w: usize| -> __mmask16 {
                if w >= 16 {
                    0xffff
                } else {
                    ((1u32 << w) - 1) as __mmask16
                }
            };
            let mask0 = lanes(width);
            let mask1 = lanes(width.saturating_sub(16));
            // SAFETY (all pointer arithmetic below): within the bounds argued in
            // `Panels::affine_into`.
            unsafe {
                let panel = p.packed.as_ptr().add(q * p.rows * NR);
                let b0 = _mm512_loadu_ps(p.bias.as_ptr().add(j0));
                let b1 = _mm512_loadu_ps(p.bias.as_ptr().add(j0 + 16));
                let mut i = i0;
                while i + MR <= i1 {
                    let mut acc = [[b0, b1]; MR];
                    let row = x.add(i * lda);
                    for l in 0..k {
                        let w0 = _mm512_loadu_ps(panel.add(l * NR));
                        let w1 = _mm512_loadu_ps(panel.add(l * NR + 16));
                        for (r, a) in acc.iter_mut().enumerate() {
                            let v = _mm512_set1_ps(*row.add(r * lda + l));
                            a[0] = _mm512_fmadd_ps(v, w0, a[0]);
                            a[1] = _mm512_fmadd_ps(v, w1, a[1]);
                        }
                    }
                    for (r, a) in acc.iter().enumerate() {
                        let dst = out.add((i + r) * n + j0);
                        _mm512_mask_storeu_ps(dst, mask0, a[0]);
                        _mm512_mask_storeu_ps(dst.add(16), mask1, a[1]);
                    }
                    i += MR;
                }
                while i < i1 {
                    let mut a = [b0, b1];
                    let row = x.add(i * lda);
                    for l in 0..k {
                        let v = _mm512_set1_ps(*row.add(l));
                        a[0] = _mm512_fmadd_ps(v, _mm512_loadu_ps(panel.add(l * NR)), a[0]);
                        a[1] = _mm512_fmadd_ps(v, _mm512_loadu_ps(panel.add(l * NR + 16)), a[1]);
                    }
                    let dst = out.add(i * n + j0);
                    _mm512_mask_storeu_ps(dst, mask0, a[0]);
                    _mm512_mask_storeu_ps(dst.add(16), mask1, a[1]);
                    i += 1;
                }
            }
        }
        i0 = i1;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2, s};
    use stratus_sim::SimRng;

    use super::*;

    fn random(rows: usize, cols: usize, rng: &mut SimRng) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |_| rng.next_f64() as f32 - 0.5)
    }

    /// Every shape class the kernel distinguishes (full and partial register blocks, cache
    /// blocks, full and partial panels, panels under 16 columns, corners of the packed
    /// matrix, padded row strides) against `ndarray`'s product.
    #[test]
    fn kernel_matches_ndarray() {
        if !supported() {
            eprintln!("skipped: this CPU has no AVX-512F (the portable path is tested elsewhere)");
            return;
        }
        let mut rng = SimRng::new(7);
        for &(rows, cols) in &[(1, 1), (5, 17), (37, 70), (128, 4044), (64, 31)] {
            let w = random(rows, cols, &mut rng);
            let b = Array1::from_shape_fn(cols, |_| rng.next_f64() as f32);
            let p = Panels::new(w.view(), b.view()).expect("supported");
            for &m in &[0, 1, 5, 6, 7, 13, 200, 401] {
                for (k, n) in [
                    (rows, cols),
                    (rows.div_ceil(2), cols.div_ceil(3)),
                    (0, cols),
                ] {
                    let lda = rows + 3;
                    let x = random(m.max(1), lda, &mut rng);
                    let want = x.slice(s![..m, ..k]).dot(&w.slice(s![..k, ..n])) + b.slice(s![..n]);
                    let mut out = vec![f32::NAN; m * n + 5];
                    p.affine_into(x.as_slice().unwrap(), lda, (m, k, n), &mut out);
                    for (got, want) in out.iter().zip(want.iter()) {
                        assert!((got - want).abs() < 1e-4, "{rows}x{cols} m={m} k={k} n={n}");
                    }
                    assert!(
                        out[m * n..].iter().all(|v| v.is_nan()),
                        "nothing past m × n"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "x holds m rows")]
    fn short_input_is_refused() {
        let Some(p) = Panels::new(Array2::zeros((4, 4)).view(), Array1::zeros(4).view()) else {
            panic!("x holds m rows (no AVX-512F here: the check is the same)");
        };
        p.affine_into(&[0.0; 7], 4, (2, 4, 4), &mut [0.0; 8]);
    }
}
