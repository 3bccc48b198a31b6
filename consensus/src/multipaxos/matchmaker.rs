//! The matchmaker (Matchmaker MultiPaxos): remembers which acceptor configuration each ballot
//! uses, so a leader entering a ballot learns which earlier configurations its phase 1 must
//! reach.

use std::collections::BTreeMap;

use stratus_sim::NodeId;

use super::ballot::Ballot;
use super::message::PaxosMsg;
use super::node::Ctx;
use crate::state_machine::StateMachine;

/// Whether a matchmaker serves, and for which epoch of the matchmaker set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum MatchmakerStatus {
    /// Never told anything: serves epoch 0 if it is one of the initial matchmakers.
    #[default]
    Fresh,
    /// Serving `epoch` as one of `members` (which replaced `prev`).
    Active {
        /// The epoch served.
        epoch: u64,
        /// The matchmakers this epoch replaced.
        prev: Vec<NodeId>,
        /// The matchmakers of this epoch.
        members: Vec<NodeId>,
    },
    /// Stopped: epoch `epoch` is served by `next` (replacing `prev`).
    Stopped {
        /// The epoch that replaced this one.
        epoch: u64,
        /// The matchmakers it replaced.
        prev: Vec<NodeId>,
        /// Its matchmakers.
        next: Vec<NodeId>,
    },
}

/// A matchmaker's durable state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchmakerState {
    /// Configuration per ballot, for ballots not yet garbage-collected.
    pub configs: BTreeMap<Ballot, Vec<NodeId>>,
    /// Configurations of ballots below this were garbage-collected.
    pub gc_below: Ballot,
    /// The replicas' persisted watermark at the last garbage collection.
    pub watermark: u64,
    /// Serving or stopped.
    pub status: MatchmakerStatus,
}

/// A matchmaker. Its state lives on stable storage and is persisted before it is answered,
/// since a matchmaker that forgot a configuration would let a later leader skip the acceptors
/// that may hold chosen values.
///
/// The matchmakers themselves are replaced by a leader: it stops a quorum of the current ones
/// (a stopped matchmaker never registers a configuration again, so every configuration ever
/// registered with a quorum is in the merged state), then bootstraps the new ones with that
/// state. A stopped matchmaker points leaders to its successors.
#[derive(Debug, Default)]
pub struct Matchmaker {
    initial: bool,
}

impl Matchmaker {
    /// A matchmaker; `initial` if it serves from the start (epoch 0).
    pub fn new(initial: bool) -> Self {
        Matchmaker { initial }
    }

    fn serving(&self, status: &MatchmakerStatus) -> bool {
        match status {
            MatchmakerStatus::Fresh => self.initial,
            MatchmakerStatus::Active { .. } => true,
            MatchmakerStatus::Stopped { .. } => false,
        }
    }

    fn epoch(status: &MatchmakerStatus) -> u64 {
        match status {
            MatchmakerStatus::Fresh => 0,
            MatchmakerStatus::Active { epoch, .. } | MatchmakerStatus::Stopped { epoch, .. } => {
                *epoch
            }
        }
    }

    /// Points a leader at the newest epoch this matchmaker knows of.
    fn moved<S: StateMachine>(ctx: &mut Ctx<'_, S>, to: NodeId) {
        let (epoch, prev, next) = match &ctx.durable().matchmaker.status {
            MatchmakerStatus::Stopped { epoch, prev, next } => (*epoch, prev.clone(), next.clone()),
            MatchmakerStatus::Active {
                epoch,
                prev,
                members,
            } => (*epoch, prev.clone(), members.clone()),
            MatchmakerStatus::Fresh => return,
        };
        ctx.send(to, PaxosMsg::MatchmakersMoved { epoch, prev, next });
    }

