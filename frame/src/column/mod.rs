//! Typed columns with nulls.

pub(crate) mod cast;
mod categorical;
mod prim;
mod strings;

use std::collections::HashSet;

pub use categorical::Categorical;
pub(crate) use categorical::{NULL_CODE, encode_chunk, encode_text, merge_dictionaries};

/// The row position that stands for "no row" (a null) in [`Column::take_nullable`].
pub(crate) const NO_ROW: usize = usize::MAX;
pub(crate) use prim::PAR_THRESHOLD;
pub use prim::Prim;
pub use strings::Strings;

use crate::dtype::DType;
use crate::value::{KeyValue, Value};

/// One column: values of one [`DType`] (or `Mixed`), any of which may be null.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// 64-bit integers.
    Int64(Prim<i64>),
    /// 64-bit floats.
    Float64(Prim<f64>),
    /// Booleans.
    Bool(Prim<bool>),
    /// Nanoseconds since the Unix epoch.
    Datetime(Prim<i64>),
    /// Strings.
    Utf8(Strings),
    /// Dictionary-encoded strings.
    Categorical(Categorical),
    /// Values of any kind: a domain not yet induced.
    Mixed(Vec<Value>),
}

impl Column {
    /// The column's type.
    pub fn dtype(&self) -> DType {
        match self {
            Column::Int64(_) => DType::Int64,
            Column::Float64(_) => DType::Float64,
            Column::Bool(_) => DType::Bool,
            Column::Datetime(_) => DType::Datetime,
            Column::Utf8(_) => DType::Utf8,
            Column::Categorical(_) => DType::Categorical,
            Column::Mixed(_) => DType::Mixed,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Int64(p) | Column::Datetime(p) => p.len(),
            Column::Float64(p) => p.len(),
            Column::Bool(p) => p.len(),
            Column::Utf8(s) => s.len(),
            Column::Categorical(c) => c.len(),
            Column::Mixed(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Column::Int64(p) | Column::Datetime(p) => !p.is_valid(i),
            Column::Float64(p) => !p.is_valid(i),
            Column::Bool(p) => !p.is_valid(i),
            Column::Utf8(s) => !s.is_valid(i),
            Column::Categorical(c) => c.codes[i] == NULL_CODE,
            Column::Mixed(v) => v[i].is_null(),
        }
    }

    /// Whether row `i` is missing in pandas' sense (null, or a NaN float).
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Float64(p) => !p.is_valid(i) || p.values[i].is_nan(),
            Column::Mixed(v) => v[i].is_missing(),
            _ => self.is_null(i),
        }
    }

    /// Number of null rows.
    pub fn null_count(&self) -> usize {
        (0..self.len()).filter(|&i| self.is_null(i)).count()
    }

    /// Row `i` as a [`Value`]. Panics past the end; use [`crate::DataFrame::get`] for a
    /// checked lookup.
    pub fn get(&self, i: usize) -> Value {
        match self {
            Column::Int64(p) => p.get(i).map_or(Value::Null, Value::Int),
            Column::Float64(p) => p.get(i).map_or(Value::Null, Value::Float),
            Column::Bool(p) => p.get(i).map_or(Value::Null, Value::Bool),
            Column::Datetime(p) => p.get(i).map_or(Value::Null, Value::Datetime),
            Column::Utf8(s) => s.get(i).map_or(Value::Null, |s| Value::Str(s.to_string())),
            Column::Categorical(c) => c.get(i).map_or(Value::Null, |s| Value::Str(s.to_string())),
            Column::Mixed(v) => v[i].clone(),
        }
    }

    /// All rows as values.
    pub fn to_values(&self) -> Vec<Value> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    /// A column from values: one kind (plus nulls) gives a typed column, Int mixed with
    /// Float gives Float64, anything else gives `Mixed`. All-null or empty input gives a
    /// `Mixed` column, since no domain is known yet.
    pub fn from_values(values: Vec<Value>) -> Column {
        let mut dtype: Option<DType> = None;
        for v in &values {
            if let Some(t) = v.dtype() {
                dtype = Some(dtype.map_or(t, |d| d.promote(t)));
            }
        }
        match dtype {
            None | Some(DType::Mixed) => Column::Mixed(values),
            Some(t) => Column::Mixed(values)
                .cast(t)
                .expect("values fit their promoted type"),
        }
    }

    /// Int64 values without nulls.
    pub fn from_i64(values: Vec<i64>) -> Column {
        Column::Int64(Prim::new(values))
    }

    /// Float64 values without nulls.
    pub fn from_f64(values: Vec<f64>) -> Column {
        Column::Float64(Prim::new(values))
    }

    /// Bool values without nulls.
    pub fn from_bool(values: Vec<bool>) -> Column {
        Column::Bool(Prim::new(values))
    }

    /// Strings without nulls.
    pub fn from_strs<S: AsRef<str>>(values: &[S]) -> Column {
        Column::Utf8(Strings::from_options(values.iter().map(Some)))
    }

    /// Gathers rows by position (positions must be in bounds).
    pub fn take(&self, idx: &[usize]) -> Column {
        match self {
            Column::Int64(p) => Column::Int64(p.take(idx)),
            Column::Float64(p) => Column::Float64(p.take(idx)),
            Column::Bool(p) => Column::Bool(p.take(idx)),
            Column::Datetime(p) => Column::Datetime(p.take(idx)),
            Column::Utf8(s) => Column::Utf8(s.take(idx)),
            Column::Categorical(c) => {
                Column::Categorical(c.with_codes(idx.iter().map(|&i| c.codes[i]).collect()))
            }
            Column::Mixed(v) => Column::Mixed(idx.iter().map(|&i| v[i].clone()).collect()),
        }
    }

    /// Gathers rows by optional position; `None` gives a null row (outer joins, shifts).
    pub fn take_opt(&self, idx: &[Option<usize>]) -> Column {
        self.gather(idx.len(), |k| idx[k])
    }

    /// Gathers rows by position, [`NO_ROW`] giving a null row: the 8-byte form of
    /// [`Column::take_opt`] that joins use (an `Option<usize>` takes 16 bytes, and a join's
    /// row vectors are as long as its result).
    pub(crate) fn take_nullable(&self, idx: &[usize]) -> Column {
        self.gather(idx.len(), |k| Some(idx[k]).filter(|&i| i != NO_ROW))
    }

    /// Row `k` of the result is row `pick(k)` of `self`; `None` gives a null row.
    fn gather(&self, len: usize, pick: impl Fn(usize) -> Option<usize> + Sync) -> Column {
        match self {
            Column::Int64(p) => Column::Int64(p.gather(len, pick)),
            Column::Float64(p) => Column::Float64(p.gather(len, pick)),
            Column::Bool(p) => Column::Bool(p.gather(len, pick)),
            Column::Datetime(p) => Column::Datetime(p.gather(len, pick)),
            Column::Utf8(s) => Column::Utf8(s.gather(len, pick)),
            Column::Categorical(c) => Column::Categorical(
                c.with_codes(
                    (0..len)
                        .map(|k| pick(k).map_or(NULL_CODE, |i| c.codes[i]))
                        .collect(),
                ),
            ),
            Column::Mixed(v) => Column::Mixed(
                (0..len)
                    .map(|k| pick(k).map_or(Value::Null, |i| v[i].clone()))
                    .collect(),
            ),
        }
    }

    /// Rows `start..start + len`.
    pub fn slice(&self, start: usize, len: usize) -> Column {
        match self {
            Column::Int64(p) => Column::Int64(p.slice(start, len)),
            Column::Float64(p) => Column::Float64(p.slice(start, len)),
            Column::Bool(p) => Column::Bool(p.slice(start, len)),
            Column::Datetime(p) => Column::Datetime(p.slice(start, len)),
            Column::Utf8(s) => Column::Utf8(s.slice(start, len)),
            Column::Categorical(c) => {
                Column::Categorical(c.with_codes(c.codes[start..start + len].to_vec()))
            }
            Column::Mixed(v) => Column::Mixed(v[start..start + len].to_vec()),
        }
    }

    /// An all-null column of `len` rows and type `dtype`.
    pub fn nulls(dtype: DType, len: usize) -> Column {
        match dtype {
            DType::Int64 => Column::Int64(Prim::from_options(vec![None; len])),
            DType::Float64 => Column::Float64(Prim::from_options(vec![None; len])),
            DType::Bool => Column::Bool(Prim::from_options(vec![None; len])),
            DType::Datetime => Column::Datetime(Prim::from_options(vec![None; len])),
            DType::Utf8 => Column::Utf8(Strings::from_options(vec![None::<&str>; len])),
            DType::Categorical => {
                Column::Categorical(Categorical::from_options(vec![None::<&str>; len]))
            }
            DType::Mixed => Column::Mixed(vec![Value::Null; len]),
        }
    }

    /// Stacks columns vertically. Types promote as [`DType::promote`] says (Int with Float
    /// gives Float64; anything else unequal gives `Mixed`), as pandas' concat does.
    pub fn concat(parts: &[&Column]) -> Column {
        let Some(first) = parts.first() else {
            return Column::Mixed(Vec::new());
        };
        let target = parts
            .iter()
            .skip(1)
            .fold(first.dtype(), |t, p| t.promote(p.dtype()));
        let same = parts.iter().all(|p| p.dtype() == target);
        if same {
            match target {
                DType::Int64 => {
                    return Column::Int64(Prim::concat(&collect(parts, |c| {
                        if let Column::Int64(p) = c {
                            Some(p)
                        } else {
                            None
                        }
                    })));
                }
                DType::Float64 => {
                    return Column::Float64(Prim::concat(&collect(parts, |c| {
                        if let Column::Float64(p) = c {
                            Some(p)
                        } else {
                            None
                        }
                    })));
                }
                DType::Bool => {
                    return Column::Bool(Prim::concat(&collect(parts, |c| {
                        if let Column::Bool(p) = c {
                            Some(p)
                        } else {
                            None
                        }
                    })));
                }
                DType::Datetime => {
                    return Column::Datetime(Prim::concat(&collect(parts, |c| {
                        if let Column::Datetime(p) = c {
                            Some(p)
                        } else {
                            None
                        }
                    })));
                }
                DType::Utf8 => {
                    return Column::Utf8(Strings::concat(&collect(parts, |c| {
                        if let Column::Utf8(s) = c {
                            Some(s)
                        } else {
                            None
                        }
                    })));
                }
                _ => {}
            }
        }
        let values: Vec<Value> = parts.iter().flat_map(|p| p.to_values()).collect();
        if target == DType::Mixed {
            return Column::Mixed(values);
        }
        Column::Mixed(values)
            .cast(target)
            .expect("values fit their promoted type")
    }

    /// Number of distinct non-missing values.
    pub fn n_unique(&self) -> usize {
        let mut seen = HashSet::new();
        for i in 0..self.len() {
            if !self.is_missing(i) {
                seen.insert(KeyValue(self.get(i)));
            }
        }
        seen.len()
    }

    /// The column as floats for operation `op` on column `name`: a typed error when the
    /// column is not numeric.
    pub(crate) fn numeric(&self, name: &str, op: &str) -> crate::Result<Prim<f64>> {
        self.to_f64()
            .ok_or_else(|| crate::FrameError::TypeMismatch {
                column: name.to_string(),
                operation: op.to_string(),
                expected: "a numeric column".into(),
                actual: self.dtype(),
            })
    }

    /// The column as floats (Int64, Float64, Bool); `None` for other types.
    pub fn to_f64(&self) -> Option<Prim<f64>> {
        match self {
            Column::Float64(p) => Some(p.clone()),
            Column::Int64(p) => Some(p.map(|v| v as f64)),
            Column::Bool(p) => Some(p.map(|v| v as i64 as f64)),
            _ => None,
        }
    }
}

