//! AFT on the `stratus_sim` simulator: AFT nodes and function clients are sim nodes; each
//! transaction step is a message, so transactions interleave, broadcasts travel the faulty
//! network (loss, duplication, reordering, partitions), and AFT nodes crash and restart
//! (their metadata rebuilt from storage). Storage is shared by all AFT nodes (a shared
//! service outside the simulated network, with its own injected faults).

use std::sync::Arc;
use std::time::Duration;

use stratus_sim::{
    Chaos, Context, CostModel, Message, NetConfig, Node, NodeId, Sim, SimConfig, SimError, Time,
    TimerId,
};

use crate::checker::{Anomaly, Read, TxnRecord, check};
use crate::error::TxId;
use crate::node::{AftNode, Broadcast, CommitStage};
use crate::scenario::{Step, label_of, program};
use crate::storage::{FaultyStorage, MemStorage, Storage, StorageFaults};
use crate::version::CommitRecord;

/// Messages of a simulated AFT deployment.
#[derive(Clone, Debug)]
pub enum AftMsg {
    /// Client → AFT: a step of a transaction, numbered so its reply can be matched (the
    /// network duplicates and reorders).
    Step(u64, StepOp),
    /// AFT → client: the numbered step's result (`Err` carries the error text).
    Reply(u64, Result<StepResult, String>),
    /// AFT → AFT: records committed since the last broadcast (AFT broadcasts periodically,
    /// in batches).
    Records(Vec<Arc<CommitRecord>>),
}

/// A transaction step a client asks for.
#[derive(Clone, Debug)]
pub enum StepOp {
    /// Begin a transaction.
    Begin,
    /// Read.
    Get(TxId, String),
    /// Buffer a write of the client's attempt label.
    Put(TxId, String, u64),
    /// Commit (to `stage`: anything short of `Done` is a function dying).
    Commit(TxId, CommitStage),
}

/// What a successful step returns.
#[derive(Clone, Debug, PartialEq)]
pub enum StepResult {
    /// A new transaction.
    Begun(TxId),
    /// A read: the label of the attempt whose write was seen.
    Read(Option<u64>),
    /// A write was buffered, or a commit finished.
    Done,
}

impl Message for AftMsg {
    fn kind(&self) -> &'static str {
        match self {
            AftMsg::Step(_, StepOp::Begin) => "begin",
            AftMsg::Step(_, StepOp::Get(..)) => "get",
            AftMsg::Step(_, StepOp::Put(..)) => "put",
            AftMsg::Step(_, StepOp::Commit(..)) => "commit",
            AftMsg::Reply(..) => "reply",
            AftMsg::Records(_) => "records",
        }
    }

    fn units(&self) -> u64 {
        match self {
            AftMsg::Records(r) => r.len() as u64,
            _ => 1,
        }
    }
}

/// Forwards records a node commits to its sim context's outbox (drained after each event).
#[derive(Default)]
struct Outbox {
    records: parking_lot::Mutex<Vec<Arc<CommitRecord>>>,
}

impl Broadcast for Outbox {
    fn publish(&self, _from: u16, record: Arc<CommitRecord>) {
        self.records.lock().push(record);
    }
}

/// A role in the simulated deployment.
pub enum AftSimNode {
    /// An AFT node (`None` while storage was unreachable at start; it retries).
    Aft(Box<AftServer>),
    /// A function client.
    Client(Box<FunctionClient>),
}

/// The AFT node role: a real [`AftNode`] driven by messages.
pub struct AftServer {
    id: u16,
    peers: Vec<NodeId>,
    storage: Arc<dyn Storage>,
    node: Option<AftNode>,
    outbox: Arc<Outbox>,
    refresh_every: Duration,
    broadcast_every: Duration,
}

/// Timers of the deployment.
#[derive(Clone, Debug)]
pub enum AftTimer {
    /// AFT: list commit records (lost broadcasts; start after a crash).
    Refresh,
    /// AFT: send the records committed since the last broadcast.
    Broadcast,
    /// Client: the current step got no answer.
    StepTimeout(u64),
    /// Client: start the next invocation.
    Next,
}

impl AftServer {
    fn ensure_open(&mut self) {
        if self.node.is_none()
            && let Ok((node, _)) = AftNode::open(self.id, Arc::clone(&self.storage))
        {
            node.set_broadcast(self.outbox.clone());
            self.node = Some(node);
        }
    }

