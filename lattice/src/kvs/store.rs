//! [`Kvs`]: the store on worker threads in this process, and its client handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::config::KvsConfig;
use super::durable::ShardFile;
use super::error::KvsError;
use super::op::{Op, Reply};
use super::placement::Placement;
use super::shard::{KvsKey, ShardParams, ShardState, ShardStats};
use super::value::KvsValue;
use super::worker::{HotRoutes, ReplyPart, Worker, WorkerExit, WorkerMsg};

/// An Anna-style key-value store running on worker threads in this process.
///
/// Each worker thread is the only owner of its shard: no lock is taken on the data path.
/// Clients route each operation by the consistent-hash ring (hot keys to the client's own
/// replica), batch per worker, and collect replies from channels. Puts merge; gets read one
/// replica and may lag a concurrent put at another replica until the next gossip round
/// (eventual consistency, as in Anna).
///
/// The handle is cheap to clone and shareable across threads. Dropping the last handle shuts
/// the store down cleanly (gossip flushed); [`Kvs::shutdown`] does the same and reports.
///
/// ```
/// use stratus_lattice::kvs::{Kvs, KvsConfig};
/// use stratus_lattice::{Max, SetUnionBTreeSet};
///
/// let kvs: Kvs<String, SetUnionBTreeSet<u32>> = Kvs::start(KvsConfig::new(2))?;
/// kvs.put("tags".to_string(), SetUnionBTreeSet::singleton(1))?;
/// kvs.put("tags".to_string(), SetUnionBTreeSet::singleton(2))?;
/// assert_eq!(kvs.get(&"tags".to_string())?.unwrap().len(), 2);
/// # Ok::<(), stratus_lattice::kvs::KvsError>(())
/// ```
pub struct Kvs<K: KvsKey, V: KvsValue> {
    pub(crate) inner: Arc<Inner<K, V>>,
}

impl<K: KvsKey, V: KvsValue> Clone for Kvs<K, V> {
    fn clone(&self) -> Self {
        Kvs {
            inner: Arc::clone(&self.inner),
        }
    }
}

pub(crate) struct Inner<K: KvsKey, V: KvsValue> {
    pub(crate) config: KvsConfig,
    pub(crate) placement: Arc<Placement>,
    pub(crate) workers: Vec<Sender<WorkerMsg<K, V>>>,
    pub(crate) hot_routes: Arc<RwLock<HotRoutes<K>>>,
    pub(crate) threads: Mutex<Option<Vec<JoinHandle<WorkerExit>>>>,
    pub(crate) next_client: AtomicUsize,
}

/// What a store did, reported at shutdown.
#[derive(Clone, Debug, Default)]
pub struct KvsReport {
    /// Per worker: its counters.
    pub workers: Vec<ShardStats>,
    /// Per worker: keys held (replicas included).
    pub keys: Vec<usize>,
    /// Keys promoted to hot over the store's life.
    pub hot_keys: usize,
    /// Whether every worker reached a state with no gossip pending before stopping.
    pub flushed: bool,
}

