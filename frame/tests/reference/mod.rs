//! A row-at-a-time reference implementation of the operators, written for clarity only.
//! The property tests compare the partitioned, parallel implementation against it.

#![allow(dead_code)]

use std::cmp::Ordering;

use stratus_frame::{Agg, DataFrame, Value};

/// A frame as plain rows: labels (one value per level), column names, row-major cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub(crate) labels: Vec<Vec<Value>>,
    pub(crate) names: Vec<String>,
    pub(crate) rows: Vec<Vec<Value>>,
}

impl Table {
    pub(crate) fn of(df: &DataFrame) -> Table {
        Table {
            labels: (0..df.nrows()).map(|i| df.index().label(i)).collect(),
            names: df.names().to_vec(),
            rows: df.to_rows(),
        }
    }

    pub(crate) fn col(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .expect("known column")
    }
}

pub(crate) fn missing(v: &Value) -> bool {
    v.is_missing()
}

/// Values equal for testing: numbers by value with a relative tolerance, missing equals
/// missing (pandas' NA), Int equals the same Float.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (x, y) if x.is_missing() && y.is_missing() => true,
        (x, y) if x.is_missing() || y.is_missing() => false,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            x == y
                || (x.is_finite()
                    && y.is_finite()
                    && (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())))
        }
        _ => a == b,
    }
}

pub(crate) fn same_rows(a: &[Vec<Value>], b: &[Vec<Value>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)))
}

/// Asserts two tables agree (labels, names, cells), printing both on failure.
pub(crate) fn assert_same(actual: &Table, expected: &Table) {
    assert_eq!(actual.names, expected.names, "column labels");
    assert!(
        same_rows(&actual.rows, &expected.rows),
        "cells differ\nactual:   {:?}\nexpected: {:?}",
        actual.rows,
        expected.rows
    );
    assert!(
        same_rows(&actual.labels, &expected.labels),
        "labels differ\nactual:   {:?}\nexpected: {:?}",
        actual.labels,
        expected.labels
    );
}

/// Orders values like sorting does: missing last, numbers by value, strings bytewise.
pub(crate) fn cmp_nulls_last(a: &Value, b: &Value) -> Ordering {
    match (missing(a), missing(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.total_cmp(b),
    }
}

/// Key equality for grouping and joining: null equals null, NaN equals NaN.
pub(crate) fn key_eq(a: &[Value], b: &[Value]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| x.key_eq(y) || (missing(x) && missing(y)))
}

pub(crate) fn aggregate(values: &[Value], agg: Agg) -> Value {
    let present: Vec<&Value> = values.iter().filter(|v| !missing(v)).collect();
    let floats: Vec<f64> = present.iter().filter_map(|v| v.as_f64()).collect();
    let n = floats.len() as f64;
    match agg {
        Agg::Size => Value::Int(values.len() as i64),
        Agg::Count => Value::Int(present.len() as i64),
        Agg::Sum => {
            if values.iter().any(|v| matches!(v, Value::Float(_))) {
                Value::Float(floats.iter().sum())
            } else {
                Value::Int(present.iter().map(|v| v.as_f64().unwrap() as i64).sum())
            }
        }
        Agg::Mean => {
            if present.is_empty() {
                Value::Null
            } else {
                Value::Float(floats.iter().sum::<f64>() / n)
            }
        }
        Agg::Var | Agg::Std => {
            if floats.len() < 2 {
                return Value::Null;
            }
            let mean = floats.iter().sum::<f64>() / n;
            let var = floats.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
            Value::Float(if agg == Agg::Std { var.sqrt() } else { var })
        }
        Agg::Min => present
            .iter()
            .min_by(|a, b| a.total_cmp(b))
            .map_or(Value::Null, |v| (*v).clone()),
        Agg::Max => present
            .iter()
            .max_by(|a, b| a.total_cmp(b))
            .map_or(Value::Null, |v| (*v).clone()),
        Agg::First => present.first().map_or(Value::Null, |v| (*v).clone()),
        Agg::Last => present.last().map_or(Value::Null, |v| (*v).clone()),
        Agg::NUnique => {
            let mut seen: Vec<&Value> = Vec::new();
            for v in &present {
                if !seen.iter().any(|s| s.key_eq(v)) {
                    seen.push(v);
                }
            }
            Value::Int(seen.len() as i64)
        }
        Agg::Median => {
            if floats.is_empty() {
                return Value::Null;
            }
            let mut f = floats.clone();
            f.sort_by(f64::total_cmp);
            let m = f.len() / 2;
            Value::Float(if f.len() % 2 == 1 {
                f[m]
            } else {
                (f[m - 1] + f[m]) / 2.0
            })
        }
    }
}

