//! The invocation driver: begins transactions, runs invocation closures, commits them and
//! restarts them on conflict with bounded, jittered exponential backoff. The only place
//! with a clock and sleeps.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cache::CacheStats;
use crate::durable::RedbStore;
use crate::error::{FsError, Result};
use crate::executor::Executor;
use crate::memory::MemoryStore;
use crate::record::{FileKind, Inode, Key, ROOT_INO, Scan, Timestamp, Value};
use crate::store::{Store, Version};
use crate::txn::Txn;

/// Default executor cache size.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

/// How [`Fs::invoke`] restarts conflicting invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before [`FsError::RetriesExhausted`] (at least 1).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles per retry.
    pub initial_backoff: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 100,
            initial_backoff: Duration::from_micros(20),
            max_backoff: Duration::from_millis(5),
        }
    }
}

/// What an invocation returned, and how many times it restarted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation<T> {
    /// The closure's result from the attempt that committed.
    pub value: T,
    /// Restarts after a conflict (0: the first attempt committed).
    pub retries: u32,
    /// The commit's version (its place in the serial order).
    pub version: Version,
    /// Whether the commit installed writes; a read-only invocation serializes after the
    /// writer of `version` (and in any order with other read-only ones).
    pub wrote: bool,
}

/// Counters of one executor's invocations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvokeStats {
    /// Committed transactions.
    pub commits: u64,
    /// Attempts rolled back because of a conflict (each one restarted or gave up).
    pub conflicts: u64,
    /// Invocations that gave up after [`RetryPolicy::max_attempts`].
    pub gave_up: u64,
    /// Invocations whose closure returned an error over a consistent read set (rolled back,
    /// error returned, not retried).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    conflicts: AtomicU64,
    gave_up: AtomicU64,
    failed: AtomicU64,
}

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1 << 48);

/// One executor's view of a FaaSFS file system: a store shared with other executors, and an
/// executor cache shared by this executor's invocations. Cloning shares the executor;
/// [`Fs::new_executor`] makes another one over the same store.
#[derive(Clone)]
pub struct Fs {
    exec: Arc<Executor>,
    policy: RetryPolicy,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Fs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fs").field("policy", &self.policy).finish()
    }
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos(),
    }
}

impl Fs {
    /// A file system over `store`, creating the root directory (mode 0755) if absent.
    pub fn new(store: Arc<dyn Store>) -> Result<Fs> {
        let fs = Fs {
            exec: Arc::new(Executor::new(store, DEFAULT_CACHE_BYTES)),
            policy: RetryPolicy::default(),
            counters: Arc::new(Counters::default()),
        };
        fs.invoke(|t| {
            if t.inode(ROOT_INO)?.is_none() {
                let now = t.now();
                t.put(
                    Key::Inode(ROOT_INO),
                    Value::Inode(Inode {
                        ino: ROOT_INO,
                        kind: FileKind::Dir,
                        perm: 0o755,
                        uid: 0,
                        gid: 0,
                        nlink: 2,
                        size: 0,
                        rdev: 0,
                        atime: now,
                        mtime: now,
                        ctime: now,
                        parent: ROOT_INO,
                        target: Vec::new(),
                    }),
                );
            }
            Ok(())
        })?;
        Ok(fs)
    }

    /// A file system in memory.
    pub fn in_memory() -> Fs {
        Fs::new(Arc::new(MemoryStore::new()))
            .unwrap_or_else(|_| unreachable!("the memory store cannot fail"))
    }

    /// A durable file system in the redb file at `path` (created if missing). Files that
    /// were unlinked while open and never released (the process died) are freed now: no
    /// one can hold them open any more.
    pub fn open_redb(path: impl AsRef<Path>) -> Result<Fs> {
        let fs = Fs::new(Arc::new(RedbStore::open(path)?))?;
        fs.sweep_orphans()?;
        Ok(fs)
    }

    /// Frees every inode with no name left (link count 0); returns how many. Only sound when
    /// nothing holds such an inode open, e.g. right after opening a durable store.
    pub fn sweep_orphans(&self) -> Result<usize> {
        Ok(self
            .invoke(|t| {
                let orphans: Vec<u64> = t
                    .scan(Scan::Inodes)?
                    .into_iter()
                    .filter_map(|(_, v)| match &*v {
                        Value::Inode(i) if i.nlink == 0 => Some(i.ino),
                        _ => None,
                    })
                    .collect();
                for &ino in &orphans {
                    t.purge_orphan(ino)?;
                }
                Ok(orphans.len())
            })?
            .value)
    }

