//! The estimator's softmax arithmetic over a row of logits: the maximum, the numerators
//! `e^(x - max)` and sums over ranges of them.
//!
//! Written as lane-parallel loops that vectorise with baseline SSE2. On a CPU with
//! AVX-512F or AVX2 the same loops also run compiled for it (chosen at run time, four or
//! two times the lanes): over a 4,000-value domain and thousands of sampled prefixes per
//! query, these loops are a large share of an estimate.
#![allow(unsafe_code)]

use crate::made::exp_nonpositive;

/// Lanes of the partial maxima and sums: one 512-bit register of `f32`.
const LANES: usize = 16;

/// Fill `exps` with `e^(x - max(row))` for every `x` of `row`.
pub(crate) fn numerators(row: &[f32], exps: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    match wide_simd() {
        // SAFETY: the instruction set was found on this CPU, which is all the
        // `target_feature` functions require; their bodies are safe code.
        Some(Wide::Avx512) => return unsafe { numerators_avx512(row, exps) },
        Some(Wide::Avx2) => return unsafe { numerators_avx2(row, exps) },
        None => {}
    }
    numerators_portable(row, exps)
}

/// The sum of `values`, in [`LANES`] independent lanes (vectorises; also more accurate
/// than one running sum).
pub(crate) fn sum(values: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    match wide_simd() {
        // SAFETY: as in `numerators`.
        Some(Wide::Avx512) => return unsafe { sum_avx512(values) },
        Some(Wide::Avx2) => return unsafe { sum_avx2(values) },
        None => {}
    }
    lane_sum(values)
}

/// Vector extensions wider than SSE2.
#[cfg(target_arch = "x86_64")]
enum Wide {
    Avx512,
    Avx2,
}

/// The widest this CPU has (the standard library caches the detection).
#[cfg(target_arch = "x86_64")]
fn wide_simd() -> Option<Wide> {
    if std::arch::is_x86_feature_detected!("avx512f") {
        Some(Wide::Avx512)
    } else if std::arch::is_x86_feature_detected!("avx2") {
        Some(Wide::Avx2)
    } else {
        None
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn numerators_avx512(row: &[f32], exps: &mut Vec<f32>) {
    numerators_portable(row, exps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_avx512(values: &[f32]) -> f32 {
    lane_sum(values)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn numerators_avx2(row: &[f32], exps: &mut Vec<f32>) {
    numerators_portable(row, exps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_avx2(values: &[f32]) -> f32 {
    lane_sum(values)
}

#[inline(always)]
fn numerators_portable(row: &[f32], exps: &mut Vec<f32>) {
    let max = lane_max(row);
    exps.clear();
    exps.extend(row.iter().map(|&x| exp_nonpositive(x - max)));
}

/// The largest value, in [`LANES`] independent lanes (vectorises, unlike one running
/// maximum); `-inf` for an empty slice.
#[inline(always)]
fn lane_max(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = l.max(x);
        }
    }
    lanes.iter().fold(tail, |m, &x| m.max(x))
}

#[inline(always)]
fn lane_sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_max_finds_the_largest() {
        let v: Vec<f32> = (0..41).map(|x| ((x * 8) % 41) as f32 - 60.0).collect();
        assert_eq!(lane_max(&v), -20.0);
        assert_eq!(
            lane_max(&v[..3]),
            v[..3].iter().copied().fold(f32::MIN, f32::max)
        );
        assert_eq!(lane_max(&[]), f32::NEG_INFINITY);
    }

    #[test]
    fn sums_add_everything() {
        let v: Vec<f32> = (1..=41).map(|x| x as f32).collect();
        assert_eq!(lane_sum(&v), 861.0);
        assert_eq!(sum(&v), 861.0);
        assert_eq!(sum(&v[..5]), 15.0);
        assert_eq!(sum(&[]), 0.0);
    }

    /// The run-time choice (AVX-512 here when the CPU has it) and the portable build agree.
    #[test]
    fn numerators_are_the_shifted_exponentials() {
        let row: Vec<f32> = (0..1000)
            .map(|x| ((x * 37) % 101) as f32 * 0.3 - 20.0)
            .collect();
        let (mut fast, mut portable) = (Vec::new(), Vec::new());
        numerators(&row, &mut fast);
        numerators_portable(&row, &mut portable);
        assert_eq!(fast, portable);
        let max = row.iter().copied().fold(f32::MIN, f32::max);
        for (e, &x) in fast.iter().zip(&row) {
            assert!((e - (x - max).exp()).abs() <= 2e-5 * (x - max).exp());
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut avx2 = Vec::new();
            // SAFETY: AVX2 was just detected.
            unsafe { numerators_avx2(&row, &mut avx2) };
            assert_eq!(avx2, portable);
            // SAFETY: as above.
            assert_eq!(unsafe { sum_avx2(&row) }, lane_sum(&row));
        }
        numerators(&[], &mut fast);
        assert!(fast.is_empty());
    }
}
