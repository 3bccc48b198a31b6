//! The BPaxos proposer: Paxos per vertex. The vertex's own leader proposes at round 0 without
//! phase 1 (nobody else may use round 0 for its vertices); recovery runs both phases at a
//! higher round and chooses a no-op if no acceptor in the quorum voted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use stratus_sim::{NodeId, Time};

use super::config::{BPaxosConfig, BPaxosLayout, Bug};
use super::message::BPaxosMsg;
use super::node::Ctx;
use super::vertex::{VertexId, VertexValue};
use crate::multipaxos::Ballot;
use crate::state_machine::StateMachine;

#[derive(Debug)]
enum Instance<C> {
    Phase1 {
        ballot: Ballot,
        promises: BTreeMap<NodeId, Option<(Ballot, VertexValue<C>)>>,
        sent: Time,
    },
    Phase2 {
        ballot: Ballot,
        value: VertexValue<C>,
        acks: BTreeSet<NodeId>,
        sent: Time,
    },
}

/// The proposer co-located with each leader.
#[derive(Debug)]
pub(super) struct Proposer<S: StateMachine> {
    index: u32,
    config: Arc<BPaxosConfig>,
    layout: Arc<BPaxosLayout>,
    instances: BTreeMap<VertexId, Instance<S::Command>>,
    /// Values this proposer saw chosen, to answer recovery requests. (Kept forever: BPaxos
    /// garbage collection is not implemented.)
    chosen: BTreeMap<VertexId, VertexValue<S::Command>>,
    max_round: u64,
}

impl<S: StateMachine> Proposer<S> {
    pub(super) fn new(index: u32, config: Arc<BPaxosConfig>, layout: Arc<BPaxosLayout>) -> Self {
        Proposer {
            index,
            config,
            layout,
            instances: BTreeMap::new(),
            chosen: BTreeMap::new(),
            max_round: 0,
        }
    }

    /// Proposes the leader's own vertex at round 0 (phase 2 straight away).
    pub(super) fn propose(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        vertex: VertexId,
        value: VertexValue<S::Command>,
    ) {
        let ballot = Ballot {
            round: 0,
            leader: self.index,
        };
        self.enter_phase2(ctx, vertex, ballot, value);
    }

    fn enter_phase2(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        vertex: VertexId,
        ballot: Ballot,
        value: VertexValue<S::Command>,
    ) {
        let msg = BPaxosMsg::Phase2a {
            vertex,
            ballot,
            value: value.clone(),
        };
        // Thrifty: a quorum of the group; the tick resends to the whole group on silence.
        let group = self.layout.group_of(vertex);
        let q = self.config.quorum().min(group.len());
        let start = (vertex.seq as usize + vertex.leader as usize) % group.len();
        for i in 0..q {
            ctx.send(group[(start + i) % group.len()], msg.clone());
        }
        self.instances.insert(
            vertex,
            Instance::Phase2 {
                ballot,
                value,
                acks: BTreeSet::new(),
                sent: ctx.now(),
            },
        );
    }

    /// A replica lacks `vertex`: re-send it if chosen, otherwise take it over.
    pub(super) fn recover(&mut self, ctx: &mut Ctx<'_, S>, replica: NodeId, vertex: VertexId) {
        if let Some(value) = self.chosen.get(&vertex) {
            let msg = BPaxosMsg::Commit {
                vertex,
                value: value.clone(),
            };
            ctx.send(replica, msg);
        } else if !self.instances.contains_key(&vertex) {
            self.start_phase1(ctx, vertex);
        }
    }

    fn start_phase1(&mut self, ctx: &mut Ctx<'_, S>, vertex: VertexId) {
        // Persisted before use, as in MultiPaxos: a restarted proposer must not run a second
        // phase 1 under a ballot it may already have proposed in.
        let round = self.max_round.max(ctx.durable().proposer_round) + 1;
        ctx.persist(|d| d.proposer_round = round);
        self.max_round = round;
        let ballot = Ballot {
            round,
            leader: self.index,
        };
        ctx.broadcast(
            self.layout.group_of(vertex),
            &BPaxosMsg::Phase1a { vertex, ballot },
        );
        self.instances.insert(
            vertex,
            Instance::Phase1 {
                ballot,
                promises: BTreeMap::new(),
                sent: ctx.now(),
            },
        );
    }

    pub(super) fn on_phase1b(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        vertex: VertexId,
        ballot: Ballot,
        vote: Option<(Ballot, VertexValue<S::Command>)>,
    ) {
        let quorum = self.config.quorum();
        let Some(Instance::Phase1 {
            ballot: mine,
            promises,
            ..
        }) = self.instances.get_mut(&vertex)
        else {
            return;
        };
        if *mine != ballot {
            return;
        }
        promises.insert(from, vote);
        if promises.len() < quorum {
            return;
        }
        let found = promises
            .values()
            .flatten()
            .max_by_key(|(b, _)| *b)
            .map(|(_, v)| v.clone());
        let value = match found {
            Some(v) if self.config.bug != Some(Bug::RecoverIgnoringVotes) => v,
            _ => VertexValue::noop(),
        };
        self.enter_phase2(ctx, vertex, ballot, value);
    }

    pub(super) fn on_phase2b(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        vertex: VertexId,
        ballot: Ballot,
    ) {
        let quorum = self.config.quorum();
        let Some(Instance::Phase2 {
            ballot: mine, acks, ..
        }) = self.instances.get_mut(&vertex)
        else {
            return;
        };
        if *mine != ballot {
            return;
        }
        acks.insert(from);
        if acks.len() < quorum {
            return;
        }
        let Some(Instance::Phase2 { value, .. }) = self.instances.remove(&vertex) else {
            return;
        };
        let msg = BPaxosMsg::Commit {
            vertex,
            value: value.clone(),
        };
        ctx.broadcast(&self.layout.replicas, &msg);
        self.chosen.insert(vertex, value);
    }

    pub(super) fn on_nack(&mut self, vertex: VertexId, ballot: Ballot) {
        self.max_round = self.max_round.max(ballot.round);
        let preempted = match self.instances.get(&vertex) {
            Some(Instance::Phase1 { ballot: b, .. } | Instance::Phase2 { ballot: b, .. }) => {
                *b < ballot
            }
            None => false,
        };
        if preempted {
            // Someone else is finishing this vertex; replicas ask again if it stays missing.
            self.instances.remove(&vertex);
        }
    }

    pub(super) fn on_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        let now = ctx.now();
        let resend = self.config.resend;
        let mut out = Vec::new();
        for (&vertex, inst) in self.instances.iter_mut() {
            match inst {
                Instance::Phase1 { ballot, sent, .. } if now.since(*sent) >= resend => {
                    *sent = now;
                    out.push((
                        vertex,
                        BPaxosMsg::Phase1a {
                            vertex,
                            ballot: *ballot,
                        },
                    ));
                }
                Instance::Phase2 {
                    ballot,
                    value,
                    sent,
                    ..
                } if now.since(*sent) >= resend => {
                    *sent = now;
                    out.push((
                        vertex,
                        BPaxosMsg::Phase2a {
                            vertex,
                            ballot: *ballot,
                            value: value.clone(),
                        },
                    ));
                }
                Instance::Phase1 { .. } | Instance::Phase2 { .. } => {}
            }
        }
        for (vertex, msg) in out {
            ctx.broadcast(self.layout.group_of(vertex), &msg);
        }
    }
}
