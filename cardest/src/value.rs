//! Cell values and query literals.

use std::fmt;

/// A literal in a predicate: numbers compare numerically, strings bytewise.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A number (integers are represented exactly up to 2^53).
    Num(f64),
    /// A string.
    Str(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Num(x) => write!(f, "{x}"),
            Literal::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<f64> for Literal {
    fn from(x: f64) -> Self {
        Literal::Num(x)
    }
}

impl From<i64> for Literal {
    fn from(x: i64) -> Self {
        Literal::Num(x as f64)
    }
}

impl From<&str> for Literal {
    fn from(s: &str) -> Self {
        Literal::Str(s.to_owned())
    }
}

/// The raw values of one in-memory column; `None` is null.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    /// Numeric values.
    Num(Vec<Option<f64>>),
    /// Text values.
    Str(Vec<Option<String>>),
}

impl ColumnData {
    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Num(v) => v.len(),
            ColumnData::Str(v) => v.len(),
        }
    }

    /// True when the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
