//! An AFT node: begins transactions, buffers their writes, serves read-atomic reads from
//! committed versions, commits by writing versions then the commit record.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{StorageError, TxId, TxnError};
use crate::metadata::{Metadata, ReadSet};
use crate::storage::Storage;
use crate::version::{
    CommitRecord, RECORD_PREFIX, StoredValue, Version, decode, encode, record_key, version_key,
};

/// Where a node announces the transactions it commits (to the other nodes of a cluster).
pub trait Broadcast: Send + Sync {
    /// Tells the other nodes that `record` committed (delivery may be late or lost: nodes
    /// also learn commits by [`AftNode::refresh`]).
    fn publish(&self, from: u16, record: Arc<CommitRecord>);
}

/// One transaction's state while it runs.
#[derive(Debug)]
struct TxState {
    /// [`AftNode::expire_idle`] calls since the transaction was last used.
    idle: u32,
    version: Version,
    writes: BTreeMap<String, Option<Vec<u8>>>,
    reads: ReadSet,
}

/// How finished transactions ended, remembered for the last this-many of them.
const FINISHED_MEMORY: usize = 1 << 16;

/// Counters of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Transactions committed here.
    pub committed: u64,
    /// Transactions aborted here (explicitly or by a failure).
    pub aborted: u64,
    /// Commit records learned from other nodes (broadcast or refresh).
    pub learned: u64,
}

/// What [`AftNode::refresh`] found in storage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RefreshReport {
    /// Commit records newly learned.
    pub learned: usize,
    /// Records that did not decode: their transactions stay invisible.
    pub corrupt: Vec<StorageError>,
}

/// An AFT node over a [`Storage`]. Thread-safe: many transactions may run at once, each
/// used from one thread at a time.
pub struct AftNode {
    id: u16,
    storage: Arc<dyn Storage>,
    meta: RwLock<Metadata>,
    running: Mutex<HashMap<TxId, Arc<Mutex<TxState>>>>,
    finished: Mutex<(HashMap<TxId, &'static str>, VecDeque<TxId>)>,
    clock: AtomicU64,
    broadcast: RwLock<Option<Arc<dyn Broadcast>>>,
    stats: Mutex<NodeStats>,
    down: AtomicBool,
    /// Timestamps below this are reserved for this incarnation in storage (`lease/<id>`):
    /// a restarted node starts above every timestamp an earlier incarnation could have
    /// used, so transaction ids are never reused — even those of transactions that left
    /// nothing but orphan versions, and whose clients may still call.
    lease_until: Mutex<u64>,
    /// Values of versions read or written here. Versions are immutable, so a cached value
    /// is never stale; collected versions are dropped from it.
    cache: Mutex<VersionCache>,
}

/// Values by `(key, version)` (`None`: a delete).
type VersionCache = HashMap<(String, Version), Option<Vec<u8>>>;

/// Cached version values before the cache is emptied and refilled.
const CACHE_ENTRIES: usize = 1 << 16;

/// Timestamps reserved per lease write.
const LEASE_BLOCK: u64 = 4096;

fn lease_key(id: u16) -> String {
    format!("lease/{id:05}")
}

impl std::fmt::Debug for AftNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AftNode").field("id", &self.id).finish()
    }
}

impl AftNode {
    /// Starts node `id` over `storage`, rebuilding its metadata from the commit records
    /// there (a restarted node does exactly this). Corrupt records are reported, and their
    /// transactions stay invisible.
    pub fn open(id: u16, storage: Arc<dyn Storage>) -> Result<(Self, RefreshReport), TxnError> {
        let node = AftNode {
            id,
            storage,
            meta: RwLock::new(Metadata::default()),
            running: Mutex::new(HashMap::new()),
            finished: Mutex::new((HashMap::new(), VecDeque::new())),
            clock: AtomicU64::new(1),
            broadcast: RwLock::new(None),
            stats: Mutex::new(NodeStats::default()),
            down: AtomicBool::new(false),
            lease_until: Mutex::new(0),
            cache: Mutex::new(HashMap::new()),
        };
        let report = node.refresh()?;
        let key = lease_key(id);
        let leased = match node.storage.get(&key)? {
            None => 0,
            Some(bytes) => decode::<u64>(&key, &bytes)?,
        };
        node.clock.fetch_max(leased, Ordering::SeqCst);
        *node.lease_until.lock() = leased;
        Ok((node, report))
    }

