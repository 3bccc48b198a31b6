//! The crate's error type: every failure names the row or column it is about.

use crate::dtype::DType;

/// Everything that can go wrong with a frame operation, CSV/Arrow/Parquet interchange
/// included. Variants name the column, row or argument at fault so callers can act on them.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A column label that the frame does not have.
    #[error("unknown column label {label:?}")]
    UnknownColumn {
        /// The label asked for.
        label: String,
    },
    /// Two columns would carry the same label where labels must be unique.
    #[error("duplicate column label {label:?}")]
    DuplicateColumn {
        /// The repeated label.
        label: String,
    },
    /// A row label that the index does not contain.
    #[error("unknown row label {label}")]
    UnknownRowLabel {
        /// The label asked for, rendered.
        label: String,
    },
    /// A column, mask or label list whose length does not match the frame's.
    #[error("{what} has length {actual}, expected {expected}")]
    LengthMismatch {
        /// What had the wrong length (a column label, "mask", "index", ...).
        what: String,
        /// The length the frame needs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A position past the end of an axis.
    #[error("position {position} is out of bounds for an axis of length {len}")]
    OutOfBounds {
        /// The position asked for.
        position: usize,
        /// The axis length.
        len: usize,
    },
    /// A column does not have the type an operation needs.
    #[error("column {column:?} has type {actual}, but {operation} needs {expected}")]
    TypeMismatch {
        /// The column label.
        column: String,
        /// The operation that was attempted.
        operation: String,
        /// What the operation accepts.
        expected: String,
        /// The column's type.
        actual: DType,
    },
    /// Join keys whose types cannot be compared with each other.
    #[error("join key {left:?} ({left_type}) cannot be matched with {right:?} ({right_type})")]
    IncompatibleJoinKeys {
        /// The left key label.
        left: String,
        /// Its type.
        left_type: DType,
        /// The right key label.
        right: String,
        /// Its type.
        right_type: DType,
    },
    /// A window (rolling, shift, ...) size that makes no sense.
    #[error("invalid window size {size}: {reason}")]
    InvalidWindow {
        /// The size given.
        size: i64,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A value that cannot be converted to the requested type.
    #[error("column {column:?}, row {row}: cannot convert {value} to {target}")]
    Conversion {
        /// The column label.
        column: String,
        /// The row position.
        row: usize,
        /// The offending value, rendered.
        value: String,
        /// The requested type.
        target: DType,
    },
    /// A malformed CSV record.
    #[error("CSV line {line}{}: {reason}", column.as_ref().map(|c| format!(", column {c:?}")).unwrap_or_default())]
    Csv {
        /// 1-based line number in the file (the header is line 1).
        line: usize,
        /// The column the problem is in, when known.
        column: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// An argument outside its domain (an empty key list, a zero partition count, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Arrow interchange failed (an unsupported Arrow type, a malformed batch).
    #[error("arrow: {0}")]
    Arrow(String),
    /// Parquet reading or writing failed.
    #[error("parquet: {0}")]
    Parquet(String),
}

/// Shorthand for this crate's results.
pub type Result<T, E = FrameError> = std::result::Result<T, E>;
