//! SIMD kernels for the estimator's products `x · W + b` (`f32`), with AVX-512F or with
//! AVX2 and FMA, chosen at run time.
//!
//! Progressive sampling multiplies a batch of distinct prefixes (one to a few thousand rows)
//! by the same weights thousands of times per query, so the weights are packed once, at
//! load, into column panels of two vector registers' width (32 values with AVX-512, 16 with
//! AVX2), each panel's rows contiguous; the kernel then streams a panel from L1 while it
//! accumulates a block of [`MR`] rows in twelve registers, the bias already in them. The
//! general-purpose `matrixmultiply` behind `ndarray` has no AVX-512 kernel and packs the
//! weights again on every call: on the 2-core VM the AVX-512 kernel is about 2× faster at
//! 2,000 rows and 4× at one row.
//!
//! The crate's `unsafe` code is here, in module `strided` (training's products) and in
//! module `softmax`.
//! [`Panels`] exists only on a CPU with one of the two instruction sets ([`Panels::new`]
//! checks and records which), and [`Panels::affine_into`] checks every dimension against
//! the slices it is given before it enters a kernel, so the kernels' raw reads and writes
//! stay inside them.
#![allow(unsafe_code)]

use ndarray::{ArrayView1, ArrayView2};

/// Rows per register block: `MR × 2` accumulators, two panel rows and a broadcast fit in
/// AVX2's 16 vector registers (and AVX-512's 32 with room to spare).
const MR: usize = 6;
/// Rows per cache block: the block's inputs (`MC × k` floats) stay in L2 while every panel
/// of the weights passes through L1 once.
const MC: usize = 192;

/// The instruction set a [`Panels`] was packed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// AVX-512F: panels of 32 columns.
    Avx512,
    /// AVX2 with FMA: panels of 16 columns.
    Avx2,
}

impl Isa {
    /// The best this CPU has, if any.
    pub(crate) fn detect() -> Option<Isa> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Some(Isa::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Some(Isa::Avx2);
            }
        }
        None
    }

    /// Columns per panel: two vector registers of `f32`.
    fn panel_width(self) -> usize {
        match self {
            Isa::Avx512 => 32,
            Isa::Avx2 => 16,
        }
    }
}

/// A `k × n` weight matrix and an `n`-vector of biases packed for [`Panels::affine_into`].
#[derive(Clone, Debug)]
pub(crate) struct Panels {
    isa: Isa,
    rows: usize,
    cols: usize,
    /// Panel `p` holds columns `p*nr..(p+1)*nr` (`nr` the ISA's panel width): `rows × nr`
    /// values, row-major, the columns past `cols` zero.
    packed: Vec<f32>,
    /// The biases, zero-padded to a whole number of panels.
    bias: Vec<f32>,
}

impl Panels {
    /// Pack `weights` (`k × n`) and `bias` (`n`) for the best instruction set of this CPU;
    /// `None` when it has neither (the caller then uses a portable product).
    pub(crate) fn new(weights: ArrayView2<'_, f32>, bias: ArrayView1<'_, f32>) -> Option<Self> {
        Isa::detect().map(|isa| Panels::for_isa(isa, weights, bias))
    }

