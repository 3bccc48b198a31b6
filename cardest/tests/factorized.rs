//! Column factorization end to end: a table with a large-domain column, a model that splits
//! it into digits, and estimates of `=`, `<=`, `>=` and `IN` on it.

use stratus_cardest::{
    ColumnData, Error, Estimator, EstimatorConfig, Factor, Literal, Made, MadeConfig, Op,
    Predicate, Query, Table, TrainConfig, exact_count, q_error, train,
};
use stratus_sim::SimRng;

mod common;

/// `a`: a skewed column of ~150 distinct values (split by 3-bit digits into 3 digits of
/// base 6); `b = a / 50` and `c = a % 7`, each with 10% noise.
fn table(rows: usize) -> Table {
    let mut rng = SimRng::new(21);
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        let u = rng.below(200);
        let x = u * u / 200;
        let y = if rng.below(10) == 0 {
            rng.below(4)
        } else {
            x / 50
        };
        let z = if rng.below(10) == 0 {
            rng.below(7)
        } else {
            x % 7
        };
        a.push(Some(x as f64));
        b.push(Some(y as f64));
        c.push(Some(z as f64));
    }
    Table::from_columns(vec![
        ("a".into(), ColumnData::Num(a)),
        ("b".into(), ColumnData::Num(b)),
        ("c".into(), ColumnData::Num(c)),
    ])
    .unwrap()
}

fn config(factor_bits: u32) -> MadeConfig {
    MadeConfig {
        hidden: 48,
        layers: 2,
        factor_bits,
        seed: 2,
        ..Default::default()
    }
}

fn trained(t: &Table, factor_bits: u32, epochs: usize) -> Made {
    let mut m = Made::new(&t.domains(), &config(factor_bits)).unwrap();
    let cfg = TrainConfig {
        epochs,
        batch: 64,
        learning_rate: 1e-2,
        seed: 4,
        ..Default::default()
    };
    train(&mut m, t, &cfg, |_| {}).unwrap();
    m
}

#[test]
fn the_large_column_is_split_into_digits() {
    let t = table(500);
    let dom = t.domains()[0];
    assert!(dom > 100, "{dom}");
    let m = Made::new(&t.domains(), &config(3)).unwrap();
    let f = m.factorization().factors()[0];
    assert_eq!(f, Factor::plan(dom, 3));
    assert_eq!((f.base, f.digits), (6, 3));
    assert_eq!(m.domains(), t.domains());
    assert_eq!(m.sub_domains().len(), 3 + 2);
    assert_eq!(m.factorization().sub_columns(1), 3..4);
    // factor_bits 0 never splits.
    assert_eq!(
        Made::new(&t.domains(), &config(0)).unwrap().sub_domains(),
        t.domains()
    );
}

/// Digit-by-digit progressive sampling is an unbiased estimate of the model's own mass of
/// the region: compare with the exact sum of point probabilities (single-path products of
/// conditionals) over the region, for ranges and IN sets that cut digits mid-way.
#[test]
fn sampling_digits_matches_the_models_exact_mass() {
    let t = table(1000);
    let m = trained(&t, 3, 2);
    let est = Estimator::new(&m, t.rows(), EstimatorConfig::default()).unwrap();
    let values: Vec<f64> = (0..t.domains()[0] as u32)
        .map(|c| match t.columns()[0].dictionary().value(c) {
            Some(Literal::Num(x)) => x,
            other => panic!("{other:?}"),
        })
        .collect();
    let point = |a: f64, c: f64| {
        est.estimate(
            &t,
            &Query::new(vec![
                Predicate::new("a", Op::Eq, a),
                Predicate::new("c", Op::Eq, c),
            ]),
        )
        .unwrap()
    };
    let cases: Vec<(Vec<usize>, Predicate)> = vec![
        // a <= the 40th value: the high digit's block 1 is cut mid-way.
        ((0..=40).collect(), Predicate::new("a", Op::Le, values[40])),
        // a >= the 77th value.
        (
            (77..values.len()).collect(),
            Predicate::new("a", Op::Ge, values[77]),
        ),
        // IN: scattered codes in several high-digit blocks.
        (
            vec![3, 5, 36, 37, 90, 120],
            Predicate::is_in("a", [3, 5, 36, 37, 90, 120].map(|i| values[i])),
        ),
    ];
    for (codes, pred) in cases {
        let exact: f64 = codes
            .iter()
            .map(|&i| point(values[i], 2.0) + point(values[i], 5.0))
            .sum();
        let q = Query::new(vec![pred.clone(), Predicate::is_in("c", [2.0, 5.0])]);
        let sampled = est.estimate(&t, &q).unwrap();
        assert!(exact > 5.0, "{pred}: {exact}");
        assert!(
            (sampled - exact).abs() / exact < 0.05,
            "{pred}: sampled {sampled} vs exact {exact}"
        );
    }
    // The whole domain through every digit has mass one (the digits are renormalised over
    // the combinations that are codes).
    let all = est
        .estimate(
            &t,
            &Query::new(vec![Predicate::new("a", Op::Ge, values[0])]),
        )
        .unwrap();
    assert_eq!(all, 1000.0);
}

