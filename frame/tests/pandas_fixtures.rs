//! Golden outputs produced once by pandas 3.1.1 (`frame/scripts/make_fixtures.py`) on the
//! committed flights sample, and on the whole flights file (`tests/fixtures/full/`: aggregates,
//! heads and per-column summaries; those tests skip when `../shared/data/flights.csv.gz` is
//! absent). Stratus must reproduce them. Differences from pandas that are
//! by design are asserted explicitly (integer columns with missing values stay Int64 with
//! nulls instead of becoming float64).

use std::path::Path;
use std::sync::OnceLock;

use stratus_frame::{
    Agg, CmpOp, Column, CsvOptions, Cumulative, DType, DataFrame, JoinHow, Keep, SortKey, Value,
    WindowAgg, read_csv,
};

fn sample() -> DataFrame {
    read_csv(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/flights_sample.csv.gz"))
        .expect("committed sample")
}

fn fixture(name: &str) -> DataFrame {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.csv"));
    // pandas writes NaN as an empty field; only that spelling means missing in the fixtures.
    let options = CsvOptions {
        null_values: vec![String::new()],
        ..CsvOptions::default()
    };
    stratus_frame::read_csv_with(path, &options).expect("committed fixture")
}

/// Compares cells (with the index as leading columns when `with_index`) and value column
/// labels.
fn check(name: &str, ours: &DataFrame, with_index: bool) {
    let expected = fixture(name);
    // Index levels become leading columns; pandas names them differently (or not at all),
    // so they are compared by value only.
    let skip = if with_index {
        ours.index().nlevels()
    } else {
        0
    };
    let ours = if with_index {
        ours.from_labels().unwrap()
    } else {
        ours.clone()
    };
    assert_eq!(ours.shape(), expected.shape(), "{name}: shape");
    assert_eq!(
        &ours.names()[skip..],
        &expected.names()[skip..],
        "{name}: column labels"
    );
    let (a, b) = (ours.to_rows(), expected.to_rows());
    for (r, (x, y)) in a.iter().zip(&b).enumerate() {
        for (c, (p, q)) in x.iter().zip(y).enumerate() {
            assert!(
                close(p, q),
                "{name}: row {r}, column {}: ours {p:?}, pandas {q:?}",
                expected.names()[c]
            );
        }
    }
}

/// Equal as pandas users would read them: missing equals missing, numbers to a relative
/// 1e-9 (summation order differs), Int equals the same Float.
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (x, y) if x.is_missing() && y.is_missing() => true,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => a == b,
    }
}

#[test]
fn inferred_types_match_pandas() {
    let df = sample();
    let fx = fixture("dtypes");
    assert_eq!(df.ncols(), fx.nrows());
    for r in 0..fx.nrows() {
        let (Value::Str(name), Value::Str(pandas)) =
            (fx.get(r, "column").unwrap(), fx.get(r, "dtype").unwrap())
        else {
            panic!("fixture row {r}")
        };
        check_dtype(&df, &name, &pandas);
    }
    assert_eq!(df.nrows(), 5027);
}

/// Column `name`'s inferred type is the one pandas gave it.
fn check_dtype(df: &DataFrame, name: &str, pandas: &str) {
    let col = df.column(name).unwrap();
    match (pandas, col.dtype()) {
        ("int64", DType::Int64) | ("float64", DType::Float64) => {}
        ("object" | "str" | "string", DType::Utf8) => {}
        // pandas turns integer columns with missing values into float64; we keep them
        // Int64 with nulls (pandas' nullable "Int64").
        ("float64", DType::Int64) => assert!(col.null_count() > 0, "{name}"),
        (p, ours) => panic!("column {name}: pandas {p}, ours {ours}"),
    }
}

/// Every aggregation, grouped by carrier (the `groupby_carrier` fixtures).
fn carrier_aggregations(df: &DataFrame) -> DataFrame {
    df.groupby(&["carrier"])
        .unwrap()
        .agg_as(&[
            ("dep_delay_mean", "dep_delay", Agg::Mean),
            ("arr_delay_sum", "arr_delay", Agg::Sum),
            ("distance_max", "distance", Agg::Max),
            ("flight_count", "flight", Agg::Count),
            ("tailnum_nunique", "tailnum", Agg::NUnique),
            ("air_time_std", "air_time", Agg::Std),
            ("dep_delay_median", "dep_delay", Agg::Median),
            ("tailnum_first", "tailnum", Agg::First),
            ("tailnum_last", "tailnum", Agg::Last),
            ("dest_min", "dest", Agg::Min),
            ("rows", "year", Agg::Size),
            ("arr_delay_var", "arr_delay", Agg::Var),
        ])
        .unwrap()
}

