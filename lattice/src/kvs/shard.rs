//! The sans-IO core of one worker: its shard of the data, its gossip links to the other
//! replicas and its hot-key detector. The thread driver and the sim node both drive it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use super::gossip::{GossipBatch, PeerMsg};
use super::op::{Handled, Op, Reply};
use super::placement::Placement;
use super::value::KvsValue;

/// The data map's hasher: foldhash, randomly seeded per process (minimally DoS-resistant)
/// and several times cheaper than `std`'s SipHash — one hash per operation is most of a
/// shard's work.
type Fast = foldhash::fast::RandomState;

/// A fixed-seed hasher for the maps this shard iterates (pending gossip, heat, the hot
/// table): iteration order then depends only on what happened, so a simulation replays
/// identically from its seed.
type Fixed = foldhash::fast::FixedState;

/// The bounds every key satisfies.
pub trait KvsKey: Hash + Eq + Clone + Send + Sync + 'static {}
impl<T: Hash + Eq + Clone + Send + Sync + 'static> KvsKey for T {}

/// What a shard needs to know about the store: who it is, where keys live, the knobs.
#[derive(Clone, Debug)]
pub struct ShardParams {
    /// This worker's id.
    pub me: usize,
    /// Key placement, shared by every worker.
    pub placement: Arc<Placement>,
    /// Fraction of sampled accesses that makes a key hot.
    pub hot_fraction: f64,
    /// Accesses between hot-key scans.
    pub hot_window: u64,
    /// Sample one access in this many (a power of two).
    pub hot_sample: u64,
    /// Ticks before an unacknowledged batch is sent again.
    pub retransmit_ticks: u32,
    /// Record every changed key (for a durable tier to write through).
    pub track_changes: bool,
    /// Keep each gossip round until the peer acknowledges it, retransmitting on silence.
    /// `false` is fire-and-forget gossip: it exists to show that the convergence check
    /// catches the deltas a lossy network then drops.
    pub acked_gossip: bool,
}

impl ShardParams {
    /// Parameters for worker `me` of the store `config` describes.
    pub fn new(me: usize, placement: Arc<Placement>, config: &super::KvsConfig) -> Self {
        ShardParams {
            me,
            placement,
            hot_fraction: config.hot_fraction,
            hot_window: config.hot_window,
            hot_sample: config.hot_sample,
            retransmit_ticks: config.retransmit_ticks,
            track_changes: false,
            acked_gossip: true,
        }
    }
}

/// One stored value with its replication bookkeeping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<V> {
    /// The merged value.
    pub value: V,
    /// The key's replication factor as this shard knows it.
    pub rf: u16,
    /// Changed since the last gossip round (and listed in the dirty list).
    dirty: bool,
}

/// A batch sent but not acknowledged yet.
#[derive(Debug)]
struct Inflight<K, V> {
    batch: Arc<GossipBatch<K, V>>,
    hot_version: u64,
    sent_tick: u64,
}

impl<K, V> Clone for Inflight<K, V> {
    fn clone(&self) -> Self {
        Inflight {
            batch: Arc::clone(&self.batch),
            hot_version: self.hot_version,
            sent_tick: self.sent_tick,
        }
    }
}

/// Gossip state towards one peer: values waiting for the next round, the round in flight
/// (one at a time; the next round carries everything that accumulated meanwhile) and the
/// hot-table version the peer has acknowledged.
#[derive(Clone, Debug)]
struct PeerLink<K, V> {
    pending: HashMap<K, V, Fixed>,
    inflight: Option<Inflight<K, V>>,
    hot_acked: u64,
}

impl<K, V> Default for PeerLink<K, V> {
    fn default() -> Self {
        PeerLink {
            pending: HashMap::default(),
            inflight: None,
            hot_acked: 0,
        }
    }
}

/// Counters a shard keeps about its own work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Puts served here.
    pub puts: u64,
    /// Gets served here.
    pub gets: u64,
    /// Operations sent on to the key's primary.
    pub forwarded: u64,
    /// Puts refused (type mismatch).
    pub rejected: u64,
    /// Gossip batches sent, retransmissions included.
    pub batches_sent: u64,
    /// Entries carried by those batches.
    pub entries_sent: u64,
    /// Gossip entries merged here.
    pub entries_merged: u64,
    /// Keys this shard promoted to hot.
    pub promotions: u64,
}

