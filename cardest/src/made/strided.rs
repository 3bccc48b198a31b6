//! Matrix products for training on `f32` with AVX-512F: `C = A·B` and `C = A·Bᵀ`, optionally
//! added to `C`, reading every operand in place through its row stride.
//!
//! Training multiplies by weights that change every step, so packing them (what
//! `matrixmultiply` does on every call, and module `packed` once per model) would be paid on
//! every product; the output layer's blocks are also column ranges of one wide matrix, i.e.
//! strided views. These kernels read the views directly: `A·B` broadcasts `A`'s values
//! against two 512-bit rows of `B` (masked at the block's right edge), `A·Bᵀ` accumulates
//! `4 × 3` dot products sixteen lanes at a time. [`mat_mul`] picks them for `f32` views
//! whose rows are contiguous when the CPU has AVX-512F, and `ndarray`'s product otherwise.
#![allow(unsafe_code)]

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

use super::Real;

/// `c = a · b` (`add == false`) or `c += a · b`, as `ndarray`'s `general_mat_mul` with
/// `alpha = 1` and `beta` 0 or 1.
pub(crate) fn mat_mul<F: Real>(
    a: &ArrayView2<'_, F>,
    b: &ArrayView2<'_, F>,
    add: bool,
    c: &mut ArrayViewMut2<'_, F>,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "inner dimensions agree");
    assert_eq!(c.dim(), (m, n), "output shape");
    if F::is_f32() && avx512() && m > 0 && n > 0 && k > 0 {
        let rows = |s: &[isize]| s[1] == 1 && s[0] >= 1;
        let (sa, sb, sc) = (a.strides(), b.strides(), c.strides().to_vec());
        if rows(sa) && rows(&sc) {
            let (a, c_ptr) = (a.as_ptr().cast::<f32>(), c.as_mut_ptr().cast::<f32>());
            let (lda, ldc) = (sa[0] as usize, sc[0] as usize);
            // `b` row-major (`k × n`), or the transpose of a row-major `n × k` matrix.
            type Kernel = unsafe fn(
                usize,
                usize,
                usize,
                *const f32,
                usize,
                *const f32,
                usize,
                *mut f32,
                usize,
                bool,
            );
            let kernel: Option<(Kernel, isize)> = if rows(sb) {
                Some((nn, sb[0]))
            } else if sb[0] == 1 && sb[1] >= 1 {
                Some((nt, sb[1]))
            } else {
                None
            };
            if let Some((kernel, ldb)) = kernel {
                // SAFETY: `F` is `f32` (so the casts are identities) and AVX-512F was
                // detected. Every element the kernel touches is an element of one of the
                // three views: rows `< m` of `a` and `c`, columns `< k` of `a` and `< n` of
                // `c`, and of `b` (or `bᵀ`) rows `< k` (`< n`) and columns `< n` (`< k`), at
                // the views' own strides (masked loads and stores at the edges).
                unsafe {
                    kernel(
                        m,
                        n,
                        k,
                        a,
                        lda,
                        b.as_ptr().cast(),
                        ldb as usize,
                        c_ptr,
                        ldc,
                        add,
                    )
                };
                return;
            }
        }
    }
    let beta = if add { F::one() } else { F::zero() };
    general_mat_mul(F::one(), a, b, beta, c);
}

/// Whether this CPU has AVX-512F (cached by the standard library).
fn avx512() -> bool {
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
#[allow(clippy::too_many_arguments)]
unsafe fn nn(
    _: usize,
    _: usize,
    _: usize,
    _: *const f32,
    _: usize,
    _: *const f32,
    _: usize,
    _: *mut f32,
    _: usize,
    _: bool,
) {
    unreachable!("avx512() is false off x86_64")
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn nt(
    _: usize,
    _: usize,
    _: usize,
    _: *const f32,
    _: usize,
    _: *const f32,
    _: usize,
    _: *mut f32,
    _: usize,
    _: bool,
) {
    unreachable!("avx512() is false off x86_64")
}

/// Lanes `< w` of a 16-lane mask.
#[cfg(target_arch = "x86_64")]
fn lanes(w: usize) -> u16 {
    if w >= 16 {
        0xffff
    } else {
        ((1u32 << w) - 1) as u16
    }
}

/// `C (m × n) [+]= A (m × k) · B (k × n)`, row-major with row strides `lda`, `ldb`, `ldc`.
///
/// # Safety
/// AVX-512F must be available and the three pointers valid for those shapes and strides.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn nn(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    add: bool,
) {
    use std::arch::x86_64::*;
    const NR: usize = 32;
    const MR: usize = 6;
    for j0 in (0..n).step_by(NR) {
        let (m0, m1) = (lanes(n - j0), lanes((n - j0).saturating_sub(16)));
        // SAFETY (every access below): rows `< m` / `< k`, columns masked to `< n`.
        unsafe {
            let init = |i: usize| -> [__m512; 2] {
                if add {
                    let p = c.add(i * ldc + j0);
                    [
                        _mm512_maskz_loadu_ps(m0, p),
                        _mm512_maskz_loadu_ps(m1, p.add(16)),
                    ]
                } else {
                    [_mm512_setzero_ps(); 2]
                }
            };
            let store = |i: usize, v: [__m512; 2]| {
                let p = c.add(i * ldc + j0);
                _mm512_mask_storeu_ps(p, m0, v[0]);
                _mm512_mask_storeu_ps(p.add(16), m1, v[1]);
            };
            let mut i = 0;
            while i + MR <= m {
                let mut acc = [[_mm512_setzero_ps(); 2]; MR];
                for (r, v) in acc.iter_mut().enumerate() {
                    *v = init(i + r);
                }
                for l in 0..k {
                    let row = b.add(l * ldb + j0);
                    let w0 = _mm512_maskz_loadu_ps(m0, row);
                    let w1 = _mm512_maskz_loadu_ps(m1, row.add(16));
                    for (r, v) in acc.iter_mut().enumerate() {
                        let x = _mm512_set1_ps(*a.add((i + r) * lda + l));
                        v[0] = _mm512_fmadd_ps(x, w0, v[0]);
                        v[1] = _mm512_fmadd_ps(x, w1, v[1]);
                    }
                }
                for (r, &v) in acc.iter().enumerate() {
                    store(i + r, v);
                }
                i += MR;
            }
            while i < m {
                let mut v = init(i);
                for l in 0..k {
                    let row = b.add(l * ldb + j0);
                    let x = _mm512_set1_ps(*a.add(i * lda + l));
                    v[0] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m0, row), v[0]);
                    v[1] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m1, row.add(16)), v[1]);
                }
                store(i, v);
                i += 1;
            }
        }
    }
}