#[test]
fn groupby_aggregations_match_pandas() {
    let df = sample();
    check("groupby_carrier", &carrier_aggregations(&df), true);
    let out = df
        .groupby(&["origin", "month"])
        .unwrap()
        .agg_as(&[
            ("dep_delay", "dep_delay", Agg::Mean),
            ("n", "dep_delay", Agg::Size),
        ])
        .unwrap();
    check("groupby_origin_month", &out, true);
}

#[test]
fn sort_matches_pandas() {
    let df = sample();
    let out = df
        .sort_by(&[
            SortKey::desc("dep_delay").nulls_first(),
            SortKey::asc("arr_delay").nulls_first(),
        ])
        .unwrap()
        .head(60)
        .select(&["carrier", "flight", "dep_delay", "arr_delay"])
        .unwrap();
    check("sort_delays", &out, true);
}

#[test]
fn merges_match_pandas() {
    let df = sample();
    let per_carrier = df
        .groupby(&["carrier"])
        .unwrap()
        .as_index(false)
        .agg_as(&[("carrier_mean_delay", "arr_delay", Agg::Mean)])
        .unwrap();
    let left = df
        .select(&["carrier", "flight", "arr_delay"])
        .unwrap()
        .head(300);
    check(
        "merge_left",
        &left
            .merge(&per_carrier, &["carrier"], &["carrier"], JoinHow::Left)
            .unwrap(),
        false,
    );
    let a = df
        .select(&["carrier", "dest"])
        .unwrap()
        .head(40)
        .drop_duplicates(None, Keep::First)
        .unwrap();
    let b = df
        .select(&["dest", "origin"])
        .unwrap()
        .tail(40)
        .drop_duplicates(None, Keep::First)
        .unwrap();
    check(
        "merge_outer",
        &a.merge(&b, &["dest"], &["dest"], JoinHow::Outer).unwrap(),
        false,
    );
}

#[test]
fn drop_duplicates_filter_concat_match_pandas() {
    let df = sample();
    let out = df
        .drop_duplicates(Some(&["origin", "dest"]), Keep::First)
        .unwrap()
        .select(&["origin", "dest", "flight"])
        .unwrap();
    check("drop_duplicates", &out, true);
    let late = df
        .column("dep_delay")
        .unwrap()
        .compare(CmpOp::Gt, &Value::Int(60));
    let jfk = df
        .column("origin")
        .unwrap()
        .compare(CmpOp::Eq, &Value::from("JFK"));
    let mask: Vec<bool> = late.iter().zip(&jfk).map(|(a, b)| *a && *b).collect();
    check(
        "filter",
        &df.filter_mask(&mask)
            .unwrap()
            .select(&["carrier", "dep_delay", "dest"])
            .unwrap(),
        true,
    );
    let a = df.select(&["carrier", "flight"]).unwrap().head(5);
    let b = df.select(&["carrier", "tailnum"]).unwrap().tail(5);
    check("concat", &DataFrame::concat_rows(&[&a, &b]).unwrap(), true);
}

#[test]
fn windows_match_pandas() {
    let w = sample()
        .select(&["dep_delay", "arr_delay", "distance"])
        .unwrap()
        .head(200);
    check(
        "rolling_mean",
        &w.rolling(5, None, WindowAgg::Mean).unwrap(),
        true,
    );
    check(
        "rolling_std_minp",
        &w.rolling(4, Some(2), WindowAgg::Std).unwrap(),
        true,
    );
    check(
        "expanding_max",
        &w.expanding(3, WindowAgg::Max).unwrap(),
        true,
    );
    check("cumsum", &w.cumulative(Cumulative::Sum).unwrap(), true);
    let shifted = w
        .shift(2)
        .rename(&[
            ("dep_delay", "dep_delay_shift"),
            ("arr_delay", "arr_delay_shift"),
            ("distance", "distance_shift"),
        ])
        .unwrap();
    let diffed = w
        .diff(1)
        .unwrap()
        .rename(&[
            ("dep_delay", "dep_delay_diff"),
            ("arr_delay", "arr_delay_diff"),
            ("distance", "distance_diff"),
        ])
        .unwrap();
    check(
        "shift_diff",
        &DataFrame::concat_columns(&[&shifted, &diffed]).unwrap(),
        true,
    );
}

