//! End-to-end: a tiny model on a correlated table beats independence; estimates are
//! deterministic per seed; point queries are exact products of conditionals.

use stratus_cardest::{
    ColumnData, Estimator, EstimatorConfig, Independence, InputEncoding, Made, MadeConfig, Op,
    OutputEncoding, Predicate, Query, Sampling, Table, TrainConfig, UniformSample, exact_count,
    generate, q_error, quantile, train,
};
use stratus_sim::SimRng;

mod common;

/// Three strongly correlated columns: b = a (mostly), c = (a + b) % 5 with noise.
fn correlated(rows: usize) -> Table {
    let mut rng = SimRng::new(7);
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        let x = rng.below(12) as f64;
        let y = if rng.below(10) == 0 {
            rng.below(12) as f64
        } else {
            x
        };
        let z = if rng.below(10) == 0 {
            rng.below(5) as f64
        } else {
            (x + y) % 5.0
        };
        a.push(Some(x));
        b.push(Some(y));
        c.push(Some(z));
    }
    Table::from_columns(vec![
        ("a".into(), ColumnData::Num(a)),
        ("b".into(), ColumnData::Num(b)),
        ("c".into(), ColumnData::Num(c)),
    ])
    .unwrap()
}

fn trained(t: &Table) -> Made {
    let mut m = Made::new(
        &t.domains(),
        &MadeConfig {
            hidden: 32,
            layers: 2,
            seed: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let cfg = TrainConfig {
        epochs: 25,
        batch: 64,
        learning_rate: 1e-2,
        ..Default::default()
    };
    train(&mut m, t, &cfg, |_| {}).unwrap();
    m
}

#[test]
fn model_beats_independence_on_correlated_data() {
    let t = correlated(2000);
    let m = trained(&t);
    let est = common::fitted_estimator(&m, &t, 500, 3);
    let ind = Independence::new(&t);
    let queries = [
        vec![
            Predicate::new("a", Op::Le, 3.0),
            Predicate::new("b", Op::Ge, 8.0),
        ],
        vec![
            Predicate::new("a", Op::Eq, 4.0),
            Predicate::new("b", Op::Eq, 4.0),
        ],
        vec![
            Predicate::new("a", Op::Ge, 6.0),
            Predicate::new("b", Op::Le, 5.0),
            Predicate::new("c", Op::Eq, 0.0),
        ],
        vec![
            Predicate::new("b", Op::Le, 2.0),
            Predicate::new("c", Op::Ge, 3.0),
        ],
    ];
    let (mut model_err, mut ind_err) = (0.0f64, 0.0f64);
    for preds in queries {
        let q = Query::new(preds).resolve(&t).unwrap();
        let truth = exact_count(&t, &q) as f64;
        model_err = model_err.max(q_error(est.estimate_resolved(&q).unwrap(), truth));
        ind_err = ind_err.max(q_error(ind.estimate(&q), truth));
    }
    assert!(model_err < 2.0, "model max q-error {model_err}");
    assert!(
        ind_err > 3.0 * model_err,
        "independence {ind_err} vs model {model_err}"
    );
}

/// Data-parallel training is reproducible: the same seed on the same pool gives the same model.
#[test]
fn training_is_deterministic_per_seed() {
    let t = correlated(500);
    assert_eq!(trained(&t), trained(&t));
}

#[test]
fn deterministic_per_seed_and_exact_for_points() {
    let t = correlated(1000);
    let m = trained(&t);
    let q = Query::new(vec![
        Predicate::new("a", Op::Le, 5.0),
        Predicate::new("c", Op::Ge, 2.0),
    ]);
    let e1 = Estimator::new(
        &m,
        t.rows(),
        EstimatorConfig {
            samples: 200,
            seed: 9,
            ..Default::default()
        },
    )
    .unwrap();
    let e2 = Estimator::new(
        &m,
        t.rows(),
        EstimatorConfig {
            samples: 200,
            seed: 9,
            ..Default::default()
        },
    )
    .unwrap();
    let e3 = Estimator::new(
        &m,
        t.rows(),
        EstimatorConfig {
            samples: 200,
            seed: 10,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(e1.estimate(&t, &q).unwrap(), e2.estimate(&t, &q).unwrap());
    assert_eq!(e1.estimate(&t, &q).unwrap(), e1.estimate(&t, &q).unwrap());
    assert_ne!(e1.estimate(&t, &q).unwrap(), e3.estimate(&t, &q).unwrap());
    // Wildcards only: every row; an absent literal under `=`: none.
    assert_eq!(e1.estimate(&t, &Query::default()).unwrap(), 1000.0);
    let none = Query::new(vec![Predicate::new("a", Op::Eq, 3.5)]);
    assert_eq!(e1.estimate(&t, &none).unwrap(), 0.0);
    // The full-domain range has probability mass one.
    let all = Query::new(vec![Predicate::new("b", Op::Ge, 0.0)]);
    assert!((e1.estimate(&t, &all).unwrap() - 1000.0).abs() < 1e-6);
    // Point queries are a single path: the estimate does not depend on the seed.
    let point = Query::new(vec![
        Predicate::new("a", Op::Eq, 2.0),
        Predicate::new("c", Op::Eq, 4.0),
    ]);
    assert_eq!(
        e1.estimate(&t, &point).unwrap(),
        e3.estimate(&t, &point).unwrap()
    );
}

#[test]
fn bad_settings_are_errors() {
    let t = correlated(50);
    assert!(
        Made::new(
            &t.domains(),
            &MadeConfig {
                hidden: 0,
                layers: 1,
                seed: 0,
                ..Default::default()
            }
        )
        .is_err()
    );
    assert!(Made::new(&[], &MadeConfig::default()).is_err());
    let m = Made::new(
        &t.domains(),
        &MadeConfig {
            hidden: 4,
            layers: 1,
            seed: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        Estimator::new(
            &m,
            50,
            EstimatorConfig {
                samples: 0,
                seed: 0,
                ..Default::default()
            }
        )
        .is_err()
    );
    let other = Made::new(
        &[2, 2],
        &MadeConfig {
            hidden: 4,
            layers: 1,
            seed: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let mut other2 = other.clone();
    assert!(train(&mut other2, &t, &TrainConfig::default(), |_| {}).is_err());
    let est = Estimator::new(&other, 50, EstimatorConfig::default()).unwrap();
    assert!(est.estimate(&t, &Query::default()).is_err());
}

#[test]
fn workload_follows_naru() {
    let t = correlated(300);
    let qs = generate(&t, 50, 1).unwrap();
    assert_eq!(qs, generate(&t, 50, 1).unwrap());
    for q in &qs {
        // 3 columns: all of them; every domain < 10 distinct except a and b (12).
        assert_eq!(q.predicates.len(), 3);
        let r = q.resolve(&t).unwrap();
        assert!(exact_count(&t, &r) >= 1, "{q}");
    }
    assert_eq!(q_error(10.0, 5.0), 2.0);
    assert_eq!(q_error(0.0, 4.0), 4.0);
    assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), 2.0);
    let s = UniformSample::new(&t, 100, 2);
    assert_eq!(s.len(), 100);
    assert_eq!(s.estimate(&Query::default().resolve(&t).unwrap()), 300.0);
}

#[test]
fn model_file_round_trip_and_errors() {
    use stratus_cardest::Error;
    let t = correlated(200);
    let m = trained(&t);
    let bytes = m.to_bytes();
    let back = Made::from_bytes(&bytes).unwrap();
    assert_eq!(back, m);
    let dir = std::env::temp_dir().join(format!("cardest-model-{}", std::process::id()));
    m.save(&dir).unwrap();
    assert_eq!(Made::load(&dir).unwrap(), m);
    std::fs::remove_file(&dir).unwrap();
    assert!(matches!(
        Made::from_bytes(&bytes[..bytes.len() - 3]),
        Err(Error::CorruptModel(_))
    ));
    assert!(matches!(
        Made::from_bytes(&bytes[..10]),
        Err(Error::CorruptModel(_))
    ));
    assert!(matches!(
        Made::from_bytes(b"hello world, not a model"),
        Err(Error::NotAModel)
    ));
    let mut v2 = bytes.clone();
    v2[8] = 9;
    assert!(matches!(
        Made::from_bytes(&v2),
        Err(Error::ModelVersion {
            found: 9,
            supported: 5
        })
    ));
    // A file of the previous format (no factorization) is a wrong version, not garbage.
    let mut v2 = bytes.clone();
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(matches!(
        Made::from_bytes(&v2),
        Err(Error::ModelVersion {
            found: 2,
            supported: 5
        })
    ));
    let mut longer = bytes;
    longer.push(0);
    assert!(matches!(
        Made::from_bytes(&longer),
        Err(Error::CorruptModel(_))
    ));
}

/// A saved model can be loaded and trained further (extending a run, or refitting to new
/// rows of the same schema), and only on a table of the same schema.
#[test]
fn a_loaded_model_trains_further() {
    use stratus_cardest::{Error, bits_per_tuple};
    let t = correlated(400);
    let m = trained(&t);
    let before = bits_per_tuple(&m, &t).unwrap();
    let mut resumed = Made::from_bytes(&m.to_bytes()).unwrap();
    let more = TrainConfig {
        epochs: 25,
        batch: 64,
        learning_rate: 1e-2,
        seed: 2,
        ..Default::default()
    };
    train(&mut resumed, &t, &more, |_| {}).unwrap();
    let after = bits_per_tuple(&resumed, &t).unwrap();
    assert!(
        after < before,
        "25 more epochs should improve the fit: {before:.3} -> {after:.3} bits per tuple"
    );
    let other = Table::from_columns(vec![(
        "a".into(),
        ColumnData::Num((0..50).map(|i| Some(f64::from(i % 7))).collect()),
    )])
    .unwrap();
    assert!(matches!(
        train(&mut resumed, &other, &more, |_| {}),
        Err(Error::SchemaMismatch(_))
    ));
}

/// Every encoding and trunk round-trips through the model file.
#[test]
fn every_configuration_round_trips() {
    let t = correlated(100);
    for residual in [false, true] {
        for (input, output) in [
            (InputEncoding::OneHot, OutputEncoding::OneHot),
            (InputEncoding::Binary, OutputEncoding::OneHot),
            (InputEncoding::Embedding, OutputEncoding::OneHot),
            (InputEncoding::Embedding, OutputEncoding::Embedding),
        ] {
            let cfg = MadeConfig {
                hidden: 8,
                layers: 2,
                residual,
                input,
                output,
                embedding: 4,
                reuse_min_domain: 6,
                factor_bits: 0,
                seed: 3,
            };
            let mut m = Made::new(&t.domains(), &cfg).unwrap();
            let tc = TrainConfig {
                epochs: 1,
                batch: 32,
                ..Default::default()
            };
            train(&mut m, &t, &tc, |_| {}).unwrap();
            assert_eq!(Made::from_bytes(&m.to_bytes()).unwrap(), m, "{cfg:?}");
        }
    }
}

/// The model's exact mass (in rows) of the box `as × bs × cs` over columns `a`, `b`, `c`:
/// the sum of its points' estimates, each a single path, i.e. a product of conditionals.
fn model_mass(est: &Estimator<'_>, t: &Table, as_: &[i32], bs: &[i32], cs: &[i32]) -> f64 {
    let mut sum = 0.0;
    for &a in as_ {
        for &b in bs {
            for &c in cs {
                let point = Query::new(vec![
                    Predicate::new("a", Op::Eq, f64::from(a)),
                    Predicate::new("b", Op::Eq, f64::from(b)),
                    Predicate::new("c", Op::Eq, f64::from(c)),
                ]);
                sum += est.estimate(t, &point).unwrap();
            }
        }
    }
    sum
}

/// Progressive sampling (with shared prefixes) is an unbiased estimate of the model's own
/// probability of the region: compare it with the exact sum of point probabilities, which
/// the estimator computes as products of conditionals.
#[test]
fn progressive_sampling_matches_the_models_exact_mass() {
    let t = correlated(1000);
    let m = trained(&t);
    let est = Estimator::new(&m, t.rows(), EstimatorConfig::default()).unwrap();
    let exact = model_mass(
        &est,
        &t,
        &[0, 1, 2, 3, 4],
        &(3..12).collect::<Vec<_>>(),
        &[1, 3],
    );
    let q = Query::new(vec![
        Predicate::new("a", Op::Le, 4.0),
        Predicate::new("b", Op::Ge, 3.0),
        Predicate::is_in("c", [1.0, 3.0, 7.5]),
    ]);
    let sampled = est.estimate(&t, &q).unwrap();
    assert!(exact > 10.0, "{exact}");
    assert!(
        (sampled - exact).abs() / exact < 0.1,
        "sampled {sampled} vs exact {exact}"
    );
}

/// Both ways of drawing are unbiased estimates of the model's mass of the region, and
/// systematic draws (one uniform offset, evenly spaced points per prefix) vary less across
/// seeds than independent ones at the same sample count.
#[test]
fn systematic_sampling_is_unbiased_with_less_variance() {
    let t = correlated(1000);
    let m = trained(&t);
    let q = Query::new(vec![
        Predicate::new("a", Op::Le, 6.0),
        Predicate::new("b", Op::Ge, 2.0),
        Predicate::new("c", Op::Le, 2.0),
    ]);
    let exact = model_mass(
        &Estimator::new(&m, t.rows(), EstimatorConfig::default()).unwrap(),
        &t,
        &(0..=6).collect::<Vec<_>>(),
        &(2..12).collect::<Vec<_>>(),
        &[0, 1, 2],
    );
    let spread = |sampling: Sampling| {
        let runs: Vec<f64> = (0..200)
            .map(|seed| {
                let cfg = EstimatorConfig {
                    samples: 16,
                    seed,
                    sampling,
                    ..Default::default()
                };
                Estimator::new(&m, t.rows(), cfg)
                    .unwrap()
                    .estimate(&t, &q)
                    .unwrap()
            })
            .collect();
        let mean = runs.iter().sum::<f64>() / runs.len() as f64;
        let var = runs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / runs.len() as f64;
        (mean, var)
    };
    let (iid_mean, iid_var) = spread(Sampling::Independent);
    let (sys_mean, sys_var) = spread(Sampling::Systematic);
    assert!(exact > 50.0, "{exact}");
    // 200 runs: the mean's standard error is sqrt(var / 200).
    for (mean, var) in [(iid_mean, iid_var), (sys_mean, sys_var)] {
        assert!(
            (mean - exact).abs() < 4.0 * (var / 200.0).sqrt() + 1e-6 * exact,
            "mean {mean} vs exact {exact} (variance {var})"
        );
    }
    assert!(
        sys_var < 0.5 * iid_var,
        "systematic variance {sys_var} vs independent {iid_var}"
    );
}

#[test]
fn in_predicates_select_the_listed_values() {
    let t = correlated(500);
    let q = Query::new(vec![Predicate::is_in("a", [1.0, 3.0, 3.0, 99.0])]);
    let r = q.resolve(&t).unwrap();
    let want = t.columns()[0]
        .codes()
        .iter()
        .filter(|&&c| c == 1 || c == 3)
        .count() as u64;
    assert_eq!(exact_count(&t, &r), want);
    let ind = Independence::new(&t);
    assert!((ind.estimate(&r) - want as f64).abs() < 1e-9);
    // IN intersected with a range; an IN of absent values selects nothing.
    let both = Query::new(vec![
        Predicate::is_in("a", [1.0, 3.0]),
        Predicate::new("a", Op::Ge, 2.0),
    ]);
    let r = both.resolve(&t).unwrap();
    assert_eq!(r.ranges[0].as_ref().unwrap().len(), 1);
    let none = Query::new(vec![Predicate::is_in("a", [0.5, 100.0])]);
    assert!(none.resolve(&t).unwrap().is_empty());
    let wrong = Query::new(vec![Predicate::is_in("a", ["x"])]);
    assert!(matches!(
        wrong.resolve(&t),
        Err(stratus_cardest::Error::WrongLiteralType { .. })
    ));
    assert_eq!(both.to_string(), "a IN (1, 3) AND a >= 2");
}

/// Training attaches the table's schema; the file keeps it; a loaded model then resolves
/// and scales queries without the table, to the same estimates.
#[test]
fn a_saved_model_estimates_without_the_table() {
    use stratus_cardest::{CsvOptions, Error, SAMPLE_PATH, read_path};
    let t = read_path(SAMPLE_PATH, &CsvOptions::default()).unwrap();
    let mut m = Made::new(
        &t.domains(),
        &MadeConfig {
            hidden: 16,
            embedding: 8,
            seed: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(m.schema().is_none());
    let cfg = TrainConfig {
        epochs: 1,
        ..Default::default()
    };
    train(&mut m, &t, &cfg, |_| {}).unwrap();
    assert_eq!(m.schema(), Some(&t.schema()));
    let loaded = Made::from_bytes(&m.to_bytes()).unwrap();
    assert_eq!(loaded, m);
    let schema = loaded.schema().unwrap();
    assert_eq!(schema.rows(), 2000);
    assert!(schema.columns()[schema.column_index("dep_time").unwrap()].has_null());

    let ecfg = EstimatorConfig {
        samples: 200,
        ..Default::default()
    };
    let with_table = Estimator::new(&m, t.rows(), ecfg.clone()).unwrap();
    let without = Estimator::for_model(&loaded, ecfg.clone()).unwrap();
    let queries = generate(&t, 20, 5).unwrap();
    for q in &queries {
        let a = with_table.estimate(&t, q).unwrap();
        let b = without.estimate(schema, q).unwrap();
        assert_eq!(a.to_bits(), b.to_bits(), "{q}");
    }
    // Resolution against the schema keeps the typed errors.
    let bad = Query::new(vec![Predicate::new("nope", Op::Eq, 1.0)]);
    assert!(matches!(
        without.estimate(schema, &bad),
        Err(Error::UnknownColumn(_))
    ));
    let bad = Query::new(vec![Predicate::new("carrier", Op::Eq, 1.0)]);
    assert!(matches!(
        without.estimate(schema, &bad),
        Err(Error::WrongLiteralType { .. })
    ));
    // An untrained model has no schema to estimate from, until one is attached.
    let mut bare = Made::new(&t.domains(), &MadeConfig::default()).unwrap();
    assert!(matches!(
        Estimator::for_model(&bare, ecfg.clone()),
        Err(Error::Config(_))
    ));
    let other = correlated(50);
    assert!(matches!(
        bare.set_schema(other.schema()),
        Err(Error::SchemaMismatch(_))
    ));
    bare.set_schema(t.schema()).unwrap();
    let est = Estimator::for_model(&bare, ecfg).unwrap();
    assert!(est.estimate(bare.schema().unwrap(), &queries[0]).unwrap() >= 0.0);
}

/// The adaptive sample count re-estimates with eight times the samples, capped at
/// `max_samples`, exactly when the effective sample size is under `min_effective` of the
/// samples; the re-estimate is the estimate a fixed count that large gives.
#[test]
fn adaptive_samples_escalate_by_effective_size() {
    let t = correlated(400);
    let m = trained(&t);
    let q = Query::new(vec![
        Predicate::new("a", Op::Ge, 3.0),
        Predicate::new("b", Op::Le, 7.0),
        Predicate::new("c", Op::Ge, 2.0),
    ]);
    let est = |samples: usize, max_samples: usize, min_effective: f64| {
        Estimator::new(
            &m,
            t.rows(),
            EstimatorConfig {
                samples,
                max_samples,
                min_effective,
                ..Default::default()
            },
        )
        .unwrap()
        .estimate(&t, &q)
        .unwrap()
    };
    let (fixed_50, fixed_400, fixed_1000) = (est(50, 0, 0.0), est(400, 0, 0.0), est(1000, 0, 0.0));
    assert_ne!(fixed_50, fixed_400);
    // Never below the threshold (0), or no room to grow: the plain estimate.
    assert_eq!(est(50, 1000, 0.0), fixed_50);
    assert_eq!(est(50, 50, 2.0), fixed_50);
    // Always below it (an effective size is at most the sample count): 50 -> 400 -> 1000.
    assert_eq!(est(50, 400, 2.0), fixed_400);
    assert_eq!(est(50, 1000, 2.0), fixed_1000);
    assert!(est(50, 1000, 2.0) > 0.0);
    for bad in [f64::NAN, -0.5, f64::INFINITY] {
        let cfg = EstimatorConfig {
            min_effective: bad,
            ..Default::default()
        };
        assert!(matches!(
            Estimator::new(&m, t.rows(), cfg),
            Err(stratus_cardest::Error::Config(_))
        ));
    }
}

/// A query resolved against a different table with the same number of columns, whose
/// codes run past the model's domains, is a schema mismatch rather than a panic.
#[test]
fn codes_beyond_the_model_are_a_schema_mismatch() {
    let t = correlated(200);
    let m = trained(&t);
    let wider = Table::from_columns(
        ["a", "b", "c"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    ColumnData::Num((0..40).map(|i| Some(i as f64)).collect()),
                )
            })
            .collect(),
    )
    .unwrap();
    let q = Query::new(vec![Predicate::new("a", Op::Ge, 30.0)]);
    let est = Estimator::new(&m, t.rows(), EstimatorConfig::default()).unwrap();
    assert!(matches!(
        est.estimate(&wider, &q),
        Err(stratus_cardest::Error::SchemaMismatch(_))
    ));
    // Codes within the model's domains (0..=5 of its 12) still estimate.
    let q = Query::new(vec![Predicate::new("a", Op::Le, 5.0)]);
    assert!(est.estimate(&wider, &q).is_ok());
}

/// A query optimiser shares one loaded model and estimator across its planning threads.
#[test]
fn models_and_estimators_are_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Made>();
    shareable::<Estimator<'static>>();
    shareable::<stratus_cardest::Schema>();
    shareable::<Table>();
    let t = correlated(200);
    let m = trained(&t);
    let est = Estimator::for_model(&m, EstimatorConfig::default()).unwrap();
    let q = Query::new(vec![Predicate::new("a", Op::Le, 5.0)]);
    let alone = est.estimate(&t, &q).unwrap();
    let shared: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| est.estimate(m.schema().unwrap(), &q).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(shared.iter().all(|&x| x.to_bits() == alone.to_bits()));
}