    /// This node's id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Where committed records are announced.
    pub fn set_broadcast(&self, broadcast: Arc<dyn Broadcast>) {
        *self.broadcast.write() = Some(broadcast);
    }

    /// This node's counters.
    pub fn stats(&self) -> NodeStats {
        *self.stats.lock()
    }

    /// Committed transactions this node knows.
    pub fn known_commits(&self) -> usize {
        self.meta.read().len()
    }

    fn check_up(&self) -> Result<(), TxnError> {
        if self.down.load(Ordering::SeqCst) {
            Err(TxnError::NodeDown)
        } else {
            Ok(())
        }
    }

    /// Simulates a crash: every running transaction is lost and later calls fail with
    /// [`TxnError::NodeDown`]. Build a new node with [`AftNode::open`] to restart.
    pub fn crash(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.running.lock().clear();
    }

    /// Aborts transactions untouched for more than `max_idle` calls of this method: the
    /// transaction timeout that keeps a dead function's transaction from pinning garbage
    /// collection forever. Call it periodically; returns how many were aborted.
    pub fn expire_idle(&self, max_idle: u32) -> usize {
        let running: Vec<(TxId, Arc<Mutex<TxState>>)> = self
            .running
            .lock()
            .iter()
            .map(|(id, s)| (*id, Arc::clone(s)))
            .collect();
        let mut expired = 0;
        for (id, state) in running {
            let mut st = state.lock();
            st.idle += 1;
            if st.idle > max_idle {
                drop(st);
                self.finish(id, "expired");
                expired += 1;
            }
        }
        expired
    }

    /// Begins a transaction.
    pub fn begin(&self) -> Result<TxId, TxnError> {
        self.check_up()?;
        let ts = self.clock.fetch_add(1, Ordering::SeqCst);
        {
            let mut until = self.lease_until.lock();
            if ts >= *until {
                let next = ts + LEASE_BLOCK;
                self.storage
                    .put_many(vec![(lease_key(self.id), encode(&next))])?;
                *until = next;
            }
        }
        // Unique per node as long as timestamps are; a restarted node starts its clock
        // above every committed timestamp it finds.
        let id = TxId((ts << 16) | u64::from(self.id));
        let state = TxState {
            idle: 0,
            version: Version { ts, tx: id },
            writes: BTreeMap::new(),
            reads: ReadSet::new(),
        };
        self.running.lock().insert(id, Arc::new(Mutex::new(state)));
        Ok(id)
    }

    fn state(&self, tx: TxId) -> Result<Arc<Mutex<TxState>>, TxnError> {
        self.check_up()?;
        if let Some(s) = self.running.lock().get(&tx) {
            s.lock().idle = 0;
            return Ok(Arc::clone(s));
        }
        match self.finished.lock().0.get(&tx) {
            Some(how) => Err(TxnError::Finished(tx, how)),
            None => Err(TxnError::UnknownTransaction(tx)),
        }
    }

    fn finish(&self, tx: TxId, how: &'static str) {
        self.running.lock().remove(&tx);
        let mut finished = self.finished.lock();
        let (map, order) = &mut *finished;
        map.insert(tx, how);
        order.push_back(tx);
        while order.len() > FINISHED_MEMORY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        let mut stats = self.stats.lock();
        match how {
            "committed" => stats.committed += 1,
            _ => stats.aborted += 1,
        }
    }

    /// Aborts `tx` because of `err` and returns the error.
    fn fail(&self, tx: TxId, err: TxnError) -> TxnError {
        self.finish(tx, "aborted");
        err
    }

    /// Reads `key`: the transaction's own write if any, else the same version it read
    /// before, else the newest committed version atomic with its earlier reads.
    pub fn get(&self, tx: TxId, key: &str) -> Result<Option<Vec<u8>>, TxnError> {
        let state = self.state(tx)?;
        let mut st = state.lock();
        if let Some(own) = st.writes.get(key) {
            return Ok(own.clone());
        }
        let version = match st.reads.get(key) {
            Some(v) => *v,
            None => match self.meta.read().choose(key, &st.reads) {
                Ok(v) => v,
                Err(()) => {
                    drop(st);
                    let key = key.to_string();
                    return Err(self.fail(tx, TxnError::NoAtomicVersion { key }));
                }
            },
        };
        let value = match version {
            None => None,
            Some(v) => match self.cached(key, v) {
                Some(value) => value,
                None => match self.fetch(key, v) {
                    Ok(value) => value,
                    Err(e) => {
                        drop(st);
                        return Err(self.fail(tx, e));
                    }
                },
            },
        };
        st.reads.insert(key.to_string(), version);
        Ok(value)
    }

