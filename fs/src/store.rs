//! The versioned, transactional key space that every backend implements.

use std::sync::Arc;

use crate::error::Result;
use crate::record::{Ino, Key, Scan, Value};

/// A commit sequence number. Every committed write carries the version of its commit, so
/// version order is commit order; an absent key has version 0.
pub type Version = u64;

/// A value as read from the store, with the version that wrote it (`value: None`, version
/// 0: the key is absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// Version of the commit that wrote the value (0 if absent).
    pub version: Version,
    /// The value, shared so caches and transactions need not copy blocks.
    pub value: Option<Arc<Value>>,
}

impl Versioned {
    /// The absent key.
    pub fn absent() -> Self {
        Versioned {
            version: 0,
            value: None,
        }
    }
}

/// What a transaction asks the store to install.
#[derive(Debug, Default)]
pub struct CommitRequest {
    /// Every key read, with the version seen; all must still be current.
    pub reads: Vec<(Key, Version)>,
    /// Writes to install atomically (`None` deletes).
    pub writes: Vec<(Key, Option<Arc<Value>>)>,
}

/// The answer to a [`CommitRequest`].
#[derive(Debug)]
pub enum CommitOutcome {
    /// Installed at this version (read-only requests get the current version).
    Committed(Version),
    /// Some reads were stale: nothing was installed. The current state of each stale key
    /// is returned so an executor cache can refresh itself.
    Conflict(Vec<(Key, Versioned)>),
}

/// A versioned key-value store with atomic validate-and-install. Implementations must make
/// [`Store::commit`] atomic with respect to every other commit (a serial commit order).
pub trait Store: Send + Sync {
    /// Reads the current value and version of `key`.
    fn get(&self, key: &Key) -> Result<Versioned>;
    /// Reads every present key of a range, in key order.
    fn scan(&self, range: Scan) -> Result<Vec<(Key, Versioned)>>;
    /// Validates `req.reads` and, if all are current, installs `req.writes` at a new version.
    fn commit(&self, req: CommitRequest) -> Result<CommitOutcome>;
    /// Reserves `n` fresh inode numbers and returns the first. Outside transactions on
    /// purpose: a number reserved by an invocation that later aborts is simply never used,
    /// and concurrent creates then never conflict on a counter.
    fn allocate_inos(&self, n: u64) -> Result<Ino>;
}
