//! The thread driver's worker: one OS thread that exclusively owns one shard and talks to
//! clients and peers only through channels.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::RwLock;
use serde::Serialize;

use super::durable::ShardFile;
use super::error::KvsError;
use super::gossip::PeerMsg;
use super::op::{Handled, Op, Reply};
use super::shard::{KvsKey, ShardParams, ShardState, ShardStats};
use super::value::KvsValue;

/// Replies to some operations of one client batch, by position.
pub(crate) type ReplyPart<V> = Vec<(u32, Reply<V>)>;

/// Where a hot key's replicas are, as clients see it.
pub(crate) type HotRoutes<K> = Arc<HashMap<K, Arc<[u16]>, foldhash::fast::RandomState>>;

/// What a worker's inbox carries.
pub(crate) enum WorkerMsg<K, V> {
    /// Client operations (from a client, or forwarded by a worker that is not a replica).
    Ops {
        reply: Sender<ReplyPart<V>>,
        ops: Vec<(u32, Op<K, V>)>,
    },
    /// Gossip from peer `from`.
    Peer { from: usize, msg: PeerMsg<K, V> },
    /// Send everything pending; answer whether this worker is quiescent.
    Flush { done: Sender<bool> },
    /// The values this worker holds for `key` (inspection).
    Inspect { key: K, reply: Sender<Option<V>> },
    /// Raise a key's replication factor (sent to its primary).
    Replicate {
        key: K,
        factor: usize,
        done: Sender<()>,
    },
    /// Exit the loop.
    Stop,
}

/// What a worker reports when it exits.
#[derive(Clone, Debug, Default)]
pub(crate) struct WorkerExit {
    pub(crate) stats: ShardStats,
    pub(crate) keys: usize,
    pub(crate) durable_error: Option<KvsError>,
}

pub(crate) struct Worker<K, V> {
    pub(crate) params: ShardParams,
    pub(crate) shard: ShardState<K, V>,
    pub(crate) inbox: Receiver<WorkerMsg<K, V>>,
    pub(crate) peers: Vec<Sender<WorkerMsg<K, V>>>,
    pub(crate) hot_routes: Arc<RwLock<HotRoutes<K>>>,
    pub(crate) file: Option<ShardFile>,
    pub(crate) gossip_interval: Duration,
    pub(crate) next_tick: Instant,
    pub(crate) out: Vec<(usize, PeerMsg<K, V>)>,
    pub(crate) durable_error: Option<KvsError>,
}

