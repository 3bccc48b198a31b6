//! Types with a least and a greatest value, which give `Max`/`Min` a ⊥ and a ⊤.

/// A type with known least and greatest values.
pub trait Bounded {
    /// The least value.
    const MIN: Self;
    /// The greatest value.
    const MAX: Self;
}

macro_rules! bounded_ints {
    ($($t:ty),*) => {
        $(impl Bounded for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
        })*
    };
}

bounded_ints!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

impl Bounded for bool {
    const MIN: Self = false;
    const MAX: Self = true;
}

impl Bounded for () {
    const MIN: Self = ();
    const MAX: Self = ();
}