#[test]
fn transpose_and_reduce_match_pandas() {
    let df = sample();
    let means = df
        .groupby(&["origin"])
        .unwrap()
        .agg(&[
            ("dep_delay", Agg::Mean),
            ("arr_delay", Agg::Mean),
            ("distance", Agg::Mean),
        ])
        .unwrap();
    check("transpose", &means.transpose().unwrap(), true);
    let stats = df
        .select(&["dep_delay", "arr_delay", "air_time", "distance"])
        .unwrap()
        .reduce(&[
            Agg::Count,
            Agg::Mean,
            Agg::Std,
            Agg::Min,
            Agg::Max,
            Agg::Median,
        ])
        .unwrap();
    check("describe_like", &stats, true);
}

// ---- Golden outputs computed by pandas on the whole flights file (tests/fixtures/full/).
// The file is not committed (8 MB); these tests run when it is present and skip otherwise.

/// The whole flights file, read once for all tests; `None` (with a note) when absent.
fn full() -> Option<&'static DataFrame> {
    static FULL: OnceLock<Option<DataFrame>> = OnceLock::new();
    FULL.get_or_init(|| {
        // `../shared/data/flights.csv.gz` relative to the workspace root.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flights.csv.gz");
        if !path.exists() {
            eprintln!(
                "skipping the full-file pandas fixtures: {} is absent. It is the project's shared \
                 data (nycflights13 `flights`); put it there, e.g. by cloning the workspace next \
                 to `shared/`, to run them.",
                path.display()
            );
            return None;
        }
        Some(read_csv(&path).expect("the full flights file"))
    })
    .as_ref()
}

/// Per column: non-missing count, and the sum (numbers) or the distinct count (text) —
/// how the fixtures summarise results too large to commit.
fn summary(df: &DataFrame) -> DataFrame {
    let (mut counts, mut sums, mut distinct) = (Vec::new(), Vec::new(), Vec::new());
    for name in df.names() {
        let col = df.column(name).unwrap();
        counts.push(Some((col.len() - col.null_count()) as f64));
        if matches!(col.dtype(), DType::Int64 | DType::Float64) {
            let sum: f64 = (0..col.len())
                .filter_map(|i| col.get(i).as_f64())
                .filter(|v| !v.is_nan())
                .sum();
            sums.push(Some(sum));
            distinct.push(None);
        } else {
            sums.push(None);
            let groups = df
                .select(&[name])
                .unwrap()
                .groupby(&[name])
                .unwrap()
                .size()
                .unwrap();
            distinct.push(Some(groups.nrows() as f64));
        }
    }
    DataFrame::new(vec![
        (
            "column",
            Column::from(df.names().iter().map(String::as_str).collect::<Vec<_>>()),
        ),
        ("count", Column::from(counts)),
        ("sum", Column::from(sums)),
        ("nunique", Column::from(distinct)),
    ])
    .unwrap()
}

fn mask_and(a: &[bool], b: &[bool]) -> Vec<bool> {
    a.iter().zip(b).map(|(x, y)| *x && *y).collect()
}

#[test]
fn full_file_schema_and_summary_match_pandas() {
    let Some(df) = full() else { return };
    let fx = fixture("full/shape_dtypes");
    assert_eq!(df.shape(), (336_776, 19));
    for r in 0..fx.nrows() {
        let (Value::Str(name), Value::Str(pandas), Value::Int(rows)) = (
            fx.get(r, "column").unwrap(),
            fx.get(r, "dtype").unwrap(),
            fx.get(r, "rows").unwrap(),
        ) else {
            panic!("fixture row {r}")
        };
        assert_eq!(rows as usize, df.nrows());
        check_dtype(df, &name, &pandas);
    }
    check("full/summary", &summary(df), false);
}

