//! The in-memory backend: a B-tree under a reader-writer lock.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::error::Result;
use crate::record::{Ino, Key, ROOT_INO, Scan, Value};
use crate::store::{CommitOutcome, CommitRequest, Store, Version, Versioned};

type Table = BTreeMap<Key, (Version, Arc<Value>)>;

/// The default store: everything in one process's memory, lost when dropped.
#[derive(Debug)]
pub struct MemoryStore {
    state: RwLock<(Table, Version)>,
    next_ino: Mutex<Ino>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store (the root directory is created by [`crate::Fs::new`]).
    pub fn new() -> Self {
        MemoryStore {
            state: RwLock::new((BTreeMap::new(), 0)),
            next_ino: Mutex::new(ROOT_INO + 1),
        }
    }

    /// Number of keys stored (for tests and figures).
    pub fn len(&self) -> usize {
        self.state.read().0.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn versioned(entry: Option<&(Version, Arc<Value>)>) -> Versioned {
    match entry {
        Some((v, val)) => Versioned {
            version: *v,
            value: Some(val.clone()),
        },
        None => Versioned::absent(),
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &Key) -> Result<Versioned> {
        Ok(versioned(self.state.read().0.get(key)))
    }

    fn scan(&self, range: Scan) -> Result<Vec<(Key, Versioned)>> {
        let (lo, hi) = range.bounds();
        let state = self.state.read();
        Ok(state
            .0
            .range(lo..hi)
            .map(|(k, e)| (k.clone(), versioned(Some(e))))
            .collect())
    }

    fn commit(&self, req: CommitRequest) -> Result<CommitOutcome> {
        if req.writes.is_empty() {
            // Read-only: validation under the read lock is atomic enough, since no commit
            // can install while we hold it.
            let state = self.state.read();
            return Ok(validate(&state.0, &req).unwrap_or(CommitOutcome::Committed(state.1)));
        }
        let mut state = self.state.write();
        if let Some(conflict) = validate(&state.0, &req) {
            return Ok(conflict);
        }
        state.1 += 1;
        let version = state.1;
        for (key, value) in req.writes {
            match value {
                Some(v) => {
                    state.0.insert(key, (version, v));
                }
                None => {
                    state.0.remove(&key);
                }
            }
        }
        Ok(CommitOutcome::Committed(version))
    }

    fn allocate_inos(&self, n: u64) -> Result<Ino> {
        let mut next = self.next_ino.lock();
        let first = *next;
        *next += n;
        Ok(first)
    }
}

fn validate(table: &Table, req: &CommitRequest) -> Option<CommitOutcome> {
    let stale: Vec<(Key, Versioned)> = req
        .reads
        .iter()
        .filter_map(|(key, seen)| {
            let now = table.get(key);
            let current = now.map_or(0, |e| e.0);
            (current != *seen).then(|| (key.clone(), versioned(now)))
        })
        .collect();
    (!stale.is_empty()).then_some(CommitOutcome::Conflict(stale))
}
