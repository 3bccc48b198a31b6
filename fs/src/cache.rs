//! The per-executor cache of inodes, entries and blocks. It survives across invocations and
//! is shared by those that run on one executor, but it is only a guess: every value taken
//! from it enters the transaction's read set with its version and is validated at commit.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::record::{Key, Value};
use crate::store::Versioned;

/// Counters of the cache's use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Reads served from the cache.
    pub hits: u64,
    /// Reads that went to the store.
    pub misses: u64,
    /// Entries replaced because a commit found them stale.
    pub refreshed: u64,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<Key, Versioned>,
    bytes: usize,
    stats: CacheStats,
}

/// A bounded map from key to the last version this executor saw. When full it is emptied:
/// simple, and a cold miss only costs a store read.
#[derive(Debug)]
pub struct ExecutorCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

fn weight(v: &Versioned) -> usize {
    64 + match v.value.as_deref() {
        Some(Value::Block(b)) => b.len(),
        Some(Value::Inode(i)) => i.target.len(),
        _ => 0,
    }
}

impl ExecutorCache {
    /// A cache holding about `max_bytes` of values.
    pub fn new(max_bytes: usize) -> Self {
        ExecutorCache {
            inner: Mutex::new(Inner::default()),
            max_bytes,
        }
    }

    /// The cached guess for `key`, if any.
    pub fn get(&self, key: &Key) -> Option<Versioned> {
        let mut inner = self.inner.lock();
        let hit = inner.map.get(key).cloned();
        if hit.is_some() {
            inner.stats.hits += 1;
        } else {
            inner.stats.misses += 1;
        }
        hit
    }

    /// Remembers `value` as the current state of `key`.
    pub fn insert(&self, key: Key, value: Versioned) {
        let mut inner = self.inner.lock();
        let w = weight(&value);
        if inner.bytes + w > self.max_bytes {
            inner.map.clear();
            inner.bytes = 0;
        }
        inner.bytes += w;
        if let Some(old) = inner.map.insert(key, value) {
            inner.bytes = inner.bytes.saturating_sub(weight(&old));
        }
    }

    /// Replaces entries a commit found stale by the store's current state.
    pub fn refresh(&self, stale: Vec<(Key, Versioned)>) {
        let n = stale.len() as u64;
        for (k, v) in stale {
            self.insert(k, v);
        }
        self.inner.lock().stats.refreshed += n;
    }

    /// Forgets everything (e.g. to measure cold reads).
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.map.clear();
        inner.bytes = 0;
    }

    /// Hit, miss and refresh counts so far.
    pub fn stats(&self) -> CacheStats {
        self.inner.lock().stats
    }
}