/// `C (m × n) [+]= A (m × k) · Bᵀ` for a row-major `B` (`n × k`): row strides `lda`, `ldb`,
/// `ldc`.
///
/// # Safety
/// AVX-512F must be available and the three pointers valid for those shapes and strides.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn nt(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    add: bool,
) {
    use std::arch::x86_64::*;
    const MR: usize = 4;
    const NR: usize = 3;
    // SAFETY (every access below): rows `< m` of `a` and `c`, `< n` of `b`, columns of `a`
    // and `b` masked to `< k`, of `c` `< n`.
    unsafe {
        // Dot products of rows `i..i+R` of `a` with rows `j..j+S` of `b`, added to `c`.
        let block = |i: usize, j: usize, rows: usize, cols: usize| {
            let mut acc = [[_mm512_setzero_ps(); NR]; MR];
            for l in (0..k).step_by(16) {
                let mask = lanes(k - l);
                let mut bv = [_mm512_setzero_ps(); NR];
                for (s, v) in bv.iter_mut().enumerate().take(cols) {
                    *v = _mm512_maskz_loadu_ps(mask, b.add((j + s) * ldb + l));
                }
                for (r, row) in acc.iter_mut().enumerate().take(rows) {
                    let av = _mm512_maskz_loadu_ps(mask, a.add((i + r) * lda + l));
                    for (s, v) in row.iter_mut().enumerate().take(cols) {
                        *v = _mm512_fmadd_ps(av, bv[s], *v);
                    }
                }
            }
            for (r, row) in acc.iter().enumerate().take(rows) {
                for (s, &v) in row.iter().enumerate().take(cols) {
                    let p = c.add((i + r) * ldc + j + s);
                    let sum = _mm512_reduce_add_ps(v);
                    *p = if add { *p + sum } else { sum };
                }
            }
        };
        for i in (0..m).step_by(MR) {
            for j in (0..n).step_by(NR) {
                block(i, j, MR.min(m - i), NR.min(n - j));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, s};
    use stratus_sim::SimRng;

    use super::*;

    fn random(rows: usize, cols: usize, rng: &mut SimRng) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |_| rng.next_f64() as f32 - 0.5)
    }

    /// Both kernels (and the fallback, for the layouts they do not take) against
    /// `ndarray`, on strided column blocks like the output layer's, at every edge case of
    /// the register blocks, with and without accumulation.
    #[test]
    fn products_match_ndarray() {
        let mut rng = SimRng::new(3);
        for &(m, k, n) in &[
            (1, 1, 1),
            (7, 5, 33),
            (13, 70, 17),
            (128, 40, 300),
            (6, 16, 32),
        ] {
            let big_a = random(m, k + 9, &mut rng);
            let a = big_a.slice(s![.., 3..3 + k]);
            let big_b = random(k, n + 11, &mut rng);
            let b = big_b.slice(s![.., 5..5 + n]);
            let big_bt = random(n + 2, k + 4, &mut rng);
            let bt = big_bt.slice(s![1..1 + n, 2..2 + k]);
            let a_col = a.t().to_owned();
            let a_col = a_col.t(); // the same values, column-major: the fallback
            for (name, a, b) in [
                ("a·b", a, b),
                ("a·bᵀ", a, bt.t()),
                ("column-major a", a_col, b),
            ] {
                for add in [false, true] {
                    let mut big_c = random(m, n + 7, &mut rng);
                    let before = big_c.clone();
                    let mut want = before.slice(s![.., 4..4 + n]).to_owned();
                    general_mat_mul(1.0, &a, &b, if add { 1.0 } else { 0.0 }, &mut want);
                    mat_mul(&a, &b, add, &mut big_c.slice_mut(s![.., 4..4 + n]));
                    let got = big_c.slice(s![.., 4..4 + n]);
                    for (g, w) in got.iter().zip(want.iter()) {
                        assert!((g - w).abs() < 1e-4, "{name} add={add} {m}x{k}x{n}");
                    }
                    // Nothing outside the block changed.
                    assert_eq!(big_c.slice(s![.., ..4]), before.slice(s![.., ..4]));
                    assert_eq!(big_c.slice(s![.., 4 + n..]), before.slice(s![.., 4 + n..]));
                }
            }
        }
    }
}
