//! End-to-end: a tiny model on a correlated table beats independence; estimates are
//! deterministic per seed; point queries are exact products of conditionals.

use stratus_cardest::{
    ColumnData, Estimator, EstimatorConfig, Independence, Made, MadeConfig, Op, Predicate, Query,
    Table, TrainConfig, UniformSample, bits_per_tuple, exact_count, generate, q_error, quantile,
    train,
};
use stratus_sim::SimRng;

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
    let bits = bits_per_tuple(&m, &t).unwrap();
    let h = t.entropy_bits();
    assert!(bits < h + 0.5, "bits/tuple {bits} vs entropy {h}");
    let est = Estimator::new(
        &m,
        t.rows(),
        EstimatorConfig {
            samples: 500,
            seed: 3,
        },
    )
    .unwrap();
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
        },
    )
    .unwrap();
    let e2 = Estimator::new(
        &m,
        t.rows(),
        EstimatorConfig {
            samples: 200,
            seed: 9,
        },
    )
    .unwrap();
    let e3 = Estimator::new(
        &m,
        t.rows(),
        EstimatorConfig {
            samples: 200,
            seed: 10,
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
                seed: 0
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
        },
    )
    .unwrap();
    assert!(
        Estimator::new(
            &m,
            50,
            EstimatorConfig {
                samples: 0,
                seed: 0
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
    v2[8] = 2;
    assert!(matches!(
        Made::from_bytes(&v2),
        Err(Error::ModelVersion {
            found: 2,
            supported: 1
        })
    ));
    let mut longer = bytes;
    longer.push(0);
    assert!(matches!(
        Made::from_bytes(&longer),
        Err(Error::CorruptModel(_))
    ));
}