    fn cached(&self, key: &str, v: Version) -> Option<Option<Vec<u8>>> {
        self.cache.lock().get(&(key.to_string(), v)).cloned()
    }

    fn remember(&self, key: &str, v: Version, value: Option<Vec<u8>>) {
        let mut cache = self.cache.lock();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert((key.to_string(), v), value);
    }

    /// Reads version `v` of `key` from storage.
    fn fetch(&self, key: &str, v: Version) -> Result<Option<Vec<u8>>, TxnError> {
        let stored_key = version_key(key, v);
        match self.storage.get(&stored_key)? {
            Some(bytes) => {
                let value = decode::<StoredValue>(&stored_key, &bytes)?.value;
                self.remember(key, v, value.clone());
                Ok(value)
            }
            // Collected under us (only possible if a cluster ran GC with a horizon that
            // ignored this node): abort rather than read something else.
            None => Err(TxnError::NoAtomicVersion {
                key: key.to_string(),
            }),
        }
    }

    /// Buffers a write (nothing reaches storage before commit).
    pub fn put(&self, tx: TxId, key: &str, value: Vec<u8>) -> Result<(), TxnError> {
        let state = self.state(tx)?;
        state.lock().writes.insert(key.to_string(), Some(value));
        Ok(())
    }

    /// Buffers a delete.
    pub fn delete(&self, tx: TxId, key: &str) -> Result<(), TxnError> {
        let state = self.state(tx)?;
        state.lock().writes.insert(key.to_string(), None);
        Ok(())
    }

    /// Reads and decodes a serde value.
    pub fn get_as<T: DeserializeOwned>(&self, tx: TxId, key: &str) -> Result<Option<T>, TxnError> {
        match self.get(tx, key)? {
            None => Ok(None),
            // Every byte must be used: postcard would otherwise read a prefix of bytes written
            // as another type and call it a value.
            Some(bytes) => match postcard::take_from_bytes(&bytes) {
                Ok((value, [])) => Ok(Some(value)),
                Ok((_, rest)) => Err(TxnError::Codec {
                    key: key.to_string(),
                    detail: format!("{} bytes left over", rest.len()),
                }),
                Err(e) => Err(TxnError::Codec {
                    key: key.to_string(),
                    detail: e.to_string(),
                }),
            },
        }
    }

    /// Encodes and buffers a serde value.
    pub fn put_as<T: Serialize>(&self, tx: TxId, key: &str, value: &T) -> Result<(), TxnError> {
        let bytes = postcard::to_stdvec(value).map_err(|e| TxnError::Codec {
            key: key.to_string(),
            detail: e.to_string(),
        })?;
        self.put(tx, key, bytes)
    }

    /// Aborts: the buffered writes are dropped; nothing was ever written.
    pub fn abort(&self, tx: TxId) -> Result<(), TxnError> {
        self.state(tx)?;
        self.finish(tx, "aborted");
        Ok(())
    }

    /// Commits: writes every buffered value as a new version, then the commit record, then
    /// announces it. On any storage error the transaction aborts and nothing of it becomes
    /// visible (versions without a record are never read).
    pub fn commit(&self, tx: TxId) -> Result<(), TxnError> {
        self.commit_until(tx, CommitStage::Done)
    }

    /// Fault injection: runs the commit only up to `stage` and then abandons the transaction
    /// as a crashed function would (no abort, no record). `CommitStage::Done` is a normal
    /// commit.
    pub fn commit_until(&self, tx: TxId, stage: CommitStage) -> Result<(), TxnError> {
        let state = self.state(tx)?;
        let st = state.lock();
        if st.writes.is_empty() {
            drop(st);
            self.finish(tx, "committed");
            return Ok(());
        }
        let version = st.version;
        let entries: Vec<(String, Vec<u8>)> = st
            .writes
            .iter()
            .map(|(k, v)| {
                let stored = StoredValue { value: v.clone() };
                (version_key(k, version), encode(&stored))
            })
            .collect();
        let record = Arc::new(CommitRecord {
            version,
            writes: st.writes.keys().cloned().collect(),
        });
        let written: Vec<(String, Option<Vec<u8>>)> = st
            .writes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        drop(st);
        if stage == CommitStage::BeforeVersions {
            self.finish(tx, "crashed");
            return Ok(());
        }
        if let Err(e) = self.storage.put_many(entries) {
            return Err(self.fail(tx, e.into()));
        }
        if stage == CommitStage::AfterVersions {
            self.finish(tx, "crashed");
            return Ok(());
        }
        let record_entry = vec![(record_key(version), encode(&*record))];
        if let Err(e) = self.storage.put_many(record_entry) {
            return Err(self.fail(tx, e.into()));
        }
        for (k, value) in &written {
            self.remember(k, version, value.clone());
        }
        self.learn(Arc::clone(&record));
        self.finish(tx, "committed");
        let broadcast = self.broadcast.read().clone();
        if let Some(b) = broadcast {
            b.publish(self.id, record);
        }
        Ok(())
    }