/// Everything one worker owns. `Default` is an empty shard; all methods take the worker's
/// [`ShardParams`], so this state can live in a sim node's durable storage untouched.
#[derive(Clone, Debug)]
pub struct ShardState<K, V> {
    data: HashMap<K, Entry<V>, Fast>,
    dirty: Vec<K>,
    hot: HashMap<K, u16, Fixed>,
    hot_version: u64,
    links: Vec<PeerLink<K, V>>,
    next_seq: u64,
    ticks: u64,
    served: u64,
    next_scan: u64,
    heat: HashMap<K, u32, Fixed>,
    heat_samples: u32,
    urgent: bool,
    changed: Vec<K>,
    stats: ShardStats,
}

impl<K, V> Default for ShardState<K, V> {
    fn default() -> Self {
        ShardState {
            data: HashMap::default(),
            dirty: Vec::new(),
            hot: HashMap::default(),
            hot_version: 0,
            links: Vec::new(),
            next_seq: 0,
            ticks: 0,
            served: 0,
            next_scan: 0,
            heat: HashMap::default(),
            heat_samples: 0,
            urgent: false,
            changed: Vec::new(),
            stats: ShardStats::default(),
        }
    }
}

impl<K: KvsKey, V: KvsValue> ShardState<K, V> {
    /// Serves `op` if this shard is a replica of its key, else says where to forward it.
    pub fn handle(&mut self, p: &ShardParams, op: Op<K, V>) -> Handled<K, V> {
        match op {
            Op::Put(key, value) => self.put(p, key, value),
            Op::Get(key) => self.get(p, key),
        }
    }

    fn put(&mut self, p: &ShardParams, key: K, value: V) -> Handled<K, V> {
        self.served += 1;
        let sampled = self.served & (p.hot_sample - 1) == 0;
        if let Some(entry) = self.data.get_mut(&key) {
            let grew = match entry.value.try_merge(value) {
                Ok(grew) => grew,
                Err(e) => {
                    self.stats.rejected += 1;
                    return Handled::Done(Reply::Rejected(Box::new(e)));
                }
            };
            self.stats.puts += 1;
            let hot_candidate = sampled && usize::from(entry.rf) < p.placement.hot_replication();
            if grew {
                if entry.rf > 1 && !entry.dirty {
                    entry.dirty = true;
                    self.dirty.push(key.clone());
                }
                if p.track_changes {
                    self.changed.push(key.clone());
                }
            }
            if hot_candidate {
                self.sample(p, key);
            } else if self.served >= self.next_scan {
                self.scan_hot(p);
            }
            return Handled::Done(Reply::Stored);
        }
        let rf = self.rf_of(p, &key);
        if !p.placement.is_replica(&key, rf, p.me) {
            self.stats.forwarded += 1;
            return Handled::Forward {
                to: p.placement.primary(&key),
                op: Op::Put(key, value),
            };
        }
        self.stats.puts += 1;
        let dirty = rf > 1;
        if dirty {
            self.dirty.push(key.clone());
        }
        if p.track_changes {
            self.changed.push(key.clone());
        }
        self.data.insert(
            key,
            Entry {
                value,
                rf: rf as u16,
                dirty,
            },
        );
        Handled::Done(Reply::Stored)
    }

    fn get(&mut self, p: &ShardParams, key: K) -> Handled<K, V> {
        self.served += 1;
        if let Some(entry) = self.data.get(&key) {
            self.stats.gets += 1;
            let value = entry.value.clone();
            let hot_candidate = self.served & (p.hot_sample - 1) == 0
                && usize::from(entry.rf) < p.placement.hot_replication();
            if hot_candidate {
                self.sample(p, key);
            } else if self.served >= self.next_scan {
                self.scan_hot(p);
            }
            return Handled::Done(Reply::Value(Some(value)));
        }
        let rf = self.rf_of(p, &key);
        if p.placement.is_replica(&key, rf, p.me) {
            self.stats.gets += 1;
            Handled::Done(Reply::Value(None))
        } else {
            self.stats.forwarded += 1;
            Handled::Forward {
                to: p.placement.primary(&key),
                op: Op::Get(key),
            }
        }
    }

    /// Counts one sampled access to `key`; every window, promotes the keys that took at
    /// least the hot fraction of the samples.
    fn sample(&mut self, p: &ShardParams, key: K) {
        *self.heat.entry(key).or_insert(0) += 1;
        self.heat_samples += 1;
        if self.served >= self.next_scan {
            self.scan_hot(p);
        }
    }

