//! A transaction: its read set (with the versions seen), its buffered writes, and the
//! commit that validates the one and installs the other. Plain data and calls into the
//! store; no threads, no clock (the caller passes the time in).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{FsError, Result};
use crate::executor::Executor;
use crate::handle::FdTable;
use crate::record::{Ino, Inode, Key, Scan, Timestamp, Value};
use crate::store::{CommitOutcome, CommitRequest, Version, Versioned};

/// One transaction against the file system: the POSIX-style handle an invocation works
/// through (see the `impl` blocks in `namespace`, `data`, `handle` and `locks`).
///
/// Obtained from [`crate::Fs::invoke`] (managed boundaries) or [`crate::Fs::begin`]
/// (explicit [`Txn::commit`] / [`Txn::abort`]). After either, every call fails with
/// [`FsError::Finished`].
pub struct Txn {
    pub(crate) exec: Arc<Executor>,
    pub(crate) now: Timestamp,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) owner: u64,
    reads: HashMap<Key, Versioned>,
    writes: HashMap<Key, Option<Arc<Value>>>,
    pub(crate) fds: FdTable,
    finished: bool,
    wrote: bool,
    pinned: Option<Pinned>,
}

/// Tells whether an inode is open outside the transaction (see [`Txn::set_pinned`]).
pub type Pinned = Arc<dyn Fn(Ino) -> bool + Send + Sync>;

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn")
            .field("reads", &self.reads.len())
            .field("writes", &self.writes.len())
            .field("finished", &self.finished)
            .finish()
    }
}

impl Txn {
    pub(crate) fn new(exec: Arc<Executor>, now: Timestamp, owner: u64) -> Self {
        Txn {
            exec,
            now,
            uid: 0,
            gid: 0,
            owner,
            reads: HashMap::new(),
            writes: HashMap::new(),
            fds: FdTable::default(),
            finished: false,
            wrote: false,
            pinned: None,
        }
    }

    /// Sets the owner and group given to files this transaction creates (default 0, 0).
    pub fn set_credentials(&mut self, uid: u32, gid: u32) {
        self.uid = uid;
        self.gid = gid;
    }

    /// Declares which inodes are open outside this transaction (a FUSE mount's file
    /// handles): removing the last name of one keeps it as an orphan (link count 0, data
    /// intact) until [`Txn::purge_orphan`], as POSIX requires for open files.
    pub fn set_pinned(&mut self, pinned: Pinned) {
        self.pinned = Some(pinned);
    }

    pub(crate) fn is_open(&self, ino: Ino) -> bool {
        self.fds.refers_to(ino) || self.pinned.as_ref().is_some_and(|p| p(ino))
    }

    /// The time stamp this transaction writes into `mtime`/`ctime`/`atime` (fixed at begin).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The lock owner identity of this transaction.
    pub fn owner(&self) -> u64 {
        self.owner
    }

    /// Whether the commit installed writes. A read-only commit reports the version it was
    /// validated against: it serializes after the writer of that version.
    pub fn wrote(&self) -> bool {
        self.wrote
    }

    /// Number of keys read and written so far.
    pub fn footprint(&self) -> (usize, usize) {
        (self.reads.len(), self.writes.len())
    }

    pub(crate) fn live(&self) -> Result<()> {
        if self.finished {
            Err(FsError::Finished)
        } else {
            Ok(())
        }
    }

    /// Reads `key`: own writes first, then what this transaction already read (repeatable
    /// reads), then the executor cache, then the store. Cache and store reads enter the
    /// read set with their version.
    pub(crate) fn get(&mut self, key: &Key) -> Result<Option<Arc<Value>>> {
        if let Some(w) = self.writes.get(key) {
            return Ok(w.clone());
        }
        if let Some(r) = self.reads.get(key) {
            return Ok(r.value.clone());
        }
        let seen = match self.exec.cache.get(key) {
            Some(v) => v,
            None => {
                let v = self.exec.store.get(key)?;
                self.exec.cache.insert(key.clone(), v.clone());
                v
            }
        };
        let value = seen.value.clone();
        self.reads.insert(key.clone(), seen);
        Ok(value)
    }

    /// Reads `key` like [`Txn::get`] but without entering it into the read set. Only for
    /// facts that never change once true: an inode's kind (inode numbers are never reused),
    /// so a lookup does not make the whole directory inode part of its read set.
    pub(crate) fn peek(&mut self, key: &Key) -> Result<Option<Arc<Value>>> {
        if let Some(w) = self.writes.get(key) {
            return Ok(w.clone());
        }
        if let Some(r) = self.reads.get(key) {
            return Ok(r.value.clone());
        }
        let seen = match self.exec.cache.get(key) {
            Some(v) => v,
            None => {
                let v = self.exec.store.get(key)?;
                self.exec.cache.insert(key.clone(), v.clone());
                v
            }
        };
        Ok(seen.value)
    }

