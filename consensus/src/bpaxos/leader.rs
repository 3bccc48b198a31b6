//! The BPaxos leader: names each command with a fresh vertex, asks the dependency service for
//! its dependencies, and hands `(command, deps)` to its proposer.

use std::collections::BTreeMap;
use std::sync::Arc;

use stratus_sim::{NodeId, Time};

use super::config::{BPaxosConfig, BPaxosLayout, Bug};
use super::message::{BPaxosMsg, BPaxosTimer};
use super::node::Ctx;
use super::proposer::Proposer;
use super::vertex::{VertexId, VertexValue};
use crate::command::Command;
use crate::resend::silent;
use crate::state_machine::StateMachine;

/// Vertex numbers are reserved on stable storage this many at a time, so a restarted leader
/// never reuses one without paying a persist per command.
const RESERVE: u64 = 256;

#[derive(Debug)]
struct Pending<C> {
    command: Command<C>,
    replies: BTreeMap<NodeId, Vec<VertexId>>,
    sent: Time,
}

/// A BPaxos leader with its proposer.
#[derive(Debug)]
pub struct BpLeader<S: StateMachine> {
    index: u32,
    config: Arc<BPaxosConfig>,
    layout: Arc<BPaxosLayout>,
    next_seq: u64,
    pending: BTreeMap<VertexId, Pending<S::Command>>,
    proposer: Proposer<S>,
}

impl<S: StateMachine> BpLeader<S> {
    /// Leader number `index`.
    pub fn new(index: u32, config: Arc<BPaxosConfig>, layout: Arc<BPaxosLayout>) -> Self {
        let proposer = Proposer::new(index, Arc::clone(&config), Arc::clone(&layout));
        BpLeader {
            index,
            config,
            layout,
            next_seq: 0,
            pending: BTreeMap::new(),
            proposer,
        }
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, S>) {
        self.next_seq = ctx.durable().leader_reserved;
        ctx.set_timer(self.config.tick, BPaxosTimer::LeaderTick);
    }

    fn fresh_vertex(&mut self, ctx: &mut Ctx<'_, S>) -> VertexId {
        if self.next_seq >= ctx.durable().leader_reserved {
            let upto = self.next_seq + RESERVE;
            ctx.persist(|d| d.leader_reserved = upto);
        }
        let v = VertexId {
            leader: self.index,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        v
    }

    pub(super) fn on_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        let now = ctx.now();
        let mut resend = Vec::new();
        for (&vertex, p) in self.pending.iter_mut() {
            if now.since(p.sent) >= self.config.resend {
                p.sent = now;
                let silent = silent(&self.layout.deps, &p.replies);
                resend.push((vertex, p.command.clone(), silent));
            }
        }
        for (vertex, command, silent) in resend {
            ctx.broadcast(&silent, &BPaxosMsg::DepRequest { vertex, command });
        }
        self.proposer.on_tick(ctx);
        ctx.set_timer(self.config.tick, BPaxosTimer::LeaderTick);
    }

    pub(super) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: BPaxosMsg<S::Command, S::Output>,
    ) {
        match msg {
            BPaxosMsg::Request { cluster, command } => {
                if cluster != self.layout.cluster {
                    let reply = BPaxosMsg::Rejected {
                        id: command.id,
                        serving: self.layout.cluster,
                    };
                    ctx.send(command.reply_to, reply);
                    return;
                }
                let vertex = self.fresh_vertex(ctx);
                let msg = BPaxosMsg::DepRequest {
                    vertex,
                    command: command.clone(),
                };
                // Thrifty: a quorum of the dependency service, rotating by vertex; the tick
                // resends to the silent ones. Any f + 1 answers will do, so this is safe.
                let deps = &self.layout.deps;
                let q = self.config.quorum().min(deps.len());
                let start = (vertex.seq as usize) % deps.len();
                for i in 0..q {
                    ctx.send(deps[(start + i) % deps.len()], msg.clone());
                }
                self.pending.insert(
                    vertex,
                    Pending {
                        command,
                        replies: BTreeMap::new(),
                        sent: ctx.now(),
                    },
                );
            }
            BPaxosMsg::DepReply { vertex, deps } => {
                let Some(p) = self.pending.get_mut(&vertex) else {
                    return;
                };
                p.replies.insert(from, deps);
                let enough = if self.config.bug == Some(Bug::FirstDepReplyOnly) {
                    1
                } else {
                    self.config.quorum()
                };
                if p.replies.len() < enough {
                    return;
                }
                let p = self.pending.remove(&vertex).expect("present above");
                let mut deps: Vec<VertexId> = p.replies.into_values().flatten().collect();
                deps.sort_unstable();
                deps.dedup();
                let value = VertexValue {
                    command: Some(p.command),
                    deps,
                };
                self.proposer.propose(ctx, vertex, value);
            }
            BPaxosMsg::Phase1b {
                vertex,
                ballot,
                vote,
            } => self.proposer.on_phase1b(ctx, from, vertex, ballot, vote),
            BPaxosMsg::Phase2b { vertex, ballot } => {
                self.proposer.on_phase2b(ctx, from, vertex, ballot);
            }
            BPaxosMsg::Nack { vertex, ballot } => self.proposer.on_nack(vertex, ballot),
            BPaxosMsg::Recover { vertex } => self.proposer.recover(ctx, from, vertex),
            _ => {}
        }
    }
}