impl<K, V> Kvs<K, V>
where
    K: KvsKey + Serialize + DeserializeOwned,
    V: KvsValue + Serialize + DeserializeOwned,
{
    /// Starts the store `config` describes: validates it, opens (and reloads) the durable
    /// tier if configured, and spawns the worker threads.
    pub fn start(config: KvsConfig) -> Result<Self, KvsError> {
        let (kvs, workers) = Self::prepare(config)?;
        let mut threads = Vec::with_capacity(workers.len());
        for (i, worker) in workers.into_iter().enumerate() {
            let handle = std::thread::Builder::new()
                .name(format!("stratus-kvs-{i}"))
                .spawn(move || worker.run())
                .map_err(|e| KvsError::Config(format!("cannot spawn worker thread: {e}")))?;
            threads.push(handle);
        }
        *kvs.inner.threads.lock() = Some(threads);
        Ok(kvs)
    }

    /// Builds the handle and the workers (shards loaded) without starting any thread.
    pub(crate) fn prepare(config: KvsConfig) -> Result<(Self, Vec<Worker<K, V>>), KvsError> {
        let placement = Arc::new(Placement::new(&config)?);
        let hot_routes: Arc<RwLock<HotRoutes<K>>> = Arc::new(RwLock::new(Arc::default()));
        let channels: Vec<_> = (0..config.workers).map(|_| unbounded()).collect();
        let senders: Vec<Sender<WorkerMsg<K, V>>> =
            channels.iter().map(|(s, _)| s.clone()).collect();
        let mut workers = Vec::with_capacity(config.workers);
        for (me, (_, inbox)) in channels.into_iter().enumerate() {
            let mut params = ShardParams::new(me, Arc::clone(&placement), &config);
            let mut shard = ShardState::default();
            let file = match &config.durable_dir {
                Some(dir) => {
                    let (file, loaded) = ShardFile::open::<K, V>(dir, me, &config)?;
                    for (key, value, rf) in loaded {
                        shard.load(&params, key, value, rf);
                    }
                    params.track_changes = true;
                    // Reloaded values are on disk already and their replicas have them.
                    shard.take_changed();
                    shard.take_urgent();
                    Some(file)
                }
                None => None,
            };
            workers.push(Worker {
                params,
                shard,
                inbox,
                peers: senders.clone(),
                hot_routes: Arc::clone(&hot_routes),
                file,
                gossip_interval: config.gossip_interval,
                next_tick: Instant::now() + config.gossip_interval,
                out: Vec::new(),
                durable_error: None,
            });
        }
        // Hot keys recorded in the files route to their replicas from the start.
        for w in &workers {
            if w.shard.hot_keys().next().is_some() {
                let mut routes = (**hot_routes.read()).clone();
                for (key, rf) in w.shard.hot_keys() {
                    let replicas: Vec<u16> = placement
                        .replicas(key, usize::from(rf))
                        .into_iter()
                        .map(|x| x as u16)
                        .collect();
                    routes.insert(key.clone(), replicas.into());
                }
                *hot_routes.write() = Arc::new(routes);
            }
        }
        let kvs = Kvs {
            inner: Arc::new(Inner {
                config,
                placement,
                workers: senders,
                hot_routes,
                threads: Mutex::new(None),
                next_client: AtomicUsize::new(0),
            }),
        };
        Ok((kvs, workers))
    }
}

impl<K: KvsKey, V: KvsValue> Kvs<K, V> {
    /// A client handle with its own identity: hot keys are read and written at the replica
    /// matching this client, spreading hot-key load over the workers.
    pub fn client(&self) -> KvsClient<K, V> {
        let id = self.inner.next_client.fetch_add(1, Ordering::Relaxed);
        KvsClient {
            kvs: self.clone(),
            home: id % self.inner.config.workers,
        }
    }

    /// Merges `value` into `key` and waits for the acknowledgement.
    pub fn put(&self, key: K, value: V) -> Result<(), KvsError> {
        self.client().put(key, value)
    }

    /// Reads `key` at one replica.
    pub fn get(&self, key: &K) -> Result<Option<V>, KvsError> {
        self.client().get(key)
    }

    /// Runs a batch of operations and returns their replies in order.
    pub fn execute(&self, ops: Vec<Op<K, V>>) -> Result<Vec<Reply<V>>, KvsError> {
        self.client().execute(ops)
    }

    /// Gives `key` at least `factor` replicas (Anna's per-key replication), without waiting
    /// for it to become hot. Factors never go down; the call returns once the key's primary has
    /// sent the value to the new replicas and clients route to them. A factor above the worker
    /// count is an error.
    pub fn set_replication(&self, key: K, factor: usize) -> Result<(), KvsError> {
        let workers = self.inner.config.workers;
        if factor == 0 || factor > workers {
            return Err(if factor == 0 {
                crate::ring::RingError::ZeroReplication.into()
            } else {
                crate::ring::RingError::ReplicationTooHigh {
                    factor,
                    nodes: workers,
                }
                .into()
            });
        }
        let primary = self.inner.placement.primary(&key);
        let (done, rx) = crossbeam_channel::bounded(1);
        self.inner.workers[primary]
            .send(WorkerMsg::Replicate { key, factor, done })
            .map_err(|_| KvsError::ShutDown)?;
        rx.recv().map_err(|_| KvsError::ShutDown)
    }