    pub(crate) fn put(&mut self, key: Key, value: Value) {
        self.writes.insert(key, Some(Arc::new(value)));
    }

    pub(crate) fn delete(&mut self, key: Key) {
        self.writes.insert(key, None);
    }

    /// A mutable block buffered in the write set, copied from its read value only once
    /// per transaction (later writes to the same block mutate in place).
    pub(crate) fn block_mut(&mut self, ino: Ino, idx: u64) -> Result<&mut Vec<u8>> {
        let key = Key::Block(ino, idx);
        if !matches!(self.writes.get(&key), Some(Some(_))) {
            let current = match self.get(&key)?.as_deref() {
                Some(Value::Block(b)) => b.clone(),
                _ => Vec::new(),
            };
            self.writes
                .insert(key.clone(), Some(Arc::new(Value::Block(current))));
        }
        match self.writes.get_mut(&key) {
            Some(Some(arc)) => match Arc::make_mut(arc) {
                Value::Block(b) => Ok(b),
                _ => Err(FsError::Corrupt {
                    detail: format!("block key of inode {ino} holds another value"),
                }),
            },
            _ => Err(FsError::Corrupt {
                detail: "write buffer lost a block".into(),
            }),
        }
    }

    /// Keys of a range as this transaction sees them: the store's keys overlaid with own
    /// writes. Callers read the covering inode before scanning, since every change to the
    /// range also writes that inode and validating it then covers phantoms.
    pub(crate) fn scan(&mut self, range: Scan) -> Result<Vec<(Key, Arc<Value>)>> {
        let mut out: std::collections::BTreeMap<Key, Arc<Value>> = self
            .exec
            .store
            .scan(range)?
            .into_iter()
            .filter_map(|(k, v)| v.value.map(|v| (k, v)))
            .collect();
        for (k, w) in &self.writes {
            if range.contains(k) {
                match w {
                    Some(v) => {
                        out.insert(k.clone(), v.clone());
                    }
                    None => {
                        out.remove(k);
                    }
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    pub(crate) fn inode(&mut self, ino: Ino) -> Result<Option<Inode>> {
        match self.get(&Key::Inode(ino))?.as_deref() {
            Some(Value::Inode(i)) => Ok(Some(i.clone())),
            None => Ok(None),
            Some(_) => Err(FsError::Corrupt {
                detail: format!("inode key {ino} holds another value"),
            }),
        }
    }

    pub(crate) fn put_inode(&mut self, inode: Inode) {
        self.put(Key::Inode(inode.ino), Value::Inode(inode));
    }

    pub(crate) fn allocate_ino(&mut self) -> Result<Ino> {
        self.exec.allocate_ino()
    }

    /// Validates the read set and installs the writes atomically. Open descriptors are
    /// closed first (releasing their locks, as process exit would). On a stale read nothing
    /// is installed, the executor cache is refreshed, and [`FsError::Conflict`] is returned.
    pub fn commit(&mut self) -> Result<Version> {
        self.live()?;
        self.close_all()?;
        self.finished = true;
        let req = CommitRequest {
            reads: self
                .reads
                .iter()
                .map(|(k, v)| (k.clone(), v.version))
                .collect(),
            writes: self.writes.drain().collect(),
        };
        let written: Vec<(Key, Option<Arc<Value>>)> = req.writes.clone();
        self.wrote = !written.is_empty();
        match self.exec.store.commit(req)? {
            CommitOutcome::Committed(version) => {
                for (k, v) in written {
                    let version = if v.is_some() { version } else { 0 };
                    self.exec.cache.insert(k, Versioned { version, value: v });
                }
                Ok(version)
            }
            CommitOutcome::Conflict(stale) => {
                let keys = stale.len();
                self.exec.cache.refresh(stale);
                Err(FsError::Conflict { keys })
            }
        }
    }

    /// Checks the read set without installing anything: `Ok(true)` when every read is still
    /// current (the transaction could have committed), `Ok(false)` after refreshing the
    /// cache otherwise. Used when an invocation fails, to tell a genuine error from one
    /// caused by reading stale state.
    pub(crate) fn reads_current(&mut self) -> Result<bool> {
        let req = CommitRequest {
            reads: self
                .reads
                .iter()
                .map(|(k, v)| (k.clone(), v.version))
                .collect(),
            writes: Vec::new(),
        };
        match self.exec.store.commit(req)? {
            CommitOutcome::Committed(_) => Ok(true),
            CommitOutcome::Conflict(stale) => {
                self.exec.cache.refresh(stale);
                Ok(false)
            }
        }
    }

    /// Discards every buffered write; nothing becomes visible.
    pub fn abort(&mut self) -> Result<()> {
        self.live()?;
        self.finished = true;
        self.writes.clear();
        self.fds = FdTable::default();
        Ok(())
    }
}
