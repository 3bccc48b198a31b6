//! Co-located mode: the caller's threads are the workers (Anna's thread-per-core with the
//! application inside, as Cloudburst co-locates executors with caches).

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, select, unbounded};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::config::KvsConfig;
use super::error::KvsError;
use super::op::{Handled, Op, Reply};
use super::shard::KvsKey;
use super::store::{Kvs, KvsReport};
use super::value::KvsValue;
use super::worker::{ReplyPart, Worker, WorkerMsg};

/// Remote operations are sent in batches of this many.
const REMOTE_BATCH: usize = 1024;
/// While issuing, the inbox is checked every this many operations, so peers waiting on us
/// are served promptly.
const POLL_EVERY: usize = 256;

/// One worker driven by the caller's thread: operations on keys this worker holds (its
/// primary keys and every hot key replicated here) run inline on its shard, with no channel
/// and no lock; the rest go to their owners in batches, and while replies are outstanding
/// the thread serves its own inbox (peers' operations and gossip).
pub struct LocalWorker<K: KvsKey, V: KvsValue> {
    worker: Worker<K, V>,
    replies: Receiver<ReplyPart<V>>,
    reply_to: Sender<ReplyPart<V>>,
    remote: Vec<Vec<(u32, Op<K, V>)>>,
}