    /// The store's configuration.
    pub fn config(&self) -> &KvsConfig {
        &self.inner.config
    }

    /// Key placement.
    pub fn placement(&self) -> &Placement {
        &self.inner.placement
    }

    /// Keys currently replicated as hot, with their replica workers.
    pub fn hot_keys(&self) -> Vec<(K, Vec<usize>)> {
        let routes = Arc::clone(&self.inner.hot_routes.read());
        routes
            .iter()
            .map(|(k, r)| (k.clone(), r.iter().map(|&w| usize::from(w)).collect()))
            .collect()
    }

    /// What each worker holds for `key` (`None` where it holds nothing): after
    /// [`Kvs::sync`], every replica holds the same value.
    pub fn replica_values(&self, key: &K) -> Result<Vec<Option<V>>, KvsError> {
        let mut values = Vec::with_capacity(self.inner.workers.len());
        for worker in &self.inner.workers {
            let (reply, rx) = crossbeam_channel::bounded(1);
            worker
                .send(WorkerMsg::Inspect {
                    key: key.clone(),
                    reply,
                })
                .map_err(|_| KvsError::ShutDown)?;
            values.push(rx.recv().map_err(|_| KvsError::ShutDown)?);
        }
        Ok(values)
    }

    /// Sends all pending gossip and waits until every round is acknowledged (or `timeout`
    /// passes: `Ok(false)`). Afterwards every replica of every key holds the same value.
    pub fn sync(&self, timeout: Duration) -> Result<bool, KvsError> {
        self.inner.flush_until_quiet(timeout)
    }

    /// Flushes gossip (waiting up to 10 s), stops the workers and reports. Later operations
    /// on any handle fail with [`KvsError::ShutDown`].
    pub fn shutdown(&self) -> Result<KvsReport, KvsError> {
        self.inner.shutdown()
    }
}

impl<K: KvsKey, V: KvsValue> Inner<K, V> {
    fn shutdown(&self) -> Result<KvsReport, KvsError> {
        let Some(threads) = self.threads.lock().take() else {
            return Err(KvsError::ShutDown);
        };
        let flushed = self.flush_and_stop();
        let exits = threads
            .into_iter()
            .map(|t| t.join().map_err(|_| KvsError::ShutDown))
            .collect::<Result<Vec<_>, _>>()?;
        self.report(flushed, exits)
    }

    /// Flushes gossip until every worker is quiescent (at most 10 s), then tells every
    /// worker to stop; `true` if quiescence was reached.
    pub(crate) fn flush_and_stop(&self) -> bool {
        // A worker that already died cannot flush; stop the others all the same.
        let flushed = self
            .flush_until_quiet(Duration::from_secs(10))
            .unwrap_or(false);
        for worker in &self.workers {
            let _ = worker.send(WorkerMsg::Stop);
        }
        flushed
    }