    /// Learns a commit (from a broadcast or a refresh); `true` if it was new.
    pub fn learn(&self, record: Arc<CommitRecord>) -> bool {
        let ts = record.version.ts;
        let new = self.meta.write().apply(record);
        // Lamport clock: transactions begun after learning this commit order after it.
        self.clock.fetch_max(ts + 1, Ordering::SeqCst);
        new
    }

    /// Receives a broadcast commit record (a down node ignores it).
    pub fn receive(&self, record: Arc<CommitRecord>) {
        if !self.down.load(Ordering::SeqCst) && self.learn(record) {
            self.stats.lock().learned += 1;
        }
    }

    /// Lists the commit records in storage and learns the ones this node missed (lost
    /// broadcasts; a restart).
    pub fn refresh(&self) -> Result<RefreshReport, TxnError> {
        self.check_up()?;
        let mut report = RefreshReport::default();
        for key in self.storage.list(RECORD_PREFIX)? {
            if self.knows_record_key(&key) {
                continue;
            }
            let Some(bytes) = self.storage.get(&key)? else {
                continue; // collected between list and get
            };
            match decode::<CommitRecord>(&key, &bytes) {
                Ok(record) if record_key(record.version) == key => {
                    if self.learn(Arc::new(record)) {
                        report.learned += 1;
                    }
                }
                Ok(_) => report.corrupt.push(StorageError::Corrupt {
                    key: key.clone(),
                    detail: "record stored under another transaction's key".into(),
                }),
                Err(e) => report.corrupt.push(e),
            }
        }
        self.stats.lock().learned += report.learned as u64;
        Ok(report)
    }

    fn knows_record_key(&self, key: &str) -> bool {
        // Record keys are `tx/<ts>-<id>`: parse back to a version to look it up.
        let Some(rest) = key.strip_prefix(RECORD_PREFIX) else {
            return false;
        };
        let Some((ts, id)) = rest.split_once('-') else {
            return false;
        };
        let (Ok(ts), Ok(id)) = (ts.parse(), id.parse()) else {
            return false;
        };
        self.meta
            .read()
            .record(&Version { ts, tx: TxId(id) })
            .is_some()
    }

    /// The smallest timestamp a running transaction here began at or read: garbage
    /// collection must keep what such a transaction may still choose.
    pub fn horizon(&self) -> u64 {
        let running: Vec<_> = self.running.lock().values().cloned().collect();
        running
            .iter()
            .map(|s| {
                let st = s.lock();
                st.reads
                    .values()
                    .flatten()
                    .map(|v| v.ts)
                    .chain(std::iter::once(st.version.ts))
                    .min()
                    .unwrap_or(st.version.ts)
            })
            .min()
            .unwrap_or_else(|| self.clock.load(Ordering::SeqCst))
    }

    /// Records collectible below `horizon` by this node's metadata.
    pub(crate) fn collectible(&self, horizon: u64) -> Vec<Arc<CommitRecord>> {
        self.meta.read().collectible(horizon)
    }

    /// Forgets collected transactions.
    pub(crate) fn forget(&self, records: &[Arc<CommitRecord>]) {
        let mut meta = self.meta.write();
        let mut cache = self.cache.lock();
        for r in records {
            meta.remove(r);
            for k in &r.writes {
                cache.remove(&(k.clone(), r.version));
            }
        }
    }

    /// The storage this node runs over.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }
}

/// How far [`AftNode::commit_until`] goes before abandoning the transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitStage {
    /// Dies before writing anything.
    BeforeVersions,
    /// Dies after the versions are in storage but before the commit record.
    AfterVersions,
    /// A complete commit.
    Done,
}
