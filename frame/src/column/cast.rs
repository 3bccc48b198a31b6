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
    parse_float_bytes(s.as_bytes())
}

/// [`parse_float`] on UTF-8 bytes.
pub(crate) fn parse_float_bytes(b: &[u8]) -> Option<f64> {
    if let Some(v) = short_decimal(b) {
        return Some(v);
    }
    match b {
        b"nan" | b"NaN" | b"NAN" => Some(f64::NAN),
        b"inf" | b"Inf" | b"+inf" | b"infinity" | b"Infinity" => Some(f64::INFINITY),
        b"-inf" | b"-Inf" | b"-infinity" | b"-Infinity" => Some(f64::NEG_INFINITY),
        _ => std::str::from_utf8(b).ok()?.parse().ok(),
    }
}

/// Powers of ten that are exact in an `f64`.
const EXACT_POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `[+-]digits[.digits]` with at most 15 digits, the shape nearly every CSV float has.
/// Both the digits (below 2^53) and the power of ten are exact, so one division is
/// correctly rounded: the same value `str::parse` gives, several times faster. Anything
/// else is `None` and goes to `str::parse`.
fn short_decimal(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut count = 0;
    let mut frac: Option<usize> = None;
    for &c in digits {
        if c == b'.' {
            if frac.is_some() {
                return None;
            }
            frac = Some(0);
            continue;
        }
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(d);
        count += 1;
        if let Some(f) = &mut frac {
            *f += 1;
        }
    }
    if count == 0 || count > 15 {
        return None;
    }
    let v = mantissa as f64 / EXACT_POW10[frac.unwrap_or(0)];
    Some(if neg { -v } else { v })
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn std_parse(s: &str) -> Option<u64> {
        s.parse::<f64>().ok().map(f64::to_bits)
    }

    #[test]
    fn short_decimals_match_std_parse() {
        for s in [
            "0",
            "-0",
            "-0.0",
            "1.",
            ".5",
            "+2.25",
            "15.684527",
            "999999999999999",
            "0.00000000000001",
            "123456789.012345",
        ] {
            assert_eq!(
                short_decimal(s.as_bytes()).map(f64::to_bits),
                std_parse(s),
                "{s}"
            );
        }
        for s in [
            "",
            ".",
            "-",
            "1.2.3",
            "1e5",
            "1,5",
            "1234567890123456",
            "0.000000000000001",
            "0x10",
        ] {
            assert_eq!(short_decimal(s.as_bytes()), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn parse_float_is_std_parse(x in -1e9f64..1e9, places in 0usize..12) {
            let s = format!("{x:.places$}");
            prop_assert_eq!(parse_float(&s).map(f64::to_bits), std_parse(&s));
        }

        #[test]
        fn digit_strings_parse_like_std(
            int in "[0-9]{0,9}", frac in proptest::option::of("[0-9]{0,9}"), neg: bool,
        ) {
            let s = format!("{}{int}{}", if neg { "-" } else { "" },
                frac.map(|f| format!(".{f}")).unwrap_or_default());
            prop_assert_eq!(parse_float(&s).map(f64::to_bits), std_parse(&s));
        }
    }
}