impl<K, V> Worker<K, V>
where
    K: KvsKey + Serialize,
    V: KvsValue + Serialize,
{
    /// Serves the inbox until told to stop (or every sender is gone), gossiping on time.
    pub(crate) fn run(mut self) -> WorkerExit {
        loop {
            let wait = self.next_tick.saturating_duration_since(Instant::now());
            let go_on = match self.inbox.recv_timeout(wait) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Disconnected) => false,
                Err(RecvTimeoutError::Timeout) => true,
            };
            self.maybe_tick();
            if !go_on {
                break;
            }
        }
        self.exit()
    }

    /// Handles one inbox message; `false` when it says stop.
    pub(crate) fn handle(&mut self, msg: WorkerMsg<K, V>) -> bool {
        let mut out = std::mem::take(&mut self.out);
        match msg {
            WorkerMsg::Ops { reply, ops } => {
                if let Err(e) = self.serve(reply, ops, &mut out) {
                    self.durable_error = Some(e);
                }
            }
            WorkerMsg::Peer { from, msg } => {
                self.shard.on_peer(&self.params, from, msg, &mut out);
                if let Err(e) = self.write_through() {
                    self.durable_error = Some(e);
                }
                if self.shard.take_urgent() {
                    self.shard.flush(&self.params, &mut out);
                }
            }
            WorkerMsg::Flush { done } => {
                self.shard.flush(&self.params, &mut out);
                self.send_peers(&mut out);
                let _ = done.send(self.shard.is_quiescent());
            }
            WorkerMsg::Inspect { key, reply } => {
                let _ = reply.send(self.shard.peek(&key).map(|e| e.value.clone()));
            }
            WorkerMsg::Replicate { key, factor, done } => {
                if self.shard.replicate(&self.params, key, factor) {
                    self.shard.flush(&self.params, &mut out);
                    self.send_peers(&mut out);
                    self.publish_hot();
                }
                let _ = done.send(());
            }
            WorkerMsg::Stop => {
                self.out = out;
                return false;
            }
        }
        self.send_peers(&mut out);
        self.out = out;
        true
    }

    /// Runs a gossip tick if one is due.
    pub(crate) fn maybe_tick(&mut self) {
        if Instant::now() >= self.next_tick {
            let mut out = std::mem::take(&mut self.out);
            self.shard.tick(&self.params, &mut out);
            self.send_peers(&mut out);
            self.out = out;
            self.next_tick = Instant::now() + self.gossip_interval;
        }
    }

    /// When the next gossip tick is due.
    pub(crate) fn next_tick(&self) -> Instant {
        self.next_tick
    }

    pub(crate) fn exit(self) -> WorkerExit {
        WorkerExit {
            stats: self.shard.stats(),
            keys: self.shard.len(),
            durable_error: self.durable_error,
        }
    }

    pub(crate) fn serve(
        &mut self,
        reply: Sender<ReplyPart<V>>,
        ops: Vec<(u32, Op<K, V>)>,
        out: &mut Vec<(usize, PeerMsg<K, V>)>,
    ) -> Result<(), KvsError> {
        let mut part = Vec::with_capacity(ops.len());
        let mut forwards: Vec<Vec<(u32, Op<K, V>)>> = Vec::new();
        for (index, op) in ops {
            match self.shard.handle(&self.params, op) {
                Handled::Done(r) => part.push((index, r)),
                Handled::Forward { to, op } => {
                    if forwards.len() <= to {
                        forwards.resize_with(to + 1, Vec::new);
                    }
                    forwards[to].push((index, op));
                }
            }
        }
        // Acknowledge only what is on disk: a failed write turns this batch's puts into
        // rejections instead of acknowledgements.
        if let Err(e) = self.write_through() {
            for (_, r) in &mut part {
                if matches!(r, Reply::Stored) {
                    *r = Reply::Rejected(Box::new(e.clone()));
                }
            }
            let _ = reply.send(part);
            return Err(e);
        }
        for (to, ops) in forwards.into_iter().enumerate() {
            if !ops.is_empty() {
                let reply = reply.clone();
                let _ = self.peers[to].send(WorkerMsg::Ops { reply, ops });
            }
        }
        if !part.is_empty() {
            let _ = reply.send(part);
        }
        if self.shard.take_urgent() {
            // A promotion: tell the new replicas first, then let clients route to them, so
            // their first routed operation finds the value already there (channels are FIFO).
            self.shard.flush(&self.params, out);
            self.send_peers(out);
            self.publish_hot();
        }
        Ok(())
    }

    pub(crate) fn write_through(&mut self) -> Result<(), KvsError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut changed = self.shard.take_changed();
        if changed.is_empty() {
            return Ok(());
        }
        changed.sort_unstable_by_key(|k| super::super::ring::ring_hash(k));
        changed.dedup();
        let shard = &self.shard;
        file.write(changed.iter().filter_map(|k| shard.peek(k).map(|e| (k, e))))
    }

    pub(crate) fn send_peers(&mut self, out: &mut Vec<(usize, PeerMsg<K, V>)>) {
        for (to, msg) in out.drain(..) {
            let from = self.params.me;
            // A peer that already exited (shutdown) no longer needs gossip.
            let _ = self.peers[to].send(WorkerMsg::Peer { from, msg });
        }
    }

    pub(crate) fn publish_hot(&self) {
        let placement = &self.params.placement;
        let mut routes = self.hot_routes.write();
        let mut next = (**routes).clone();
        for (key, rf) in self.shard.hot_keys() {
            if !next.contains_key(key) {
                let replicas: Vec<u16> = placement
                    .replicas(key, usize::from(rf))
                    .into_iter()
                    .map(|w| w as u16)
                    .collect();
                next.insert(key.clone(), replicas.into());
            }
        }
        *routes = Arc::new(next);
    }
}
