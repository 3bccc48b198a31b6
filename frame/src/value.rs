//! Single cell values: what `Mixed` columns hold and what cell access returns.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::datetime;
use crate::dtype::DType;

/// One cell. `Null` is the missing value of every type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Missing.
    Null,
    /// An integer.
    Int(i64),
    /// A float (may be NaN).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
    /// Nanoseconds since the Unix epoch.
    Datetime(i64),
}

impl Value {
    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether the value is missing in pandas' sense: null, or a NaN float.
    pub fn is_missing(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Float(f) => f.is_nan(),
            _ => false,
        }
    }

    /// The type of a non-null value (`None` for null).
    pub fn dtype(&self) -> Option<DType> {
        Some(match self {
            Value::Null => return None,
            Value::Int(_) => DType::Int64,
            Value::Float(_) => DType::Float64,
            Value::Bool(_) => DType::Bool,
            Value::Str(_) => DType::Utf8,
            Value::Datetime(_) => DType::Datetime,
        })
    }

    /// The value as a float, for numeric values (bools count as 0/1, as in pandas).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(*b as i64 as f64),
            _ => None,
        }
    }

    /// A total order used by sorting, grouping and joins: numbers compare by value across
    /// Int/Float (NaN after every number), then bools, strings and datetimes; values of
    /// different kinds order by kind (pandas would raise; a total order keeps sorts defined).
    /// Null sorts last here; callers place nulls explicitly.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => float_cmp(*a, *b),
            (Int(a), Float(b)) => float_cmp(*a as f64, *b).then(Ordering::Less),
            (Float(a), Int(b)) => float_cmp(*a, *b as f64).then(Ordering::Greater),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Str(a), Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Datetime(a), Datetime(b)) => a.cmp(b),
            _ => self.kind_rank().cmp(&other.kind_rank()),
        }
    }

    /// Equality for grouping and joining: Int and Float compare by value, NaN equals NaN
    /// (pandas groups NaN keys together when `dropna=False`).
    pub fn key_eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Float(a), Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Int(a), Float(b)) | (Float(b), Int(a)) => (*a as f64) == *b,
            _ => self == other,
        }
    }

    fn kind_rank(&self) -> u8 {
        match self {
            Value::Int(_) | Value::Float(_) => 0,
            Value::Bool(_) => 1,
            Value::Str(_) => 2,
            Value::Datetime(_) => 3,
            Value::Null => 4,
        }
    }
}

/// Floats ordered by value with NaN after every number (and equal to itself).
pub(crate) fn float_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

/// A hashable wrapper over [`Value`] that agrees with [`Value::key_eq`].
#[derive(Debug, Clone)]
pub(crate) struct KeyValue(pub(crate) Value);

impl PartialEq for KeyValue {
    fn eq(&self, other: &Self) -> bool {
        self.0.key_eq(&other.0)
    }
}
impl Eq for KeyValue {}

impl Hash for KeyValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Value::Null => 0u8.hash(state),
            Value::Int(i) => hash_number(*i as f64, state),
            Value::Float(f) => hash_number(*f, state),
            Value::Bool(b) => (2u8, b).hash(state),
            Value::Str(s) => (3u8, s).hash(state),
            Value::Datetime(d) => (4u8, d).hash(state),
        }
    }
}

fn hash_number<H: Hasher>(f: f64, state: &mut H) {
    // Int 3 and Float 3.0 are equal keys, so they must hash alike; all NaNs are one key.
    let bits = if f.is_nan() {
        u64::MAX
    } else if f == 0.0 {
        0
    } else {
        f.to_bits()
    };
    (1u8, bits).hash(state);
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => f.write_str(s),
            Value::Datetime(ns) => f.write_str(&datetime::format(*ns)),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