    /// Pack for `isa`, which the caller has found on this CPU ([`Isa::detect`] gives the
    /// best; an AVX-512 CPU also runs the AVX2 kernel).
    fn for_isa(isa: Isa, weights: ArrayView2<'_, f32>, bias: ArrayView1<'_, f32>) -> Self {
        let (rows, cols) = weights.dim();
        assert_eq!(bias.len(), cols, "one bias per column");
        let nr = isa.panel_width();
        let panels = cols.div_ceil(nr);
        let mut packed = vec![0.0f32; panels * rows * nr];
        for ((r, c), &w) in weights.indexed_iter() {
            packed[(c / nr) * rows * nr + r * nr + c % nr] = w;
        }
        let mut padded = vec![0.0f32; panels * nr];
        padded[..cols]
            .iter_mut()
            .zip(bias)
            .for_each(|(p, &b)| *p = b);
        Panels {
            isa,
            rows,
            cols,
            packed,
            bias: padded,
        }
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
        let (x, out) = (x.as_ptr(), out.as_mut_ptr());
        // SAFETY: a `Panels` is only built for an instruction set found on this CPU
        // (`Isa::detect`, or a test that checked it), so the `target_feature` function may
        // run. The assertions above bound every access the kernels make (`nr` the panel
        // width): rows `i < m` of `x` read `x[i*lda .. i*lda + k]`, inside `x` by the third
        // assertion; panel `p < ceil(n/nr) <= ceil(cols/nr)` reads
        // `packed[p*rows*nr .. p*rows*nr + k*nr]` (k <= rows) and `bias[p*nr .. p*nr+nr]`,
        // inside the padded buffers; stores go to columns `< n` of rows `< m`, i.e.
        // `out[..m*n]` (masked, or through a scratch row for a partial AVX2 panel).
        #[cfg(target_arch = "x86_64")]
        unsafe {
            match self.isa {
                Isa::Avx512 => kernel_avx512(self, x, lda, m, k, n, out),
                Isa::Avx2 => kernel_avx2(self, x, lda, m, k, n, out),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("Isa::detect finds nothing off x86_64 ({x:?}, {out:?})")
    }
}

/// The product, by cache blocks of [`MC`] rows, then panels of 32 columns, then register
/// blocks of [`MR`] rows.
///
/// # Safety
/// AVX-512F must be available, and the pointers valid as [`Panels::affine_into`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn kernel_avx512(
    p: &Panels,
    x: *const f32,
    lda: usize,
    m: usize,
    k: usize,
    n: usize,
    out: *mut f32,
) {
    use std::arch::x86_64::*;
    const NR: usize = 32;
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

/// [`kernel_avx512`] with 256-bit registers: panels of 16 columns, stores of a partial
/// panel masked lane by lane.
///
/// # Safety
/// AVX2 and FMA must be available, and the pointers valid as [`Panels::affine_into`]
/// checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2(
    p: &Panels,
    x: *const f32,
    lda: usize,
    m: usize,
    k: usize,
    n: usize,
    out: *mut f32,
) {
    use std::arch::x86_64::*;
    const NR: usize = 16;
    let panels = n.div_ceil(NR);
    let lane_index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // Lanes `< w` of a register set (all ones), the rest clear.
    let lanes = |w: usize| _mm256_cmpgt_epi32(_mm256_set1_epi32(w.min(8) as i32), lane_index);
    let mut i0 = 0;
    while i0 < m {
        let i1 = (i0 + MC).min(m);
        for q in 0..panels {
            let j0 = q * NR;
            let width = n - j0;
            let (mask0, mask1) = (lanes(width), lanes(width.saturating_sub(8)));
            // SAFETY (all pointer arithmetic below): within the bounds argued in
            // `Panels::affine_into`; masked-out lanes are neither read nor written.
            unsafe {
                let store = |dst: *mut f32, a: [__m256; 2]| {
                    if width >= NR {
                        _mm256_storeu_ps(dst, a[0]);
                        _mm256_storeu_ps(dst.add(8), a[1]);
                    } else {
                        _mm256_maskstore_ps(dst, mask0, a[0]);
                        _mm256_maskstore_ps(dst.add(8), mask1, a[1]);
                    }
                };
                let panel = p.packed.as_ptr().add(q * p.rows * NR);
                let b0 = _mm256_loadu_ps(p.bias.as_ptr().add(j0));
                let b1 = _mm256_loadu_ps(p.bias.as_ptr().add(j0 + 8));
                let mut i = i0;
                while i + MR <= i1 {
                    let mut acc = [[b0, b1]; MR];
                    let row = x.add(i * lda);
                    for l in 0..k {
                        let w0 = _mm256_loadu_ps(panel.add(l * NR));
                        let w1 = _mm256_loadu_ps(panel.add(l * NR + 8));
                        for (r, a) in acc.iter_mut().enumerate() {
                            let v = _mm256_set1_ps(*row.add(r * lda + l));
                            a[0] = _mm256_fmadd_ps(v, w0, a[0]);
                            a[1] = _mm256_fmadd_ps(v, w1, a[1]);
                        }
                    }
                    for (r, &a) in acc.iter().enumerate() {
                        store(out.add((i + r) * n + j0), a);
                    }
                    i += MR;
                }
                while i < i1 {
                    let mut a = [b0, b1];
                    let row = x.add(i * lda);
                    for l in 0..k {
                        let v = _mm256_set1_ps(*row.add(l));
                        a[0] = _mm256_fmadd_ps(v, _mm256_loadu_ps(panel.add(l * NR)), a[0]);
                        a[1] = _mm256_fmadd_ps(v, _mm256_loadu_ps(panel.add(l * NR + 8)), a[1]);
                    }
                    store(out.add(i * n + j0), a);
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
    fn kernels_match_ndarray() {
        let isas: Vec<Isa> = [Isa::Avx512, Isa::Avx2]
            .into_iter()
            .filter(|&isa| runs(isa))
            .collect();
        if isas.is_empty() {
            eprintln!("skipped: this CPU has neither AVX-512F nor AVX2 with FMA");
        }
        for isa in isas {
            matches_ndarray(isa);
        }
    }

    /// Whether this CPU runs `isa`'s kernel.
    fn runs(isa: Isa) -> bool {
        match (isa, Isa::detect()) {
            (_, None) => false,
            (Isa::Avx512, Some(best)) => best == Isa::Avx512,
            // Every CPU with AVX-512F that this crate meets also has AVX2 and FMA, but
            // check rather than assume.
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx2, Some(_)) => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            (Isa::Avx2, Some(_)) => false,
        }
    }

    fn matches_ndarray(isa: Isa) {
        let mut rng = SimRng::new(7);
        for &(rows, cols) in &[(1, 1), (5, 17), (37, 70), (128, 4044), (64, 31)] {
            let w = random(rows, cols, &mut rng);
            let b = Array1::from_shape_fn(cols, |_| rng.next_f64() as f32);
            let p = Panels::for_isa(isa, w.view(), b.view());
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
                        assert!(
                            (got - want).abs() < 1e-4,
                            "{isa:?} {rows}x{cols} m={m} k={k} n={n}"
                        );
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
        // The bounds are checked before any kernel is entered, so this runs on every CPU.
        let p = Panels::for_isa(
            Isa::Avx2,
            Array2::zeros((4, 4)).view(),
            Array1::zeros(4).view(),
        );
        p.affine_into(&[0.0; 7], 4, (2, 4, 4), &mut [0.0; 8]);
    }
}
