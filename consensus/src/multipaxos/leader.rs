//! The MultiPaxos leader (proposer): elections by ballot, phase 1 once per ballot, pipelined
//! and batched phase 2 with thrifty quorums, and the chosen log replicas fetch from.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use stratus_sim::{NodeId, Time};

use super::ballot::Ballot;
use super::config::{Bug, Layout, MultiPaxosConfig};
use super::message::{PaxosMsg, PaxosTimer, Vote};
use super::node::Ctx;
use crate::command::{Batch, Command};
use crate::state_machine::StateMachine;

/// One slot the leader is driving or has seen chosen.
#[derive(Debug)]
struct Entry<C> {
    value: Batch<C>,
    acks: BTreeSet<NodeId>,
    chosen: bool,
    sent: Time,
}

/// Where the leader stands.
#[derive(Debug)]
enum Phase<C> {
    /// Another leader leads (or nobody yet); campaign when it falls silent.
    Follower,
    /// Phase 1 of our ballot: promises so far, with each acceptor's watermark and votes.
    Electing {
        promises: BTreeMap<NodeId, (u64, Vec<Vote<C>>)>,
        since: Time,
        sent: Time,
    },
    /// Phase 1 done: every new command goes straight to phase 2.
    Active,
}

/// A MultiPaxos leader.
///
/// Safety rests on three rules: a ballot is used by one leader only (ballots carry the
/// leader's index) and never twice (its round is persisted before use); phase 2 of a ballot
/// starts only after a quorum promised it, re-proposing the highest-ballot vote found in every
/// slot at or above the quorum's highest watermark; and acceptors refuse lower ballots.
#[derive(Debug)]
pub struct Leader<S: StateMachine> {
    index: u32,
    config: Arc<MultiPaxosConfig>,
    layout: Arc<Layout>,
    ballot: Ballot,
    phase: Phase<S::Command>,
    log: BTreeMap<u64, Entry<S::Command>>,
    next_slot: u64,
    chosen_upto: u64,
    gc: u64,
    persisted: Vec<u64>,
    pending: Batch<S::Command>,
    flush_armed: bool,
    election_deadline: Time,
}

impl<S: StateMachine> Leader<S> {
    /// Leader number `index` of `layout`.
    pub fn new(index: u32, config: Arc<MultiPaxosConfig>, layout: Arc<Layout>) -> Self {
        let replicas = layout.replicas.len();
        Leader {
            index,
            config,
            layout,
            ballot: Ballot::default(),
            phase: Phase::Follower,
            log: BTreeMap::new(),
            next_slot: 0,
            chosen_upto: 0,
            gc: 0,
            persisted: vec![0; replicas],
            pending: Vec::new(),
            flush_armed: false,
            election_deadline: Time::ZERO,
        }
    }

