//! Every operator against the row-at-a-time reference implementation, on random frames with
//! nulls, NaN, repeated keys and empty frames. Failing cases are shrunk and printed by
//! proptest (re-run with the printed seed via PROPTEST_SEED... or the persisted regression).

mod reference;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use reference::{Table, assert_same};
use stratus_frame::{Agg, Column, Cumulative, DataFrame, Keep, SortKey, Value, WindowAgg};

const N: usize = 24;

/// Frames with columns k (Int64, nulls), s (Utf8, nulls), x (Float64, nulls and NaN) and
/// y (Int64, no nulls).
fn frame(max_rows: usize) -> impl Strategy<Value = DataFrame> {
    (0..=max_rows).prop_flat_map(|n| {
        (
            vec(option::of(0i64..4), n),
            vec(option::of(prop_oneof![Just("a"), Just("b"), Just("c"), Just("")]), n),
            vec(prop_oneof![3 => (-4i32..5).prop_map(|x| Some(x as f64 / 2.0)), 1 => Just(None), 1 => Just(Some(f64::NAN))], n),
            vec(-5i64..6, n),
        )
            .prop_map(|(k, s, x, y)| {
                DataFrame::new(vec![
                    ("k", Column::from(k)),
                    ("s", Column::from(s)),
                    ("x", Column::from(x)),
                    ("y", Column::from(y)),
                ])
                .expect("columns of one length")
            })
    })
}

