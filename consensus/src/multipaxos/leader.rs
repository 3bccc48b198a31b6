//! The MultiPaxos leader (proposer): elections by ballot, phase 1 once per ballot, pipelined
//! and batched phase 2 with thrifty quorums, and the chosen log replicas fetch from.
//!
//! With matchmakers in the layout it is a Matchmaker MultiPaxos leader: every ballot has its
//! own acceptor configuration, registered with the matchmakers before use; phase 1 reaches a
//! quorum of every earlier configuration they report; and a leader reconfigures by moving to
//! a new ballot with a new configuration while commands keep flowing (phase 1 overlapped with
//! phase 2), then retires the old configurations.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use stratus_sim::{NodeId, Time};

use super::ballot::Ballot;
use super::config::{Bug, Layout, MultiPaxosConfig};
use super::message::{PaxosMsg, PaxosTimer, Vote};
use super::node::Ctx;
use crate::command::{Batch, Command};
use crate::resend::silent;
use crate::state_machine::StateMachine;

/// One slot the leader is driving or has seen chosen.
#[derive(Debug)]
struct Entry<C> {
    value: Batch<C>,
    acks: BTreeSet<NodeId>,
    chosen: bool,
    sent: Time,
}

/// `(ballot, configuration)` pairs matchmakers report.
type Configs = BTreeMap<Ballot, Vec<NodeId>>;

/// Where the leader stands.
#[derive(Debug)]
enum Phase<C> {
    /// Another leader leads (or nobody yet); campaign when it falls silent.
    Follower,
    /// Matchmaker mode: registering our ballot's configuration; replies so far.
    Matchmaking {
        replies: BTreeMap<NodeId, (Configs, u64)>,
        since: Time,
        sent: Time,
    },
    /// Phase 1 of our ballot against a quorum of each configuration in `configs`: promises
    /// so far, with each acceptor's watermark and votes.
    Electing {
        configs: Vec<Vec<NodeId>>,
        promises: BTreeMap<NodeId, (u64, Vec<Vote<C>>)>,
        since: Time,
        sent: Time,
    },
    /// Phase 1 done: every new command goes straight to phase 2.
    Active,
}

/// An acceptor reconfiguration by the active leader (Matchmaker MultiPaxos).
#[derive(Debug)]
enum Reconfig {
    /// Registering the new ballot and configuration; commands still flow in the old ballot.
    Matching {
        ballot: Ballot,
        acceptors: Vec<NodeId>,
        replies: BTreeMap<NodeId, (Configs, u64)>,
        sent: Time,
    },
    /// Switched to the new ballot (commands flow in the new configuration); phase 1 runs
    /// against the earlier configurations only to retire them.
    Retiring {
        configs: Vec<Vec<NodeId>>,
        promised: BTreeSet<NodeId>,
        boundary: u64,
        sent: Time,
    },
}

/// A replacement of the matchmakers: stop a quorum of the old ones, bootstrap the new ones
/// with their merged state. Any leader can drive one, including to finish another's.
#[derive(Debug)]
struct MmReconfig {
    epoch: u64,
    old: Vec<NodeId>,
    next: Vec<NodeId>,
    stage: MmStage,
    started: Time,
    sent: Time,
}

#[derive(Debug)]
enum MmStage {
    Stopping {
        acks: BTreeMap<NodeId, (Configs, Ballot, u64)>,
    },
    Bootstrapping {
        configs: Configs,
        gc_below: Ballot,
        watermark: u64,
        acks: BTreeSet<NodeId>,
    },
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
    /// The acceptor configuration of `ballot` (all acceptors without matchmakers).
    acceptors: Vec<NodeId>,
    reconfig: Option<Reconfig>,
    reconfig_started: Time,
    /// Retired configurations waiting for replicas to persist every slot below the boundary
    /// before the matchmakers may forget them: `(new ballot, boundary)`.
    retire_gc: Option<(Ballot, u64)>,
    /// Watermark reported by matchmakers (from the last configuration garbage collection).
    mm_watermark: u64,
    reconfigurations: Vec<Duration>,
    switchovers: Vec<Duration>,
    /// The matchmakers serving now, as far as this leader knows, and their epoch.
    matchmakers: Vec<NodeId>,
    mm_epoch: u64,
    mm_reconfig: Option<MmReconfig>,
    mm_reconfigurations: Vec<Duration>,
}

