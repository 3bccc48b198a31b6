//! The crate's one error type: every variant names something the caller can act on.

use std::path::PathBuf;

/// Everything that can go wrong while recording, replaying or querying.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A file or directory could not be read or written.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The SQLite record database reported an error.
    #[error("record database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database file exists but is not a record of this crate, or has an unknown schema.
    #[error("{path} is not a replay record (schema {found:?}, expected {expected})")]
    NotARecord {
        /// The database path.
        path: PathBuf,
        /// The schema version found, if any.
        found: Option<String>,
        /// The schema version this build understands.
        expected: u32,
    },
    /// There is no recorded run of this program to replay or resume.
    #[error("no {what} run of program {program:?} in {dir}")]
    NoRecord {
        /// The record directory.
        dir: PathBuf,
        /// The program name looked for.
        program: String,
        /// Which kind of run was wanted ("complete record", "unfinished record", ...).
        what: &'static str,
    },
    /// The record was produced by a different version of the computation.
    #[error(
        "record of {program:?} was made by compute version {recorded}, this program is version {current}: \
         replay would not reproduce it (record it again)"
    )]
    VersionMismatch {
        /// The program name.
        program: String,
        /// The compute version stored in the record.
        recorded: u32,
        /// The compute version of the running program.
        current: u32,
    },
    /// The program being replayed does not have the structure of the record.
    #[error("program differs from the record: {0}")]
    StructureMismatch(String),
    /// A checkpoint file failed its integrity check.
    #[error("checkpoint {path} is corrupt: {reason}")]
    CorruptCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// A checkpoint file was written by an incompatible format version.
    #[error("checkpoint {path} has format version {found}, this build reads version {expected}")]
    UnsupportedCheckpointFormat {
        /// The checkpoint file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A value passed to `log` could not be serialized.
    #[error("value of log {name:?} cannot be serialized: {source}")]
    LogValue {
        /// The log statement's name.
        name: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A skip block's state could not be serialized or deserialized.
    #[error("state of skip block {block:?} cannot be {action}: {reason}")]
    State {
        /// The block name.
        block: String,
        /// "serialized" or "deserialized".
        action: &'static str,
        /// The serializer's message.
        reason: String,
    },
    /// An argument's value (from the command line, environment or record) does not parse.
    #[error("argument {name:?}: {reason}")]
    Arg {
        /// The argument name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A re-executed skip block produced a state different from its recorded checkpoint.
    #[error(
        "replay diverged in skip block {block:?} at main-loop iteration {iteration}: the re-executed state \
         differs from the checkpoint (is the block deterministic? seed RNGs inside its state)"
    )]
    Divergence {
        /// The block name.
        block: String,
        /// The main-loop iteration.
        iteration: i64,
    },
    /// Writing a checkpoint would exceed the configured storage budget (or the disk is full).
    #[error("storage full writing {what}: {needed} more bytes, {used} of {limit} used")]
    StorageFull {
        /// What was being written.
        what: String,
        /// Bytes already written.
        used: u64,
        /// Bytes this write needs.
        needed: u64,
        /// The budget.
        limit: u64,
    },
    /// Background writes failed during record; the run continued, the record misses data.
    #[error("record incomplete: {failures} background write(s) failed; first: {first}")]
    RecordIncomplete {
        /// How many writes failed.
        failures: usize,
        /// The first failure.
        first: Box<ReplayError>,
    },
    /// A name (block, loop) contains characters that cannot appear in file names.
    #[error("invalid name {0:?}: use letters, digits, '_', '-' or '.'")]
    InvalidName(String),
    /// Input data (e.g. a CSV file for the demo workload) is malformed.
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// The API was used in a way the record/replay model does not support.
    #[error("unsupported use: {0}")]
    Usage(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = ReplayError> = std::result::Result<T, E>;

impl ReplayError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReplayError::Io {
            path: path.into(),
            source,
        }
    }
}