/// A trained factorized model estimates `=`, `<=`, `>=` and `IN` on the split column close
/// to the exact counts, alone and with predicates on the other columns.
#[test]
fn factorized_estimates_are_close_to_exact_counts() {
    let t = table(3000);
    let m = trained(&t, 3, 20);
    let est = common::fitted_estimator(&m, &t, 1000, 5);
    let queries = [
        vec![Predicate::new("a", Op::Eq, 50.0)],
        vec![
            Predicate::new("a", Op::Eq, 112.0),
            Predicate::new("c", Op::Eq, 0.0),
        ],
        vec![Predicate::new("a", Op::Le, 30.0)],
        vec![
            Predicate::new("a", Op::Le, 60.0),
            Predicate::new("c", Op::Ge, 3.0),
        ],
        vec![Predicate::new("a", Op::Ge, 100.0)],
        vec![
            Predicate::new("a", Op::Ge, 90.0),
            Predicate::new("b", Op::Le, 1.0),
        ],
        vec![Predicate::is_in("a", [2.0, 18.0, 72.0, 128.0, 180.0])],
        vec![
            Predicate::is_in("a", [8.0, 40.0, 98.0]),
            Predicate::new("c", Op::Le, 5.0),
        ],
        vec![
            Predicate::new("a", Op::Ge, 20.0),
            Predicate::new("a", Op::Le, 120.0),
            Predicate::new("b", Op::Eq, 1.0),
        ],
    ];
    for preds in queries {
        let q = Query::new(preds);
        let truth = exact_count(&t, &q.resolve(&t).unwrap()) as f64;
        assert!(truth >= 10.0, "{q}: {truth}");
        let guess = est.estimate(&t, &q).unwrap();
        let err = q_error(guess, truth);
        assert!(err < 1.5, "{q}: estimate {guess}, truth {truth}");
    }
}

/// `=` on a split column fixes every digit: one path, the same estimate for any seed.
#[test]
fn equality_on_a_split_column_is_a_single_path() {
    let t = table(400);
    let m = trained(&t, 3, 1);
    let q = Query::new(vec![
        Predicate::new("a", Op::Eq, 72.0),
        Predicate::new("b", Op::Eq, 1.0),
    ]);
    let with = |seed| {
        Estimator::new(
            &m,
            t.rows(),
            EstimatorConfig {
                samples: 50,
                seed,
                ..Default::default()
            },
        )
        .unwrap()
        .estimate(&t, &q)
        .unwrap()
    };
    assert_eq!(with(1), with(2));
    // Wildcards only: every row, with the split column's digits all skipped.
    let est = Estimator::new(&m, t.rows(), EstimatorConfig::default()).unwrap();
    assert_eq!(est.estimate(&t, &Query::default()).unwrap(), 400.0);
    // An absent literal selects nothing.
    let none = Query::new(vec![Predicate::new("a", Op::Eq, 0.5)]);
    assert_eq!(est.estimate(&t, &none).unwrap(), 0.0);
}

/// The factorization travels with the model file; a header whose factorization does not
/// match its digit width is corrupt.
#[test]
fn model_file_carries_the_factorization() {
    let t = table(300);
    let m = trained(&t, 3, 1);
    let bytes = m.to_bytes();
    let back = Made::from_bytes(&bytes).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.factorization(), m.factorization());
    let n = t.domains().len();
    // magic, version, column count, domains, hidden, layers, 3 flags, embedding, reuse, seed.
    let bits_at = 8 + 4 + 4 + 4 * n + 4 + 4 + 3 + 4 + 4 + 8;
    assert_eq!(bytes[bits_at..bits_at + 4], 3u32.to_le_bytes());
    let mut other_bits = bytes.clone();
    other_bits[bits_at..bits_at + 4].copy_from_slice(&4u32.to_le_bytes());
    assert!(matches!(
        Made::from_bytes(&other_bits),
        Err(Error::CorruptModel(_))
    ));
    let mut other_base = bytes.clone();
    let base = m.factorization().factors()[0].base;
    assert_eq!(other_base[bits_at + 4..bits_at + 8], base.to_le_bytes());
    other_base[bits_at + 4..bits_at + 8].copy_from_slice(&(base + 1).to_le_bytes());
    assert!(matches!(
        Made::from_bytes(&other_base),
        Err(Error::CorruptModel(_))
    ));
    let mut zero_digits = bytes;
    zero_digits[bits_at + 8..bits_at + 12].copy_from_slice(&0u32.to_le_bytes());
    assert!(matches!(
        Made::from_bytes(&zero_digits),
        Err(Error::CorruptModel(_))
    ));
}
