//! The deterministic simulator: one seed, one run, bit for bit.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::time::Duration;

use crate::context::{Context, Effect, Stamps};
use crate::cost::CostModel;
use crate::error::SimError;
use crate::faults::{Chaos, Fault, FaultScript};
use crate::metrics::{MetricsReport, NodeMetrics};
use crate::network::{Links, NetConfig};
use crate::node::{Message, Node, NodeId, TimerId};
use crate::rng::SimRng;
use crate::time::Time;
use crate::trace::{TraceEvent, TraceHasher, TraceRing};

/// Everything that shapes a run besides the nodes themselves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The one seed every random choice derives from.
    pub seed: u64,
    /// Network behaviour.
    pub net: NetConfig,
    /// Virtual CPU cost of handling events.
    pub cost: CostModel,
    /// How many recent events to keep for failure reports.
    pub trace_capacity: usize,
    /// Also hash and record each message's `Debug` text. Slower, but the trace hash then
    /// catches nondeterminism in message contents, not only in timing and routing.
    pub trace_detail: bool,
}

impl SimConfig {
    /// A healthy network, free processing, the last 64 events kept.
    pub fn new(seed: u64) -> Self {
        SimConfig {
            seed,
            net: NetConfig::default(),
            cost: CostModel::free(),
            trace_capacity: 64,
            trace_detail: false,
        }
    }

    /// Replaces the network model (builder style).
    pub fn net(mut self, net: NetConfig) -> Self {
        self.net = net;
        self
    }

    /// Replaces the cost model (builder style).
    pub fn cost(mut self, cost: CostModel) -> Self {
        self.cost = cost;
        self
    }

    /// Turns message detail in traces on or off (builder style).
    pub fn trace_detail(mut self, on: bool) -> Self {
        self.trace_detail = on;
        self
    }
}

/// A unit of work for one node, handled in arrival order.
enum Work<N: Node> {
    Start,
    Message { from: NodeId, msg: N::Msg },
    Timer { id: TimerId, payload: N::Timer },
}

enum EventKind<N: Node> {
    Arrive { to: NodeId, work: Work<N> },
    Wake(NodeId),
    Fault(Fault),
}

struct Queued<N: Node> {
    at: Time,
    seq: u64,
    kind: EventKind<N>,
}

impl<N: Node> PartialEq for Queued<N> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<N: Node> Eq for Queued<N> {}
impl<N: Node> PartialOrd for Queued<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<N: Node> Ord for Queued<N> {
    // Reversed: `BinaryHeap` is a max-heap and we want the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

type Factory<N> = Box<dyn FnMut(NodeId) -> N + Send>;

struct Slot<N: Node> {
    node: Option<N>,
    factory: Factory<N>,
    durable: N::Durable,
    rng: SimRng,
    next_timer: u64,
    live_timers: HashSet<TimerId>,
    busy_until: Time,
    paused_until: Time,
    inbox: VecDeque<Work<N>>,
    wake_scheduled: bool,
    halted: bool,
    metrics: NodeMetrics,
}

impl<N: Node> Slot<N> {
    fn idle(&self, now: Time) -> bool {
        self.node.is_some()
            && self.busy_until <= now
            && self.paused_until <= now
            && self.inbox.is_empty()
    }
}

/// Why a `run_*` call returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// The condition the caller waited for holds.
    Done,
    /// The deadline passed first.
    Deadline,
    /// Nothing is left to happen.
    Quiescent,
}

/// A deterministic discrete-event simulation of a cluster of `N` nodes.
///
/// Every source of nondeterminism — latency, loss, duplication, reordering, faults, each
/// node's randomness — is drawn from streams derived from [`SimConfig::seed`], and events
/// are ordered by `(virtual time, sequence number)`, so a seed reproduces the whole run and
/// its [`Sim::trace_hash`].
pub struct Sim<N: Node> {
    config: SimConfig,
    root_rng: SimRng,
    net_rng: SimRng,
    now: Time,
    seq: u64,
    queue: BinaryHeap<Queued<N>>,
    slots: Vec<Slot<N>>,
    links: Links,
    hasher: TraceHasher,
    ring: TraceRing,
    events: u64,
    stamps: u64,
    external: Vec<(NodeId, N::Msg)>,
    effects: Vec<Effect<N::Msg, N::Timer>>,
    faults: FaultScript,
}

