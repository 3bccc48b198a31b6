//! One node type for every MultiPaxos role, so a whole deployment fits in one simulation.

use stratus_sim::{Context, Node, NodeId, TimerId};

use super::acceptor::{Acceptor, AcceptorState};
use super::leader::Leader;
use super::matchmaker::{Matchmaker, MatchmakerState};
use super::message::{PaxosMsg, PaxosTimer};
use super::monitor::AuditEvent;
use super::replica::{Replica, ReplicaSnapshot};
use crate::client::{ClientHost, ClientTimer, LoadClient};
use crate::command::{ClusterId, Command};
use crate::handle::{Answer, HostProtocol};
use crate::state_machine::StateMachine;

/// The context MultiPaxos roles act through.
pub(super) type Ctx<'a, S> = Context<'a, MultiPaxosNode<S>>;

/// What a MultiPaxos node keeps on stable storage (each role uses its own field).
#[derive(Clone, Debug)]
pub struct MultiPaxosDurable<S: StateMachine> {
    /// Leader: the highest round it has used, so a restart never reuses a ballot.
    pub leader_round: u64,
    /// Acceptor: promises and votes.
    pub acceptor: AcceptorState<S::Command>,
    /// Replica: the latest snapshot.
    pub replica: Option<ReplicaSnapshot<S::Output>>,
    /// Matchmaker: configurations per ballot.
    pub matchmaker: MatchmakerState,
}

impl<S: StateMachine> Default for MultiPaxosDurable<S> {
    fn default() -> Self {
        MultiPaxosDurable {
            leader_round: 0,
            acceptor: AcceptorState::default(),
            replica: None,
            matchmaker: MatchmakerState::default(),
        }
    }
}

/// Any role of a MultiPaxos deployment.
#[derive(Debug)]
pub enum MultiPaxosNode<S: StateMachine> {
    /// A leader (proposer).
    Leader(Box<Leader<S>>),
    /// An acceptor.
    Acceptor(Acceptor),
    /// A replica executing the log.
    Replica(Box<Replica<S>>),
    /// A matchmaker (Matchmaker MultiPaxos).
    Matchmaker(Matchmaker),
    /// A node of client sessions.
    Client(Box<LoadClient<S>>),
}

impl<S: StateMachine> MultiPaxosNode<S> {
    /// The leader inside, if this node is one.
    pub fn as_leader(&self) -> Option<&Leader<S>> {
        match self {
            MultiPaxosNode::Leader(l) => Some(l),
            _ => None,
        }
    }

    /// The replica inside, if this node is one.
    pub fn as_replica(&self) -> Option<&Replica<S>> {
        match self {
            MultiPaxosNode::Replica(r) => Some(r),
            _ => None,
        }
    }

    /// The client inside, if this node is one.
    pub fn as_client(&self) -> Option<&LoadClient<S>> {
        match self {
            MultiPaxosNode::Client(c) => Some(c),
            _ => None,
        }
    }

    /// The client inside, mutably.
    pub fn as_client_mut(&mut self) -> Option<&mut LoadClient<S>> {
        match self {
            MultiPaxosNode::Client(c) => Some(c),
            _ => None,
        }
    }

    /// Takes the audit events this node recorded since the last call.
    pub fn take_audit(&mut self) -> Vec<AuditEvent> {
        match self {
            MultiPaxosNode::Acceptor(a) => a.take_audit(),
            MultiPaxosNode::Replica(r) => r.take_audit(),
            _ => Vec::new(),
        }
    }
}

impl<S: StateMachine> Node for MultiPaxosNode<S> {
    type Msg = PaxosMsg<S::Command, S::Output>;
    type Timer = PaxosTimer;
    type Durable = MultiPaxosDurable<S>;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        match self {
            MultiPaxosNode::Leader(l) => l.on_start(ctx),
            MultiPaxosNode::Acceptor(_) | MultiPaxosNode::Matchmaker(_) => {}
            MultiPaxosNode::Replica(r) => r.on_start(ctx),
            MultiPaxosNode::Client(c) => c.on_start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Self::Msg) {
        match self {
            MultiPaxosNode::Leader(l) => l.on_message(ctx, from, msg),
            MultiPaxosNode::Acceptor(a) => a.on_message(ctx, from, msg),
            MultiPaxosNode::Replica(r) => r.on_message(ctx, from, msg),
            MultiPaxosNode::Matchmaker(m) => m.on_message(ctx, from, msg),
            MultiPaxosNode::Client(c) => match msg {
                PaxosMsg::Reply { id, output, leader } => {
                    c.on_reply(ctx, id, output, Some(leader));
                }
                PaxosMsg::Replies { replies, leader } => c.on_replies(ctx, replies, Some(leader)),
                PaxosMsg::Rejected { id, .. } => c.on_rejected(ctx, id),
                _ => {}
            },
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId, timer: PaxosTimer) {
        match (self, timer) {
            (MultiPaxosNode::Leader(l), PaxosTimer::LeaderTick) => l.on_tick(ctx),
            (MultiPaxosNode::Leader(l), PaxosTimer::Flush) => l.on_flush_timer(ctx),
            (MultiPaxosNode::Replica(r), PaxosTimer::ReplicaTick) => r.on_tick(ctx),
            (MultiPaxosNode::Client(c), PaxosTimer::Client(t)) => c.on_timer(ctx, t),
            _ => {}
        }
    }
}

impl<S: StateMachine> HostProtocol<S> for MultiPaxosNode<S> {
    fn answer(msg: Self::Msg) -> Option<Answer<S::Output>> {
        match msg {
            PaxosMsg::Reply { id, output, leader } => Some(Answer::Output {
                id,
                output,
                leader: Some(leader),
            }),
            PaxosMsg::Rejected { id, serving } => Some(Answer::Rejected { id, serving }),
            _ => None,
        }
    }
}

impl<S: StateMachine> ClientHost<S> for MultiPaxosNode<S> {
    fn request(cluster: ClusterId, command: Command<S::Command>) -> Self::Msg {
        PaxosMsg::Request { cluster, command }
    }

    fn client_timer(timer: ClientTimer) -> PaxosTimer {
        PaxosTimer::Client(timer)
    }

    fn requests(cluster: ClusterId, commands: Vec<Command<S::Command>>) -> Vec<Self::Msg> {
        vec![PaxosMsg::Requests { cluster, commands }]
    }
}
