//! Column types.

use std::fmt;

/// The domain of a column. `Mixed` is the paper's unknown domain: a column of arbitrary
/// values whose type is induced lazily ([`crate::DataFrame::infer_types`]), like pandas'
/// `object` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 64-bit signed integers.
    Int64,
    /// 64-bit floats; NaN is a value, distinct from null (but skipped by aggregations, as in
    /// pandas).
    Float64,
    /// Booleans.
    Bool,
    /// UTF-8 strings.
    Utf8,
    /// Instants as nanoseconds since the Unix epoch (pandas' `datetime64[ns]`).
    Datetime,
    /// Strings drawn from a small ordered dictionary, stored as codes.
    Categorical,
    /// Any values; the domain is not known until induced.
    Mixed,
}

impl DType {
    /// Whether the type is Int64 or Float64.
    pub fn is_numeric(self) -> bool {
        matches!(self, DType::Int64 | DType::Float64)
    }

    /// The type both `self` and `other` values fit in without loss of meaning: equal types
    /// stay, Int64 and Float64 (and Bool with either) promote to Float64/Int64 like pandas,
    /// anything else becomes Mixed.
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Int64, Float64) | (Float64, Int64) => Float64,
            (Utf8, Categorical) | (Categorical, Utf8) => Utf8,
            _ => Mixed,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            DType::Int64 => "Int64",
            DType::Float64 => "Float64",
            DType::Bool => "Bool",
            DType::Utf8 => "Utf8",
            DType::Datetime => "Datetime",
            DType::Categorical => "Categorical",
            DType::Mixed => "Mixed",
        };
        f.write_str(name)
    }
}
