//! Closed-loop clients as a node role: sessions that each keep one request outstanding,
//! retry it through leader changes under the same request id, and record what they saw.

use std::time::Duration;

use stratus_sim::history::{History, OpId};
use stratus_sim::{Context, Node, NodeId, SimRng, Time};

use crate::command::{ClientId, ClusterId, Command, RequestId};
use crate::kv::KvCommand;
use crate::state_machine::StateMachine;

/// Generates the commands a client session issues.
pub trait Workload<C>: Send {
    /// The `n`-th command (from 1) of session `client`, or `None` when the session is done.
    fn next(&mut self, rng: &mut SimRng, client: ClientId, n: u64) -> Option<C>;
}

/// A random KV workload over `keys` keys: 30% gets, 25% puts, 25% appends, 20%
/// compare-and-sets; written values are unique per client and operation, so the
/// linearizability checker can tell them apart.
#[derive(Clone, Debug, PartialEq)]
pub struct KvWorkload {
    /// Keys are drawn from `0..keys`.
    pub keys: u64,
}

impl Workload<KvCommand> for KvWorkload {
    fn next(&mut self, rng: &mut SimRng, client: ClientId, n: u64) -> Option<KvCommand> {
        let key = rng.below(self.keys.max(1));
        let tag = format!("{:x}.{n}", client);
        let roll = rng.below(100);
        Some(match roll {
            0..30 => KvCommand::Get { key },
            30..55 => KvCommand::Put { key, value: tag },
            55..80 => KvCommand::Append {
                key,
                suffix: format!("<{tag}>"),
            },
            _ => {
                // Expect either "absent" or a value this client may have written earlier: some
                // compare-and-sets succeed, most fail, both outcomes get checked.
                let expect = rng
                    .chance(0.5)
                    .then(|| format!("{:x}.{}", client, n.saturating_sub(1)));
                KvCommand::Cas {
                    key,
                    expect,
                    new: tag,
                }
            }
        })
    }
}

/// Empty commands forever (for benchmarks of the protocol alone).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NopWorkload;

impl Workload<()> for NopWorkload {
    fn next(&mut self, _: &mut SimRng, _: ClientId, _: u64) -> Option<()> {
        Some(())
    }
}

/// What a client node does.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// The cluster requests are addressed to.
    pub cluster: ClusterId,
    /// Concurrent sessions (closed-loop clients) in this node.
    pub sessions: u32,
    /// Commands per session before it stops (`u64::MAX`: until the run ends).
    pub ops_per_session: u64,
    /// Resend an unanswered request (to the next leader) after this long.
    pub retry_after: Duration,
    /// Pause between a reply and the next command, uniform in `0..=think`.
    pub think: Duration,
    /// Record invocations and returns for the linearizability checker.
    pub record_history: bool,
    /// Record each command's latency.
    pub record_latencies: bool,
    /// Send the requests issued while handling one event in one message, where the protocol
    /// accepts batches (as a client library multiplexing sessions on one connection would).
    /// Off, every command travels alone — what per-message cost models should see.
    pub batch_requests: bool,
}

impl ClientConfig {
    /// One session, 20 commands, 15 ms retry, up to 1 ms think time, history on.
    pub fn new(cluster: ClusterId) -> Self {
        ClientConfig {
            cluster,
            sessions: 1,
            ops_per_session: 20,
            retry_after: Duration::from_millis(15),
            think: Duration::from_millis(1),
            record_history: true,
            record_latencies: false,
            batch_requests: true,
        }
    }
}

/// A client timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// Periodic check for unanswered requests to resend (one timer for all sessions, rather
    /// than one per request: at hundreds of thousands of requests a second, per-request
    /// timers would cost more than the requests).
    Tick,
    /// Think time is over: issue the next command of `session`.
    Next {
        /// Session index within the node.
        session: u32,
    },
}

/// What a protocol's node type provides so a [`LoadClient`] can live inside it.
pub trait ClientHost<S: StateMachine>: Node {
    /// Wraps a request for the protocol's entry point.
    fn request(cluster: ClusterId, command: Command<S::Command>) -> Self::Msg;
    /// Wraps a client timer.
    fn client_timer(timer: ClientTimer) -> Self::Timer;

    /// Wraps several requests for the same entry point; protocols that accept batches from
    /// clients override this to send one message instead of one per command.
    fn requests(cluster: ClusterId, commands: Vec<Command<S::Command>>) -> Vec<Self::Msg> {
        commands
            .into_iter()
            .map(|c| Self::request(cluster, c))
            .collect()
    }
}

#[derive(Debug)]
struct InFlight<C> {
    command: Command<C>,
    op: Option<OpId>,
    since: Time,
    retry_at: Time,
    attempts: u32,
}

#[derive(Debug)]
struct Session<C> {
    client: ClientId,
    seq: u64,
    done: bool,
    inflight: Option<InFlight<C>>,
}