    /// Another executor over the same store, with its own (empty) cache and counters.
    pub fn new_executor(&self) -> Fs {
        Fs {
            exec: Arc::new(Executor::new(self.exec.store.clone(), DEFAULT_CACHE_BYTES)),
            policy: self.policy,
            counters: Arc::new(Counters::default()),
        }
    }

    /// Replaces the retry policy of this handle.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Fs {
        self.policy = RetryPolicy {
            max_attempts: policy.max_attempts.max(1),
            ..policy
        };
        self
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.exec.store
    }

    /// Begins a transaction whose boundaries the caller manages: finish it with
    /// [`Txn::commit`] (which may return [`FsError::Conflict`]) or [`Txn::abort`].
    pub fn begin(&self) -> Txn {
        Txn::new(
            self.exec.clone(),
            now(),
            NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// Commits `txn` and counts the outcome in this executor's statistics.
    pub fn commit(&self, txn: &mut Txn) -> Result<Version> {
        let r = txn.commit();
        match &r {
            Ok(_) => self.counters.commits.fetch_add(1, Ordering::Relaxed),
            Err(FsError::Conflict { .. }) => {
                self.counters.conflicts.fetch_add(1, Ordering::Relaxed)
            }
            Err(_) => 0,
        };
        r
    }

    /// Runs `body` as one transaction (an invocation): commits when it returns `Ok`; on a
    /// conflict rolls back and runs it again, up to [`RetryPolicy::max_attempts`] times with
    /// backoff. When `body` returns an error, its writes are discarded; if its reads were
    /// stale the error may be an artefact of the conflict, so it restarts, otherwise the
    /// error is returned. `body` may run several times: its effects outside the file system
    /// must be idempotent (the FaaS contract).
    pub fn invoke<T>(&self, mut body: impl FnMut(&mut Txn) -> Result<T>) -> Result<Invocation<T>> {
        let mut backoff = self.policy.initial_backoff;
        let mut jitter = Jitter::new();
        for attempt in 0..self.policy.max_attempts {
            let mut txn = self.begin();
            let conflicted = match body(&mut txn) {
                Ok(value) => match self.commit(&mut txn) {
                    Ok(version) => {
                        return Ok(Invocation {
                            value,
                            retries: attempt,
                            version,
                            wrote: txn.wrote(),
                        });
                    }
                    Err(FsError::Conflict { .. }) => true,
                    Err(e) => return Err(e),
                },
                Err(e) => {
                    let consistent = matches!(e, FsError::Conflict { .. })
                        .then_some(false)
                        .map_or_else(|| txn.reads_current(), Ok)?;
                    if consistent {
                        self.counters.failed.fetch_add(1, Ordering::Relaxed);
                        return Err(e);
                    }
                    self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                    true
                }
            };
            debug_assert!(conflicted);
            // Sleep a random part of the current backoff so that colliding invocations
            // spread out, then widen the window.
            let nanos = backoff.as_nanos() as u64;
            std::thread::sleep(Duration::from_nanos(jitter.next() % nanos.max(1)));
            backoff = (backoff * 2).min(self.policy.max_backoff);
        }
        self.counters.gave_up.fetch_add(1, Ordering::Relaxed);
        Err(FsError::RetriesExhausted {
            attempts: self.policy.max_attempts,
        })
    }

    /// This executor's invocation counters.
    pub fn stats(&self) -> InvokeStats {
        InvokeStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            conflicts: self.counters.conflicts.load(Ordering::Relaxed),
            gave_up: self.counters.gave_up.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }

    /// This executor's cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.exec.cache.stats()
    }

    /// Empties this executor's cache.
    pub fn clear_cache(&self) {
        self.exec.cache.clear();
    }
}

/// xorshift64*, seeded from the clock and a counter: backoff jitter needs no quality and no
/// reproducibility (it never changes results, only timing).
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        static SALT: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
        let t = now();
        Jitter((t.nanos as u64 ^ SALT.fetch_add(0x9E37_79B9, Ordering::Relaxed)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
