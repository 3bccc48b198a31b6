//! Type conversion between columns (`astype`) and schema induction for `Mixed` columns.

use super::{Categorical, Column, Prim, Strings};
use crate::datetime;
use crate::dtype::DType;
use crate::error::{FrameError, Result};
use crate::value::Value;

impl Column {
    /// Converts to `target` (pandas' `astype`). Numbers convert between Int64, Float64 and
    /// Bool (a float must be integral to become an Int64); anything renders to Utf8; Utf8
    /// parses to numbers, bools (`true`/`false`, any case) and datetimes (ISO 8601); Utf8 and
    /// Categorical convert both ways; everything converts to Mixed. Nulls stay null. A value
    /// that does not convert is an error naming its row.
    pub fn cast(&self, target: DType) -> Result<Column> {
        self.cast_named("", target)
    }

    pub(crate) fn cast_named(&self, name: &str, target: DType) -> Result<Column> {
        if self.dtype() == target {
            return Ok(self.clone());
        }
        // Fast paths for the common numeric and string conversions.
        match (self, target) {
            (Column::Int64(p), DType::Float64) => return Ok(Column::Float64(p.map(|v| v as f64))),
            (Column::Bool(p), DType::Int64) => return Ok(Column::Int64(p.map(|v| v as i64))),
            (Column::Bool(p), DType::Float64) => {
                return Ok(Column::Float64(p.map(|v| v as i64 as f64)));
            }
            (Column::Int64(p), DType::Bool) => return Ok(Column::Bool(p.map(|v| v != 0))),
            (Column::Datetime(p), DType::Int64) => return Ok(Column::Int64(p.clone())),
            (Column::Int64(p), DType::Datetime) => return Ok(Column::Datetime(p.clone())),
            (Column::Utf8(s), DType::Categorical) => {
                return Ok(Column::Categorical(encode(self, s)));
            }
            (Column::Categorical(c), DType::Utf8) => {
                return Ok(Column::Utf8(Strings::from_options(
                    (0..c.len()).map(|i| c.get(i)),
                )));
            }
            (_, DType::Mixed) => return Ok(Column::Mixed(self.to_values())),
            _ => {}
        }
        let values = self.to_values();
        let mut converted = Vec::with_capacity(values.len());
        for (row, v) in values.into_iter().enumerate() {
            match convert(&v, target) {
                Some(c) => converted.push(c),
                None => {
                    return Err(FrameError::Conversion {
                        column: name.to_string(),
                        row,
                        value: v.to_string(),
                        target,
                    });
                }
            }
        }
        Ok(build(converted, target))
    }

    /// Schema induction (the paper's lazily induced domain): a `Mixed` column whose values
    /// all share one type (Int with Float counting as Float) becomes that typed column; one
    /// of `Mixed` strings that all parse as numbers becomes numeric. Other columns return
    /// unchanged.
    pub fn infer_type(&self) -> Column {
        let Column::Mixed(values) = self else {
            return self.clone();
        };
        let mut dtype: Option<DType> = None;
        for v in values {
            if let Some(t) = v.dtype() {
                dtype = Some(dtype.map_or(t, |d| d.promote(t)));
            }
        }
        match dtype {
            None | Some(DType::Mixed) => self.clone(),
            Some(t) => self.cast(t).unwrap_or_else(|_| self.clone()),
        }
    }
}

/// Dictionary-encodes a string column: factorize (parallel hashing), then order the
/// distinct values bytewise and renumber.
fn encode(col: &Column, s: &Strings) -> Categorical {
    if s.is_empty() {
        return Categorical::from_options(Vec::<Option<&str>>::new());
    }
    let groups = crate::factorize::factorize(&[col]);
    let mut uniques: Vec<usize> = (0..groups.len())
        .filter(|&g| s.is_valid(groups.first_rows[g]))
        .collect();
    uniques.sort_by(|&a, &b| s.raw(groups.first_rows[a]).cmp(s.raw(groups.first_rows[b])));
    let mut rank = vec![super::NULL_CODE; groups.len()];
    for (r, &g) in uniques.iter().enumerate() {
        rank[g] = r as u32;
    }
    let categories = uniques
        .iter()
        .map(|&g| s.raw(groups.first_rows[g]).to_string())
        .collect();
    let codes = groups.codes.iter().map(|&c| rank[c as usize]).collect();
    Categorical {
        codes,
        categories: std::sync::Arc::new(categories),
    }
}

/// One value converted to `target`; `None` when it does not fit.
fn convert(v: &Value, target: DType) -> Option<Value> {
    if v.is_null() {
        return Some(Value::Null);
    }
    Some(match target {
        DType::Int64 => Value::Int(match v {
            Value::Int(i) => *i,
            Value::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.2e18 => *f as i64,
            Value::Bool(b) => *b as i64,
            Value::Datetime(d) => *d,
            Value::Str(s) => s.trim().parse().ok()?,
            _ => return None,
        }),
        DType::Float64 => Value::Float(match v {
            Value::Str(s) => parse_float(s.trim())?,
            other => other.as_f64()?,
        }),
        DType::Bool => Value::Bool(match v {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) if s.eq_ignore_ascii_case("true") => true,
            Value::Str(s) if s.eq_ignore_ascii_case("false") => false,
            _ => return None,
        }),
        DType::Datetime => Value::Datetime(match v {
            Value::Datetime(d) | Value::Int(d) => *d,
            Value::Str(s) => datetime::parse(s.trim())?,
            _ => return None,
        }),
        DType::Utf8 | DType::Categorical => Value::Str(v.to_string()),
        DType::Mixed => v.clone(),
    })
}

/// Parses a float the way pandas' CSV reader does, including `nan`/`inf` spellings.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    match s {
        "nan" | "NaN" | "NAN" => Some(f64::NAN),
        "inf" | "Inf" | "+inf" | "infinity" | "Infinity" => Some(f64::INFINITY),
        "-inf" | "-Inf" | "-infinity" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// A typed column from values already converted to `target`.
fn build(values: Vec<Value>, target: DType) -> Column {
    match target {
        DType::Int64 => Column::Int64(Prim::from_options(values.iter().map(|v| {
            if let Value::Int(i) = v {
                Some(*i)
            } else {
                None
            }
        }))),
        DType::Float64 => Column::Float64(Prim::from_options(values.iter().map(|v| {
            if let Value::Float(f) = v {
                Some(*f)
            } else {
                None
            }
        }))),
        DType::Bool => Column::Bool(Prim::from_options(values.iter().map(|v| {
            if let Value::Bool(b) = v {
                Some(*b)
            } else {
                None
            }
        }))),
        DType::Datetime => Column::Datetime(Prim::from_options(values.iter().map(|v| {
            if let Value::Datetime(d) = v {
                Some(*d)
            } else {
                None
            }
        }))),
        DType::Utf8 => Column::Utf8(Strings::from_options(values.iter().map(|v| {
            if let Value::Str(s) = v {
                Some(s.as_str())
            } else {
                None
            }
        }))),
        DType::Categorical => {
            Column::Categorical(Categorical::from_options(values.iter().map(|v| {
                if let Value::Str(s) = v {
                    Some(s.as_str())
                } else {
                    None
                }
            })))
        }
        DType::Mixed => Column::Mixed(values),
    }
}
