//! Errors of the key-value store.

use crate::ring::RingError;

/// Why a KVS operation, configuration or durable file was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum KvsError {
    /// The placement cannot be built (zero workers, replication above the worker count…).
    #[error("invalid placement: {0}")]
    Placement(#[from] RingError),
    /// A configuration value is out of range.
    #[error("invalid KVS configuration: {0}")]
    Config(String),
    /// A put tried to merge a value of another lattice type into an existing key; the
    /// stored value is unchanged.
    #[error("type mismatch on merge: key holds a {stored} value, the put carried a {incoming}")]
    TypeMismatch {
        /// Lattice type stored under the key.
        stored: &'static str,
        /// Lattice type of the rejected value.
        incoming: &'static str,
    },
    /// The durable tier failed (I/O, a locked or unreadable redb file).
    #[error("durable tier: {0}")]
    Durable(String),
    /// A durable file holds a record that does not decode: the file is corrupt or was
    /// written for other key/value types.
    #[error("corrupt durable record in {file}: {detail}")]
    Corrupt {
        /// The shard file.
        file: String,
        /// What failed to decode.
        detail: String,
    },
    /// The durable directory was written by a store with another shape; reopening it with a
    /// different shape would misplace keys.
    #[error("durable directory was written with {stored}, this store has {configured}")]
    LayoutMismatch {
        /// The layout recorded in the directory.
        stored: String,
        /// The layout configured now.
        configured: String,
    },
    /// The store was shut down (or a worker thread died); the operation did not run.
    #[error("the key-value store is shut down")]
    ShutDown,
}