/// A node of closed-loop client sessions.
///
/// Each session has one command outstanding, numbered `(client, seq)`; an unanswered command
/// is resent under the same id to the next entry point, so a retry that reaches the log twice
/// is still executed once (replicas keep a [`ClientTable`](crate::ClientTable)). Clients are
/// not meant to crash: a restarted client would reuse sequence numbers.
pub struct LoadClient<S: StateMachine> {
    config: ClientConfig,
    targets: Vec<NodeId>,
    guess: usize,
    workload: Box<dyn Workload<S::Command>>,
    sessions: Vec<Session<S::Command>>,
    history: History<S::Command, S::Output>,
    latencies: Vec<Duration>,
    completed: u64,
    rejected: u64,
    /// New requests issued while handling the current event, sent together at its end.
    outbox: Vec<Command<S::Command>>,
}

/// The histories of `clients` merged into one, and how many commands they completed.
pub fn merged_history<'a, S: StateMachine + 'a>(
    clients: impl IntoIterator<Item = &'a LoadClient<S>>,
) -> (History<S::Command, S::Output>, u64) {
    let mut history = History::new();
    let mut completed = 0;
    for client in clients {
        history.extend(client.history().clone());
        completed += client.completed();
    }
    (history, completed)
}

impl<S: StateMachine> std::fmt::Debug for LoadClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadClient")
            .field("config", &self.config)
            .field("completed", &self.completed)
            .finish_non_exhaustive()
    }
}

impl<S: StateMachine> LoadClient<S> {
    /// A client sending to `targets` (the protocol's entry points, e.g. MultiPaxos leaders).
    pub fn new(
        config: ClientConfig,
        targets: Vec<NodeId>,
        workload: impl Workload<S::Command> + 'static,
    ) -> Self {
        LoadClient {
            config,
            targets,
            guess: 0,
            workload: Box::new(workload),
            sessions: Vec::new(),
            history: History::new(),
            latencies: Vec::new(),
            completed: 0,
            rejected: 0,
            outbox: Vec::new(),
        }
    }

    /// Everything invoked and returned so far (empty unless `record_history`).
    pub fn history(&self) -> &History<S::Command, S::Output> {
        &self.history
    }

    /// Latency of every completed command (empty unless `record_latencies`).
    pub fn latencies(&self) -> &[Duration] {
        &self.latencies
    }

    /// Turns request batching on or off (see [`ClientConfig::batch_requests`]).
    pub fn set_batch_requests(&mut self, on: bool) {
        self.config.batch_requests = on;
    }

    /// Clears recorded latencies and the completed count (benchmarks discard warm-up).
    pub fn reset_stats(&mut self) {
        self.latencies.clear();
        self.completed = 0;
    }

    /// Commands completed.
    pub fn completed(&self) -> u64 {
        self.completed
    }

    /// Commands refused because they named an unknown cluster.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Starts every session.
    pub fn on_start<N: ClientHost<S>>(&mut self, ctx: &mut Context<'_, N>) {
        let node = u64::from(ctx.id().0);
        self.sessions = (0..self.config.sessions)
            .map(|i| Session {
                client: (node << 32) | u64::from(i),
                seq: 0,
                done: false,
                inflight: None,
            })
            .collect();
        for session in 0..self.config.sessions {
            self.next(ctx, session);
        }
        self.flush(ctx);
        ctx.set_timer(self.tick_period(), N::client_timer(ClientTimer::Tick));
        self.halt_if_done(ctx);
    }

    fn tick_period(&self) -> Duration {
        (self.config.retry_after / 4).max(Duration::from_micros(1))
    }

    /// Sends the requests issued while handling this event, in one message where the
    /// protocol allows it.
    fn flush<N: ClientHost<S>>(&mut self, ctx: &mut Context<'_, N>) {
        if self.outbox.is_empty() {
            return;
        }
        let commands = std::mem::take(&mut self.outbox);
        if let Some(&to) = self.targets.get(self.guess % self.targets.len().max(1)) {
            let cluster = self.config.cluster;
            let msgs = if self.config.batch_requests {
                N::requests(cluster, commands)
            } else {
                commands
                    .into_iter()
                    .map(|c| N::request(cluster, c))
                    .collect()
            };
            for msg in msgs {
                ctx.send(to, msg);
            }
        }
    }

    fn next<N: ClientHost<S>>(&mut self, ctx: &mut Context<'_, N>, session: u32) {
        let Some(s) = self.sessions.get_mut(session as usize) else {
            return;
        };
        if s.done || s.inflight.is_some() {
            return;
        }
        if s.seq >= self.config.ops_per_session {
            s.done = true;
            return;
        }
        let client = s.client;
        let Some(op) = self.workload.next(ctx.rng(), client, s.seq + 1) else {
            s.done = true;
            return;
        };
        s.seq += 1;
        let command = Command {
            id: RequestId { client, seq: s.seq },
            reply_to: ctx.id(),
            op,
        };
        let op = self
            .config
            .record_history
            .then(|| self.history.invoke(client, command.op.clone(), ctx.stamp()));
        self.outbox.push(command.clone());
        s.inflight = Some(InFlight {
            command,
            op,
            since: ctx.now(),
            retry_at: ctx.now() + self.config.retry_after,
            attempts: 0,
        });
    }