    /// Whether this leader has finished phase 1 of its ballot.
    pub fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Active)
    }

    /// The highest ballot this leader knows of.
    pub fn ballot(&self) -> Ballot {
        self.ballot
    }

    /// Slots held in memory (bounded by garbage collection).
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// Every slot below this is known chosen.
    pub fn chosen_upto(&self) -> u64 {
        self.chosen_upto
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, S>) {
        // The first leader campaigns at once on a fresh cluster; everyone else (and the first
        // leader after a restart) waits to hear from an incumbent first.
        if self.index == 0 && ctx.durable().leader_round == 0 {
            self.start_election(ctx);
        } else {
            self.reset_deadline(ctx);
        }
        ctx.set_timer(self.config.heartbeat, PaxosTimer::LeaderTick);
    }

    fn reset_deadline(&mut self, ctx: &mut Ctx<'_, S>) {
        let base = self.config.election_timeout.as_nanos() as u64;
        let jitter = ctx.rng().range_inclusive(0, base);
        self.election_deadline = ctx.now() + Duration::from_nanos(base + jitter);
    }

    fn leader_node(&self, ballot: Ballot) -> Option<NodeId> {
        self.layout.leaders.get(ballot.leader as usize).copied()
    }

    /// Adopts a higher ballot seen anywhere; a leader that sees one steps down.
    fn observe(&mut self, ctx: &mut Ctx<'_, S>, ballot: Ballot) {
        if ballot <= self.ballot {
            return;
        }
        self.ballot = ballot;
        if !matches!(self.phase, Phase::Follower) {
            self.phase = Phase::Follower;
            // Hand buffered commands to the new leader rather than dropping them.
            if let Some(to) = self.leader_node(ballot) {
                for command in std::mem::take(&mut self.pending) {
                    ctx.send(
                        to,
                        PaxosMsg::Request {
                            cluster: self.layout.cluster,
                            command,
                        },
                    );
                }
            }
        }
        self.reset_deadline(ctx);
    }

    fn start_election(&mut self, ctx: &mut Ctx<'_, S>) {
        let round = self.ballot.round.max(ctx.durable().leader_round) + 1;
        // Persist before use: a restarted leader must never reuse a ballot, or it could
        // propose two values in one slot under the same ballot.
        ctx.persist(|d| d.leader_round = round);
        self.ballot = Ballot {
            round,
            leader: self.index,
        };
        let now = ctx.now();
        self.phase = Phase::Electing {
            promises: BTreeMap::new(),
            since: now,
            sent: now,
        };
        self.reset_deadline(ctx);
        let msg = PaxosMsg::Phase1a {
            ballot: self.ballot,
            from: self.gc,
        };
        ctx.broadcast(&self.layout.acceptors, &msg);
    }

    pub(super) fn on_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        let now = ctx.now();
        match &mut self.phase {
            Phase::Follower => {
                if now >= self.election_deadline {
                    self.start_election(ctx);
                }
            }
            Phase::Electing {
                promises,
                since,
                sent,
            } => {
                if now >= self.election_deadline
                    && now.since(*since) >= self.config.election_timeout
                {
                    // Stuck (a duel, or too few acceptors up): try again with a higher round.
                    self.start_election(ctx);
                } else if now.since(*sent) >= self.config.resend {
                    *sent = now;
                    let msg = PaxosMsg::Phase1a {
                        ballot: self.ballot,
                        from: self.gc,
                    };
                    let silent: Vec<NodeId> = self
                        .layout
                        .acceptors
                        .iter()
                        .filter(|a| !promises.contains_key(a))
                        .copied()
                        .collect();
                    ctx.broadcast(&silent, &msg);
                }
            }
            Phase::Active => {
                self.heartbeat(ctx);
                if self.config.bug != Some(Bug::NoResend) {
                    self.resend_stale(ctx);
                }
            }
        }
        ctx.set_timer(self.config.heartbeat, PaxosTimer::LeaderTick);
    }

    fn heartbeat(&mut self, ctx: &mut Ctx<'_, S>) {
        let msg = PaxosMsg::Heartbeat {
            ballot: self.ballot,
            chosen_upto: self.chosen_upto,
            gc: self.gc,
        };
        let me = self.layout.leaders[self.index as usize];
        let targets: Vec<NodeId> = self.layout.all().filter(|&&n| n != me).copied().collect();
        ctx.broadcast(&targets, &msg);
    }

    fn resend_stale(&mut self, ctx: &mut Ctx<'_, S>) {
        let now = ctx.now();
        let resend = self.config.resend;
        let mut stale = Vec::new();
        for (&slot, entry) in self.log.range_mut(self.chosen_upto..) {
            if !entry.chosen && now.since(entry.sent) >= resend {
                entry.sent = now;
                stale.push((slot, entry.value.clone()));
            }
        }
        for (slot, value) in stale {
            let msg = PaxosMsg::Phase2a {
                ballot: self.ballot,
                slot,
                value,
                gc: self.gc,
            };
            ctx.broadcast(&self.layout.acceptors, &msg);
        }
    }

    pub(super) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: PaxosMsg<S::Command, S::Output>,
    ) {
        match msg {
            PaxosMsg::Request { cluster, command } => {
                if cluster != self.layout.cluster {
                    let reply = PaxosMsg::Rejected {
                        id: command.id,
                        serving: self.layout.cluster,
                    };
                    ctx.send(command.reply_to, reply);
                } else {
                    self.on_request(ctx, command);
                }
            }
            PaxosMsg::Heartbeat { ballot, .. } => {
                if ballot > self.ballot {
                    self.observe(ctx, ballot);
                } else if ballot == self.ballot && matches!(self.phase, Phase::Follower) {
                    self.reset_deadline(ctx);
                }
            }
            PaxosMsg::Nack { ballot } => self.observe(ctx, ballot),
            PaxosMsg::Phase1b {
                ballot,
                watermark,
                votes,
            } => {
                self.observe(ctx, ballot);
                if ballot != self.ballot {
                    return;
                }
                if let Phase::Electing { promises, .. } = &mut self.phase {
                    promises.insert(from, (watermark, votes));
                    if promises.len() >= self.config.quorum() {
                        self.become_active(ctx);
                    }
                }
            }
            PaxosMsg::Phase2b { ballot, slot } => {
                self.observe(ctx, ballot);
                if ballot == self.ballot && self.is_active() {
                    self.on_phase2b(ctx, from, slot);
                }
            }
            PaxosMsg::Fetch { from: slot } => {
                if self.is_active() {
                    self.on_fetch(ctx, from, slot);
                }
            }
            PaxosMsg::Persisted { replica, slot } => self.on_persisted(replica, slot),
            // Acceptor, replica and client traffic never comes here.
            PaxosMsg::Rejected { .. }
            | PaxosMsg::Phase1a { .. }
            | PaxosMsg::Phase2a { .. }
            | PaxosMsg::Chosen { .. }
            | PaxosMsg::Reply { .. } => {}
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, S>, command: Command<S::Command>) {
        match self.phase {
            Phase::Active | Phase::Electing { .. } => {
                self.pending.push(command);
                if !self.is_active() {
                    return;
                }
                if self.window_full() {
                    // Wait for a slot to be chosen; `on_phase2b` flushes the batch then.
                } else if self.pending.len() >= self.config.batch_max
                    || self.config.pipeline.is_some()
                {
                    self.flush(ctx);
                } else if !self.flush_armed {
                    self.flush_armed = true;
                    ctx.set_timer(self.config.batch_delay, PaxosTimer::Flush);
                }
            }
            Phase::Follower => {
                // Forward to the leader we believe in; the client retries elsewhere if that
                // guess is wrong.
                let me = self.layout.leaders[self.index as usize];
                if let Some(to) = self.leader_node(self.ballot).filter(|&l| l != me) {
                    if self.ballot.is_some() {
                        ctx.send(
                            to,
                            PaxosMsg::Request {
                                cluster: self.layout.cluster,
                                command,
                            },
                        );
                    }
                }
            }
        }
    }

    pub(super) fn on_flush_timer(&mut self, ctx: &mut Ctx<'_, S>) {
        self.flush_armed = false;
        if self.is_active() {
            self.flush(ctx);
        }
    }

    fn window_full(&self) -> bool {
        self.config
            .pipeline
            .is_some_and(|w| self.next_slot.saturating_sub(self.chosen_upto) >= w as u64)
    }

    /// Proposes everything buffered, `batch_max` commands per slot (within the window).
    fn flush(&mut self, ctx: &mut Ctx<'_, S>) {
        while !self.pending.is_empty() && !self.window_full() {
            let take = self.pending.len().min(self.config.batch_max);
            let rest = self.pending.split_off(take);
            let batch = std::mem::replace(&mut self.pending, rest);
            let slot = self.next_slot;
            self.next_slot += 1;
            self.propose(ctx, slot, batch);
        }
    }

    fn propose(&mut self, ctx: &mut Ctx<'_, S>, slot: u64, value: Batch<S::Command>) {
        let msg = PaxosMsg::Phase2a {
            ballot: self.ballot,
            slot,
            value: value.clone(),
            gc: self.gc,
        };
        let acceptors = &self.layout.acceptors;
        if self.config.thrifty {
            // A quorum only, rotating by slot so load spreads over the acceptors; silence is
            // answered by resending to all of them.
            let q = self.config.quorum().min(acceptors.len());
            let start = (slot % acceptors.len() as u64) as usize;
            for i in 0..q {
                ctx.send(acceptors[(start + i) % acceptors.len()], msg.clone());
            }
        } else {
            ctx.broadcast(acceptors, &msg);
        }
        if self.config.bug == Some(Bug::ExecuteUnchosen) {
            let early = PaxosMsg::Chosen {
                entries: vec![(slot, value.clone())],
            };
            ctx.broadcast(&self.layout.replicas, &early);
        }
        self.log.insert(
            slot,
            Entry {
                value,
                acks: BTreeSet::new(),
                chosen: false,
                sent: ctx.now(),
            },
        );
    }

    fn become_active(&mut self, ctx: &mut Ctx<'_, S>) {
        let Phase::Electing { promises, .. } = std::mem::replace(&mut self.phase, Phase::Active)
        else {
            return;
        };
        // Slots below any promiser's watermark were chosen and persisted by every replica:
        // nothing may be proposed there again.
        let start = promises
            .values()
            .map(|(w, _)| *w)
            .max()
            .unwrap_or(0)
            .max(self.gc);
        let mut recovered: BTreeMap<u64, (Ballot, Batch<S::Command>)> = BTreeMap::new();
        if self.config.bug != Some(Bug::SkipPhase1Recovery) {
            for (_, votes) in promises.into_values() {
                for (slot, ballot, value) in votes {
                    if slot < start {
                        continue;
                    }
                    match recovered.get(&slot) {
                        Some((b, _)) if *b >= ballot => {}
                        _ => {
                            recovered.insert(slot, (ballot, value));
                        }
                    }
                }
            }
        }
        self.gc = start;
        self.log = self.log.split_off(&start);
        self.log.retain(|_, e| e.chosen);
        self.chosen_upto = self.chosen_upto.max(start);
        let end = recovered
            .keys()
            .next_back()
            .map(|s| s + 1)
            .into_iter()
            .chain(self.log.keys().next_back().map(|s| s + 1))
            .chain([start, self.chosen_upto])
            .max()
            .unwrap_or(start);
        // Re-propose every unchosen slot in [start, end): the highest-ballot vote if any,
        // otherwise a no-op to fill the hole.
        for slot in start..end {
            if self.log.contains_key(&slot) {
                continue;
            }
            let value = recovered.remove(&slot).map(|(_, v)| v).unwrap_or_default();
            self.propose(ctx, slot, value);
        }
        self.next_slot = end;
        self.advance_chosen();
        self.heartbeat(ctx);
        self.flush(ctx);
    }

    fn on_phase2b(&mut self, ctx: &mut Ctx<'_, S>, from: NodeId, slot: u64) {
        let quorum = self.config.quorum();
        let Some(entry) = self.log.get_mut(&slot) else {
            return;
        };
        if entry.chosen {
            return;
        }
        entry.acks.insert(from);
        if entry.acks.len() < quorum {
            return;
        }
        entry.chosen = true;
        entry.acks = BTreeSet::new();
        let msg = PaxosMsg::Chosen {
            entries: vec![(slot, entry.value.clone())],
        };
        ctx.broadcast(&self.layout.replicas, &msg);
        self.advance_chosen();
        if !self.pending.is_empty() {
            self.flush(ctx);
        }
    }

    fn advance_chosen(&mut self) {
        while self.log.get(&self.chosen_upto).is_some_and(|e| e.chosen) {
            self.chosen_upto += 1;
        }
    }

    fn on_fetch(&mut self, ctx: &mut Ctx<'_, S>, replica: NodeId, from: u64) {
        let low = from.max(self.gc);
        if low >= self.chosen_upto {
            return;
        }
        let entries: Vec<(u64, Batch<S::Command>)> = self
            .log
            .range(low..self.chosen_upto)
            .take(self.config.fetch_limit)
            .map(|(&slot, e)| (slot, e.value.clone()))
            .collect();
        if !entries.is_empty() {
            ctx.send(replica, PaxosMsg::Chosen { entries });
        }
    }

    fn on_persisted(&mut self, replica: u32, slot: u64) {
        let Some(p) = self.persisted.get_mut(replica as usize) else {
            return;
        };
        *p = (*p).max(slot);
        let low = self.persisted.iter().copied().min().unwrap_or(0);
        if low > self.gc {
            // Every replica's snapshot covers the slots below `low`: nobody will ask for them
            // again, so the log below can go (acceptors learn it from phase 2a / heartbeats).
            self.gc = low;
            self.log = self.log.split_off(&low);
            self.chosen_upto = self.chosen_upto.max(low);
            self.next_slot = self.next_slot.max(low);
            self.advance_chosen();
        }
    }
}