    fn on_reconfiguration<S: StateMachine>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: PaxosMsg<S::Command, S::Output>,
    ) {
        let status = ctx.durable().matchmaker.status.clone();
        let current = Self::epoch(&status);
        match msg {
            PaxosMsg::StopMatchmakers { epoch, prev, next } => {
                match &status {
                    MatchmakerStatus::Stopped { epoch: e, .. } if *e > epoch => {
                        Self::moved(ctx, from);
                        return;
                    }
                    // Already serving this epoch or a later one (it is also among the new
                    // matchmakers): report the state, keep serving.
                    s if self.serving(s) && current >= epoch => {}
                    MatchmakerStatus::Stopped { epoch: e, .. } if *e == epoch => {}
                    _ => {
                        ctx.persist(|d| {
                            d.matchmaker.status = MatchmakerStatus::Stopped { epoch, prev, next }
                        });
                    }
                }
                let st = &ctx.durable().matchmaker;
                let ack = PaxosMsg::StopAck {
                    epoch,
                    configs: st.configs.iter().map(|(b, c)| (*b, c.clone())).collect(),
                    gc_below: st.gc_below,
                    watermark: st.watermark,
                };
                ctx.send(from, ack);
            }
            PaxosMsg::Bootstrap {
                epoch,
                prev,
                members,
                configs,
                gc_below,
                watermark,
            } => {
                let installed = match &status {
                    MatchmakerStatus::Active { epoch: e, .. } => *e >= epoch,
                    MatchmakerStatus::Stopped { epoch: e, .. } => *e > epoch,
                    MatchmakerStatus::Fresh => false,
                };
                if !installed {
                    ctx.persist(|d| {
                        let st = &mut d.matchmaker;
                        st.configs = configs.into_iter().collect();
                        st.gc_below = gc_below;
                        st.watermark = watermark;
                        st.status = MatchmakerStatus::Active {
                            epoch,
                            prev,
                            members,
                        };
                    });
                }
                ctx.send(from, PaxosMsg::BootstrapAck { epoch });
            }
            _ => {}
        }
    }

    pub(super) fn on_message<S: StateMachine>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: PaxosMsg<S::Command, S::Output>,
    ) {
        if matches!(
            msg,
            PaxosMsg::StopMatchmakers { .. } | PaxosMsg::Bootstrap { .. }
        ) {
            self.on_reconfiguration(ctx, from, msg);
            return;
        }
        let status = ctx.durable().matchmaker.status.clone();
        if !self.serving(&status) {
            if matches!(msg, PaxosMsg::MatchRequest { .. }) {
                Self::moved(ctx, from);
            }
            return;
        }
        match msg {
            // A leader behind: point it at this epoch. Never mix epochs in one quorum.
            PaxosMsg::MatchRequest { epoch, .. } if epoch < Self::epoch(&status) => {
                Self::moved(ctx, from);
            }
            // A leader ahead of this matchmaker: it will learn nothing useful here.
            PaxosMsg::MatchRequest { epoch, .. } if epoch > Self::epoch(&status) => {}
            PaxosMsg::MatchRequest { ballot, config, .. } => {
                let st = &ctx.durable().matchmaker;
                let highest = st.configs.keys().next_back().copied().unwrap_or_default();
                let known = st.configs.get(&ballot).cloned();
                if known.as_ref().is_some_and(|c| *c != config) {
                    // One configuration per ballot, ever; a different one is a stale request.
                    ctx.send(from, PaxosMsg::Nack { ballot: highest });
                    return;
                }
                if known.is_none() {
                    if ballot < highest.max(st.gc_below) {
                        ctx.send(
                            from,
                            PaxosMsg::Nack {
                                ballot: highest.max(st.gc_below),
                            },
                        );
                        return;
                    }
                    ctx.persist(|d| {
                        d.matchmaker.configs.insert(ballot, config);
                    });
                }
                let st = &ctx.durable().matchmaker;
                let prior = st
                    .configs
                    .range(..ballot)
                    .map(|(b, c)| (*b, c.clone()))
                    .collect();
                let watermark = st.watermark;
                ctx.send(
                    from,
                    PaxosMsg::MatchReply {
                        epoch: Self::epoch(&status),
                        ballot,
                        prior,
                        watermark,
                    },
                );
            }
            PaxosMsg::GarbageCollect { below, watermark } => {
                let st = &ctx.durable().matchmaker;
                if below > st.gc_below || watermark > st.watermark {
                    ctx.persist(|d| {
                        let st = &mut d.matchmaker;
                        st.configs = st.configs.split_off(&below);
                        st.gc_below = st.gc_below.max(below);
                        st.watermark = st.watermark.max(watermark);
                    });
                }
            }
            _ => {}
        }
    }
}
