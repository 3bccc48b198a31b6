//! Frames large enough to take the parallel paths (chunked factorization, per-chunk group
//! states, parallel gathers and sorts), checked against plain maps computed here.

use std::collections::{BTreeMap, HashMap, HashSet};

use stratus_frame::{Agg, Column, DataFrame, JoinHow, Keep, SortKey, Value};

const ROWS: usize = 200_000;

fn big() -> DataFrame {
    let k1: Vec<i64> = (0..ROWS).map(|i| (i * 7919 % 1000) as i64).collect();
    let k2: Vec<Option<String>> = (0..ROWS)
        .map(|i| (i % 101 != 0).then(|| format!("s{}", i % 37)))
        .collect();
    let v: Vec<Option<f64>> = (0..ROWS)
        .map(|i| (i % 53 != 0).then(|| ((i * 31) % 1000) as f64 / 8.0))
        .collect();
    DataFrame::new(vec![
        ("k1", Column::from_i64(k1)),
        (
            "k2",
            Column::from(k2.iter().map(|s| s.as_deref()).collect::<Vec<_>>()),
        ),
        ("v", Column::from(v)),
    ])
    .unwrap()
}

fn f(v: Value) -> Option<f64> {
    v.as_f64()
}

#[test]
fn groupby_on_many_rows_matches_a_map() {
    let df = big();
    let out = df
        .groupby(&["k1", "k2"])
        .unwrap()
        .agg(&[
            ("v", Agg::Sum),
            ("v", Agg::Count),
            ("v", Agg::Max),
            ("v", Agg::Mean),
        ])
        .unwrap()
        .from_labels()
        .unwrap();
    let mut want: BTreeMap<(i64, String), (f64, i64, f64)> = BTreeMap::new();
    for r in 0..ROWS {
        let (Value::Int(k1), Value::Str(k2)) = (df.get(r, "k1").unwrap(), df.get(r, "k2").unwrap())
        else {
            continue;
        };
        let e = want.entry((k1, k2)).or_insert((0.0, 0, f64::NEG_INFINITY));
        if let Some(v) = f(df.get(r, "v").unwrap()) {
            e.0 += v;
            e.1 += 1;
            e.2 = e.2.max(v);
        }
    }
    assert_eq!(out.nrows(), want.len());
    for (r, ((k1, k2), (sum, count, max))) in want.iter().enumerate() {
        assert_eq!(out.get(r, "k1").unwrap(), Value::Int(*k1));
        assert_eq!(out.get(r, "k2").unwrap(), Value::Str(k2.clone()));
        assert!((f(out.get(r, "v_sum").unwrap()).unwrap() - sum).abs() < 1e-6);
        assert_eq!(out.get(r, "v_count").unwrap(), Value::Int(*count));
        assert_eq!(f(out.get(r, "v_max").unwrap()).unwrap(), *max);
        assert!((f(out.get(r, "v_mean").unwrap()).unwrap() - sum / *count as f64).abs() < 1e-9);
    }
}

#[test]
fn sort_on_many_rows_is_ordered_and_stable() {
    let df = big();
    let out = df
        .sort_by(&[SortKey::desc("v"), SortKey::asc("k2").nulls_first()])
        .unwrap();
    assert_eq!(out.nrows(), ROWS);
    let labels: Vec<i64> = (0..ROWS)
        .map(|r| {
            if let Value::Int(i) = out.index().label(r)[0] {
                i
            } else {
                -1
            }
        })
        .collect();
    assert_eq!(
        labels.iter().collect::<HashSet<_>>().len(),
        ROWS,
        "a permutation"
    );
    for r in 1..ROWS {
        let (a, b) = (f(out.get(r - 1, "v").unwrap()), f(out.get(r, "v").unwrap()));
        match (a, b) {
            (Some(a), Some(b)) => {
                assert!(a >= b, "row {r}");
                if a == b {
                    let (x, y) = (out.get(r - 1, "k2").unwrap(), out.get(r, "k2").unwrap());
                    assert!(
                        x.is_null() || (!y.is_null() && x.total_cmp(&y).is_le()),
                        "row {r}"
                    );
                    if x == y {
                        assert!(labels[r - 1] < labels[r], "stable at row {r}");
                    }
                }
            }
            (None, Some(_)) => panic!("null before a value at row {r}"),
            _ => {}
        }
    }
}