fn collect<'a, T>(parts: &[&'a Column], pick: impl Fn(&'a Column) -> Option<&'a T>) -> Vec<&'a T> {
    parts
        .iter()
        .map(|c| pick(c).expect("all parts share the type"))
        .collect()
}

impl From<Vec<i64>> for Column {
    fn from(v: Vec<i64>) -> Self {
        Column::from_i64(v)
    }
}
impl From<Vec<f64>> for Column {
    fn from(v: Vec<f64>) -> Self {
        Column::from_f64(v)
    }
}
impl From<Vec<bool>> for Column {
    fn from(v: Vec<bool>) -> Self {
        Column::from_bool(v)
    }
}
impl From<Vec<&str>> for Column {
    fn from(v: Vec<&str>) -> Self {
        Column::from_strs(&v)
    }
}
impl From<Vec<String>> for Column {
    fn from(v: Vec<String>) -> Self {
        Column::from_strs(&v)
    }
}
impl From<Vec<Option<i64>>> for Column {
    fn from(v: Vec<Option<i64>>) -> Self {
        Column::Int64(Prim::from_options(v))
    }
}
impl From<Vec<Option<f64>>> for Column {
    fn from(v: Vec<Option<f64>>) -> Self {
        Column::Float64(Prim::from_options(v))
    }
}
impl From<Vec<Option<bool>>> for Column {
    fn from(v: Vec<Option<bool>>) -> Self {
        Column::Bool(Prim::from_options(v))
    }
}
impl From<Vec<Option<&str>>> for Column {
    fn from(v: Vec<Option<&str>>) -> Self {
        Column::Utf8(Strings::from_options(v))
    }
}
impl From<Vec<Value>> for Column {
    fn from(v: Vec<Value>) -> Self {
        Column::from_values(v)
    }
}