    fn step(&mut self, msg: AftMsg) -> Option<AftMsg> {
        self.ensure_open();
        let (step, op) = match msg {
            AftMsg::Step(step, op) => (step, op),
            AftMsg::Records(records) => {
                if let Some(node) = &self.node {
                    for record in records {
                        node.receive(record);
                    }
                }
                return None;
            }
            AftMsg::Reply(..) => return None,
        };
        let Some(node) = &self.node else {
            return Some(AftMsg::Reply(
                step,
                Err("AFT node cannot reach storage".into()),
            ));
        };
        let r = match op {
            StepOp::Begin => node.begin().map(StepResult::Begun),
            StepOp::Get(tx, key) => node
                .get(tx, &key)
                .map(|v| StepResult::Read(v.as_deref().and_then(label_of))),
            StepOp::Put(tx, key, label) => node
                .put(tx, &key, label.to_le_bytes().to_vec())
                .map(|()| StepResult::Done),
            StepOp::Commit(tx, stage) => node.commit_until(tx, stage).map(|()| StepResult::Done),
        };
        Some(AftMsg::Reply(step, r.map_err(|e| e.to_string())))
    }
}

/// A function client: runs its invocations one after another, each a transaction of reads
/// and writes at a chosen AFT node, retried on any error or timeout (possibly dying on the
/// way, as the fault plan says).
pub struct FunctionClient {
    me: u64,
    servers: Vec<NodeId>,
    programs: Vec<Vec<Step>>,
    next_program: usize,
    kill: f64,
    step_timeout: Duration,
    attempt: Option<ClientAttempt>,
    attempts: u64,
    steps: u64,
    /// Committed invocations, as the checker sees them.
    pub history: Vec<TxnRecord>,
    /// Attempts retried.
    pub retries: u64,
    /// Attempts killed on purpose.
    pub killed: u64,
    /// Attempts whose commit was sent but never answered: committed or not, only storage
    /// knows (resolved at the end of a run).
    pub in_doubt: Vec<(TxId, TxnRecord)>,
}

struct ClientAttempt {
    label: u64,
    server: NodeId,
    tx: Option<TxId>,
    next: usize,
    reads: Vec<Read>,
    written: Vec<String>,
    step_id: u64,
    committing: bool,
}

impl FunctionClient {
    /// Whether every invocation committed.
    pub fn done(&self) -> bool {
        self.next_program >= self.programs.len()
    }

    fn start(&mut self, ctx: &mut Context<'_, AftSimNode>) {
        if self.done() {
            ctx.halt();
            return;
        }
        self.attempts += 1;
        let label = self.me * 1_000_000 + self.attempts;
        let server = self.servers[ctx.rng().below(self.servers.len() as u64) as usize];
        self.attempt = Some(ClientAttempt {
            label,
            server,
            tx: None,
            next: 0,
            reads: Vec::new(),
            written: Vec::new(),
            step_id: 0,
            committing: false,
        });
        self.send(ctx, StepOp::Begin);
    }

    fn send(&mut self, ctx: &mut Context<'_, AftSimNode>, op: StepOp) {
        if let Some(a) = &mut self.attempt {
            // Numbered per client, not per attempt: a late reply to an earlier attempt must
            // never match a step of the current one.
            self.steps += 1;
            a.step_id = self.steps;
            ctx.send(a.server, AftMsg::Step(a.step_id, op));
            ctx.set_timer(self.step_timeout, AftTimer::StepTimeout(a.step_id));
        }
    }

    fn record_of(a: &ClientAttempt) -> TxnRecord {
        let mut writes = a.written.clone();
        writes.sort();
        writes.dedup();
        TxnRecord {
            id: a.label,
            order: a.tx.map_or(0, |t| t.0),
            writes,
            reads: a.reads.clone(),
        }
    }

    fn retry(&mut self, ctx: &mut Context<'_, AftSimNode>) {
        self.retries += 1;
        if let Some(a) = self.attempt.take() {
            let len = self.programs.get(self.next_program).map_or(0, Vec::len);
            // A commit was asked for and not answered: it may have happened.
            if a.committing
                && a.next == len
                && let Some(tx) = a.tx
            {
                self.in_doubt.push((tx, Self::record_of(&a)));
            }
        }
        ctx.set_timer(Duration::from_millis(1), AftTimer::Next);
    }

