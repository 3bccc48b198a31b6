//! Seeded fault-injection runs: concurrent functions (transactions) interleaved step by step
//! by a deterministic scheduler, with functions killed mid-way (also between the version
//! writes and the commit record), AFT nodes crashing and restarting, broadcasts lost or
//! late, storage calls failing or writing partially, and periodic garbage collection. The
//! same workload runs over AFT and over plain storage (writes straight to the backend,
//! functions retried); the checker counts anomalies in each.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use stratus_sim::SimRng;

use crate::checker::{Anomaly, Read, TxnRecord, check};
use crate::cluster::collect;
use crate::error::{TxId, TxnError};
use crate::node::{AftNode, Broadcast, CommitStage};
use crate::storage::{FaultyStorage, MemStorage, Storage, StorageFaults};
use crate::version::CommitRecord;

/// Run transactions through AFT, or write straight to storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// AFT nodes between the functions and storage.
    Aft,
    /// Functions read and write storage directly (and are retried when they fail).
    Plain,
}

/// One seeded run.
#[derive(Clone, Debug)]
pub struct TxnScenario {
    /// The seed for everything.
    pub seed: u64,
    /// AFT or plain storage.
    pub mode: Mode,
    /// AFT nodes.
    pub nodes: usize,
    /// Functions running at once.
    pub concurrency: usize,
    /// Invocations to complete (each retried until it commits).
    pub invocations: usize,
    /// Distinct keys.
    pub keys: u64,
    /// Probability, per step, that the stepping function is killed.
    pub kill: f64,
    /// Probability, per step, that an AFT node crashes (it restarts a few steps later).
    pub node_crash: f64,
    /// Probability a broadcast to one node is lost.
    pub broadcast_loss: f64,
    /// A delivered broadcast arrives up to this many steps later.
    pub broadcast_delay: u64,
    /// Storage faults.
    pub storage: StorageFaults,
    /// Garbage collection every this many steps (0: never).
    pub gc_every: u64,
    /// Give up after this many steps (a liveness failure).
    pub max_steps: u64,
}

