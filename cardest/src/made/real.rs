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
    /// The larger of two values.
    fn max(self, other: Self) -> Self;
    /// Bytes per value in a model file.
    const BYTES: usize;
    /// Append the little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
    /// Read from exactly [`Real::BYTES`] little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
}

macro_rules! real {
    ($t:ty) => {
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
        }
    };
}

real!(f32);
real!(f64);