    fn advance(&mut self, ctx: &mut Context<'_, AftSimNode>) {
        let len = self.programs[self.next_program].len();
        let Some(a) = &self.attempt else { return };
        let Some(tx) = a.tx else { return };
        let (next, server, label) = (a.next, a.server, a.label);
        if next == len {
            // A function may die at commit time: before or after its versions are written.
            if ctx.rng().chance(self.kill) {
                self.killed += 1;
                let stage = if ctx.rng().chance(0.5) {
                    CommitStage::AfterVersions
                } else {
                    CommitStage::BeforeVersions
                };
                ctx.send(server, AftMsg::Step(u64::MAX, StepOp::Commit(tx, stage)));
                self.retry(ctx);
            } else {
                if let Some(a) = &mut self.attempt {
                    a.committing = true;
                }
                self.send(ctx, StepOp::Commit(tx, CommitStage::Done));
            }
            return;
        }
        if ctx.rng().chance(self.kill / 4.0) {
            // Dies mid-way: the node expires the transaction later; nothing of it is written.
            self.killed += 1;
            self.retry(ctx);
            return;
        }
        let msg = match &self.programs[self.next_program][next] {
            Step::Read(k) => StepOp::Get(tx, k.clone()),
            Step::Write(k) => StepOp::Put(tx, k.clone(), label),
        };
        self.send(ctx, msg);
    }

    fn on_reply(
        &mut self,
        ctx: &mut Context<'_, AftSimNode>,
        from: NodeId,
        step: u64,
        r: Result<StepResult, String>,
    ) {
        let Some(program) = self.programs.get(self.next_program).cloned() else {
            return;
        };
        let Some(a) = &mut self.attempt else { return };
        if from != a.server || step != a.step_id {
            return; // a duplicate, or the answer to a step already given up on
        }
        match r {
            Err(_) => self.retry(ctx),
            Ok(StepResult::Begun(tx)) if a.tx.is_none() => {
                a.tx = Some(tx);
                self.advance(ctx);
            }
            Ok(StepResult::Read(saw)) if a.tx.is_some() && a.next < program.len() => {
                if let Step::Read(k) = &program[a.next] {
                    a.reads.push(Read {
                        key: k.clone(),
                        saw,
                        after_own_write: a.written.contains(k),
                    });
                    a.next += 1;
                    self.advance(ctx);
                }
            }
            Ok(StepResult::Done) if a.tx.is_some() && a.next < program.len() => {
                if let Step::Write(k) = &program[a.next] {
                    a.written.push(k.clone());
                    a.next += 1;
                    self.advance(ctx);
                }
            }
            Ok(StepResult::Done) if a.tx.is_some() => {
                let record = Self::record_of(a);
                self.history.push(record);
                self.attempt = None;
                self.next_program += 1;
                ctx.set_timer(Duration::from_micros(100), AftTimer::Next);
            }
            // A duplicated or late reply of an earlier step: ignore.
            Ok(_) => {}
        }
    }
}

