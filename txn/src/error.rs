//! Errors of storage backends and of transactions.

/// A storage backend failed. Storage errors are transient from AFT's point of view: the
/// transaction that met one aborts (nothing of it is visible) and may be retried.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The backend could not complete the call (I/O, a lost connection, an injected fault).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend holds bytes that do not decode.
    #[error("corrupt stored record {key}: {detail}")]
    Corrupt {
        /// The key holding the record.
        key: String,
        /// What failed to decode.
        detail: String,
    },
}

/// Transaction identifier: unique across the nodes of a cluster.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct TxId(pub u64);

impl std::fmt::Display for TxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tx{}", self.0)
    }
}

/// Why a transaction operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    /// No transaction with this id was ever begun on this node.
    #[error("unknown transaction {0}")]
    UnknownTransaction(TxId),
    /// The transaction already committed or aborted.
    #[error("transaction {0} already finished ({1})")]
    Finished(TxId, &'static str),
    /// A storage call failed; the transaction is aborted and nothing of it is visible.
    #[error("storage failed, transaction aborted: {0}")]
    Storage(#[from] StorageError),
    /// No version of the key is consistent with what the transaction already read (the
    /// read-atomic constraints conflict); the transaction is aborted and may be retried.
    #[error("no version of {key:?} is atomic with the transaction's earlier reads")]
    NoAtomicVersion {
        /// The key being read.
        key: String,
    },
    /// A value did not (de)serialize as the requested type.
    #[error("value of {key:?} does not decode as the requested type: {detail}")]
    Codec {
        /// The key.
        key: String,
        /// The decoder's message.
        detail: String,
    },
    /// The node was stopped (a crash in tests, or shutdown).
    #[error("AFT node is down")]
    NodeDown,
    /// `run` gave up after this many attempts.
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<TxnError>,
    },
}

impl TxnError {
    /// Whether retrying the whole transaction may succeed (the FaaS retry model).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TxnError::Storage(StorageError::Unavailable(_))
                | TxnError::NoAtomicVersion { .. }
                | TxnError::NodeDown
        )
    }
}