fn aggs() -> impl Strategy<Value = Vec<(&'static str, Agg)>> {
    let all = [
        Agg::Sum,
        Agg::Mean,
        Agg::Min,
        Agg::Max,
        Agg::Count,
        Agg::Size,
        Agg::Std,
        Agg::Var,
        Agg::First,
        Agg::Last,
        Agg::NUnique,
        Agg::Median,
    ];
    let numeric = vec(
        (
            prop_oneof![Just("x"), Just("y")],
            proptest::sample::select(all.to_vec()),
        ),
        1..4,
    );
    let text = vec(
        (
            Just("s"),
            proptest::sample::select(vec![
                Agg::Min,
                Agg::Max,
                Agg::Count,
                Agg::First,
                Agg::Last,
                Agg::NUnique,
                Agg::Size,
            ]),
        ),
        0..2,
    );
    (numeric, text).prop_map(|(mut a, b)| {
        a.extend(b);
        a.sort_by_key(|(c, g)| (*c, g.name()));
        a.dedup();
        a
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn groupby_matches_reference(
        df in frame(N),
        keys in proptest::sample::select(vec![vec!["k"], vec!["s"], vec!["k", "s"], vec!["x"], vec!["s", "x"]]),
        specs in aggs(),
        dropna in any::<bool>(),
    ) {
        let out = df.groupby(&keys).unwrap().dropna(dropna).agg(&specs).unwrap();
        let expected = reference::groupby(&Table::of(&df), &keys, &specs, dropna);
        assert_same(&Table::of(&out), &expected);
    }

    #[test]
    fn sort_matches_reference(
        df in frame(N),
        keys in vec((proptest::sample::select(vec!["k", "s", "x", "y"]), any::<bool>(), any::<bool>()), 1..4),
    ) {
        let spec: Vec<SortKey> = keys.iter().map(|&(c, d, nf)| SortKey { column: c.into(), descending: d, nulls_first: nf }).collect();
        let out = df.sort_by(&spec).unwrap();
        assert_same(&Table::of(&out), &reference::sort(&Table::of(&df), &keys));
    }

    #[test]
    fn merge_matches_reference(l in frame(12), r in frame(12), how in proptest::sample::select(vec!["inner", "left", "right", "outer"])) {
        let r = r.rename(&[("s", "t")]).unwrap();
        let h = match how { "inner" => stratus_frame::JoinHow::Inner, "left" => stratus_frame::JoinHow::Left, "right" => stratus_frame::JoinHow::Right, _ => stratus_frame::JoinHow::Outer };
        let out = l.merge(&r, &["k"], &["k"], h).unwrap();
        assert_same(&Table::of(&out), &reference::merge(&Table::of(&l), &Table::of(&r), "k", how));
    }

    #[test]
    fn merge_on_unique_keys_matches_reference(l in frame(12), r in frame(12), how in proptest::sample::select(vec!["inner", "left", "right", "outer"])) {
        // One row per key on the other side: the `m:1` / `1:m` shape that joins a fact table to
        // a dimension table, which takes a lookup path of its own.
        let r = r.rename(&[("s", "t")]).unwrap().drop_duplicates(Some(&["k"]), Keep::First).unwrap();
        let l = if how == "right" { l.drop_duplicates(Some(&["k"]), Keep::Last).unwrap() } else { l };
        let h = match how { "inner" => stratus_frame::JoinHow::Inner, "left" => stratus_frame::JoinHow::Left, "right" => stratus_frame::JoinHow::Right, _ => stratus_frame::JoinHow::Outer };
        let out = l.merge(&r, &["k"], &["k"], h).unwrap();
        assert_same(&Table::of(&out), &reference::merge(&Table::of(&l), &Table::of(&r), "k", how));
    }

    #[test]
    fn selection_matches_reference(df in frame(N), picks in vec(any::<prop::sample::Index>(), 0..10), mask_bits in vec(any::<bool>(), N)) {
        let t = Table::of(&df);
        let n = df.nrows();
        if n > 0 {
            let rows: Vec<usize> = picks.iter().map(|p| p.index(n)).collect();
            assert_same(&Table::of(&df.take(&rows).unwrap()), &reference::take(&t, &rows));
            // loc by the labels those positions carry.
            let labels: Vec<Vec<Value>> = rows.iter().map(|&r| vec![Value::Int(r as i64)]).collect();
            assert_same(&Table::of(&df.loc(&labels).unwrap()), &reference::take(&t, &rows));
        }
        let mask = &mask_bits[..n];
        let kept: Vec<usize> = (0..n).filter(|&i| mask[i]).collect();
        assert_same(&Table::of(&df.filter_mask(mask).unwrap()), &reference::take(&t, &kept));
        let head: Vec<usize> = (0..n.min(3)).collect();
        assert_same(&Table::of(&df.head(3)), &reference::take(&t, &head));
        let tail: Vec<usize> = (n.saturating_sub(3)..n).collect();
        assert_same(&Table::of(&df.tail(3)), &reference::take(&t, &tail));
        let proj = df.select(&["y", "s"]).unwrap();
        let pt = Table::of(&proj);
        prop_assert_eq!(pt.names.clone(), vec!["y".to_string(), "s".to_string()]);
        for (r, row) in pt.rows.iter().enumerate() {
            prop_assert_eq!(row, &vec![t.rows[r][3].clone(), t.rows[r][1].clone()]);
        }
        // Filter by predicate: nulls never match.
        let f = df.filter("x", |v| v.as_f64().is_some_and(|x| x > 0.0)).unwrap();
        let want: Vec<usize> = (0..n).filter(|&i| t.rows[i][2].as_f64().is_some_and(|x| x > 0.0)).collect();
        assert_same(&Table::of(&f), &reference::take(&t, &want));
    }

    #[test]
    fn maps_match_reference(df in frame(N)) {
        let t = Table::of(&df);
        let cells = df.map_cells(|v| match v { Value::Int(i) => Value::Int(i * 2), Value::Str(s) => Value::Str(s.to_uppercase()), other => other.clone() });
        for (r, row) in Table::of(&cells).rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let want = match &t.rows[r][c] { Value::Int(i) => Value::Int(i * 2), Value::Str(s) => Value::Str(s.to_uppercase()), o => o.clone() };
                prop_assert!(reference::same(v, &want), "cell ({r},{c}): {v:?} vs {want:?}");
            }
        }
        let rows = df.map_rows(|row| Value::Int(row.iter().filter(|v| v.is_missing()).count() as i64));
        for r in 0..df.nrows() {
            prop_assert_eq!(rows.get(r), Value::Int(t.rows[r].iter().filter(|v| v.is_missing()).count() as i64));
        }
        let doubled = df.map_f64("y", |v| v * 2.0).unwrap();
        for r in 0..df.nrows() {
            prop_assert!(reference::same(&doubled.get(r), &Value::Float(t.rows[r][3].as_f64().unwrap() * 2.0)));
        }
    }

    #[test]
    fn windows_match_reference(df in frame(N), window in 1usize..5, minp in 0usize..5, periods in -3i64..4) {
        let t = Table::of(&df);
        let nums = df.select(&["x", "y"]).unwrap();
        let minp = minp.min(window);
        for (agg, name) in [(WindowAgg::Sum, "sum"), (WindowAgg::Mean, "mean"), (WindowAgg::Min, "min"), (WindowAgg::Max, "max"), (WindowAgg::Count, "count"), (WindowAgg::Std, "std"), (WindowAgg::Var, "var")] {
            let out = Table::of(&nums.rolling(window, Some(minp), agg).unwrap());
            let exp = Table::of(&nums.expanding(minp, agg).unwrap());
            for (c, src) in [2usize, 3].iter().enumerate() {
                let col: Vec<Value> = t.rows.iter().map(|r| r[*src].clone()).collect();
                let want = reference::rolling(&col, window, minp, name);
                let got: Vec<Value> = out.rows.iter().map(|r| r[c].clone()).collect();
                prop_assert!(reference::same_rows(std::slice::from_ref(&got), std::slice::from_ref(&want)), "rolling {name} w={window} minp={minp}: {got:?} vs {want:?}");
                let want = reference::rolling(&col, col.len().max(1), minp, name);
                let got: Vec<Value> = exp.rows.iter().map(|r| r[c].clone()).collect();
                prop_assert!(reference::same_rows(std::slice::from_ref(&got), std::slice::from_ref(&want)), "expanding {name}: {got:?} vs {want:?}");
            }
        }
        let n = df.nrows() as i64;
        let shifted = Table::of(&df.shift(periods));
        let diffed = Table::of(&nums.diff(periods).unwrap());
        for i in 0..n {
            let src = i - periods;
            let inside = (0..n).contains(&src);
            for c in 0..4 {
                let want = if inside { t.rows[src as usize][c].clone() } else { Value::Null };
                prop_assert!(reference::same(&shifted.rows[i as usize][c], &want));
            }
            for (c, col) in [2usize, 3].iter().enumerate() {
                let want = if inside {
                    match (t.rows[i as usize][*col].as_f64(), t.rows[src as usize][*col].as_f64()) {
                        (Some(a), Some(b)) => Value::Float(a - b),
                        _ => Value::Null,
                    }
                } else { Value::Null };
                prop_assert!(reference::same(&diffed.rows[i as usize][c], &want), "diff row {i}");
            }
        }
        for (op, f) in [(Cumulative::Sum, (|a: f64, b: f64| a + b) as fn(f64, f64) -> f64), (Cumulative::Prod, |a, b| a * b), (Cumulative::Min, f64::min), (Cumulative::Max, f64::max)] {
            let out = Table::of(&nums.cumulative(op).unwrap());
            for (c, col) in [2usize, 3].iter().enumerate() {
                let mut acc: Option<f64> = None;
                for i in 0..df.nrows() {
                    let v = &t.rows[i][*col];
                    let want = if v.is_missing() { Value::Null } else {
                        let x = v.as_f64().unwrap();
                        acc = Some(acc.map_or(x, |a| f(a, x)));
                        Value::Float(acc.unwrap())
                    };
                    prop_assert!(reference::same(&out.rows[i][c], &want), "cumulative {op:?} row {i}");
                }
            }
        }
    }

    #[test]
    fn distinct_matches_reference(df in frame(N), other in frame(8), keep in proptest::sample::select(vec![Keep::First, Keep::Last, Keep::None])) {
        let t = Table::of(&df);
        let sub = ["k", "s"];
        let key = |r: &Vec<Value>| vec![r[0].clone(), r[1].clone()];
        let dup = |i: usize, j: usize| reference::key_eq(&key(&t.rows[i]), &key(&t.rows[j]));
        let n = df.nrows();
        let want: Vec<usize> = (0..n).filter(|&i| match keep {
            Keep::First => !(0..i).any(|j| dup(i, j)),
            Keep::Last => !(i + 1..n).any(|j| dup(i, j)),
            Keep::None => !(0..n).any(|j| j != i && dup(i, j)),
        }).collect();
        assert_same(&Table::of(&df.drop_duplicates(Some(&sub), keep).unwrap()), &reference::take(&t, &want));
        let o = Table::of(&other);
        let want: Vec<usize> = (0..n).filter(|&i| !o.rows.iter().any(|r| reference::key_eq(r, &t.rows[i]))).collect();
        assert_same(&Table::of(&df.difference(&other).unwrap()), &reference::take(&t, &want));
    }

    #[test]
    fn concat_matches_reference(a in frame(10), b in frame(10)) {
        let b2 = b.drop(&["y"]).unwrap().rename(&[("x", "z")]).unwrap();
        let out = Table::of(&DataFrame::concat_rows(&[&a, &b2]).unwrap());
        prop_assert_eq!(out.names.clone(), vec!["k", "s", "x", "y", "z"]);
        let (ta, tb) = (Table::of(&a), Table::of(&b2));
        let mut want: Vec<Vec<Value>> = ta.rows.iter().map(|r| { let mut r = r.clone(); r.push(Value::Null); r }).collect();
        want.extend(tb.rows.iter().map(|r| vec![r[0].clone(), r[1].clone(), Value::Null, Value::Null, r[2].clone()]));
        prop_assert!(reference::same_rows(&out.rows, &want));
        let labels: Vec<Vec<Value>> = (0..a.nrows()).chain(0..b.nrows()).map(|i| vec![Value::Int(i as i64)]).collect();
        prop_assert!(reference::same_rows(&out.labels, &labels));
        // Side by side: aligned on labels; b filtered so labels differ.
        let b3 = b.select(&["y"]).unwrap().rename(&[("y", "w")]).unwrap();
        let keep: Vec<bool> = (0..b3.nrows()).map(|i| i % 2 == 0).collect();
        let b3 = b3.filter_mask(&keep).unwrap();
        let side = Table::of(&DataFrame::concat_columns(&[&a, &b3]).unwrap());
        let tb3 = Table::of(&b3);
        let mut labels: Vec<i64> = (0..a.nrows() as i64).collect();
        for l in &tb3.labels {
            if let Value::Int(i) = l[0] && !labels.contains(&i) {
                labels.push(i);
            }
        }
        prop_assert_eq!(side.rows.len(), labels.len());
        for (r, &lab) in labels.iter().enumerate() {
            let left = if (lab as usize) < a.nrows() { ta.rows[lab as usize].clone() } else { vec![Value::Null; 4] };
            let right = tb3.labels.iter().position(|l| l[0] == Value::Int(lab)).map_or(Value::Null, |p| tb3.rows[p][0].clone());
            let mut want = left; want.push(right);
            prop_assert!(reference::same_rows(&[side.rows[r].clone()], &[want]));
        }
    }

    #[test]
    fn transpose_and_labels_match_reference(df in frame(8)) {
        let t = Table::of(&df);
        let tr = df.transpose().unwrap();
        let tt = Table::of(&tr);
        prop_assert_eq!(tt.names.clone(), (0..df.nrows()).map(|i| i.to_string()).collect::<Vec<_>>());
        for (c, name) in t.names.iter().enumerate() {
            prop_assert_eq!(&tt.labels[c], &vec![Value::Str(name.clone())]);
            for r in 0..df.nrows() {
                prop_assert!(reference::same(&tt.rows[c][r], &t.rows[r][c]) || tt.rows[c][r] == Value::Str(t.rows[r][c].to_string()));
            }
        }
        // Twice transposed, with types induced again, gives the values back.
        let back = Table::of(&tr.transpose().unwrap().infer_types());
        prop_assert!(reference::same_rows(&back.rows, &t.rows));
        // to_labels then from_labels is the identity up to column order.
        let labelled = df.to_labels(&["k", "s"]).unwrap();
        prop_assert_eq!(labelled.names().to_vec(), vec!["x".to_string(), "y".to_string()]);
        let restored = Table::of(&labelled.from_labels().unwrap());
        prop_assert!(reference::same_rows(&restored.rows, &t.rows));
        prop_assert_eq!(restored.names, t.names.clone());
    }

    #[test]
    fn explode_matches_reference(cells in vec(option::of("[ab,]{0,5}"), 0..10)) {
        let df = DataFrame::new(vec![("id", Column::from_i64((0..cells.len() as i64).collect())), ("c", Column::from(cells.iter().map(|c| c.as_deref()).collect::<Vec<_>>()))]).unwrap();
        let out = Table::of(&df.explode("c", ",").unwrap());
        let mut want = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            match c {
                None => want.push(vec![Value::Int(i as i64), Value::Null]),
                Some(s) => want.extend(s.split(',').map(|p| vec![Value::Int(i as i64), Value::Str(p.to_string())])),
            }
        }
        prop_assert_eq!(out.rows, want);
    }

    #[test]
    fn csv_and_arrow_round_trip(df in frame(N)) {
        let batch = df.to_arrow().unwrap();
        let back = DataFrame::from_arrow(&batch).unwrap();
        prop_assert!(reference::same_rows(&back.to_rows(), &df.to_rows()));
        prop_assert_eq!(back.dtypes(), df.dtypes());
        let mut buf = Vec::new();
        df.write_csv_to(&mut buf).unwrap();
        let read = stratus_frame::read_csv_bytes(&buf, &stratus_frame::CsvOptions::default()).unwrap();
        // CSV cannot tell "" from null (pandas reads both as NaN), so compare with that folded.
        let fold = |rows: Vec<Vec<Value>>| -> Vec<Vec<Value>> {
            rows.into_iter().map(|r| r.into_iter().map(|v| if v == Value::Str(String::new()) { Value::Null } else { v }).collect()).collect()
        };
        prop_assert_eq!(read.nrows(), df.nrows());
        if df.nrows() > 0 {
            prop_assert!(reference::same_rows(&fold(read.to_rows()), &fold(df.to_rows())), "{:?} vs {:?}", read.to_rows(), df.to_rows());
        }
    }
}