impl Node for AftSimNode {
    type Msg = AftMsg;
    type Timer = AftTimer;
    type Durable = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        match self {
            AftSimNode::Aft(server) => {
                server.ensure_open();
                ctx.set_timer(server.refresh_every, AftTimer::Refresh);
                ctx.set_timer(server.broadcast_every, AftTimer::Broadcast);
            }
            AftSimNode::Client(client) => {
                if client.attempt.is_none() {
                    client.start(ctx);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: AftMsg) {
        match self {
            AftSimNode::Aft(server) => {
                if let Some(reply) = server.step(msg) {
                    ctx.send(from, reply);
                }
            }
            AftSimNode::Client(client) => {
                if let AftMsg::Reply(step, r) = msg {
                    client.on_reply(ctx, from, step, r);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _id: TimerId, timer: AftTimer) {
        match (self, timer) {
            (AftSimNode::Aft(server), AftTimer::Refresh) => {
                server.ensure_open();
                if let Some(node) = &server.node {
                    let _ = node.refresh();
                    // Transactions of dead functions: abort what has been idle too long.
                    node.expire_idle(5);
                }
                ctx.set_timer(server.refresh_every, AftTimer::Refresh);
            }
            (AftSimNode::Aft(server), AftTimer::Broadcast) => {
                let records: Vec<_> = server.outbox.records.lock().drain(..).collect();
                if !records.is_empty() {
                    for &peer in &server.peers {
                        ctx.send(peer, AftMsg::Records(records.clone()));
                    }
                }
                ctx.set_timer(server.broadcast_every, AftTimer::Broadcast);
            }
            (AftSimNode::Client(client), AftTimer::StepTimeout(step))
                if client.attempt.as_ref().is_some_and(|a| a.step_id == step) =>
            {
                client.retry(ctx);
            }
            (AftSimNode::Client(client), AftTimer::Next) if client.attempt.is_none() => {
                client.start(ctx);
            }
            _ => {}
        }
    }
}

/// One seeded run of AFT on the simulator.
#[derive(Clone, Debug)]
pub struct SimTxnScenario {
    /// The seed.
    pub seed: u64,
    /// AFT nodes.
    pub nodes: usize,
    /// Function clients.
    pub clients: usize,
    /// Invocations per client.
    pub invocations: usize,
    /// Distinct keys.
    pub keys: u64,
    /// Probability a function dies at commit (a quarter of it per earlier step).
    pub kill: f64,
    /// Network faults (applied to broadcasts and client traffic alike).
    pub net: NetConfig,
    /// Crash, partition and pause AFT nodes until this instant.
    pub chaos_until: Option<Time>,
    /// Storage faults.
    pub storage: StorageFaults,
    /// CPU costs (for throughput in virtual time).
    pub cost: CostModel,
    /// How often an AFT node lists commit records in storage.
    pub refresh_every: Duration,
    /// How often an AFT node broadcasts the records it committed.
    pub broadcast_every: Duration,
    /// How long a client waits for a step's answer before retrying elsewhere.
    pub step_timeout: Duration,
    /// Give up after this much virtual time.
    pub deadline: Time,
}

impl SimTxnScenario {
    /// 3 AFT nodes, 4 clients × 10 invocations over 6 keys, a lossy network (5% loss, 5%
    /// duplication, 10% reordering), AFT nodes crashed, cut off and paused until 300 ms, 10%
    /// of functions dying at commit, 2% storage failures and 30% partial multi-writes.
    pub fn faulty(seed: u64) -> Self {
        SimTxnScenario {
            seed,
            nodes: 3,
            clients: 4,
            invocations: 10,
            keys: 6,
            kill: 0.1,
            net: NetConfig::lossy(),
            chaos_until: Some(Time::from_millis(300)),
            storage: StorageFaults {
                fail: 0.02,
                partial_write: 0.3,
            },
            cost: CostModel::free(),
            refresh_every: Duration::from_millis(10),
            broadcast_every: Duration::from_millis(2),
            step_timeout: Duration::from_millis(20),
            deadline: Time::from_secs(60),
        }
    }

    /// Throughput in virtual time: `nodes` AFT nodes, 16 clients per node running 25
    /// invocations each, no faults, 20 µs network latency; CPU per begin 5 µs, per read
    /// 10 µs, per buffered write 2 µs, per commit 30 µs (two storage writes), per broadcast
    /// batch 5 µs plus 0.5 µs per record, per refresh 10 µs.
    pub fn scaling(seed: u64, nodes: usize) -> Self {
        let us = Duration::from_micros;
        SimTxnScenario {
            seed,
            nodes,
            clients: 16 * nodes,
            invocations: 25,
            keys: 1000,
            kill: 0.0,
            net: NetConfig {
                latency: stratus_sim::Latency::Uniform {
                    min: us(20),
                    max: us(20),
                },
                ..NetConfig::default()
            },
            chaos_until: None,
            storage: StorageFaults {
                fail: 0.0,
                partial_write: 0.0,
            },
            cost: CostModel::uniform(us(1))
                .with_kind("begin", us(5))
                .with_kind("get", us(10))
                .with_kind("put", us(2))
                .with_kind("commit", us(30))
                .with_kind("records", us(5))
                .with_unit("records", Duration::from_nanos(500)),
            refresh_every: Duration::from_millis(50),
            broadcast_every: Duration::from_millis(2),
            step_timeout: Duration::from_secs(1),
            deadline: Time::from_secs(600),
        }
    }

    /// Runs the scenario.
    pub fn run(&self) -> Result<SimTxnOutcome, SimError> {
        let faulty = Arc::new(FaultyStorage::new(
            MemStorage::new(),
            self.storage,
            self.seed ^ 0xa17,
        ));
        let storage: Arc<dyn Storage> = faulty.clone();
        let mut sim: Sim<AftSimNode> = Sim::new(
            SimConfig::new(self.seed)
                .net(self.net.clone())
                .cost(self.cost.clone()),
        )?;
        let servers: Vec<NodeId> = (0..self.nodes).map(|i| NodeId(i as u32)).collect();
        let (refresh_every, broadcast_every) = (self.refresh_every, self.broadcast_every);
        for i in 0..self.nodes {
            let storage = Arc::clone(&storage);
            let peers: Vec<NodeId> = servers.iter().copied().filter(|p| p.index() != i).collect();
            sim.add_node(move |_| {
                AftSimNode::Aft(Box::new(AftServer {
                    id: i as u16,
                    peers: peers.clone(),
                    storage: Arc::clone(&storage),
                    node: None,
                    outbox: Arc::new(Outbox::default()),
                    refresh_every,
                    broadcast_every,
                }))
            });
        }
        let mut rng = stratus_sim::SimRng::new(self.seed ^ 0xc11e);
        let mut clients = Vec::new();
        for c in 0..self.clients {
            let programs: Vec<Vec<Step>> = (0..self.invocations)
                .map(|_| program(&mut rng, self.keys))
                .collect();
            let servers = servers.clone();
            let kill = self.kill;
            let client = FunctionClient {
                me: c as u64 + 1,
                servers,
                programs,
                next_program: 0,
                kill,
                step_timeout: self.step_timeout,
                attempt: None,
                attempts: 0,
                steps: 0,
                history: Vec::new(),
                retries: 0,
                killed: 0,
                in_doubt: Vec::new(),
            };
            // Clients are never crashed, so the factory runs once.
            let mut slot = Some(client);
            clients.push(sim.add_node(move |_| {
                AftSimNode::Client(Box::new(slot.take().unwrap_or_else(|| FunctionClient {
                    me: 0,
                    servers: Vec::new(),
                    programs: Vec::new(),
                    next_program: 0,
                    kill: 0.0,
                    step_timeout: Duration::from_millis(20),
                    attempt: None,
                    attempts: 0,
                    steps: 0,
                    history: Vec::new(),
                    retries: 0,
                    killed: 0,
                    in_doubt: Vec::new(),
                })))
            }));
        }
        let faults = match self.chaos_until {
            Some(until) => {
                let minority = (self.nodes.saturating_sub(1)) / 2;
                sim.apply_chaos(&Chaos::new(
                    servers.clone(),
                    minority.max(1).min(self.nodes),
                    until,
                ))?
                .events
                .len()
            }
            None => 0,
        };
        let outcome = sim.run_until_halted(&clients, self.deadline)?;
        faulty.set_enabled(false);
        let mut history = Vec::new();
        let (mut retries, mut killed, mut in_doubt_committed) = (0, 0, 0);
        // Commits whose answer was lost: storage's commit records say which happened.
        let records: std::collections::HashSet<String> = storage
            .list(crate::version::RECORD_PREFIX)
            .map_err(|e| SimError::InvalidFaultPlan(e.to_string()))?
            .into_iter()
            .collect();
        for &c in &clients {
            if let Some(AftSimNode::Client(client)) = sim.node(c) {
                history.extend(client.history.iter().cloned());
                retries += client.retries;
                killed += client.killed;
                for (tx, record) in &client.in_doubt {
                    let version = crate::version::Version {
                        ts: tx.0 >> 16,
                        tx: *tx,
                    };
                    if records.contains(&crate::version::record_key(version)) {
                        history.push(record.clone());
                        in_doubt_committed += 1;
                    }
                }
            }
        }
        let elapsed = sim.now() - Time::ZERO;
        Ok(SimTxnOutcome {
            seed: self.seed,
            live: outcome == stratus_sim::RunOutcome::Done,
            committed: history.len(),
            in_doubt_committed,
            retries,
            killed,
            faults,
            anomalies: check(&history),
            elapsed,
            events: sim.events(),
        })
    }
}

/// What a simulated run produced.
#[derive(Clone, Debug)]
pub struct SimTxnOutcome {
    /// The seed.
    pub seed: u64,
    /// Every client finished.
    pub live: bool,
    /// Committed invocations (including attempts that committed without the client hearing).
    pub committed: usize,
    /// Attempts that committed though their client never got the answer (and retried: the
    /// FaaS at-least-once model).
    pub in_doubt_committed: usize,
    /// Attempts retried.
    pub retries: u64,
    /// Attempts killed on purpose.
    pub killed: u64,
    /// Fault events drawn.
    pub faults: usize,
    /// Anomalies found by the checker.
    pub anomalies: Vec<Anomaly>,
    /// Virtual time taken.
    pub elapsed: Duration,
    /// Events processed.
    pub events: u64,
}

impl SimTxnOutcome {
    /// `Ok` when live and anomaly-free.
    pub fn check(&self) -> Result<(), String> {
        if !self.live {
            return Err(format!(
                "liveness: {} invocations committed",
                self.committed
            ));
        }
        if !self.anomalies.is_empty() {
            return Err(format!(
                "{} anomalies: {:?}",
                self.anomalies.len(),
                &self.anomalies[..self.anomalies.len().min(3)]
            ));
        }
        Ok(())
    }

    /// Committed invocations per virtual second.
    pub fn throughput(&self) -> f64 {
        self.committed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}
