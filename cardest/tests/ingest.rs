//! Table ingestion, dictionary encoding, predicate resolution and typed errors.

use stratus_cardest::{
    ColumnData, Condition, CsvOptions, Error, Independence, Op, Predicate, Query, SAMPLE_PATH,
    Table, csv, exact_count, read_path,
};

fn small() -> Table {
    Table::from_columns(vec![
        (
            "n".into(),
            ColumnData::Num(vec![Some(10.0), Some(2.0), None, Some(7.0), Some(2.0)]),
        ),
        (
            "s".into(),
            ColumnData::Str(vec![
                Some("b".into()),
                Some("a".into()),
                Some("c".into()),
                None,
                Some("a".into()),
            ]),
        ),
    ])
    .unwrap()
}

fn count(t: &Table, preds: Vec<Predicate>) -> u64 {
    exact_count(t, &Query::new(preds).resolve(t).unwrap())
}

#[test]
fn numeric_order_maps_ranges_to_codes() {
    let t = small();
    let c = &t.columns()[0];
    assert_eq!(c.codes(), &[2, 0, 3, 1, 0]); // 2 < 7 < 10, null = 3
    assert!(c.has_null());
    assert_eq!(c.domain(), 4);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Le, 7.0)]), 3);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Ge, 7.0)]), 2);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Eq, 2i64)]), 2);
}

#[test]
fn literal_outside_the_domain() {
    let t = small();
    // Absent: `=` selects nothing, `<=` / `>=` select the right side.
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Eq, 5.0)]), 0);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Le, 5.0)]), 2);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Ge, 5.0)]), 2);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Le, -100.0)]), 0);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Ge, -100.0)]), 4);
    assert_eq!(count(&t, vec![Predicate::new("n", Op::Ge, 1e9)]), 0);
    assert_eq!(count(&t, vec![Predicate::new("s", Op::Ge, "bb")]), 1);
    assert_eq!(count(&t, vec![Predicate::new("s", Op::Le, "zzz")]), 4);
}

#[test]
fn nulls_never_match() {
    let t = small();
    let all = vec![
        Predicate::new("n", Op::Ge, -1e9),
        Predicate::new("s", Op::Ge, ""),
    ];
    assert_eq!(count(&t, all), 3);
    let ind = Independence::new(&t);
    let q = Query::new(vec![Predicate::new("n", Op::Ge, -1e9)])
        .resolve(&t)
        .unwrap();
    assert!((ind.estimate(&q) - 4.0).abs() < 1e-9);
}

#[test]
fn conjunctions_on_one_column_intersect() {
    let t = small();
    let q = vec![
        Predicate::new("n", Op::Ge, 3.0),
        Predicate::new("n", Op::Le, 8.0),
    ];
    assert_eq!(count(&t, q), 1);
    let q = vec![
        Predicate::new("n", Op::Ge, 8.0),
        Predicate::new("n", Op::Le, 3.0),
    ];
    assert_eq!(count(&t, q), 0);
}

#[test]
fn typed_errors() {
    let t = small();
    let r = Query::new(vec![Predicate::new("nope", Op::Eq, 1.0)]).resolve(&t);
    assert!(matches!(r, Err(Error::UnknownColumn(c)) if c == "nope"));
    let r = Query::new(vec![Predicate::new("n", Op::Eq, "x")]).resolve(&t);
    assert!(matches!(r, Err(Error::WrongLiteralType { .. })));
    let r = Query::new(vec![Predicate::new("s", Op::Eq, 1.0)]).resolve(&t);
    assert!(matches!(r, Err(Error::WrongLiteralType { .. })));
    let r = Query::new(vec![Predicate::new("n", Op::Eq, f64::NAN)]).resolve(&t);
    assert!(matches!(r, Err(Error::WrongLiteralType { .. })));
    assert!(matches!(
        Table::from_columns(vec![]),
        Err(Error::EmptyTable(_))
    ));
    assert!(matches!(
        Table::from_columns(vec![("a".into(), ColumnData::Num(vec![]))]),
        Err(Error::EmptyTable(_))
    ));
    assert!(matches!(
        Table::from_columns(vec![
            ("a".into(), ColumnData::Num(vec![Some(1.0)])),
            ("b".into(), ColumnData::Num(vec![]))
        ]),
        Err(Error::BadColumns(_))
    ));
    assert!(matches!(
        csv::read("a,b\n".as_bytes(), &CsvOptions::default()),
        Err(Error::EmptyTable(_))
    ));
    assert!(matches!(
        csv::read("".as_bytes(), &CsvOptions::default()),
        Err(Error::EmptyTable(_))
    ));
    assert!(matches!(
        csv::read("a,b\n1\n".as_bytes(), &CsvOptions::default()),
        Err(Error::Csv { line: 2, .. })
    ));
    assert!(matches!(
        read_path("/nonexistent/x.csv", &CsvOptions::default()),
        Err(Error::Io { .. })
    ));
}

#[test]
fn csv_types_quotes_and_nulls() {
    let text = "id,name,score\n1,\"Smith, J\",3.5\n2,\"say \"\"hi\"\"\",NA\n3,,-1\n";
    let t = csv::read(text.as_bytes(), &CsvOptions::default()).unwrap();
    assert_eq!(t.rows(), 3);
    assert_eq!(t.columns()[0].dictionary().kind(), "numeric");
    assert_eq!(t.columns()[1].dictionary().kind(), "text");
    assert_eq!(t.columns()[1].dictionary().len(), 2);
    assert!(t.columns()[1].has_null());
    assert!(t.columns()[2].has_null());
    assert_eq!(
        count(&t, vec![Predicate::new("name", Op::Eq, "say \"hi\"")]),
        1
    );
}

#[test]
fn committed_sample_loads() {
    let t = read_path(SAMPLE_PATH, &CsvOptions::default()).unwrap();
    assert_eq!(t.rows(), 2000);
    assert_eq!(t.columns().len(), 19);
    let carrier = &t.columns()[t.column_index("carrier").unwrap()];
    assert_eq!(carrier.dictionary().kind(), "text");
    assert!(t.columns()[t.column_index("dep_time").unwrap()].has_null());
    let limited = read_path(
        SAMPLE_PATH,
        &CsvOptions {
            max_rows: Some(10),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(limited.rows(), 10);
}

#[test]
fn workload_on_the_sample_follows_naru() {
    use stratus_cardest::generate;
    let t = read_path(SAMPLE_PATH, &CsvOptions::default()).unwrap();
    let qs = generate(&t, 200, 1234).unwrap();
    for q in &qs {
        assert!((5..=11).contains(&q.predicates.len()), "{q}");
        for p in &q.predicates {
            let c = &t.columns()[t.column_index(&p.column).unwrap()];
            if c.dictionary().len() < 10 {
                assert!(matches!(p.condition, Condition::Compare(Op::Eq, _)), "{q}");
            }
        }
        // Literals come from a row that is non-null in every chosen column.
        assert!(exact_count(&t, &q.resolve(&t).unwrap()) >= 1, "{q}");
    }
}