    fn send<N: ClientHost<S>>(&mut self, ctx: &mut Context<'_, N>, session: u32) {
        let Some(flight) = &self.sessions[session as usize].inflight else {
            return;
        };
        if let Some(&to) = self.targets.get(self.guess % self.targets.len().max(1)) {
            ctx.send(to, N::request(self.config.cluster, flight.command.clone()));
        }
    }

    /// Handles a timer.
    pub fn on_timer<N: ClientHost<S>>(&mut self, ctx: &mut Context<'_, N>, timer: ClientTimer) {
        match timer {
            ClientTimer::Tick => {
                let now = ctx.now();
                let mut stale = Vec::new();
                for (i, s) in self.sessions.iter_mut().enumerate() {
                    if let Some(flight) = s.inflight.as_mut()
                        && now >= flight.retry_at
                    {
                        // Silence: back off (up to 8x) so a long outage does not flood
                        // the cluster with copies of one request.
                        flight.attempts += 1;
                        let backoff = 1u32 << flight.attempts.min(3);
                        flight.retry_at = now + self.config.retry_after * backoff;
                        stale.push(i as u32);
                    }
                }
                if !stale.is_empty() {
                    // The entry point may be down or no longer leading: try the next one.
                    self.guess = (self.guess + 1) % self.targets.len().max(1);
                    for session in stale {
                        self.send(ctx, session);
                    }
                }
                ctx.set_timer(self.tick_period(), N::client_timer(ClientTimer::Tick));
            }
            ClientTimer::Next { session } => {
                self.next(ctx, session);
                self.flush(ctx);
                self.halt_if_done(ctx);
            }
        }
    }

    /// Handles several outputs at once (a replica's answers for one batch).
    pub fn on_replies<N: ClientHost<S>>(
        &mut self,
        ctx: &mut Context<'_, N>,
        replies: Vec<(RequestId, S::Output)>,
        leader: Option<u32>,
    ) {
        for (id, output) in replies {
            self.complete(ctx, id, output, leader);
        }
        self.flush(ctx);
        self.halt_if_done(ctx);
    }

    /// Handles the output of request `id`; `leader` is the replier's guess of the active
    /// entry point (an index into the targets).
    pub fn on_reply<N: ClientHost<S>>(
        &mut self,
        ctx: &mut Context<'_, N>,
        id: RequestId,
        output: S::Output,
        leader: Option<u32>,
    ) {
        self.complete(ctx, id, output, leader);
        self.flush(ctx);
        self.halt_if_done(ctx);
    }

    fn complete<N: ClientHost<S>>(
        &mut self,
        ctx: &mut Context<'_, N>,
        id: RequestId,
        output: S::Output,
        leader: Option<u32>,
    ) {
        let session = (id.client & 0xffff_ffff) as u32;
        let Some(s) = self.sessions.get_mut(session as usize) else {
            return;
        };
        let matches =
            s.client == id.client && s.inflight.as_ref().is_some_and(|f| f.command.id == id);
        if !matches {
            // A duplicate reply (every replica answers) or one for an older request.
            return;
        }
        let flight = s.inflight.take().expect("checked above");
        if let Some(op) = flight.op {
            self.history.complete(op, output, ctx.stamp());
        }
        if self.config.record_latencies {
            self.latencies.push(ctx.now().since(flight.since));
        }
        self.completed += 1;
        if let Some(l) = leader
            && (l as usize) < self.targets.len()
        {
            self.guess = l as usize;
        }
        let think = self.config.think.as_nanos() as u64;
        if think == 0 {
            self.next(ctx, session);
        } else {
            let pause = Duration::from_nanos(ctx.rng().range_inclusive(0, think));
            ctx.set_timer(pause, N::client_timer(ClientTimer::Next { session }));
        }
    }

    /// Handles a refusal: the session stops (its cluster id is wrong; retrying cannot help).
    pub fn on_rejected<N: ClientHost<S>>(&mut self, ctx: &mut Context<'_, N>, id: RequestId) {
        let session = (id.client & 0xffff_ffff) as u32;
        if let Some(s) = self.sessions.get_mut(session as usize)
            && s.inflight.as_ref().is_some_and(|f| f.command.id == id)
        {
            s.inflight = None;
            s.done = true;
            self.rejected += 1;
        }
        self.halt_if_done(ctx);
    }

    fn halt_if_done<N: ClientHost<S>>(&mut self, ctx: &mut Context<'_, N>) {
        if self.sessions.iter().all(|s| s.done) {
            ctx.halt();
        }
    }
}