#[test]
fn full_file_groupbys_match_pandas() {
    let Some(df) = full() else { return };
    check("full/groupby_carrier", &carrier_aggregations(df), true);
    let out = df
        .groupby(&["origin", "month"])
        .unwrap()
        .agg_as(&[
            ("dep_delay", "dep_delay", Agg::Mean),
            ("n", "dep_delay", Agg::Size),
            ("arr_delay_max", "arr_delay", Agg::Max),
        ])
        .unwrap();
    check("full/groupby_origin_month", &out, true);
    let out = df
        .groupby(&["origin", "dest"])
        .unwrap()
        .agg_as(&[
            ("flights", "flight", Agg::Size),
            ("arr_delay", "arr_delay", Agg::Mean),
            ("carriers", "carrier", Agg::NUnique),
            ("distance", "distance", Agg::First),
        ])
        .unwrap();
    check("full/groupby_route", &out, true);
    // value_counts, ties in count broken by label.
    let counts = df
        .groupby(&["dest"])
        .unwrap()
        .as_index(false)
        .size()
        .unwrap()
        .rename(&[("size", "count")])
        .unwrap()
        .sort_by(&[SortKey::desc("count"), SortKey::asc("dest")])
        .unwrap();
    check("full/value_counts_dest", &counts, false);
    let jfk = df
        .column("origin")
        .unwrap()
        .compare(CmpOp::Eq, &Value::from("JFK"));
    let late = df
        .column("dep_delay")
        .unwrap()
        .compare(CmpOp::Gt, &Value::Int(60));
    let out = df
        .filter_mask(&mask_and(&late, &jfk))
        .unwrap()
        .groupby(&["carrier"])
        .unwrap()
        .agg_as(&[
            ("n", "dep_delay", Agg::Size),
            ("dep_delay", "dep_delay", Agg::Mean),
        ])
        .unwrap();
    check("full/filter_groupby", &out, true);
}

#[test]
fn full_file_sort_duplicates_and_reduce_match_pandas() {
    let Some(df) = full() else { return };
    let out = df
        .sort_by(&[SortKey::desc("dep_delay"), SortKey::asc("arr_delay")])
        .unwrap()
        .head(50)
        .select(&[
            "month",
            "day",
            "carrier",
            "flight",
            "dep_delay",
            "arr_delay",
        ])
        .unwrap();
    check("full/sort_head", &out, true);
    let out = df
        .drop_duplicates(Some(&["origin", "dest"]), Keep::First)
        .unwrap()
        .select(&["origin", "dest", "carrier", "flight"])
        .unwrap();
    check("full/drop_duplicates_routes", &out, true);
    let stats = df
        .select(&["dep_delay", "arr_delay", "air_time", "distance"])
        .unwrap()
        .reduce(&[
            Agg::Count,
            Agg::Mean,
            Agg::Std,
            Agg::Min,
            Agg::Max,
            Agg::Median,
        ])
        .unwrap();
    check("full/describe_like", &stats, true);
}

#[test]
fn full_file_merges_match_pandas() {
    let Some(df) = full() else { return };
    let routes = df
        .groupby(&["origin", "dest"])
        .unwrap()
        .as_index(false)
        .agg_as(&[("route_arr_delay", "arr_delay", Agg::Mean)])
        .unwrap();
    let left = df
        .select(&["origin", "dest", "carrier", "arr_delay"])
        .unwrap()
        .merge(
            &routes,
            &["origin", "dest"],
            &["origin", "dest"],
            JoinHow::Left,
        )
        .unwrap();
    assert_eq!(left.nrows(), df.nrows());
    check("full/merge_left_summary", &summary(&left), false);

    let per_carrier = df
        .groupby(&["carrier"])
        .unwrap()
        .as_index(false)
        .agg_as(&[("n", "flight", Agg::Size)])
        .unwrap();
    let busy = per_carrier
        .column("n")
        .unwrap()
        .compare(CmpOp::Gt, &Value::Int(20_000));
    let busy = per_carrier.filter_mask(&busy).unwrap();
    let inner = df
        .select(&["carrier", "tailnum", "distance"])
        .unwrap()
        .merge(&busy, &["carrier"], &["carrier"], JoinHow::Inner)
        .unwrap();
    check("full/merge_inner_summary", &summary(&inner), false);

    let from = |origin: &str| {
        let m = df
            .column("origin")
            .unwrap()
            .compare(CmpOp::Eq, &Value::from(origin));
        df.filter_mask(&m).unwrap()
    };
    let jfk = from("JFK")
        .select(&["dest", "carrier"])
        .unwrap()
        .drop_duplicates(None, Keep::First)
        .unwrap();
    let ewr = from("EWR")
        .select(&["dest", "tailnum"])
        .unwrap()
        .drop_duplicates(Some(&["dest"]), Keep::First)
        .unwrap();
    let outer = jfk
        .merge(&ewr, &["dest"], &["dest"], JoinHow::Outer)
        .unwrap();
    check("full/merge_outer_summary", &summary(&outer), false);
}
