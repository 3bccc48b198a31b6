//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong building a table, training a model or estimating a query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The CSV text is malformed (e.g. a row with the wrong number of fields).
    #[error("CSV line {line}: {reason}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// The table has no rows or no columns; nothing can be learned or estimated.
    #[error("empty table: {0}")]
    EmptyTable(&'static str),
    /// In-memory columns of different lengths, or duplicate names.
    #[error("bad columns: {0}")]
    BadColumns(String),
    /// A predicate names a column the table does not have.
    #[error("unknown column {0:?}")]
    UnknownColumn(String),
    /// A literal's type does not match the column's (a string against a numeric column, or
    /// the reverse), or the literal is NaN.
    #[error("column {column:?} is {expected}, literal {literal} is not")]
    WrongLiteralType {
        /// The column.
        column: String,
        /// The column's kind ("numeric" or "text").
        expected: &'static str,
        /// The literal, printed.
        literal: String,
    },
    /// A model hyperparameter or estimator setting is out of range.
    #[error("bad configuration: {0}")]
    Config(String),
    /// A model file does not start with the expected magic bytes.
    #[error("not a Stratus cardest model file")]
    NotAModel,
    /// A model file of a format version this build cannot read.
    #[error("model file version {found}, this build reads versions 3 to {supported}")]
    ModelVersion {
        /// Version in the file.
        found: u32,
        /// The newest version this build reads (and the one it writes).
        supported: u32,
    },
    /// A model file ends early, has trailing bytes or inconsistent sizes.
    #[error("corrupt or truncated model file: {0}")]
    CorruptModel(&'static str),
    /// Query text that does not parse (`str::parse::<Query>`).
    #[error("query text at byte {at}: {reason}")]
    QueryText {
        /// Byte offset in the text where the problem starts.
        at: usize,
        /// What was expected there.
        reason: String,
    },
    /// A query was estimated against a model trained on a table with a different schema.
    #[error("schema mismatch: {0}")]
    SchemaMismatch(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