    fn scan_hot(&mut self, p: &ShardParams) {
        // A countdown rather than `served % window`: a division per operation shows up.
        self.next_scan = self.served + p.hot_window;
        let threshold = ((f64::from(self.heat_samples) * p.hot_fraction).ceil() as u32).max(4);
        let hot: Vec<K> = self
            .heat
            .drain()
            .filter(|&(_, count)| count >= threshold)
            .map(|(k, _)| k)
            .collect();
        self.heat_samples = 0;
        let factor = p.placement.hot_replication();
        for key in hot {
            if self.raise_rf(p, key, factor) {
                self.stats.promotions += 1;
            }
        }
    }

    /// Raises `key`'s replication factor to `factor` (clamped to the worker count; a factor
    /// never goes down). The key's value, if held here, goes to the added replicas with the
    /// next flush, and the new factor travels to every worker with gossip. `true` if it rose.
    pub fn replicate(&mut self, p: &ShardParams, key: K, factor: usize) -> bool {
        self.raise_rf(p, key, factor)
    }

    /// The key's replication factor as this shard knows it.
    fn rf_of(&self, p: &ShardParams, key: &K) -> usize {
        self.hot
            .get(key)
            .map_or(p.placement.replication(), |&rf| usize::from(rf))
    }

    /// Raises `key`'s replication factor to `factor` (never lowers it). If this shard holds
    /// the key, its value goes to the replicas the raise added — from every holder, so a
    /// replica that joins is filled even if a put it missed reached only an older replica.
    fn raise_rf(&mut self, p: &ShardParams, key: K, factor: usize) -> bool {
        let old = self.rf_of(p, &key);
        let factor = factor.min(p.placement.workers());
        if factor <= old {
            return false;
        }
        self.ensure_links(p);
        self.hot.insert(key.clone(), factor as u16);
        self.hot_version += 1;
        self.urgent = true;
        if let Some(entry) = self.data.get_mut(&key) {
            entry.rf = factor as u16;
            let before = p.placement.replicas(&key, old);
            for worker in p.placement.replicas(&key, factor) {
                if worker != p.me && !before.contains(&worker) {
                    self.links[worker]
                        .pending
                        .insert(key.clone(), entry.value.clone());
                }
            }
        }
        true
    }

    fn ensure_links(&mut self, p: &ShardParams) {
        let workers = p.placement.workers();
        if self.links.len() < workers {
            self.links.resize_with(workers, PeerLink::default);
        }
    }

    /// A gossip tick: moves changed values into the peers' pending sets, retransmits
    /// rounds unacknowledged for too long and starts new rounds. Messages go to `out`.
    pub fn tick(&mut self, p: &ShardParams, out: &mut Vec<(usize, PeerMsg<K, V>)>) {
        self.ticks += 1;
        self.send_rounds(p, out, true);
    }

    /// Sends what is pending now, without waiting for the next tick (after a promotion, and
    /// at shutdown). Never retransmits.
    pub fn flush(&mut self, p: &ShardParams, out: &mut Vec<(usize, PeerMsg<K, V>)>) {
        self.send_rounds(p, out, false);
    }

    /// Whether a promotion happened that its new replicas should hear about at once.
    pub fn take_urgent(&mut self) -> bool {
        std::mem::take(&mut self.urgent)
    }

    fn send_rounds(
        &mut self,
        p: &ShardParams,
        out: &mut Vec<(usize, PeerMsg<K, V>)>,
        retransmit: bool,
    ) {
        self.ensure_links(p);
        for key in std::mem::take(&mut self.dirty) {
            let Some(entry) = self.data.get_mut(&key) else {
                continue;
            };
            entry.dirty = false;
            for worker in p.placement.replicas(&key, usize::from(entry.rf)) {
                if worker != p.me {
                    // The current value dominates anything pending for the key.
                    self.links[worker]
                        .pending
                        .insert(key.clone(), entry.value.clone());
                }
            }
        }
        // Built at most once per round, only if some peer needs it.
        let mut hot_table: Option<Vec<(K, u16)>> = None;
        for (worker, link) in self.links.iter_mut().enumerate() {
            if worker == p.me {
                continue;
            }
            if let Some(inflight) = &mut link.inflight {
                if retransmit && self.ticks - inflight.sent_tick >= u64::from(p.retransmit_ticks) {
                    inflight.sent_tick = self.ticks;
                    self.stats.batches_sent += 1;
                    self.stats.entries_sent += inflight.batch.entries.len() as u64;
                    out.push((worker, PeerMsg::Gossip(Arc::clone(&inflight.batch))));
                }
                continue;
            }
            let hot_needed = link.hot_acked < self.hot_version;
            if link.pending.is_empty() && !hot_needed {
                continue;
            }
            let hot = if hot_needed {
                hot_table
                    .get_or_insert_with(|| {
                        self.hot.iter().map(|(k, &rf)| (k.clone(), rf)).collect()
                    })
                    .clone()
            } else {
                Vec::new()
            };
            self.next_seq += 1;
            let batch = Arc::new(GossipBatch {
                seq: self.next_seq,
                entries: link.pending.drain().collect(),
                hot,
            });
            self.stats.batches_sent += 1;
            self.stats.entries_sent += batch.entries.len() as u64;
            if p.acked_gossip {
                link.inflight = Some(Inflight {
                    batch: Arc::clone(&batch),
                    hot_version: self.hot_version,
                    sent_tick: self.ticks,
                });
            } else {
                link.hot_acked = self.hot_version;
            }
            out.push((worker, PeerMsg::Gossip(batch)));
        }
    }