impl<S: StateMachine> Leader<S> {
    /// Leader number `index` of `layout`.
    pub fn new(index: u32, config: Arc<MultiPaxosConfig>, layout: Arc<Layout>) -> Self {
        let replicas = layout.replicas.len();
        let matchmakers = layout
            .matchmakers
            .iter()
            .take(2 * config.f + 1)
            .copied()
            .collect();
        let acceptors = if layout.matchmakers.is_empty() {
            layout.acceptors.clone()
        } else {
            layout
                .acceptors
                .iter()
                .take(2 * config.f + 1)
                .copied()
                .collect()
        };
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
            acceptors,
            reconfig: None,
            reconfig_started: Time::ZERO,
            retire_gc: None,
            mm_watermark: 0,
            reconfigurations: Vec::new(),
            switchovers: Vec::new(),
            matchmakers,
            mm_epoch: 0,
            mm_reconfig: None,
            mm_reconfigurations: Vec::new(),
        }
    }

    /// The acceptor configuration this leader uses (or last heard of).
    pub fn acceptors(&self) -> &[NodeId] {
        &self.acceptors
    }

    /// How long each completed reconfiguration took, from the request to the old
    /// configurations being retired (phase 1 done).
    pub fn reconfigurations(&self) -> &[Duration] {
        &self.reconfigurations
    }

    /// How long each replacement of the matchmakers this leader drove took.
    pub fn matchmaker_reconfigurations(&self) -> &[Duration] {
        &self.mm_reconfigurations
    }

    /// The matchmakers this leader uses.
    pub fn matchmakers(&self) -> &[NodeId] {
        &self.matchmakers
    }

    /// How long each reconfiguration took until commands flowed in the new configuration
    /// (matchmaking done).
    pub fn switchovers(&self) -> &[Duration] {
        &self.switchovers
    }

    fn matchmaking(&self) -> bool {
        !self.layout.matchmakers.is_empty()
    }

    /// Whether every configuration has a quorum among `promised`.
    fn quorum_in_each(&self, configs: &[Vec<NodeId>], promised: impl Fn(&NodeId) -> bool) -> bool {
        let q = self.config.quorum();
        configs
            .iter()
            .all(|c| c.iter().filter(|a| promised(a)).count() >= q.min(c.len()))
    }

    fn next_ballot(&mut self, ctx: &mut Ctx<'_, S>) -> Ballot {
        let round = self.ballot.round.max(ctx.durable().leader_round) + 1;
        // Persist before use: a restarted leader must never reuse a ballot, or it could
        // propose two values in one slot under the same ballot.
        ctx.persist(|d| d.leader_round = round);
        Ballot {
            round,
            leader: self.index,
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
        self.reconfig = None;
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
        self.ballot = self.next_ballot(ctx);
        self.reconfig = None;
        self.reset_deadline(ctx);
        let now = ctx.now();
        if self.matchmaking() {
            self.phase = Phase::Matchmaking {
                replies: BTreeMap::new(),
                since: now,
                sent: now,
            };
            let msg = PaxosMsg::MatchRequest {
                epoch: self.mm_epoch,
                ballot: self.ballot,
                config: self.acceptors.clone(),
            };
            ctx.broadcast(&self.matchmakers, &msg);
        } else {
            let all = vec![self.layout.acceptors.clone()];
            self.enter_phase1(ctx, all, now);
        }
    }

    /// Phase 1 of our ballot against a quorum of each of `configs`.
    fn enter_phase1(&mut self, ctx: &mut Ctx<'_, S>, configs: Vec<Vec<NodeId>>, since: Time) {
        let targets: BTreeSet<NodeId> = configs.iter().flatten().copied().collect();
        let msg = PaxosMsg::Phase1a {
            ballot: self.ballot,
            from: self.gc,
        };
        ctx.broadcast(&targets, &msg);
        self.phase = Phase::Electing {
            configs,
            promises: BTreeMap::new(),
            since,
            sent: ctx.now(),
        };
        self.maybe_activate(ctx);
    }

    fn maybe_activate(&mut self, ctx: &mut Ctx<'_, S>) {
        let Phase::Electing {
            configs, promises, ..
        } = &self.phase
        else {
            return;
        };
        if self.quorum_in_each(configs, |a| promises.contains_key(a)) {
            self.become_active(ctx);
        }
    }

    /// Merges matchmaker replies once a quorum answered.
    fn merge_matches(&self, replies: &BTreeMap<NodeId, (Configs, u64)>) -> Option<(Configs, u64)> {
        if replies.len() < self.config.quorum() {
            return None;
        }
        let mut merged = Configs::new();
        let mut watermark = 0;
        for (prior, w) in replies.values() {
            merged.extend(prior.iter().map(|(b, c)| (*b, c.clone())));
            watermark = watermark.max(*w);
        }
        Some((merged, watermark))
    }

    fn on_match_reply(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        ballot: Ballot,
        prior: Vec<(Ballot, Vec<NodeId>)>,
        watermark: u64,
    ) {
        if !self.matchmakers.contains(&from) {
            // From a matchmaker we no longer use: quorums must come from one set.
            return;
        }
        let prior: Configs = prior.into_iter().collect();
        if let Phase::Matchmaking { replies, since, .. } = &mut self.phase {
            if ballot != self.ballot {
                return;
            }
            let since = *since;
            replies.insert(from, (prior, watermark));
            let Phase::Matchmaking { replies, .. } = &self.phase else {
                return;
            };
            if let Some((merged, w)) = self.merge_matches(replies) {
                self.mm_watermark = self.mm_watermark.max(w);
                let configs = if self.config.bug == Some(Bug::SkipPriorConfigs) {
                    vec![self.acceptors.clone()]
                } else {
                    unique(merged.into_values())
                };
                self.enter_phase1(ctx, configs, since);
            }
            return;
        }
        let Some(Reconfig::Matching {
            ballot: new,
            replies,
            ..
        }) = &mut self.reconfig
        else {
            return;
        };
        if ballot != *new {
            return;
        }
        replies.insert(from, (prior, watermark));
        let Some(Reconfig::Matching {
            ballot: new,
            acceptors,
            replies,
            ..
        }) = &self.reconfig
        else {
            return;
        };
        let Some((merged, w)) = self.merge_matches(replies) else {
            return;
        };
        let (new, acceptors) = (*new, acceptors.clone());
        self.mm_watermark = self.mm_watermark.max(w);
        let newest_prior = merged.keys().next_back().copied().unwrap_or_default();
        let configs = unique(merged.into_values());
        if newest_prior > self.ballot || !self.is_active() {
            // Someone else ran a ballot between ours and the new one: our log may not cover
            // it, so this is an ordinary election in the new ballot.
            self.reconfig = None;
            self.ballot = new;
            self.acceptors = acceptors;
            let now = ctx.now();
            self.enter_phase1(ctx, configs, now);
            return;
        }
        // Phase 2 bypassing: we led the newest earlier ballot, so in every slot our log holds
        // the only value that ballot could have chosen, and above our log nothing can have
        // been chosen. Re-propose our unchosen slots and carry on in the new configuration at
        // once; phase 1 against the old configurations runs alongside, only to retire them.
        self.ballot = new;
        self.acceptors = acceptors;
        self.switchovers
            .push(ctx.now().since(self.reconfig_started));
        let unchosen: Vec<(u64, Batch<S::Command>)> = self
            .log
            .iter()
            .filter(|(_, e)| !e.chosen)
            .map(|(&s, e)| (s, e.value.clone()))
            .collect();
        for (slot, value) in unchosen {
            self.propose(ctx, slot, value);
        }
        let targets: BTreeSet<NodeId> = configs.iter().flatten().copied().collect();
        ctx.broadcast(
            &targets,
            &PaxosMsg::Phase1a {
                ballot: self.ballot,
                from: self.gc,
            },
        );
        self.reconfig = Some(Reconfig::Retiring {
            configs,
            promised: BTreeSet::new(),
            boundary: self.next_slot,
            sent: ctx.now(),
        });
        self.retire_gc = None;
        self.heartbeat(ctx);
        self.flush(ctx);
        self.maybe_retired(ctx);
    }

    fn maybe_retired(&mut self, ctx: &mut Ctx<'_, S>) {
        let Some(Reconfig::Retiring {
            configs,
            promised,
            boundary,
            ..
        }) = &self.reconfig
        else {
            return;
        };
        if !self.quorum_in_each(configs, |a| promised.contains(a)) {
            return;
        }
        self.retire_gc = Some((self.ballot, *boundary));
        self.reconfig = None;
        self.reconfigurations
            .push(ctx.now().since(self.reconfig_started));
        self.collect_configs(ctx);
    }

    /// Tells matchmakers to forget retired configurations once every slot they may have
    /// chosen is in every replica's snapshot (until then a later leader needs them).
    fn collect_configs(&mut self, ctx: &mut Ctx<'_, S>) {
        if let Some((below, boundary)) = self.retire_gc
            && (self.gc >= boundary || self.config.bug == Some(Bug::EarlyConfigGc))
        {
            let msg = PaxosMsg::GarbageCollect {
                below,
                watermark: self.gc,
            };
            ctx.broadcast(&self.matchmakers, &msg);
        }
    }

    fn on_reconfigure_matchmakers(&mut self, ctx: &mut Ctx<'_, S>, next: Vec<NodeId>) {
        let distinct: BTreeSet<NodeId> = next.iter().copied().collect();
        let valid = self.matchmaking()
            && distinct.len() == next.len()
            && next.len() > 2 * self.config.f
            && next.iter().all(|m| self.layout.matchmakers.contains(m));
        if !valid || !self.is_active() || self.reconfig.is_some() || self.mm_reconfig.is_some() {
            return;
        }
        let prev = self.matchmakers.clone();
        self.start_mm_reconfig(ctx, self.mm_epoch + 1, prev, next);
    }

    fn start_mm_reconfig(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        epoch: u64,
        prev: Vec<NodeId>,
        next: Vec<NodeId>,
    ) {
        let msg = PaxosMsg::StopMatchmakers {
            epoch,
            prev: prev.clone(),
            next: next.clone(),
        };
        ctx.broadcast(&prev, &msg);
        // Matchmaking against the old set cannot finish any more; it restarts on the new one.
        if let Phase::Matchmaking { replies, .. } = &mut self.phase {
            replies.clear();
        }
        self.reconfig = None;
        self.mm_reconfig = Some(MmReconfig {
            epoch,
            old: prev,
            next,
            stage: MmStage::Stopping {
                acks: BTreeMap::new(),
            },
            started: ctx.now(),
            sent: ctx.now(),
        });
    }

    fn on_stop_ack(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        epoch: u64,
        configs: Vec<(Ballot, Vec<NodeId>)>,
        gc_below: Ballot,
        watermark: u64,
    ) {
        let need = if self.config.bug == Some(Bug::BootstrapFromOne) {
            1
        } else {
            self.config.quorum()
        };
        let Some(r) = &mut self.mm_reconfig else {
            return;
        };
        let MmStage::Stopping { acks } = &mut r.stage else {
            return;
        };
        if r.epoch != epoch || !r.old.contains(&from) {
            return;
        }
        acks.insert(from, (configs.into_iter().collect(), gc_below, watermark));
        if acks.len() < need {
            return;
        }
        let mut merged = Configs::new();
        let mut gc = Ballot::default();
        let mut mark = 0;
        for (c, g, w) in acks.values() {
            merged.extend(c.iter().map(|(b, c)| (*b, c.clone())));
            gc = gc.max(*g);
            mark = mark.max(*w);
        }
        merged = merged.split_off(&gc);
        let msg = PaxosMsg::Bootstrap {
            epoch,
            prev: r.old.clone(),
            members: r.next.clone(),
            configs: merged.iter().map(|(b, c)| (*b, c.clone())).collect(),
            gc_below: gc,
            watermark: mark,
        };
        ctx.broadcast(&r.next, &msg);
        r.stage = MmStage::Bootstrapping {
            configs: merged,
            gc_below: gc,
            watermark: mark,
            acks: BTreeSet::new(),
        };
        r.sent = ctx.now();
    }

    fn on_bootstrap_ack(&mut self, ctx: &mut Ctx<'_, S>, from: NodeId, epoch: u64) {
        let quorum = self.config.quorum();
        let Some(r) = &mut self.mm_reconfig else {
            return;
        };
        let MmStage::Bootstrapping { acks, .. } = &mut r.stage else {
            return;
        };
        if r.epoch != epoch || !r.next.contains(&from) {
            return;
        }
        acks.insert(from);
        if acks.len() < quorum {
            return;
        }
        let r = self.mm_reconfig.take().expect("checked above");
        self.matchmakers = r.next;
        self.mm_epoch = r.epoch;
        self.mm_reconfigurations.push(ctx.now().since(r.started));
        // Resume matchmaking, if any, against the new set.
        if let Phase::Matchmaking { replies, sent, .. } = &mut self.phase {
            replies.clear();
            *sent = ctx.now();
            let msg = PaxosMsg::MatchRequest {
                epoch: self.mm_epoch,
                ballot: self.ballot,
                config: self.acceptors.clone(),
            };
            ctx.broadcast(&self.matchmakers, &msg);
        }
    }

    fn mm_reconfig_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        let now = ctx.now();
        let Some(r) = &mut self.mm_reconfig else {
            return;
        };
        if now.since(r.sent) < self.config.resend {
            return;
        }
        r.sent = now;
        match &r.stage {
            MmStage::Stopping { acks } => {
                let silent = silent(&r.old, acks);
                let msg = PaxosMsg::StopMatchmakers {
                    epoch: r.epoch,
                    prev: r.old.clone(),
                    next: r.next.clone(),
                };
                ctx.broadcast(&silent, &msg);
            }
            MmStage::Bootstrapping {
                configs,
                gc_below,
                watermark,
                acks,
            } => {
                let silent: Vec<NodeId> = r
                    .next
                    .iter()
                    .filter(|m| !acks.contains(m))
                    .copied()
                    .collect();
                let msg = PaxosMsg::Bootstrap {
                    epoch: r.epoch,
                    prev: r.old.clone(),
                    members: r.next.clone(),
                    configs: configs.iter().map(|(b, c)| (*b, c.clone())).collect(),
                    gc_below: *gc_below,
                    watermark: *watermark,
                };
                ctx.broadcast(&silent, &msg);
            }
        }
    }

    fn on_reconfigure(&mut self, ctx: &mut Ctx<'_, S>, acceptors: Vec<NodeId>) {
        let distinct: BTreeSet<NodeId> = acceptors.iter().copied().collect();
        let valid = self.matchmaking()
            && distinct.len() == acceptors.len()
            && acceptors.len() > 2 * self.config.f
            && acceptors.iter().all(|a| self.layout.acceptors.contains(a));
        if !valid || !self.is_active() || self.reconfig.is_some() || self.mm_reconfig.is_some() {
            return;
        }
        let ballot = self.next_ballot(ctx);
        let msg = PaxosMsg::MatchRequest {
            epoch: self.mm_epoch,
            ballot,
            config: acceptors.clone(),
        };
        ctx.broadcast(&self.matchmakers, &msg);
        self.reconfig_started = ctx.now();
        self.reconfig = Some(Reconfig::Matching {
            ballot,
            acceptors,
            replies: BTreeMap::new(),
            sent: ctx.now(),
        });
    }

    pub(super) fn on_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        self.mm_reconfig_tick(ctx);
        let now = ctx.now();
        let resend = self.config.resend;
        let stuck = |since: Time, deadline: Time| {
            now >= deadline && now.since(since) >= self.config.election_timeout
        };
        match &mut self.phase {
            Phase::Follower => {
                if now >= self.election_deadline {
                    self.start_election(ctx);
                }
            }
            Phase::Matchmaking {
                replies,
                since,
                sent,
            } => {
                if stuck(*since, self.election_deadline) {
                    self.start_election(ctx);
                } else if now.since(*sent) >= resend {
                    *sent = now;
                    let silent = silent(&self.matchmakers, replies);
                    let msg = PaxosMsg::MatchRequest {
                        epoch: self.mm_epoch,
                        ballot: self.ballot,
                        config: self.acceptors.clone(),
                    };
                    ctx.broadcast(&silent, &msg);
                }
            }
            Phase::Electing {
                configs,
                promises,
                since,
                sent,
            } => {
                if stuck(*since, self.election_deadline) {
                    // Stuck (a duel, or too few acceptors up): try again with a higher round.
                    self.start_election(ctx);
                } else if now.since(*sent) >= resend {
                    *sent = now;
                    let msg = PaxosMsg::Phase1a {
                        ballot: self.ballot,
                        from: self.gc,
                    };
                    let silent: BTreeSet<NodeId> = configs
                        .iter()
                        .flatten()
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
                self.reconfig_tick(ctx);
                self.collect_configs(ctx);
            }
        }
        ctx.set_timer(self.config.heartbeat, PaxosTimer::LeaderTick);
    }

    fn reconfig_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        let now = ctx.now();
        let resend = self.config.resend;
        let give_up = self.config.election_timeout * 4;
        let started = self.reconfig_started;
        match &mut self.reconfig {
            Some(Reconfig::Matching {
                ballot,
                acceptors,
                replies,
                sent,
            }) => {
                if now.since(started) >= give_up {
                    // Matchmakers unreachable: abandon; the host may ask again.
                    self.reconfig = None;
                } else if now.since(*sent) >= resend {
                    *sent = now;
                    let silent = silent(&self.matchmakers, replies);
                    let msg = PaxosMsg::MatchRequest {
                        epoch: self.mm_epoch,
                        ballot: *ballot,
                        config: acceptors.clone(),
                    };
                    ctx.broadcast(&silent, &msg);
                }
            }
            Some(Reconfig::Retiring {
                configs,
                promised,
                sent,
                ..
            }) if now.since(*sent) >= resend => {
                *sent = now;
                let silent: BTreeSet<NodeId> = configs
                    .iter()
                    .flatten()
                    .filter(|a| !promised.contains(a))
                    .copied()
                    .collect();
                let msg = PaxosMsg::Phase1a {
                    ballot: self.ballot,
                    from: self.gc,
                };
                ctx.broadcast(&silent, &msg);
            }
            Some(Reconfig::Retiring { .. }) | None => {}
        }
    }

    fn heartbeat(&mut self, ctx: &mut Ctx<'_, S>) {
        let msg = PaxosMsg::Heartbeat {
            ballot: self.ballot,
            chosen_upto: self.chosen_upto,
            gc: self.gc,
            config: self.acceptors.clone(),
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
            ctx.broadcast(&self.acceptors, &msg);
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
                    self.after_requests(ctx);
                }
            }
            PaxosMsg::Requests { cluster, commands } => {
                if cluster != self.layout.cluster {
                    for command in commands {
                        let reply = PaxosMsg::Rejected {
                            id: command.id,
                            serving: self.layout.cluster,
                        };
                        ctx.send(command.reply_to, reply);
                    }
                } else if matches!(self.phase, Phase::Follower) {
                    let me = self.layout.leaders[self.index as usize];
                    if let Some(to) = self.leader_node(self.ballot).filter(|&l| l != me)
                        && self.ballot.is_some()
                    {
                        ctx.send(to, PaxosMsg::Requests { cluster, commands });
                    }
                } else {
                    for command in commands {
                        self.on_request(ctx, command);
                    }
                    self.after_requests(ctx);
                }
            }
            PaxosMsg::Heartbeat { ballot, config, .. } => {
                if ballot > self.ballot {
                    self.observe(ctx, ballot);
                }
                if ballot == self.ballot && matches!(self.phase, Phase::Follower) {
                    // Campaign, if it comes to that, with the incumbent's configuration.
                    if self.matchmaking() {
                        self.acceptors = config;
                    }
                    self.reset_deadline(ctx);
                }
            }
            PaxosMsg::MatchReply {
                epoch,
                ballot,
                prior,
                watermark,
            } => {
                // Replies served in another epoch never count towards this epoch's quorum.
                if epoch == self.mm_epoch {
                    self.on_match_reply(ctx, from, ballot, prior, watermark);
                }
            }
            PaxosMsg::Reconfigure { acceptors } => self.on_reconfigure(ctx, acceptors),
            PaxosMsg::ReconfigureMatchmakers { matchmakers } => {
                self.on_reconfigure_matchmakers(ctx, matchmakers);
            }
            PaxosMsg::MatchmakersMoved { epoch, prev, next } => {
                // The replacement may be unfinished (its leader may have crashed): finish it;
                // every step is idempotent.
                let newer = epoch > self.mm_epoch
                    && self.mm_reconfig.as_ref().is_none_or(|r| r.epoch < epoch);
                if newer {
                    self.start_mm_reconfig(ctx, epoch, prev, next);
                }
            }
            PaxosMsg::StopAck {
                epoch,
                configs,
                gc_below,
                watermark,
            } => self.on_stop_ack(ctx, from, epoch, configs, gc_below, watermark),
            PaxosMsg::BootstrapAck { epoch } => self.on_bootstrap_ack(ctx, from, epoch),
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
                    self.maybe_activate(ctx);
                } else if let Some(Reconfig::Retiring { promised, .. }) = &mut self.reconfig {
                    // Votes are not needed: phase 2 bypassing already settled every slot.
                    promised.insert(from);
                    self.maybe_retired(ctx);
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
            PaxosMsg::Persisted { replica, slot } => self.on_persisted(ctx, replica, slot),
            // Acceptor, matchmaker, replica and client traffic never comes here.
            PaxosMsg::Rejected { .. }
            | PaxosMsg::Phase1a { .. }
            | PaxosMsg::Phase2a { .. }
            | PaxosMsg::Chosen { .. }
            | PaxosMsg::MatchRequest { .. }
            | PaxosMsg::GarbageCollect { .. }
            | PaxosMsg::StopMatchmakers { .. }
            | PaxosMsg::Bootstrap { .. }
            | PaxosMsg::Reply { .. }
            | PaxosMsg::Replies { .. } => {}
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, S>, command: Command<S::Command>) {
        match self.phase {
            Phase::Active | Phase::Electing { .. } | Phase::Matchmaking { .. } => {
                self.pending.push(command);
            }
            Phase::Follower => {
                // Forward to the leader we believe in; the client retries elsewhere if that
                // guess is wrong.
                let me = self.layout.leaders[self.index as usize];
                if let Some(to) = self.leader_node(self.ballot).filter(|&l| l != me)
                    && self.ballot.is_some()
                {
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

    /// Decides, after buffering requests, whether to propose now.
    fn after_requests(&mut self, ctx: &mut Ctx<'_, S>) {
        if !self.is_active() || self.pending.is_empty() {
            return;
        }
        if self.window_full() {
            // Wait for a slot to be chosen; `on_phase2b` flushes the batch then.
        } else if self.pending.len() >= self.config.batch_max || self.config.pipeline.is_some() {
            self.flush(ctx);
        } else if !self.flush_armed {
            self.flush_armed = true;
            ctx.set_timer(self.config.batch_delay, PaxosTimer::Flush);
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
        let acceptors = &self.acceptors;
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
            .max(self.gc)
            .max(self.mm_watermark);
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

    fn on_persisted(&mut self, ctx: &mut Ctx<'_, S>, replica: u32, slot: u64) {
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
            if self.is_active() {
                self.collect_configs(ctx);
            }
        }
    }
}

/// The configurations in order, each once.
fn unique(configs: impl IntoIterator<Item = Vec<NodeId>>) -> Vec<Vec<NodeId>> {
    let mut out: Vec<Vec<NodeId>> = Vec::new();
    for c in configs {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}