impl<N: Node> Sim<N> {
    /// A simulation with no nodes yet; fails if the configuration is invalid.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        config.net.validate()?;
        let root_rng = SimRng::new(config.seed);
        let net_rng = root_rng.fork(u64::MAX);
        let ring = TraceRing::new(config.trace_capacity);
        Ok(Sim {
            config,
            root_rng,
            net_rng,
            now: Time::ZERO,
            seq: 0,
            queue: BinaryHeap::new(),
            slots: Vec::new(),
            links: Links::default(),
            hasher: TraceHasher::default(),
            ring,
            events: 0,
            stamps: 0,
            external: Vec::new(),
            effects: Vec::new(),
            faults: FaultScript::new(),
        })
    }

    /// Adds a node built by `factory`, which is called again to rebuild it after a crash.
    /// The node starts at the current virtual time.
    pub fn add_node(&mut self, factory: impl FnMut(NodeId) -> N + Send + 'static) -> NodeId {
        let id = NodeId(self.slots.len() as u32);
        let mut factory: Factory<N> = Box::new(factory);
        let node = factory(id);
        self.slots.push(Slot {
            node: Some(node),
            factory,
            durable: N::Durable::default(),
            rng: self.root_rng.fork(u64::from(id.0)),
            next_timer: 0,
            live_timers: HashSet::new(),
            busy_until: Time::ZERO,
            paused_until: Time::ZERO,
            inbox: VecDeque::new(),
            wake_scheduled: false,
            halted: false,
            metrics: NodeMetrics::default(),
        });
        self.links.grow(self.slots.len());
        self.push(
            self.now,
            EventKind::Arrive {
                to: id,
                work: Work::Start,
            },
        );
        id
    }

    /// Schedules `fault` at `at` (or now, if `at` has passed).
    pub fn schedule_fault(&mut self, at: Time, fault: Fault) -> Result<(), SimError> {
        for node in fault.nodes() {
            self.check_node(node)?;
        }
        self.faults.events.push((at, fault.clone()));
        self.push(at.max(self.now), EventKind::Fault(fault));
        Ok(())
    }

    /// Schedules every fault of `script`; nothing is scheduled if any names an unknown node.
    pub fn apply_script(&mut self, script: &FaultScript) -> Result<(), SimError> {
        script.validate(self.slots.len())?;
        for (at, fault) in &script.events {
            self.schedule_fault(*at, fault.clone())?;
        }
        Ok(())
    }

    /// Draws a fault script from the run's seed according to `chaos`, schedules it and
    /// returns it (print it to see what a failing seed suffered).
    pub fn apply_chaos(&mut self, chaos: &Chaos) -> Result<FaultScript, SimError> {
        let mut rng = self.root_rng.fork(u64::MAX - 1);
        let script = chaos.script(&mut rng, self.slots.len())?;
        self.apply_script(&script)?;
        Ok(script)
    }

    /// Sends `msg` to `to` from [`NodeId::EXTERNAL`], through the network model.
    pub fn inject(&mut self, to: NodeId, msg: N::Msg) -> Result<(), SimError> {
        self.check_node(to)?;
        self.route(NodeId::EXTERNAL, to, msg, self.now);
        Ok(())
    }

    /// Messages nodes sent to [`NodeId::EXTERNAL`] since the last call, with their senders.
    pub fn take_external(&mut self) -> Vec<(NodeId, N::Msg)> {
        std::mem::take(&mut self.external)
    }

    fn check_node(&self, node: NodeId) -> Result<(), SimError> {
        if node.index() < self.slots.len() {
            Ok(())
        } else {
            Err(SimError::UnknownNode {
                node,
                nodes: self.slots.len(),
            })
        }
    }

    fn push(&mut self, at: Time, kind: EventKind<N>) {
        self.seq += 1;
        self.queue.push(Queued {
            at,
            seq: self.seq,
            kind,
        });
    }

    /// Processes the next event; `false` when nothing is left.
    pub fn step(&mut self) -> bool {
        let Some(event) = self.queue.pop() else {
            return false;
        };
        self.now = event.at;
        self.events += 1;
        self.hasher.word(event.at.as_nanos());
        match event.kind {
            EventKind::Arrive { to, work } => self.arrive(to, work),
            EventKind::Wake(node) => self.wake(node),
            EventKind::Fault(fault) => self.apply_fault(fault),
        }
        true
    }

    /// Runs until virtual time `deadline` (events at later instants stay queued).
    pub fn run_until(&mut self, deadline: Time) -> Result<RunOutcome, SimError> {
        self.run_while(deadline, |_| true)
    }

    /// Runs for `span` of virtual time from now.
    pub fn run_for(&mut self, span: Duration) -> Result<RunOutcome, SimError> {
        self.run_until(self.now + span)
    }

    /// Runs until every node in `nodes` has called [`Context::halt`], or `deadline`.
    pub fn run_until_halted(
        &mut self,
        nodes: &[NodeId],
        deadline: Time,
    ) -> Result<RunOutcome, SimError> {
        for &n in nodes {
            self.check_node(n)?;
        }
        self.run_while(deadline, |sim| {
            !nodes.iter().all(|n| sim.slots[n.index()].halted)
        })
    }

    /// Runs while `keep_going` holds (checked before each event), up to `deadline`.
    pub fn run_while(
        &mut self,
        deadline: Time,
        mut keep_going: impl FnMut(&Self) -> bool,
    ) -> Result<RunOutcome, SimError> {
        if self.slots.is_empty() {
            return Err(SimError::NoNodes);
        }
        loop {
            if !keep_going(self) {
                return Ok(RunOutcome::Done);
            }
            match self.queue.peek() {
                None => return Ok(RunOutcome::Quiescent),
                Some(next) if next.at > deadline => {
                    self.now = self.now.max(deadline);
                    return Ok(RunOutcome::Deadline);
                }
                Some(_) => {
                    self.step();
                }
            }
        }
    }

    fn arrive(&mut self, to: NodeId, work: Work<N>) {
        let now = self.now;
        if let Work::Message { from, .. } = &work {
            // A link cut while the message was in flight loses it too.
            if self.links.is_blocked(*from, to) {
                if let Some(sender) = self.slots.get_mut(from.index()) {
                    sender.metrics.dropped_partition += 1;
                }
                return;
            }
        }
        let slot = &mut self.slots[to.index()];
        if slot.node.is_none() {
            // Down: messages are lost, old timers are void. A pending start belongs to a
            // later restart and is re-queued by it, so dropping this one is right.
            if matches!(work, Work::Message { .. }) {
                slot.metrics.dropped_down += 1;
            }
            return;
        }
        slot.metrics.arrivals += 1;
        slot.metrics.queue_sum += slot.inbox.len() as u64;
        if slot.idle(now) {
            self.handle(to, work);
        } else {
            slot.inbox.push_back(work);
            slot.metrics.max_queue = slot.metrics.max_queue.max(slot.inbox.len());
            self.ensure_wake(to);
        }
    }

    fn ensure_wake(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if slot.wake_scheduled {
            return;
        }
        slot.wake_scheduled = true;
        let at = slot.busy_until.max(slot.paused_until).max(self.now);
        self.push(at, EventKind::Wake(id));
    }

    fn wake(&mut self, id: NodeId) {
        let now = self.now;
        let slot = &mut self.slots[id.index()];
        slot.wake_scheduled = false;
        if slot.node.is_none() || slot.inbox.is_empty() {
            return;
        }
        if slot.busy_until > now || slot.paused_until > now {
            self.ensure_wake(id);
            return;
        }
        let work = slot.inbox.pop_front().expect("inbox checked non-empty");
        self.handle(id, work);
        if !self.slots[id.index()].inbox.is_empty() {
            self.ensure_wake(id);
        }
    }

    fn handle(&mut self, id: NodeId, work: Work<N>) {
        let now = self.now;
        let detail = self.config.trace_detail;
        let mut effects = std::mem::take(&mut self.effects);
        let slot = &mut self.slots[id.index()];
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        let mut ctx = Context {
            id,
            now,
            rng: &mut slot.rng,
            durable: &mut slot.durable,
            effects: &mut effects,
            next_timer: &mut slot.next_timer,
            stamps: Stamps::Sim(&mut self.stamps),
            persists: 0,
            halted: &mut slot.halted,
        };
        self.hasher.word(u64::from(id.0));
        let cost = match work {
            Work::Start => {
                self.hasher.word(1);
                self.ring.push(now, TraceEvent::Start(id));
                node.on_start(&mut ctx);
                Duration::ZERO
            }
            Work::Message { from, msg } => {
                let kind = msg.kind();
                self.hasher.word(2 ^ (u64::from(from.0) << 8));
                self.hasher.bytes(kind.as_bytes());
                let text = detail.then(|| format!("{msg:?}"));
                if let Some(t) = &text {
                    self.hasher.bytes(t.as_bytes());
                }
                self.ring.push(
                    now,
                    TraceEvent::Deliver {
                        from,
                        to: id,
                        kind,
                        detail: text,
                    },
                );
                slot.metrics.received += 1;
                let cost = self.config.cost.message(kind, msg.units());
                node.on_message(&mut ctx, from, msg);
                cost
            }
            Work::Timer { id: timer, payload } => {
                if !slot.live_timers.remove(&timer) {
                    // Cancelled (or from before a crash): it never fires.
                    self.effects = effects;
                    return;
                }
                self.hasher.word(3 ^ (timer.0 << 8));
                let text = detail.then(|| format!("{payload:?}"));
                if let Some(t) = &text {
                    self.hasher.bytes(t.as_bytes());
                }
                self.ring.push(
                    now,
                    TraceEvent::Timer {
                        node: id,
                        detail: text,
                    },
                );
                slot.metrics.timers += 1;
                node.on_timer(&mut ctx, timer, payload);
                self.config.cost.timer
            }
        };
        let persists = ctx.persists;
        let cost = cost + self.config.cost.persist * persists;
        slot.metrics.persists += u64::from(persists);
        slot.metrics.busy += cost;
        let done = now + cost;
        slot.busy_until = done;
        for effect in effects.drain(..) {
            match effect {
                Effect::Send { to, msg } => self.route(id, to, msg, done),
                Effect::SetTimer {
                    id: timer,
                    delay,
                    payload,
                } => {
                    self.slots[id.index()].live_timers.insert(timer);
                    self.push(
                        done + delay,
                        EventKind::Arrive {
                            to: id,
                            work: Work::Timer { id: timer, payload },
                        },
                    );
                }
                Effect::CancelTimer { id: timer } => {
                    self.slots[id.index()].live_timers.remove(&timer);
                }
            }
        }
        self.effects = effects;
    }

    /// Puts a message on the network at `at`: loss, cuts, latency, reordering, duplication.
    fn route(&mut self, from: NodeId, to: NodeId, msg: N::Msg, at: Time) {
        if let Some(slot) = self.slots.get_mut(from.index()) {
            slot.metrics.sent += 1;
        }
        if to == NodeId::EXTERNAL {
            self.external.push((from, msg));
            return;
        }
        if to.index() >= self.slots.len() {
            // Misaddressed: nobody is there to receive it.
            if let Some(slot) = self.slots.get_mut(from.index()) {
                slot.metrics.dropped_down += 1;
            }
            return;
        }
        if self.links.is_blocked(from, to) {
            if let Some(slot) = self.slots.get_mut(from.index()) {
                slot.metrics.dropped_partition += 1;
            }
            return;
        }
        let net = &self.config.net;
        if net.loss > 0.0 && self.net_rng.chance(net.loss) {
            if let Some(slot) = self.slots.get_mut(from.index()) {
                slot.metrics.dropped_loss += 1;
            }
            return;
        }
        let duplicate = net.duplication > 0.0 && self.net_rng.chance(net.duplication);
        let copies = if duplicate { 2 } else { 1 };
        let mut msg = Some(msg);
        for copy in 0..copies {
            let net = &self.config.net;
            let mut delay = net.latency.sample(&mut self.net_rng);
            if net.reorder > 0.0 && self.net_rng.chance(net.reorder) {
                let max = net.reorder_delay.as_nanos() as u64;
                delay += Duration::from_nanos(self.net_rng.range_inclusive(0, max));
            }
            let m = if copy + 1 == copies {
                msg.take().expect("last copy takes the message")
            } else {
                msg.clone().expect("message present for every copy")
            };
            self.push(
                at + delay,
                EventKind::Arrive {
                    to,
                    work: Work::Message { from, msg: m },
                },
            );
        }
        if duplicate && let Some(slot) = self.slots.get_mut(from.index()) {
            slot.metrics.duplicated += 1;
        }
    }

    fn apply_fault(&mut self, fault: Fault) {
        let text = fault.to_string();
        self.hasher.bytes(text.as_bytes());
        self.ring.push(self.now, TraceEvent::Fault(text));
        let now = self.now;
        match fault {
            Fault::Crash(n) => {
                let slot = &mut self.slots[n.index()];
                if slot.node.take().is_some() {
                    slot.inbox.clear();
                    slot.live_timers.clear();
                    slot.busy_until = now;
                    slot.paused_until = now;
                    slot.metrics.crashes += 1;
                }
            }
            Fault::Restart(n) => {
                let slot = &mut self.slots[n.index()];
                if slot.node.is_none() {
                    slot.node = Some((slot.factory)(n));
                    self.arrive(n, Work::Start);
                }
            }
            Fault::Partition(groups) => self.links.partition(&groups),
            Fault::Block { from, to } => self.links.set(from, to, true),
            Fault::Unblock { from, to } => self.links.set(from, to, false),
            Fault::Heal => self.links.heal(),
            Fault::Pause { node, duration } => {
                let slot = &mut self.slots[node.index()];
                if slot.node.is_some() {
                    slot.paused_until = slot.paused_until.max(now + duration);
                }
            }
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Events still queued.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// A hash of every event processed so far: equal for equal seeds, unequal (with
    /// overwhelming probability) as soon as two runs diverge.
    pub fn trace_hash(&self) -> u64 {
        self.hasher.finish()
    }

    /// The most recent events, one per line, for failure reports.
    pub fn trace_tail(&self) -> String {
        self.ring.render()
    }

    /// Every fault scheduled so far, printable.
    pub fn fault_script(&self) -> &FaultScript {
        &self.faults
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// `true` when no node has been added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// All node ids, in order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + use<N> {
        (0..self.slots.len() as u32).map(NodeId)
    }

    /// The node's current state, or `None` while it is crashed (or does not exist).
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.slots.get(id.index()).and_then(|s| s.node.as_ref())
    }

    /// Mutable access to a running node (for test harnesses that poke state).
    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut N> {
        self.slots.get_mut(id.index()).and_then(|s| s.node.as_mut())
    }

    /// The node's durable state (kept across crashes).
    pub fn durable(&self, id: NodeId) -> Option<&N::Durable> {
        self.slots.get(id.index()).map(|s| &s.durable)
    }

    /// Whether the node is running (not crashed).
    pub fn is_up(&self, id: NodeId) -> bool {
        self.node(id).is_some()
    }

    /// Whether the node has called [`Context::halt`].
    pub fn is_halted(&self, id: NodeId) -> bool {
        self.slots.get(id.index()).is_some_and(|s| s.halted)
    }

    /// The node's counters.
    pub fn metrics(&self, id: NodeId) -> Option<&NodeMetrics> {
        self.slots.get(id.index()).map(|s| &s.metrics)
    }

    /// Every node's counters over the run so far.
    pub fn metrics_report(&self) -> MetricsReport {
        MetricsReport {
            nodes: self
                .slots
                .iter()
                .enumerate()
                .map(|(i, s)| (NodeId(i as u32), s.metrics.clone()))
                .collect(),
            elapsed: self.now - Time::ZERO,
        }
    }
}
