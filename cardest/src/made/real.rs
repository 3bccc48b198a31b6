//! The floating-point types a model can be built on.
//!
//! Production models are `f32` (half the memory traffic, twice the SIMD width); the
//! finite-difference gradient checks build the same network on `f64`, where a central
//! difference is accurate to ~1e-9 instead of ~1e-3.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{AddAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};

/// A floating-point scalar for [`Network`](super::Network).
pub trait Real:
    LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + PartialOrd
    + Sum
    + Debug
    + Send
    + Sync
{
    /// Convert from `f64` (rounding).
    fn of(x: f64) -> Self;
    /// Widen to `f64`.
    fn to_f64(self) -> f64;
    /// `e^self`.
    fn exp(self) -> Self;
    /// `e^self` for `self <= 0` (a softmax numerator after subtracting the maximum): a fast
    /// approximation for `f32` (`made::real::exp_nonpositive`, relative error below 2e-5), the exact
    /// function for `f64` (where the gradient checks need it).
    fn exp_nonpositive(self) -> Self;
    /// The larger of two values.
    fn max(self, other: Self) -> Self;
    /// Bytes per value in a model file.
    const BYTES: usize;
    /// Append the little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
    /// Read from exactly [`Real::BYTES`] little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// The same values as `f32`, when `Self` is `f32` (the packed estimator kernel's type).
    fn as_f32(values: &[Self]) -> Option<&[f32]>;
    /// [`Real::as_f32`] for a mutable slice.
    fn as_f32_mut(values: &mut [Self]) -> Option<&mut [f32]>;
    /// Whether `Self` is `f32`.
    fn is_f32() -> bool {
        Self::as_f32(&[]).is_some()
    }
}

macro_rules! real {
    ($t:ty, $exp_nonpositive:path, $as_f32:path) => {
        impl Real for $t {
            fn of(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn exp_nonpositive(self) -> Self {
                $exp_nonpositive(self)
            }
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            const BYTES: usize = std::mem::size_of::<$t>();
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read_le(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("caller passes BYTES bytes"))
            }
            fn as_f32(values: &[Self]) -> Option<&[f32]> {
                $as_f32(values)
            }
            fn as_f32_mut(values: &mut [Self]) -> Option<&mut [f32]> {
                $as_f32(values)
            }
        }
    };
}

real!(f32, exp_nonpositive, Some);
real!(f64, f64::exp, not_f32);

/// [`Real::as_f32`] for a type that is not `f32`.
fn not_f32<T, U>(_: T) -> Option<U> {
    None
}

/// `e^x` for `x <= 0` (a softmax numerator after subtracting the maximum), to a relative
/// error below 2e-5: `2^(x log2 e)` split into the nearest integer `n`, set in the exponent
/// bits, and a fraction in `[-1/2, 1/2]` for a degree-6 Taylor polynomial of `2^f`. The
/// rounding adds `1.5 * 2^23`, which leaves `n` in the low mantissa bits, so there is no
/// float-to-int conversion (whose saturation rules keep `as` casts scalar) and the whole
/// function vectorises with baseline SSE2; softmaxes over large domains spend much of their
/// time here.
#[inline]
pub(crate) fn exp_nonpositive(x: f32) -> f32 {
    // 1.5 * 2^23: adding it rounds to an integer (the ulp is 1 there) whatever the sign.
    const ROUND: f32 = 12_582_912.0;
    // Below -87 the result is under f32's normal range; the softmax treats it as zero
    // (this also maps NaN and -inf there: `max` ignores NaN).
    let t = x.max(-87.0) * std::f32::consts::LOG2_E;
    let r = t + ROUND;
    let f = t - (r - ROUND);
    // round(t), between -126 and 0, as the difference of the two bit patterns.
    let n = r.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11
                    + f * (0.009_618_129 + f * (0.001_333_355_8 + f * 0.000_154_035_3)))));
    f32::from_bits(((n + 127) as u32) << 23) * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_std() {
        let mut worst = 0.0f32;
        for k in 0..=200_000 {
            let x = -(k as f32) * 87.0 / 200_000.0;
            let want = x.exp();
            let got = exp_nonpositive(x);
            if want > 1e-30 {
                worst = worst.max((got - want).abs() / want);
            }
        }
        assert!(worst < 2e-5, "worst relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(-1000.0) < 1e-37);
        assert!(exp_nonpositive(f32::NEG_INFINITY) < 1e-37);
        assert!(exp_nonpositive(f32::NAN) < 1e-37);
        // Halfway points round either way; both sides must agree with the true value.
        for x in [-0.5f32, -1.5, -86.5, -0.346_573_6] {
            assert!((exp_nonpositive(x) - x.exp()).abs() / x.exp() < 2e-5, "{x}");
        }
    }
}