impl<K, V> Kvs<K, V>
where
    K: KvsKey + Serialize + DeserializeOwned,
    V: KvsValue + Serialize + DeserializeOwned,
{
    /// Runs a store whose workers are `config.workers` threads of this call, each running
    /// `body` on its [`LocalWorker`]. A worker whose body returns keeps serving its peers
    /// until every body has returned; then gossip is flushed and the workers stop. Returns
    /// each body's result (by worker id) and the shutdown report.
    pub fn run_local<R, F>(config: KvsConfig, body: F) -> Result<(Vec<R>, KvsReport), KvsError>
    where
        R: Send,
        F: Fn(&mut LocalWorker<K, V>) -> R + Sync,
    {
        let (kvs, workers) = Self::prepare(config)?;
        let (done_tx, done_rx) = unbounded::<()>();
        let n = workers.len();
        let (results, exits) = std::thread::scope(|s| {
            let handles: Vec<_> = workers
                .into_iter()
                .map(|worker| {
                    let body = &body;
                    let done_tx = done_tx.clone();
                    s.spawn(move || {
                        let (reply_to, replies) = unbounded();
                        let mut local = LocalWorker {
                            remote: (0..worker.peers.len()).map(|_| Vec::new()).collect(),
                            worker,
                            replies,
                            reply_to,
                        };
                        let result = body(&mut local);
                        let _ = done_tx.send(());
                        (result, local.worker.run())
                    })
                })
                .collect();
            for _ in 0..n {
                let _ = done_rx.recv();
            }
            let flushed = kvs.inner.flush_and_stop();
            let mut results = Vec::with_capacity(n);
            let mut exits = Vec::with_capacity(n);
            for h in handles {
                match h.join() {
                    Ok((r, exit)) => {
                        results.push(r);
                        exits.push(exit);
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            (results, (flushed, exits))
        });
        let report = kvs.inner.report(exits.0, exits.1)?;
        Ok((results, report))
    }
}

impl<K, V> LocalWorker<K, V>
where
    K: KvsKey + Serialize,
    V: KvsValue + Serialize,
{
    /// This worker's id (`0..workers`).
    pub fn id(&self) -> usize {
        self.worker.params.me
    }

    /// Key placement (to keep work local: e.g. load only the keys this worker owns).
    pub fn placement(&self) -> &super::placement::Placement {
        &self.worker.params.placement
    }

    /// Merges `value` into `key`.
    pub fn put(&mut self, key: K, value: V) -> Result<(), KvsError> {
        let mut result = Ok(());
        self.execute_with([Op::Put(key, value)], |_, r| {
            result = r.into_result().map(|_| ());
        })?;
        result
    }

    /// Reads `key` at one replica.
    pub fn get(&mut self, key: &K) -> Result<Option<V>, KvsError> {
        let mut result = Ok(None);
        self.execute_with([Op::Get(key.clone())], |_, r| result = r.into_result())?;
        result
    }

    /// Runs a batch; replies in order.
    pub fn execute(&mut self, ops: Vec<Op<K, V>>) -> Result<Vec<Reply<V>>, KvsError> {
        let mut replies: Vec<Option<Reply<V>>> = (0..ops.len()).map(|_| None).collect();
        self.execute_with(ops, |i, r| replies[i as usize] = Some(r))?;
        Ok(replies.into_iter().flatten().collect())
    }

    /// Runs a batch and hands each reply to `on_reply` with the operation's position, as
    /// soon as it is known (local ones at once, remote ones as they arrive): no reply vector
    /// is built.
    pub fn execute_with(
        &mut self,
        ops: impl IntoIterator<Item = Op<K, V>>,
        mut on_reply: impl FnMut(u32, Reply<V>),
    ) -> Result<(), KvsError> {
        let me = self.worker.params.me;
        let placement = Arc::clone(&self.worker.params.placement);
        let routes = Arc::clone(&self.worker.hot_routes.read());
        let durable = self.worker.file.is_some();
        let mut held: Vec<(u32, Reply<V>)> = Vec::new();
        let mut outstanding = 0usize;
        for (i, op) in ops.into_iter().enumerate() {
            let index = i as u32;
            let primary = placement.primary(op.key());
            let target = if primary == me {
                me
            } else {
                match routes.get(op.key()) {
                    Some(replicas) if replicas.contains(&(me as u16)) => me,
                    Some(replicas) => usize::from(replicas[me % replicas.len()]),
                    None => primary,
                }
            };
            if target == me {
                match self.worker.shard.handle(&self.worker.params, op) {
                    // With a durable tier, acknowledge only after the write-through below.
                    Handled::Done(r) if durable => held.push((index, r)),
                    Handled::Done(r) => on_reply(index, r),
                    Handled::Forward { to, op } => {
                        outstanding += 1;
                        self.queue(to, index, op)?;
                    }
                }
            } else {
                outstanding += 1;
                self.queue(target, index, op)?;
            }
            if i % POLL_EVERY == POLL_EVERY - 1 {
                self.poll(&mut on_reply, &mut outstanding);
            }
        }
        for to in 0..self.remote.len() {
            self.send_remote(to)?;
        }
        if durable {
            if let Err(e) = self.worker.write_through() {
                for (i, r) in held {
                    let r = match r {
                        Reply::Stored => Reply::Rejected(Box::new(e.clone())),
                        other => other,
                    };
                    on_reply(i, r);
                }
                return Err(e);
            }
            for (i, r) in held {
                on_reply(i, r);
            }
        }
        if self.worker.shard.take_urgent() {
            let mut out = std::mem::take(&mut self.worker.out);
            self.worker.shard.flush(&self.worker.params, &mut out);
            self.worker.send_peers(&mut out);
            self.worker.out = out;
            self.worker.publish_hot();
        }
        while outstanding > 0 {
            let wait = self
                .worker
                .next_tick()
                .saturating_duration_since(std::time::Instant::now());
            select! {
                recv(self.replies) -> part => {
                    let part = part.map_err(|_| KvsError::ShutDown)?;
                    outstanding -= part.len();
                    for (i, r) in part {
                        on_reply(i, r);
                    }
                }
                recv(self.worker.inbox) -> msg => {
                    let msg = msg.map_err(|_| KvsError::ShutDown)?;
                    if !self.worker.handle(msg) {
                        return Err(KvsError::ShutDown);
                    }
                }
                default(wait) => {}
            }
            self.worker.maybe_tick();
        }
        self.worker.maybe_tick();
        Ok(())
    }

    fn queue(&mut self, to: usize, index: u32, op: Op<K, V>) -> Result<(), KvsError> {
        self.remote[to].push((index, op));
        if self.remote[to].len() >= REMOTE_BATCH {
            self.send_remote(to)?;
        }
        Ok(())
    }

    fn send_remote(&mut self, to: usize) -> Result<(), KvsError> {
        if self.remote[to].is_empty() {
            return Ok(());
        }
        let ops = std::mem::replace(&mut self.remote[to], Vec::with_capacity(REMOTE_BATCH));
        let msg = WorkerMsg::Ops {
            reply: self.reply_to.clone(),
            ops,
        };
        self.worker.peers[to]
            .send(msg)
            .map_err(|_| KvsError::ShutDown)
    }

    /// Serves whatever is waiting, without blocking: replies to us and our inbox.
    fn poll(&mut self, on_reply: &mut impl FnMut(u32, Reply<V>), outstanding: &mut usize) {
        while let Ok(part) = self.replies.try_recv() {
            *outstanding -= part.len();
            for (i, r) in part {
                on_reply(i, r);
            }
        }
        while let Ok(msg) = self.worker.inbox.try_recv() {
            if !self.worker.handle(msg) {
                break;
            }
        }
    }
}
