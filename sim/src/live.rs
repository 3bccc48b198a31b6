//! The live driver: the same nodes on OS threads, crossbeam channels and real timers.
//!
//! Each node gets a thread and an inbox. Messages go straight into the receiver's channel (no
//! fault injection: faults are the simulator's job), timers use the wall clock, and the host
//! talks to the cluster as [`NodeId::EXTERNAL`]. Use it for real-time benchmarks and for
//! embedding a cluster in a program; use [`crate::Sim`] for testing.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use crate::context::{Context, Effect, Stamps};
use crate::error::SimError;
use crate::metrics::NodeMetrics;
use crate::node::{Node, NodeId, TimerId};
use crate::rng::SimRng;
use crate::time::Time;

enum Envelope<M> {
    Msg { from: NodeId, msg: M },
    Stop,
}

/// What a node thread hands back when the cluster shuts down.
struct Finished<N: Node> {
    node: N,
    durable: N::Durable,
    metrics: NodeMetrics,
}

/// The final state of a live run.
pub struct LiveReport<N: Node> {
    /// Each node as it was at shutdown, in id order.
    pub nodes: Vec<N>,
    /// Each node's durable state at shutdown.
    pub durable: Vec<N::Durable>,
    /// Each node's counters (`busy` is real handler time).
    pub metrics: Vec<NodeMetrics>,
    /// Wall-clock time from start to shutdown.
    pub elapsed: Duration,
}

/// A running cluster of nodes, one OS thread each.
pub struct LiveCluster<N: Node> {
    senders: Arc<Vec<Sender<Envelope<N::Msg>>>>,
    handles: Vec<JoinHandle<Finished<N>>>,
    external: Receiver<(NodeId, N::Msg)>,
    halted: Arc<Vec<AtomicBool>>,
    started: Instant,
}

/// Everything one node thread owns.
struct Worker<N: Node> {
    id: NodeId,
    node: N,
    inbox: Receiver<Envelope<N::Msg>>,
    peers: Arc<Vec<Sender<Envelope<N::Msg>>>>,
    external: Sender<(NodeId, N::Msg)>,
    stamps: Arc<AtomicU64>,
    halted: Arc<Vec<AtomicBool>>,
    started: Instant,
    rng: SimRng,
    durable: N::Durable,
    next_timer: u64,
    timers: BinaryHeap<Reverse<(Instant, TimerId)>>,
    payloads: HashMap<TimerId, N::Timer>,
    metrics: NodeMetrics,
}

enum Event<N: Node> {
    Start,
    Message(NodeId, N::Msg),
    Timer(TimerId, N::Timer),
}

impl<N: Node> Worker<N> {
    fn run(mut self) -> Finished<N> {
        self.handle(Event::Start);
        loop {
            // Fire every due timer before waiting again.
            let now = Instant::now();
            while let Some(Reverse((at, id))) = self.timers.peek().copied() {
                if at > now {
                    break;
                }
                self.timers.pop();
                if let Some(payload) = self.payloads.remove(&id) {
                    self.handle(Event::Timer(id, payload));
                }
            }
            let received = match self.timers.peek() {
                Some(Reverse((at, _))) => self.inbox.recv_deadline(*at),
                None => self
                    .inbox
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(Envelope::Msg { from, msg }) => self.handle(Event::Message(from, msg)),
                Ok(Envelope::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        Finished {
            node: self.node,
            durable: self.durable,
            metrics: self.metrics,
        }
    }

    fn handle(&mut self, event: Event<N>) {
        let began = Instant::now();
        let mut effects = Vec::new();
        let mut halted = false;
        let mut ctx = Context {
            id: self.id,
            now: Time::from(began - self.started),
            rng: &mut self.rng,
            durable: &mut self.durable,
            effects: &mut effects,
            next_timer: &mut self.next_timer,
            stamps: Stamps::Live(&self.stamps),
            persists: 0,
            halted: &mut halted,
        };
        match event {
            Event::Start => self.node.on_start(&mut ctx),
            Event::Message(from, msg) => {
                self.metrics.received += 1;
                self.node.on_message(&mut ctx, from, msg);
            }
            Event::Timer(id, payload) => {
                self.metrics.timers += 1;
                self.node.on_timer(&mut ctx, id, payload);
            }
        }
        self.metrics.persists += u64::from(ctx.persists);
        let done = Instant::now();
        self.metrics.busy += done - began;
        if halted {
            self.halted[self.id.index()].store(true, Ordering::SeqCst);
        }
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    self.metrics.sent += 1;
                    let delivered = if to == NodeId::EXTERNAL {
                        self.external.send((self.id, msg)).is_ok()
                    } else {
                        self.peers
                            .get(to.index())
                            .is_some_and(|tx| tx.send(Envelope::Msg { from: self.id, msg }).is_ok())
                    };
                    if !delivered {
                        self.metrics.dropped_down += 1;
                    }
                }
                Effect::SetTimer { id, delay, payload } => {
                    self.payloads.insert(id, payload);
                    self.timers.push(Reverse((done + delay, id)));
                }
                Effect::CancelTimer { id } => {
                    self.payloads.remove(&id);
                }
            }
        }
    }
}

