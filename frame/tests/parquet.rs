//! Parquet round trip (feature `parquet`).
#![cfg(feature = "parquet")]

use stratus_frame::{Column, DType, DataFrame};

#[test]
fn parquet_round_trips_every_type() {
    let df = DataFrame::new(vec![
        ("i", Column::from(vec![Some(1i64), None, Some(3)])),
        ("f", Column::from(vec![Some(1.5), Some(f64::NAN), None])),
        ("b", Column::from(vec![Some(true), None, Some(false)])),
        ("s", Column::from(vec![Some("x"), Some("y"), None])),
    ])
    .unwrap()
    .cast("s", DType::Categorical)
    .unwrap()
    .with_column(
        "t",
        Column::from(vec!["2013-01-01", "2013-01-02", "2013-01-03"])
            .cast(DType::Datetime)
            .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frame.parquet");
    df.write_parquet(&path).unwrap();
    let back = DataFrame::read_parquet(&path).unwrap();
    assert_eq!(back.dtypes(), df.dtypes());
    assert_eq!(back.nrows(), 3);
    for r in 0..3 {
        for name in ["i", "b", "s", "t"] {
            assert_eq!(
                back.get(r, name).unwrap(),
                df.get(r, name).unwrap(),
                "{name} row {r}"
            );
        }
    }
    assert!(back.get(1, "f").unwrap().is_missing());
    assert!(matches!(
        DataFrame::read_parquet(dir.path().join("missing.parquet")),
        Err(stratus_frame::FrameError::Io { .. })
    ));
    std::fs::write(dir.path().join("bad.parquet"), b"not parquet").unwrap();
    assert!(matches!(
        DataFrame::read_parquet(dir.path().join("bad.parquet")),
        Err(stratus_frame::FrameError::Parquet(_))
    ));
}