    /// Handles a message from peer `from`; replies (acknowledgements) go to `out`.
    pub fn on_peer(
        &mut self,
        p: &ShardParams,
        from: usize,
        msg: PeerMsg<K, V>,
        out: &mut Vec<(usize, PeerMsg<K, V>)>,
    ) {
        self.ensure_links(p);
        match msg {
            PeerMsg::Gossip(batch) => {
                for (key, value) in &batch.entries {
                    self.merge_remote(p, key, value);
                }
                for (key, rf) in &batch.hot {
                    self.raise_rf(p, key.clone(), usize::from(*rf));
                }
                out.push((from, PeerMsg::Ack { seq: batch.seq }));
            }
            PeerMsg::Ack { seq } => {
                let Some(link) = self.links.get_mut(from) else {
                    return;
                };
                if link.inflight.as_ref().is_some_and(|i| i.batch.seq == seq)
                    && let Some(done) = link.inflight.take()
                {
                    link.hot_acked = link.hot_acked.max(done.hot_version);
                }
            }
        }
    }

    fn merge_remote(&mut self, p: &ShardParams, key: &K, value: &V) {
        self.stats.entries_merged += 1;
        match self.data.get_mut(key) {
            Some(entry) => {
                // Replicas of one key always hold the same lattice type: a put of another
                // type is refused where it lands, so a mismatch cannot arrive by gossip.
                if let Ok(true) = entry.value.try_merge(value.clone())
                    && p.track_changes
                {
                    self.changed.push(key.clone());
                }
            }
            None => {
                let rf = self.rf_of(p, key) as u16;
                self.data.insert(
                    key.clone(),
                    Entry {
                        value: value.clone(),
                        rf,
                        dirty: false,
                    },
                );
                if p.track_changes {
                    self.changed.push(key.clone());
                }
            }
        }
    }

    /// Loads a value from a durable tier at startup (merged, not gossiped).
    pub fn load(&mut self, p: &ShardParams, key: K, value: V, rf: u16) {
        if usize::from(rf) > p.placement.replication() {
            self.raise_rf(p, key.clone(), usize::from(rf));
        }
        self.merge_remote(p, &key, &value);
    }

    /// Keys changed since the last call (only recorded with `track_changes`).
    pub fn take_changed(&mut self) -> Vec<K> {
        std::mem::take(&mut self.changed)
    }

    /// Nothing waits to be gossiped and every round was acknowledged.
    pub fn is_quiescent(&self) -> bool {
        self.dirty.is_empty()
            && self
                .links
                .iter()
                .all(|l| l.pending.is_empty() && l.inflight.is_none())
    }

    /// The local value of `key`, without counting an access.
    pub fn peek(&self, key: &K) -> Option<&Entry<V>> {
        self.data.get(key)
    }

    /// Every key held here with its entry.
    pub fn entries(&self) -> impl Iterator<Item = (&K, &Entry<V>)> {
        self.data.iter()
    }

    /// Number of keys held here.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the shard holds nothing.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Keys replicated above the default factor, as this shard knows them.
    pub fn hot_keys(&self) -> impl Iterator<Item = (&K, u16)> {
        self.hot.iter().map(|(k, &rf)| (k, rf))
    }

    /// This shard's counters.
    pub fn stats(&self) -> ShardStats {
        self.stats
    }
}
