//! The durable backend: one redb file; each commit is one redb write transaction with
//! `Durability::Immediate`, so a commit that returned survives a crash and a commit that did
//! not return leaves nothing behind.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{FsError, Result};
use crate::record::{Ino, Key, ROOT_INO, Scan, Value};
use crate::store::{CommitOutcome, CommitRequest, Store, Version, Versioned};

/// Encoded key → 8-byte little-endian version followed by the postcard-encoded value.
const KV: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("fs_kv");
/// Counters: the last commit version and the next free inode number.
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("fs_meta");
const LAST_VERSION: &str = "last_version";
const NEXT_INO: &str = "next_ino";

fn io(e: impl std::fmt::Display) -> FsError {
    FsError::Io {
        detail: e.to_string(),
    }
}

/// A durable [`Store`] in one redb file.
pub struct RedbStore {
    db: Database,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedbStore")
    }
}

impl RedbStore {
    /// Opens or creates the store at `path`. A file that is not a redb database, or whose
    /// tables do not decode, is [`FsError::Corrupt`] (never a panic).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let db = Database::create(path).map_err(|e| FsError::Corrupt {
            detail: format!("{}: {e}", path.display()),
        })?;
        let txn = db.begin_write().map_err(io)?;
        {
            txn.open_table(KV).map_err(|e| FsError::Corrupt {
                detail: e.to_string(),
            })?;
            let mut meta = txn.open_table(META).map_err(|e| FsError::Corrupt {
                detail: e.to_string(),
            })?;
            if meta.get(NEXT_INO).map_err(io)?.is_none() {
                meta.insert(NEXT_INO, ROOT_INO + 1).map_err(io)?;
                meta.insert(LAST_VERSION, 0).map_err(io)?;
            }
        }
        txn.commit().map_err(io)?;
        Ok(RedbStore { db })
    }
}

fn decode(bytes: &[u8]) -> Result<Versioned> {
    let corrupt = |d: String| FsError::Corrupt { detail: d };
    let (head, body) = bytes
        .split_at_checked(8)
        .ok_or_else(|| corrupt(format!("value of {} bytes", bytes.len())))?;
    let version = u64::from_le_bytes(head.try_into().map_err(|_| corrupt("version".into()))?);
    let value: Value =
        postcard::from_bytes(body).map_err(|e| corrupt(format!("value does not decode: {e}")))?;
    Ok(Versioned {
        version,
        value: Some(Arc::new(value)),
    })
}

fn encode(version: Version, value: &Value) -> Result<Vec<u8>> {
    let mut out = version.to_le_bytes().to_vec();
    let body = postcard::to_allocvec(value).map_err(io)?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn current_version(bytes: Option<&[u8]>) -> Result<Version> {
    match bytes {
        None => Ok(0),
        Some(b) => b
            .get(..8)
            .and_then(|h| h.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| FsError::Corrupt {
                detail: "truncated version".into(),
            }),
    }
}

impl Store for RedbStore {
    fn get(&self, key: &Key) -> Result<Versioned> {
        let txn = self.db.begin_read().map_err(io)?;
        let table = txn.open_table(KV).map_err(io)?;
        match table.get(key.encode().as_slice()).map_err(io)? {
            Some(v) => decode(v.value()),
            None => Ok(Versioned::absent()),
        }
    }

    fn scan(&self, range: Scan) -> Result<Vec<(Key, Versioned)>> {
        let (lo, hi) = range.bounds();
        let (lo, hi) = (lo.encode(), hi.encode());
        let txn = self.db.begin_read().map_err(io)?;
        let table = txn.open_table(KV).map_err(io)?;
        let mut out = Vec::new();
        for row in table.range(lo.as_slice()..hi.as_slice()).map_err(io)? {
            let (k, v) = row.map_err(io)?;
            out.push((Key::decode(k.value())?, decode(v.value())?));
        }
        Ok(out)
    }

    fn commit(&self, req: CommitRequest) -> Result<CommitOutcome> {
        if req.writes.is_empty() {
            let txn = self.db.begin_read().map_err(io)?;
            let table = txn.open_table(KV).map_err(io)?;
            let meta = txn.open_table(META).map_err(io)?;
            let mut stale = Vec::new();
            for (key, seen) in &req.reads {
                let row = table.get(key.encode().as_slice()).map_err(io)?;
                let bytes = row.as_ref().map(|r| r.value());
                if current_version(bytes)? != *seen {
                    stale.push((key.clone(), bytes.map_or(Ok(Versioned::absent()), decode)?));
                }
            }
            if !stale.is_empty() {
                return Ok(CommitOutcome::Conflict(stale));
            }
            let last = meta.get(LAST_VERSION).map_err(io)?.map_or(0, |v| v.value());
            return Ok(CommitOutcome::Committed(last));
        }
        // redb admits one write transaction at a time: validation and installation below
        // happen with no other commit in between, which gives the serial commit order.
        let mut txn = self.db.begin_write().map_err(io)?;
        txn.set_durability(Durability::Immediate).map_err(io)?;
        let version;
        {
            let mut table = txn.open_table(KV).map_err(io)?;
            let mut stale = Vec::new();
            for (key, seen) in &req.reads {
                let row = table.get(key.encode().as_slice()).map_err(io)?;
                let bytes = row.as_ref().map(|r| r.value());
                if current_version(bytes)? != *seen {
                    stale.push((key.clone(), bytes.map_or(Ok(Versioned::absent()), decode)?));
                }
            }
            if !stale.is_empty() {
                drop(table);
                txn.abort().map_err(io)?;
                return Ok(CommitOutcome::Conflict(stale));
            }
            let mut meta = txn.open_table(META).map_err(io)?;
            version = meta.get(LAST_VERSION).map_err(io)?.map_or(0, |v| v.value()) + 1;
            meta.insert(LAST_VERSION, version).map_err(io)?;
            for (key, value) in &req.writes {
                let k = key.encode();
                match value {
                    Some(v) => {
                        table
                            .insert(k.as_slice(), encode(version, v)?.as_slice())
                            .map_err(io)?;
                    }
                    None => {
                        table.remove(k.as_slice()).map_err(io)?;
                    }
                }
            }
        }
        txn.commit().map_err(io)?;
        Ok(CommitOutcome::Committed(version))
    }

    fn allocate_inos(&self, n: u64) -> Result<Ino> {
        let mut txn = self.db.begin_write().map_err(io)?;
        txn.set_durability(Durability::Immediate).map_err(io)?;
        let first;
        {
            let mut meta = txn.open_table(META).map_err(io)?;
            first = meta
                .get(NEXT_INO)
                .map_err(io)?
                .map_or(ROOT_INO + 1, |v| v.value());
            meta.insert(NEXT_INO, first + n).map_err(io)?;
        }
        txn.commit().map_err(io)?;
        Ok(first)
    }
}
