//! Bad input gets a typed error naming the row or column; nothing is silently dropped.

use stratus_frame::{
    Agg, Column, CsvOptions, DType, DataFrame, FrameError, JoinHow, SortKey, WindowAgg,
    read_csv_bytes,
};

fn df() -> DataFrame {
    DataFrame::new(vec![
        ("a", Column::from_i64(vec![1, 2, 3])),
        ("b", Column::from(vec!["x", "y", "z"])),
    ])
    .unwrap()
}

fn csv(text: &str) -> Result<DataFrame, FrameError> {
    read_csv_bytes(text.as_bytes(), &CsvOptions::default())
}

#[test]
fn ragged_and_malformed_csv_rows_name_their_line() {
    match csv("a,b\n1,2\n3\n4,5\n") {
        Err(FrameError::Csv {
            line: 3, reason, ..
        }) => assert!(reason.contains("expected 2 fields, found 1"), "{reason}"),
        other => panic!("{other:?}"),
    }
    match csv("a,b\n1,2\n3,4,5\n") {
        Err(FrameError::Csv { line: 3, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        csv("a,b\n\"unterminated,2\n"),
        Err(FrameError::Csv { line: 2, .. })
    ));
    assert!(matches!(
        csv("a,b\n\"x\"y,2\n"),
        Err(FrameError::Csv { line: 2, .. })
    ));
    assert!(matches!(
        read_csv_bytes(b"a,b\n\xff\xfe,1\n", &CsvOptions::default()),
        Err(FrameError::Csv { line: 2, .. })
    ));
}

#[test]
fn csv_reader_keeps_every_row_and_the_original_text() {
    // Quotes with separators, escaped quotes and line breaks; CRLF; a blank line; numbers
    // that turn out to be text keep their spelling ("007").
    let d = csv("id,name,code\r\n1,\"Smith, J\",007\r\n2,\"say \"\"hi\"\"\",12\r\n\r\n3,\"two\nlines\",x1\r\n").unwrap();
    assert_eq!(d.shape(), (3, 3));
    assert_eq!(d.column("code").unwrap().dtype(), DType::Utf8);
    assert_eq!(d.get(0, "code").unwrap(), "007".into());
    assert_eq!(d.get(0, "name").unwrap(), "Smith, J".into());
    assert_eq!(d.get(1, "name").unwrap(), "say \"hi\"".into());
    assert_eq!(d.get(2, "name").unwrap(), "two\nlines".into());
    // Int widens to Float; NA spellings are null; bools; duplicate headers are mangled.
    let d = csv("a,a,c,d\n1,x,NA,True\n2.5,y,3,false\n").unwrap();
    assert_eq!(d.names(), ["a", "a.1", "c", "d"]);
    assert_eq!(
        d.dtypes(),
        vec![DType::Float64, DType::Utf8, DType::Int64, DType::Bool]
    );
    assert!(d.column("c").unwrap().is_null(0));
}

#[test]
fn type_changes_across_parallel_chunks_reparse_text() {
    // Big enough to be cut into chunks: a column numeric for most of the file, text at the
    // end, must come back as the original strings everywhere.
    let mut text = String::from("k,v,w\n");
    for i in 0..300_000 {
        text.push_str(&format!("{i},{:03},{}\n", i % 1000, i % 7));
    }
    text.push_str("300000,abc,x\n");
    let d = csv(&text).unwrap();
    assert_eq!(d.nrows(), 300_001);
    assert_eq!(d.column("v").unwrap().dtype(), DType::Utf8);
    assert_eq!(d.get(7, "v").unwrap(), "007".into());
    assert_eq!(d.get(300_000, "v").unwrap(), "abc".into());
    assert_eq!(d.column("k").unwrap().dtype(), DType::Int64);
    assert_eq!(d.column("w").unwrap().dtype(), DType::Utf8);
    assert_eq!(
        d.get(299_999, "w").unwrap(),
        (299_999 % 7).to_string().into()
    );
}

#[test]
fn unknown_labels_and_positions_are_errors() {
    let d = df();
    assert!(
        matches!(d.column("nope"), Err(FrameError::UnknownColumn { label }) if label == "nope")
    );
    assert!(matches!(
        d.select(&["a", "nope"]),
        Err(FrameError::UnknownColumn { .. })
    ));
    assert!(matches!(
        d.take(&[0, 3]),
        Err(FrameError::OutOfBounds {
            position: 3,
            len: 3
        })
    ));
    assert!(matches!(
        d.select_positions(&[2]),
        Err(FrameError::OutOfBounds { .. })
    ));
    assert!(matches!(
        d.loc(&[vec![9.into()]]),
        Err(FrameError::UnknownRowLabel { .. })
    ));
    assert!(matches!(
        d.sort_by(&[SortKey::asc("zz")]),
        Err(FrameError::UnknownColumn { .. })
    ));
    assert!(matches!(
        d.groupby(&["zz"]),
        Err(FrameError::UnknownColumn { .. })
    ));
    assert!(matches!(
        d.groupby(&[]),
        Err(FrameError::InvalidArgument(_))
    ));
    assert!(matches!(
        d.rename(&[("zz", "a2")]),
        Err(FrameError::UnknownColumn { .. })
    ));
    assert!(matches!(
        d.rename(&[("a", "b")]),
        Err(FrameError::DuplicateColumn { .. })
    ));
    assert!(matches!(d.get(5, "a"), Err(FrameError::OutOfBounds { .. })));
}

#[test]
fn mismatched_lengths_are_errors() {
    let err = DataFrame::new(vec![
        ("a", Column::from_i64(vec![1, 2])),
        ("b", Column::from_i64(vec![1])),
    ])
    .unwrap_err();
    assert!(
        matches!(
            err,
            FrameError::LengthMismatch {
                expected: 2,
                actual: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        df().filter_mask(&[true]),
        Err(FrameError::LengthMismatch { .. })
    ));
    assert!(matches!(
        df().with_column("c", Column::from_i64(vec![1])),
        Err(FrameError::LengthMismatch { .. })
    ));
    assert!(matches!(
        DataFrame::from_rows(vec!["a", "b"], vec![vec![1i64.into()]]),
        Err(FrameError::LengthMismatch { .. })
    ));
    assert!(matches!(
        DataFrame::new(vec![
            ("a", Column::from_i64(vec![1])),
            ("a", Column::from_i64(vec![2]))
        ]),
        Err(FrameError::DuplicateColumn { .. })
    ));
}

#[test]
fn incompatible_join_keys_and_wrong_types_are_errors() {
    let left = df();
    let right = DataFrame::new(vec![("b", Column::from_i64(vec![1, 2]))]).unwrap();
    match left.merge(&right, &["b"], &["b"], JoinHow::Inner) {
        Err(FrameError::IncompatibleJoinKeys {
            left_type: DType::Utf8,
            right_type: DType::Int64,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        left.merge(&right, &["a"], &[], JoinHow::Inner),
        Err(FrameError::InvalidArgument(_))
    ));
    assert!(matches!(
        left.groupby(&["a"]).unwrap().agg(&[("b", Agg::Mean)]),
        Err(FrameError::TypeMismatch { .. })
    ));
    assert!(
        matches!(left.rolling(2, None, WindowAgg::Sum), Err(FrameError::TypeMismatch { column, .. }) if column == "b")
    );
    assert!(matches!(
        left.cast("b", DType::Int64),
        Err(FrameError::Conversion { row: 0, .. })
    ));
    assert!(matches!(
        left.explode("a", ","),
        Err(FrameError::TypeMismatch { .. })
    ));
}

#[test]
fn invalid_window_sizes_are_errors() {
    let d = df().select(&["a"]).unwrap();
    assert!(matches!(
        d.rolling(0, None, WindowAgg::Sum),
        Err(FrameError::InvalidWindow { size: 0, .. })
    ));
    assert!(matches!(
        d.rolling(2, Some(3), WindowAgg::Sum),
        Err(FrameError::InvalidWindow { size: 2, .. })
    ));
}

#[test]
fn arrow_rejects_mixed_columns_and_reads_foreign_types() {
    use std::sync::Arc;

    use arrow_array::{Date32Array, Int32Array, RecordBatch, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};

    let mixed = DataFrame::new(vec![(
        "m",
        Column::from_values(vec![1i64.into(), "x".into()]),
    )])
    .unwrap();
    assert!(matches!(mixed.to_arrow(), Err(FrameError::Arrow(_))));
    assert_eq!(mixed.infer_types().dtypes(), vec![DType::Mixed]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int32, true),
        Field::new("d", DataType::Date32, true),
        Field::new("u", DataType::UInt64, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int32Array::from(vec![Some(1), None])),
            Arc::new(Date32Array::from(vec![Some(15_706), None])),
            Arc::new(UInt64Array::from(vec![Some(5), Some(u64::MAX)])),
        ],
    )
    .unwrap();
    assert!(
        matches!(DataFrame::from_arrow(&batch), Err(FrameError::Arrow(msg)) if msg.contains("\"u\""))
    );
    let ok = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            schema.field(0).clone(),
            schema.field(1).clone(),
        ])),
        vec![Arc::clone(batch.column(0)), Arc::clone(batch.column(1))],
    )
    .unwrap();
    let d = DataFrame::from_arrow(&ok).unwrap();
    assert_eq!(d.dtypes(), vec![DType::Int64, DType::Datetime]);
    assert_eq!(d.get(0, "d").unwrap().to_string(), "2013-01-01 00:00:00");
    assert!(d.column("i").unwrap().is_null(1));
}

#[test]
fn missing_files_are_io_errors() {
    assert!(matches!(
        stratus_frame::read_csv("/nonexistent/file.csv"),
        Err(FrameError::Io { .. })
    ));
}