    /// Asks every worker to flush its gossip until all report quiescence (every round
    /// acknowledged) or `timeout` passes (`Ok(false)`).
    fn flush_until_quiet(&self, timeout: Duration) -> Result<bool, KvsError> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut answers = Vec::with_capacity(self.workers.len());
            for worker in &self.workers {
                let (done, rx) = crossbeam_channel::bounded(1);
                worker
                    .send(WorkerMsg::Flush { done })
                    .map_err(|_| KvsError::ShutDown)?;
                answers.push(rx);
            }
            let mut quiet = true;
            for rx in answers {
                quiet &= rx.recv().map_err(|_| KvsError::ShutDown)?;
            }
            if quiet {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// The shutdown report from the workers' exits; the first durable error wins.
    pub(crate) fn report(
        &self,
        flushed: bool,
        exits: Vec<WorkerExit>,
    ) -> Result<KvsReport, KvsError> {
        let mut report = KvsReport {
            flushed,
            hot_keys: self.hot_routes.read().len(),
            ..KvsReport::default()
        };
        let mut first_error = None;
        for exit in exits {
            report.workers.push(exit.stats);
            report.keys.push(exit.keys);
            if first_error.is_none() {
                first_error = exit.durable_error;
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

impl<K: KvsKey, V: KvsValue> Drop for Inner<K, V> {
    fn drop(&mut self) {
        // Errors cannot surface from drop; `shutdown` is the way to see them.
        let _ = self.shutdown();
    }
}

/// A client of the store: routes operations to workers, batches them per worker and
/// collects the replies. Create one per thread with [`Kvs::client`].
pub struct KvsClient<K: KvsKey, V: KvsValue> {
    kvs: Kvs<K, V>,
    home: usize,
}

impl<K: KvsKey, V: KvsValue> KvsClient<K, V> {
    /// Merges `value` into `key` and waits for the acknowledgement.
    pub fn put(&self, key: K, value: V) -> Result<(), KvsError> {
        let reply = self.execute(vec![Op::Put(key, value)])?;
        reply
            .into_iter()
            .next()
            .map_or(Err(KvsError::ShutDown), |r| r.into_result().map(|_| ()))
    }

    /// Reads `key` at one replica.
    pub fn get(&self, key: &K) -> Result<Option<V>, KvsError> {
        let reply = self.execute(vec![Op::Get(key.clone())])?;
        reply
            .into_iter()
            .next()
            .map_or(Err(KvsError::ShutDown), Reply::into_result)
    }

    /// Runs a batch and waits for all its replies, in order.
    pub fn execute(&self, ops: Vec<Op<K, V>>) -> Result<Vec<Reply<V>>, KvsError> {
        self.submit(ops)?.wait()
    }

    /// Sends a batch without waiting: the workers serve it while the caller prepares the
    /// next one. Collect the replies with [`Pending::wait`].
    pub fn submit(&self, ops: Vec<Op<K, V>>) -> Result<Pending<V>, KvsError> {
        let inner = &self.kvs.inner;
        let routes = Arc::clone(&inner.hot_routes.read());
        let workers = inner.workers.len();
        let mut per_worker: Vec<Vec<(u32, Op<K, V>)>> = (0..workers)
            .map(|_| Vec::with_capacity(ops.len() / workers + 8))
            .collect();
        let total = ops.len();
        for (index, op) in ops.into_iter().enumerate() {
            let to = self.route(&inner.placement, &routes, op.key());
            per_worker[to].push((index as u32, op));
        }
        let (reply, rx) = unbounded();
        for (to, ops) in per_worker.into_iter().enumerate() {
            if !ops.is_empty() {
                let msg = WorkerMsg::Ops {
                    reply: reply.clone(),
                    ops,
                };
                inner.workers[to]
                    .send(msg)
                    .map_err(|_| KvsError::ShutDown)?;
            }
        }
        Ok(Pending {
            rx,
            replies: (0..total).map(|_| None).collect(),
            outstanding: total,
        })
    }

    fn route(&self, placement: &Placement, routes: &HotRoutes<K>, key: &K) -> usize {
        if !routes.is_empty()
            && let Some(replicas) = routes.get(key)
        {
            // Our own worker if it holds a replica, else a replica chosen by our id.
            let home = self.home as u16;
            if replicas.contains(&home) {
                return self.home;
            }
            return usize::from(replicas[self.home % replicas.len()]);
        }
        placement.primary(key)
    }
}

/// A submitted batch whose replies are still arriving.
pub struct Pending<V> {
    rx: Receiver<ReplyPart<V>>,
    replies: Vec<Option<Reply<V>>>,
    outstanding: usize,
}

impl<V> Pending<V> {
    /// Waits for every reply; they come back in the order the operations were submitted.
    pub fn wait(mut self) -> Result<Vec<Reply<V>>, KvsError> {
        while self.outstanding > 0 {
            let part = self.rx.recv().map_err(|_| KvsError::ShutDown)?;
            for (index, reply) in part {
                if let Some(slot) = self.replies.get_mut(index as usize)
                    && slot.replace(reply).is_none()
                {
                    self.outstanding -= 1;
                }
            }
        }
        Ok(self.replies.into_iter().flatten().collect())
    }
}