impl TxnScenario {
    /// 3 AFT nodes, 4 concurrent functions, 40 invocations of 2–3 reads and 2–3 writes over
    /// 6 keys; 3% kills per step, 1% node crashes per step, 20% broadcast loss, 2% storage
    /// failures and 30% partial multi-writes; GC every 20 steps.
    pub fn faulty(seed: u64, mode: Mode) -> Self {
        TxnScenario {
            seed,
            mode,
            nodes: 3,
            concurrency: 4,
            invocations: 40,
            keys: 6,
            kill: 0.03,
            node_crash: 0.01,
            broadcast_loss: 0.2,
            broadcast_delay: 10,
            storage: StorageFaults {
                fail: 0.02,
                partial_write: 0.3,
            },
            gc_every: 20,
            max_steps: 20_000,
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct TxnOutcome {
    /// The seed.
    pub seed: u64,
    /// Invocations that committed (completed, in plain mode).
    pub committed: usize,
    /// Attempts that failed or were killed and retried.
    pub retries: usize,
    /// Attempts killed by the scheduler.
    pub killed: usize,
    /// Node restarts.
    pub restarts: usize,
    /// Transactions garbage-collected.
    pub collected: usize,
    /// Anomalies the checker found.
    pub anomalies: Vec<Anomaly>,
    /// Keys in storage at the end.
    pub storage_keys: usize,
    /// Every invocation committed within `max_steps`.
    pub live: bool,
}

impl TxnOutcome {
    /// `Ok` if live and anomaly-free; otherwise a report (what a failing seed prints).
    pub fn check(&self) -> Result<(), String> {
        if !self.live {
            return Err(format!(
                "liveness: only {} invocations committed",
                self.committed
            ));
        }
        if !self.anomalies.is_empty() {
            return Err(format!(
                "{} anomalies, first: {:?}",
                self.anomalies.len(),
                &self.anomalies[..self.anomalies.len().min(3)]
            ));
        }
        Ok(())
    }
}

/// A broadcast the scheduler delivers: late, or never.
struct QueuedBroadcast {
    queue: Mutex<Vec<(u16, Arc<CommitRecord>)>>,
}

impl Broadcast for QueuedBroadcast {
    fn publish(&self, from: u16, record: Arc<CommitRecord>) {
        self.queue.lock().push((from, record));
    }
}

/// One step of a function's program.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Read(String),
    Write(String),
}

/// A function's program: 2–3 reads and 2–3 writes of keys `k0..k{keys}`, in random order.
pub(crate) fn program(rng: &mut SimRng, keys: u64) -> Vec<Step> {
    let key = |rng: &mut SimRng| format!("k{}", rng.below(keys));
    let mut steps = Vec::new();
    for _ in 0..2 + rng.below(2) {
        steps.push(Step::Read(key(rng)));
    }
    for _ in 0..2 + rng.below(2) {
        steps.push(Step::Write(key(rng)));
    }
    rng.shuffle(&mut steps);
    steps
}

/// A function invocation in progress.
struct Attempt {
    label: u64,
    node: usize,
    tx: Option<TxId>,
    next: usize,
    reads: Vec<Read>,
    written: Vec<String>,
}

struct Function {
    program: Vec<Step>,
    attempt: Option<Attempt>,
}

impl TxnScenario {
    /// Runs the scenario.
    pub fn run(&self) -> Result<TxnOutcome, TxnError> {
        let mut rng = SimRng::new(self.seed);
        let faulty = Arc::new(FaultyStorage::new(
            MemStorage::new(),
            self.storage,
            self.seed ^ 0x0570_4a6e,
        ));
        let storage: Arc<dyn Storage> = faulty.clone();
        let broadcast = Arc::new(QueuedBroadcast {
            queue: Mutex::new(Vec::new()),
        });
        let mut nodes: Vec<Option<Arc<AftNode>>> = Vec::new();
        if self.mode == Mode::Aft {
            faulty.set_enabled(false);
            for id in 0..self.nodes {
                let (node, _) = AftNode::open(id as u16, Arc::clone(&storage))?;
                node.set_broadcast(broadcast.clone());
                nodes.push(Some(Arc::new(node)));
            }
            faulty.set_enabled(true);
        }
        let mut down_until: Vec<u64> = vec![0; nodes.len()];
        let mut deliveries: BTreeMap<u64, Vec<(usize, Arc<CommitRecord>)>> = BTreeMap::new();
        let mut expiries: VecDeque<(u64, usize, TxId)> = VecDeque::new();
        let mut pending: VecDeque<Vec<Step>> = (0..self.invocations)
            .map(|_| program(&mut rng, self.keys))
            .collect();
        let mut functions: Vec<Function> = Vec::new();
        let mut history: Vec<TxnRecord> = Vec::new();
        let (mut retries, mut killed, mut restarts, mut collected) = (0, 0, 0, 0);
        let mut next_label = 1u64;
        let mut completion = 0u64;
        let mut step = 0u64;
        while step < self.max_steps {
            step += 1;
            while functions.len() < self.concurrency {
                let Some(program) = pending.pop_front() else {
                    break;
                };
                functions.push(Function {
                    program,
                    attempt: None,
                });
            }
            if functions.is_empty() {
                break;
            }
            // Deliver due broadcasts; expire transactions of killed functions (AFT's
            // transaction timeout), so their state does not pin garbage collection.
            if let Some(due) = deliveries.remove(&step) {
                for (to, record) in due {
                    if let Some(Some(node)) = nodes.get(to) {
                        node.receive(record);
                    }
                }
            }
            while expiries.front().is_some_and(|e| e.0 <= step) {
                if let Some((_, n, tx)) = expiries.pop_front()
                    && let Some(Some(node)) = nodes.get(n)
                {
                    let _ = node.abort(tx);
                }
            }
            for (from, record) in broadcast.queue.lock().drain(..) {
                for to in 0..nodes.len() {
                    if to != usize::from(from) && !rng.chance(self.broadcast_loss) {
                        let at = step + 1 + rng.below(self.broadcast_delay.max(1));
                        deliveries
                            .entry(at)
                            .or_default()
                            .push((to, Arc::clone(&record)));
                    }
                }
            }
            // Node crashes and restarts.
            if !nodes.is_empty() && rng.chance(self.node_crash) {
                let n = rng.below(nodes.len() as u64) as usize;
                if let Some(node) = nodes[n].take() {
                    node.crash();
                    down_until[n] = step + 5 + rng.below(20);
                }
            }
            for n in 0..nodes.len() {
                if nodes[n].is_none() && step >= down_until[n] {
                    // The restart itself reads storage and may fail: try again next step.
                    if let Ok((node, _)) = AftNode::open(n as u16, Arc::clone(&storage)) {
                        node.set_broadcast(broadcast.clone());
                        nodes[n] = Some(Arc::new(node));
                        restarts += 1;
                    }
                }
            }
            // Anti-entropy for lost broadcasts, and garbage collection.
            if step.is_multiple_of(15) {
                for node in nodes.iter().flatten() {
                    let _ = node.refresh();
                }
            }
            if self.gc_every > 0
                && step.is_multiple_of(self.gc_every)
                && nodes.iter().all(Option::is_some)
            {
                let up: Vec<Arc<AftNode>> = nodes.iter().flatten().cloned().collect();
                if let Ok(report) = collect(&up, storage.as_ref()) {
                    collected += report.transactions;
                }
            }

            // One step of one function.
            let f = rng.below(functions.len() as u64) as usize;
            if rng.chance(self.kill) && functions[f].attempt.is_some() {
                if let Some(a) = functions[f].attempt.take() {
                    killed += 1;
                    retries += 1;
                    if let (Some(tx), Some(Some(node))) = (a.tx, nodes.get(a.node)) {
                        // Killed at commit time: die between versions and record.
                        if a.next >= functions[f].program.len() {
                            let _ = node.commit_until(tx, CommitStage::AfterVersions);
                        } else {
                            expiries.push_back((step + 30, a.node, tx));
                        }
                    }
                }
                continue;
            }
            let outcome = self.advance(
                &mut functions[f],
                &nodes,
                storage.as_ref(),
                &mut rng,
                &mut next_label,
            );
            match outcome {
                Advance::Running => {}
                Advance::Failed => {
                    retries += 1;
                    functions[f].attempt = None;
                }
                Advance::Done(mut record) => {
                    completion += 1;
                    if self.mode == Mode::Plain {
                        record.order = completion;
                    }
                    history.push(record);
                    functions.swap_remove(f);
                }
            }
        }
        faulty.set_enabled(false);
        let live = functions.is_empty() && pending.is_empty();
        let storage_keys = storage.len().unwrap_or(0);
        Ok(TxnOutcome {
            seed: self.seed,
            committed: history.len(),
            retries,
            killed,
            restarts,
            collected,
            anomalies: check(&history),
            storage_keys,
            live,
        })
    }

    fn advance(
        &self,
        f: &mut Function,
        nodes: &[Option<Arc<AftNode>>],
        storage: &dyn Storage,
        rng: &mut SimRng,
        next_label: &mut u64,
    ) -> Advance {
        if f.attempt.is_none() {
            let label = *next_label;
            *next_label += 1;
            let node = if nodes.is_empty() {
                0
            } else {
                rng.below(nodes.len() as u64) as usize
            };
            let tx = match self.mode {
                Mode::Plain => None,
                Mode::Aft => match nodes.get(node).and_then(Option::as_ref).map(|n| n.begin()) {
                    Some(Ok(tx)) => Some(tx),
                    _ => return Advance::Failed,
                },
            };
            f.attempt = Some(Attempt {
                label,
                node,
                tx,
                next: 0,
                reads: Vec::new(),
                written: Vec::new(),
            });
            return Advance::Running;
        }
        let Some(a) = f.attempt.as_mut() else {
            return Advance::Failed;
        };
        let node = nodes.get(a.node).and_then(Option::as_ref);
        if a.next == f.program.len() {
            // Commit.
            let committed = match (self.mode, node, a.tx) {
                (Mode::Plain, _, _) => true,
                (Mode::Aft, Some(node), Some(tx)) => node.commit(tx).is_ok(),
                _ => false,
            };
            if !committed {
                return Advance::Failed;
            }
            let mut writes = a.written.clone();
            writes.sort();
            writes.dedup();
            return Advance::Done(TxnRecord {
                id: a.label,
                order: a.tx.map_or(0, |t| t.0),
                writes,
                reads: std::mem::take(&mut a.reads),
            });
        }
        let step = f.program[a.next].clone();
        let ok = match (&step, self.mode) {
            (Step::Read(k), Mode::Plain) => match storage.get(k) {
                Ok(v) => {
                    a.reads.push(Read {
                        key: k.clone(),
                        saw: v.as_deref().and_then(label_of),
                        after_own_write: a.written.contains(k),
                    });
                    true
                }
                Err(_) => false,
            },
            (Step::Write(k), Mode::Plain) => {
                let ok = storage
                    .put_many(vec![(k.clone(), a.label.to_le_bytes().to_vec())])
                    .is_ok();
                if ok {
                    a.written.push(k.clone());
                }
                ok
            }
            (Step::Read(k), Mode::Aft) => match (node, a.tx) {
                (Some(node), Some(tx)) => match node.get(tx, k) {
                    Ok(v) => {
                        a.reads.push(Read {
                            key: k.clone(),
                            saw: v.as_deref().and_then(label_of),
                            after_own_write: a.written.contains(k),
                        });
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            },
            (Step::Write(k), Mode::Aft) => match (node, a.tx) {
                (Some(node), Some(tx)) => {
                    let ok = node.put(tx, k, a.label.to_le_bytes().to_vec()).is_ok();
                    if ok {
                        a.written.push(k.clone());
                    }
                    ok
                }
                _ => false,
            },
        };
        if !ok {
            if let (Some(node), Some(tx)) = (node, a.tx) {
                let _ = node.abort(tx);
            }
            return Advance::Failed;
        }
        a.next += 1;
        Advance::Running
    }
}

enum Advance {
    Running,
    Failed,
    Done(TxnRecord),
}

/// The attempt label a written value carries.
pub(crate) fn label_of(bytes: &[u8]) -> Option<u64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_le_bytes(arr))
}