#[test]
fn left_and_right_joins_on_unique_keys_match_a_map() {
    // A dimension table: one row per even key below 1,200, so some of `big()`'s keys
    // (0..1000) match and the odd ones do not; text and ints with nulls on the right.
    let keys: Vec<i64> = (0..600).map(|i| i * 2).collect();
    let names: Vec<Option<String>> = keys
        .iter()
        .map(|k| (k % 6 != 0).then(|| format!("name-{k}-{}", "x".repeat((*k as usize) % 23))))
        .collect();
    let dim = DataFrame::new(vec![
        ("k1", Column::from_i64(keys.clone())),
        (
            "name",
            Column::from(names.iter().map(|s| s.as_deref()).collect::<Vec<_>>()),
        ),
        ("w", Column::from_i64(keys.iter().map(|k| k * 10).collect())),
    ])
    .unwrap();
    let df = big();
    let name_of: HashMap<i64, Option<String>> = keys.iter().copied().zip(names).collect();
    let check = |out: &DataFrame| {
        assert_eq!(out.nrows(), ROWS);
        for r in (0..ROWS).step_by(97) {
            let Value::Int(k) = out.get(r, "k1").unwrap() else {
                panic!("row {r}: null key")
            };
            assert_eq!(out.get(r, "v").unwrap(), df.get(r, "v").unwrap(), "row {r}");
            match name_of.get(&k) {
                Some(name) => {
                    let want = name.clone().map_or(Value::Null, Value::Str);
                    assert_eq!(out.get(r, "name").unwrap(), want, "row {r}");
                    assert_eq!(out.get(r, "w").unwrap(), Value::Int(k * 10), "row {r}");
                }
                None => {
                    assert_eq!(out.get(r, "name").unwrap(), Value::Null, "row {r}");
                    assert_eq!(out.get(r, "w").unwrap(), Value::Null, "row {r}");
                }
            }
        }
    };
    // Every left row once, in left order.
    check(&df.merge(&dim, &["k1"], &["k1"], JoinHow::Left).unwrap());
    // The mirror image: a right join with the dimension on the left, then the big frame's
    // columns in its own order.
    let right = dim.merge(&df, &["k1"], &["k1"], JoinHow::Right).unwrap();
    check(&right);
}

#[test]
fn joins_and_duplicates_on_many_rows_match_maps() {
    let df = big();
    let right = DataFrame::new(vec![
        (
            "k1",
            Column::from_i64((0..3000).map(|i| (i % 1500) as i64 * 2).collect()),
        ),
        ("w", Column::from_i64((0..3000).collect())),
    ])
    .unwrap();
    let mut per_key: HashMap<i64, usize> = HashMap::new();
    for k in 0..3000i64 {
        *per_key.entry((k % 1500) * 2).or_default() += 1;
    }
    let keys: Vec<i64> = (0..ROWS)
        .map(|r| {
            if let Value::Int(k) = df.get(r, "k1").unwrap() {
                k
            } else {
                -1
            }
        })
        .collect();
    let inner: usize = keys
        .iter()
        .map(|k| per_key.get(k).copied().unwrap_or(0))
        .sum();
    let left: usize = keys
        .iter()
        .map(|k| per_key.get(k).copied().unwrap_or(1))
        .sum();
    assert_eq!(
        df.merge(&right, &["k1"], &["k1"], JoinHow::Inner)
            .unwrap()
            .nrows(),
        inner
    );
    let l = df.merge(&right, &["k1"], &["k1"], JoinHow::Left).unwrap();
    assert_eq!(l.nrows(), left);
    // Left order: the left rows' labels never go backwards.
    let outer = df.merge(&right, &["k1"], &["k1"], JoinHow::Outer).unwrap();
    let unmatched_right = (0..3000)
        .filter(|i| !keys.contains(&((i % 1500) as i64 * 2)))
        .count();
    assert_eq!(outer.nrows(), left + unmatched_right);
    let distinct: HashSet<(i64, Option<String>)> = (0..ROWS)
        .map(|r| {
            (
                keys[r],
                match df.get(r, "k2").unwrap() {
                    Value::Str(s) => Some(s),
                    _ => None,
                },
            )
        })
        .collect();
    assert_eq!(
        df.drop_duplicates(Some(&["k1", "k2"]), Keep::First)
            .unwrap()
            .nrows(),
        distinct.len()
    );
}

#[test]
fn categorical_csv_columns_equal_their_text() {
    // Several parallel chunks, a high-cardinality column, nulls: the categorical read must
    // hold exactly the text the plain read holds, with sorted categories.
    let mut text = String::from("id,tag\n");
    for i in 0..ROWS {
        let tag = if i % 97 == 0 {
            String::new()
        } else {
            format!("t{:05}", (i * 7919) % 30_011)
        };
        text.push_str(&format!("{i},{tag}\n"));
    }
    let plain =
        stratus_frame::read_csv_bytes(text.as_bytes(), &stratus_frame::CsvOptions::default())
            .unwrap();
    let options = stratus_frame::CsvOptions {
        categorical: vec!["tag".into()],
        ..stratus_frame::CsvOptions::default()
    };
    let cat = stratus_frame::read_csv_bytes(text.as_bytes(), &options).unwrap();
    let Column::Categorical(c) = cat.column("tag").unwrap() else {
        panic!("not categorical")
    };
    assert!(
        c.categories().windows(2).all(|w| w[0] < w[1]),
        "categories sorted and distinct"
    );
    let plain_tag = plain.column("tag").unwrap();
    for r in 0..ROWS {
        assert_eq!(cat.get(r, "tag").unwrap(), plain_tag.get(r), "row {r}");
    }
}
