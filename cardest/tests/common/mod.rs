//! Helpers shared by the integration tests.

use stratus_cardest::{Estimator, EstimatorConfig, Made, Table, bits_per_tuple};

/// Checks that `m` fits `t` to within half a bit per tuple of the table's empirical entropy
/// (a trained model that does not is a training bug), then returns an estimator over it.
pub(crate) fn fitted_estimator<'a>(
    m: &'a Made,
    t: &Table,
    samples: usize,
    seed: u64,
) -> Estimator<'a> {
    let bits = bits_per_tuple(m, t).unwrap();
    let h = t.entropy_bits();
    assert!(bits < h + 0.5, "bits/tuple {bits} vs entropy {h}");
    Estimator::new(
        m,
        t.rows(),
        EstimatorConfig {
            samples,
            seed,
            ..Default::default()
        },
    )
    .unwrap()
}