impl<N: Node> LiveCluster<N> {
    /// Starts one thread per node; node `i` gets id `NodeId(i)` and a random stream derived
    /// from `seed`.
    pub fn start(seed: u64, nodes: Vec<N>) -> Result<Self, SimError> {
        if nodes.is_empty() {
            return Err(SimError::NoNodes);
        }
        let (senders, inboxes): (Vec<_>, Vec<_>) = nodes.iter().map(|_| unbounded()).unzip();
        let senders = Arc::new(senders);
        let (external_tx, external) = unbounded();
        let stamps = Arc::new(AtomicU64::new(0));
        let halted: Arc<Vec<AtomicBool>> =
            Arc::new(nodes.iter().map(|_| AtomicBool::new(false)).collect());
        let started = Instant::now();
        let root = SimRng::new(seed);
        let mut handles = Vec::with_capacity(nodes.len());
        for (i, (node, inbox)) in nodes.into_iter().zip(inboxes).enumerate() {
            let id = NodeId(i as u32);
            let worker = Worker {
                id,
                node,
                inbox,
                peers: Arc::clone(&senders),
                external: external_tx.clone(),
                stamps: Arc::clone(&stamps),
                halted: Arc::clone(&halted),
                started,
                rng: root.fork(u64::from(id.0)),
                durable: N::Durable::default(),
                next_timer: 0,
                timers: BinaryHeap::new(),
                payloads: HashMap::new(),
                metrics: NodeMetrics::default(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("stratus-node-{i}"))
                .spawn(move || worker.run())
                .map_err(|e| SimError::NodePanicked {
                    node: id,
                    message: format!("could not spawn thread: {e}"),
                })?;
            handles.push(handle);
        }
        Ok(LiveCluster {
            senders,
            handles,
            external,
            halted,
            started,
        })
    }

    /// Sends `msg` to node `to` from [`NodeId::EXTERNAL`].
    pub fn send(&self, to: NodeId, msg: N::Msg) -> Result<(), SimError> {
        let nodes = self.senders.len();
        let tx = self
            .senders
            .get(to.index())
            .ok_or(SimError::UnknownNode { node: to, nodes })?;
        tx.send(Envelope::Msg {
            from: NodeId::EXTERNAL,
            msg,
        })
        .map_err(|_| SimError::NodePanicked {
            node: to,
            message: "node thread has exited".into(),
        })
    }

    /// The next message a node sent to [`NodeId::EXTERNAL`], waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<(NodeId, N::Msg)> {
        self.external.recv_timeout(timeout).ok()
    }

    /// Waits until every node in `nodes` has called [`Context::halt`]; `false` on timeout.
    pub fn wait_halted(&self, nodes: &[NodeId], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let all = nodes.iter().all(|n| {
                self.halted
                    .get(n.index())
                    .is_some_and(|h| h.load(Ordering::SeqCst))
            });
            if all {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Wall-clock time since start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops every node thread and returns the nodes' final state.
    pub fn shutdown(self) -> Result<LiveReport<N>, SimError> {
        let elapsed = self.started.elapsed();
        for tx in self.senders.iter() {
            // A node that already exited has dropped its inbox; nothing to stop.
            let _ = tx.send(Envelope::Stop);
        }
        let mut report = LiveReport {
            nodes: Vec::new(),
            durable: Vec::new(),
            metrics: Vec::new(),
            elapsed,
        };
        for (i, handle) in self.handles.into_iter().enumerate() {
            let finished = handle.join().map_err(|payload| SimError::NodePanicked {
                node: NodeId(i as u32),
                message: payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".into()),
            })?;
            report.nodes.push(finished.node);
            report.durable.push(finished.durable);
            report.metrics.push(finished.metrics);
        }
        Ok(report)
    }
}
