//! One node type for every BPaxos role.

use std::collections::BTreeMap;

use stratus_sim::{Context, Node, NodeId, TimerId};

use super::acceptor::{BpAcceptor, BpAcceptorState};
use super::dependency::{DepNode, DepState};
use super::leader::BpLeader;
use super::message::{BPaxosMsg, BPaxosTimer};
use super::monitor::BpAuditEvent;
use super::replica::BpReplica;
use super::vertex::{VertexId, VertexValue};
use crate::client::{ClientHost, ClientTimer, LoadClient};
use crate::command::{ClusterId, Command};
use crate::handle::{Answer, HostProtocol};
use crate::state_machine::StateMachine;

/// The context BPaxos roles act through.
pub(super) type Ctx<'a, S> = Context<'a, BPaxosNode<S>>;

/// What a BPaxos node keeps on stable storage (each role its own field).
#[derive(Clone, Debug)]
pub struct BPaxosDurable<S: StateMachine> {
    /// Leader: vertex numbers below this are used or reserved.
    pub leader_reserved: u64,
    /// Proposer: the highest recovery round used.
    pub proposer_round: u64,
    /// Dependency node: what it has seen and answered.
    pub deps: DepState<S::Command>,
    /// Acceptor: per-vertex promises and votes.
    pub acceptor: BpAcceptorState<S::Command>,
    /// Replica: committed vertices.
    pub committed: BTreeMap<VertexId, VertexValue<S::Command>>,
}

impl<S: StateMachine> Default for BPaxosDurable<S> {
    fn default() -> Self {
        BPaxosDurable {
            leader_reserved: 0,
            proposer_round: 0,
            deps: DepState::default(),
            acceptor: BTreeMap::new(),
            committed: BTreeMap::new(),
        }
    }
}

/// Any role of a BPaxos deployment.
#[derive(Debug)]
pub enum BPaxosNode<S: StateMachine> {
    /// A leader with its proposer.
    Leader(Box<BpLeader<S>>),
    /// A dependency-service node.
    Dep(DepNode),
    /// An acceptor.
    Acceptor(BpAcceptor<S>),
    /// A replica.
    Replica(Box<BpReplica<S>>),
    /// Client sessions.
    Client(Box<LoadClient<S>>),
}

impl<S: StateMachine> BPaxosNode<S> {
    /// The replica inside, if any.
    pub fn as_replica(&self) -> Option<&BpReplica<S>> {
        match self {
            BPaxosNode::Replica(r) => Some(r),
            _ => None,
        }
    }

    /// The client inside, if any.
    pub fn as_client(&self) -> Option<&LoadClient<S>> {
        match self {
            BPaxosNode::Client(c) => Some(c),
            _ => None,
        }
    }

    /// The client inside, mutably.
    pub fn as_client_mut(&mut self) -> Option<&mut LoadClient<S>> {
        match self {
            BPaxosNode::Client(c) => Some(c),
            _ => None,
        }
    }

    /// Takes the audit events recorded since the last call.
    pub fn take_audit(&mut self) -> Vec<BpAuditEvent<S::Command>> {
        match self {
            BPaxosNode::Acceptor(a) => a.take_audit(),
            BPaxosNode::Replica(r) => r.take_audit(),
            _ => Vec::new(),
        }
    }
}

impl<S: StateMachine> Node for BPaxosNode<S> {
    type Msg = BPaxosMsg<S::Command, S::Output>;
    type Timer = BPaxosTimer;
    type Durable = BPaxosDurable<S>;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        match self {
            BPaxosNode::Leader(l) => l.on_start(ctx),
            BPaxosNode::Replica(r) => r.on_start(ctx),
            BPaxosNode::Client(c) => c.on_start(ctx),
            BPaxosNode::Dep(_) | BPaxosNode::Acceptor(_) => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Self::Msg) {
        match self {
            BPaxosNode::Leader(l) => l.on_message(ctx, from, msg),
            BPaxosNode::Dep(d) => d.on_message(ctx, from, msg),
            BPaxosNode::Acceptor(a) => a.on_message(ctx, from, msg),
            BPaxosNode::Replica(r) => r.on_message(ctx, from, msg),
            BPaxosNode::Client(c) => match msg {
                BPaxosMsg::Reply { id, output } => c.on_reply(ctx, id, output, None),
                BPaxosMsg::Rejected { id, .. } => c.on_rejected(ctx, id),
                _ => {}
            },
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId, timer: BPaxosTimer) {
        match (self, timer) {
            (BPaxosNode::Leader(l), BPaxosTimer::LeaderTick) => l.on_tick(ctx),
            (BPaxosNode::Replica(r), BPaxosTimer::ReplicaTick) => r.on_tick(ctx),
            (BPaxosNode::Client(c), BPaxosTimer::Client(t)) => c.on_timer(ctx, t),
            _ => {}
        }
    }
}

impl<S: StateMachine> HostProtocol<S> for BPaxosNode<S> {
    fn answer(msg: Self::Msg) -> Option<Answer<S::Output>> {
        match msg {
            BPaxosMsg::Reply { id, output } => Some(Answer::Output {
                id,
                output,
                leader: None,
            }),
            BPaxosMsg::Rejected { id, serving } => Some(Answer::Rejected { id, serving }),
            _ => None,
        }
    }
}

impl<S: StateMachine> ClientHost<S> for BPaxosNode<S> {
    fn request(cluster: ClusterId, command: Command<S::Command>) -> Self::Msg {
        BPaxosMsg::Request { cluster, command }
    }

    fn client_timer(timer: ClientTimer) -> BPaxosTimer {
        BPaxosTimer::Client(timer)
    }
}
