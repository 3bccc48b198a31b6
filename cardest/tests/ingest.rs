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

/// Every cell of a text table, row by row (`None` for null).
fn cells(t: &Table) -> Vec<Vec<Option<String>>> {
    (0..t.rows())
        .map(|r| {
            t.columns()
                .iter()
                .map(|c| match c.dictionary().value(c.codes()[r]) {
                    Some(stratus_cardest::Literal::Str(s)) => Some(s),
                    Some(stratus_cardest::Literal::Num(x)) => Some(x.to_string()),
                    None => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn csv_rfc4180_line_breaks_bom_crlf_and_blank_lines() {
    let text =
        "\u{feff}name,note\r\n\"Smith, J\",\"two\r\nlines\"\r\n\r\nx,\"\"\r\ny,\"say \"\"hi\"\"\"";
    let t = csv::read(text.as_bytes(), &CsvOptions::default()).unwrap();
    // The byte-order mark is not part of the first column's name.
    assert_eq!(t.column_index("name"), Some(0));
    assert_eq!(
        cells(&t),
        vec![
            vec![Some("Smith, J".into()), Some("two\r\nlines".into())],
            // A quoted empty field is an empty string, which the default null tokens make null.
            vec![Some("x".into()), None],
            vec![Some("y".into()), Some("say \"hi\"".into())],
        ]
    );
}

#[test]
fn csv_other_delimiters() {
    let tsv = "a\tb\n1\tx,y\n2\tz\n";
    let opts = CsvOptions {
        delimiter: '\t',
        ..Default::default()
    };
    let t = csv::read(tsv.as_bytes(), &opts).unwrap();
    assert_eq!(t.columns()[0].dictionary().kind(), "numeric");
    assert_eq!(count(&t, vec![Predicate::new("b", Op::Eq, "x,y")]), 1);
    let semi = CsvOptions {
        delimiter: ';',
        ..Default::default()
    };
    let t = csv::read("a;b\n1,5;2\n".as_bytes(), &semi).unwrap();
    assert_eq!(t.columns()[0].dictionary().kind(), "text");
    for bad in ['"', '\n', '\r'] {
        let opts = CsvOptions {
            delimiter: bad,
            ..Default::default()
        };
        assert!(matches!(
            csv::read("a\n1\n".as_bytes(), &opts),
            Err(Error::Config(_))
        ));
    }
}

#[test]
fn csv_malformed_text_names_its_line() {
    let read = |text: &[u8]| csv::read(text, &CsvOptions::default());
    // An unterminated quote must not swallow the rest of the file into one field.
    assert!(matches!(
        read(b"a,b\n1,2\n3,\"x\n4,y\n"),
        Err(Error::Csv { line: 3, reason }) if reason.contains("unterminated")
    ));
    // Line numbers count blank lines and line breaks inside quotes.
    assert!(matches!(
        read(b"a,b\n\n1,\"p\nq\"\n\n2\n"),
        Err(Error::Csv { line: 6, .. })
    ));
    assert!(matches!(
        read(b"a,b\n1,2\n3,caf\xe9\n"),
        Err(Error::Csv { line: 3, reason }) if reason.contains("UTF-8")
    ));
}

proptest::proptest! {
    /// Any table of strings written with RFC 4180 quoting (every field quoted, quotes
    /// doubled, `\n` or `\r\n` line ends) reads back cell for cell.
    #[test]
    fn csv_round_trips_quoted_text(
        rows in proptest::collection::vec(
            proptest::collection::vec("[a-c ,;\"\n\r\té]{0,6}", 3),
            1..12,
        ),
        crlf in proptest::bool::ANY,
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        // A leading `v` keeps every cell text and non-null, so the comparison is exact.
        let mut text = format!("c0,c1,c2{end}");
        for row in &rows {
            let fields: Vec<String> = row.iter().map(|s| quote(&format!("v{s}"))).collect();
            text.push_str(&fields.join(","));
            text.push_str(end);
        }
        let t = csv::read(text.as_bytes(), &CsvOptions::default()).unwrap();
        let want: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| r.iter().map(|s| Some(format!("v{s}"))).collect())
            .collect();
        proptest::prop_assert_eq!(cells(&t), want);
    }
}

#[test]
fn entropy_of_small_tables() {
    let one = csv::read("a,b\n1,x\n".as_bytes(), &CsvOptions::default()).unwrap();
    // Positive zero: reports print "0.00", not "-0.00".
    assert!(one.entropy_bits() == 0.0 && one.entropy_bits().is_sign_positive());
    let four = csv::read("a\n1\n2\n3\n4\n".as_bytes(), &CsvOptions::default()).unwrap();
    assert!((four.entropy_bits() - 2.0).abs() < 1e-12);
    let skewed = csv::read("a\n1\n1\n1\n2\n".as_bytes(), &CsvOptions::default()).unwrap();
    let h = -(0.75f64 * 0.75f64.log2() + 0.25 * 0.25f64.log2());
    assert!((skewed.entropy_bits() - h).abs() < 1e-12);
}

#[test]
fn workload_skips_columns_that_are_all_null() {
    use stratus_cardest::generate;
    // Five columns, so every query would have to use all five, `unused` included: before
    // all-null columns were left out, no query could be drawn at all.
    let mut text = String::from("a,b,c,d,unused\n");
    for i in 0..300 {
        text.push_str(&format!("{},{},{},{},\n", i % 7, i % 11, i % 13, i));
    }
    let t = csv::read(text.as_bytes(), &CsvOptions::default()).unwrap();
    let qs = generate(&t, 100, 7).unwrap();
    for q in &qs {
        assert!(q.predicates.iter().all(|p| p.column != "unused"), "{q}");
        assert_eq!(q.predicates.len(), 4, "{q}");
        assert!(exact_count(&t, &q.resolve(&t).unwrap()) >= 1, "{q}");
    }
    let all_null = csv::read("a,b\n,\n,\n".as_bytes(), &CsvOptions::default()).unwrap();
    assert!(matches!(
        generate(&all_null, 1, 7),
        Err(Error::EmptyTable(_))
    ));
}

proptest::proptest! {
    /// The reader interns each column's texts instead of keeping a string per cell; the
    /// table it builds is the one `Table::from_columns` builds from the cells themselves (a
    /// column numeric when every non-null cell parses as a finite number, nulls from the
    /// null tokens).
    #[test]
    fn csv_reader_matches_from_columns(
        rows in proptest::collection::vec(
            proptest::collection::vec(
                proptest::prop_oneof![
                    "-?[0-9]{1,3}(\\.[0-9]{0,2})?",
                    " ?[0-9] ?",
                    "[a-c]{1,2}",
                    proptest::strategy::Just(String::new()),
                    proptest::strategy::Just("NA".to_owned()),
                    proptest::strategy::Just("1e2".to_owned()),
                    proptest::strategy::Just("inf".to_owned()),
                ],
                3,
            ),
            1..30,
        ),
    ) {
        let mut text = String::from("x,y,z\n");
        for row in &rows {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        let got = csv::read(text.as_bytes(), &CsvOptions::default()).unwrap();
        let reference = Table::from_columns(
            ["x", "y", "z"]
                .iter()
                .enumerate()
                .map(|(c, name)| {
                    let cells: Vec<Option<String>> = rows
                        .iter()
                        .map(|r| {
                            let t = r[c].trim();
                            (!t.is_empty() && t != "NA").then(|| r[c].clone())
                        })
                        .collect();
                    let numbers: Option<Vec<Option<f64>>> = cells
                        .iter()
                        .map(|v| match v {
                            None => Some(None),
                            Some(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).map(Some),
                        })
                        .collect();
                    let data = match numbers {
                        Some(n) => ColumnData::Num(n),
                        None => ColumnData::Str(cells),
                    };
                    (name.to_string(), data)
                })
                .collect(),
        )
        .unwrap();
        proptest::prop_assert_eq!(got, reference);
    }
}