/// group-by with pandas defaults: groups sorted by key (missing last), missing keys
/// dropped unless `dropna` is false; keys become the index.
pub(crate) fn groupby(t: &Table, keys: &[&str], specs: &[(&str, Agg)], dropna: bool) -> Table {
    let kc: Vec<usize> = keys.iter().map(|k| t.col(k)).collect();
    let mut groups: Vec<(Vec<Value>, Vec<usize>)> = Vec::new();
    for (r, row) in t.rows.iter().enumerate() {
        let key: Vec<Value> = kc.iter().map(|&c| row[c].clone()).collect();
        if dropna && key.iter().any(missing) {
            continue;
        }
        match groups.iter_mut().find(|(k, _)| key_eq(k, &key)) {
            Some((_, rows)) => rows.push(r),
            None => groups.push((key, vec![r])),
        }
    }
    groups.sort_by(|(a, _), (b, _)| {
        a.iter()
            .zip(b)
            .map(|(x, y)| cmp_nulls_last(x, y))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    let names = specs
        .iter()
        .map(|&(c, a)| {
            if specs.iter().filter(|(c2, _)| *c2 == c).count() > 1 {
                format!("{c}_{}", a.name())
            } else {
                c.to_string()
            }
        })
        .collect();
    Table {
        labels: groups.iter().map(|(k, _)| k.clone()).collect(),
        names,
        rows: groups
            .iter()
            .map(|(_, rows)| {
                specs
                    .iter()
                    .map(|&(c, a)| {
                        let ci = t.col(c);
                        aggregate(
                            &rows
                                .iter()
                                .map(|&r| t.rows[r][ci].clone())
                                .collect::<Vec<_>>(),
                            a,
                        )
                    })
                    .collect()
            })
            .collect(),
    }
}

/// Stable multi-key sort: (column, descending, nulls_first).
pub(crate) fn sort(t: &Table, keys: &[(&str, bool, bool)]) -> Table {
    let mut order: Vec<usize> = (0..t.rows.len()).collect();
    order.sort_by(|&a, &b| {
        for &(k, desc, nf) in keys {
            let c = t.col(k);
            let (x, y) = (&t.rows[a][c], &t.rows[b][c]);
            let o = match (missing(x), missing(y)) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if nf {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if nf {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                _ => {
                    let o = x.total_cmp(y);
                    if desc { o.reverse() } else { o }
                }
            };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    });
    take(t, &order)
}

pub(crate) fn take(t: &Table, rows: &[usize]) -> Table {
    Table {
        labels: rows.iter().map(|&r| t.labels[r].clone()).collect(),
        names: t.names.clone(),
        rows: rows.iter().map(|&r| t.rows[r].clone()).collect(),
    }
}

/// pandas' merge on one key column of the same name on both sides.
pub(crate) fn merge(l: &Table, r: &Table, key: &str, how: &str) -> Table {
    let (lk, rk) = (l.col(key), r.col(key));
    let eq = |a: &Value, b: &Value| a.key_eq(b) || (missing(a) && missing(b));
    let mut pairs: Vec<(Option<usize>, Option<usize>)> = Vec::new();
    if how == "right" {
        for (j, rr) in r.rows.iter().enumerate() {
            let m: Vec<usize> = (0..l.rows.len())
                .filter(|&i| eq(&l.rows[i][lk], &rr[rk]))
                .collect();
            if m.is_empty() {
                pairs.push((None, Some(j)));
            }
            pairs.extend(m.into_iter().map(|i| (Some(i), Some(j))));
        }
    } else {
        for (i, lr) in l.rows.iter().enumerate() {
            let m: Vec<usize> = (0..r.rows.len())
                .filter(|&j| eq(&lr[lk], &r.rows[j][rk]))
                .collect();
            if m.is_empty() && how != "inner" {
                pairs.push((Some(i), None));
            }
            pairs.extend(m.into_iter().map(|j| (Some(i), Some(j))));
        }
        if how == "outer" {
            for j in 0..r.rows.len() {
                if !pairs.iter().any(|p| p.1 == Some(j)) {
                    pairs.push((None, Some(j)));
                }
            }
            let key_of = |p: &(Option<usize>, Option<usize>)| match p {
                (Some(i), _) => l.rows[*i][lk].clone(),
                (None, Some(j)) => r.rows[*j][rk].clone(),
                _ => unreachable!(),
            };
            pairs.sort_by(|a, b| cmp_nulls_last(&key_of(a), &key_of(b)));
        }
    }
    let mut names = Vec::new();
    for n in &l.names {
        names.push(if n != key && r.names.contains(n) {
            format!("{n}_x")
        } else {
            n.clone()
        });
    }
    for n in &r.names {
        if n != key {
            names.push(if l.names.contains(n) {
                format!("{n}_y")
            } else {
                n.clone()
            });
        }
    }
    let rows = pairs
        .iter()
        .map(|&(i, j)| {
            let mut row: Vec<Value> = match i {
                Some(i) => l.rows[i].clone(),
                None => vec![Value::Null; l.names.len()],
            };
            if i.is_none() {
                row[lk] = r.rows[j.unwrap()][rk].clone();
            }
            for (c, n) in r.names.iter().enumerate() {
                if n != key {
                    row.push(j.map_or(Value::Null, |j| r.rows[j][c].clone()));
                }
            }
            row
        })
        .collect::<Vec<_>>();
    Table {
        labels: (0..rows.len())
            .map(|i| vec![Value::Int(i as i64)])
            .collect(),
        names,
        rows,
    }
}

/// Rolling aggregation of one series (missing values skipped).
pub(crate) fn rolling(
    values: &[Value],
    window: usize,
    min_periods: usize,
    agg: &str,
) -> Vec<Value> {
    (0..values.len())
        .map(|i| {
            let lo = (i + 1).saturating_sub(window);
            let w: Vec<f64> = values[lo..=i]
                .iter()
                .filter(|v| !missing(v))
                .filter_map(|v| v.as_f64())
                .collect();
            let n = w.len();
            if agg == "count" {
                return if n >= min_periods {
                    Value::Float(n as f64)
                } else {
                    Value::Null
                };
            }
            if n < min_periods.max(1) {
                return Value::Null;
            }
            let sum: f64 = w.iter().sum();
            match agg {
                "sum" => Value::Float(sum),
                "mean" => Value::Float(sum / n as f64),
                "min" => Value::Float(w.iter().copied().fold(f64::INFINITY, f64::min)),
                "max" => Value::Float(w.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                "var" | "std" => {
                    if n < 2 {
                        return Value::Null;
                    }
                    let mean = sum / n as f64;
                    let var =
                        w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n as f64 - 1.0);
                    Value::Float(if agg == "std" { var.sqrt() } else { var })
                }
                _ => unreachable!(),
            }
        })
        .collect()
}
