//! BPaxos messages and timers.

use stratus_sim::Message;

use super::vertex::{VertexId, VertexValue};
use crate::client::ClientTimer;
use crate::command::{ClusterId, Command, RequestId};
use crate::multipaxos::Ballot;

/// Messages between BPaxos roles and clients.
#[derive(Clone, Debug, PartialEq)]
pub enum BPaxosMsg<C, O> {
    /// Client → leader.
    Request {
        /// The cluster the client means.
        cluster: ClusterId,
        /// The command.
        command: Command<C>,
    },
    /// Leader → client: wrong cluster.
    Rejected {
        /// The refused request.
        id: RequestId,
        /// The cluster that refused it.
        serving: ClusterId,
    },
    /// Leader → dependency service: which earlier commands conflict with this one?
    DepRequest {
        /// The new vertex.
        vertex: VertexId,
        /// Its command.
        command: Command<C>,
    },
    /// Dependency node → leader.
    DepReply {
        /// The vertex asked about.
        vertex: VertexId,
        /// Vertices with conflicting commands this node saw first.
        deps: Vec<VertexId>,
    },
    /// Proposer → acceptors: promise `ballot` for `vertex`.
    Phase1a {
        /// The vertex.
        vertex: VertexId,
        /// The ballot.
        ballot: Ballot,
    },
    /// Acceptor → proposer: promised, with my vote if any.
    Phase1b {
        /// The vertex.
        vertex: VertexId,
        /// The ballot promised.
        ballot: Ballot,
        /// The acceptor's vote for the vertex.
        vote: Option<(Ballot, VertexValue<C>)>,
    },
    /// Proposer → acceptors: accept `value` for `vertex`.
    Phase2a {
        /// The vertex.
        vertex: VertexId,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: VertexValue<C>,
    },
    /// Acceptor → proposer: accepted.
    Phase2b {
        /// The vertex.
        vertex: VertexId,
        /// The ballot.
        ballot: Ballot,
    },
    /// Acceptor → proposer: a higher ballot was promised for `vertex`.
    Nack {
        /// The vertex.
        vertex: VertexId,
        /// The promised ballot.
        ballot: Ballot,
    },
    /// Proposer → replicas: `vertex` is chosen.
    Commit {
        /// The vertex.
        vertex: VertexId,
        /// Its value.
        value: VertexValue<C>,
    },
    /// Replica → proposer: `vertex` is a missing dependency; finish it or make it a no-op.
    Recover {
        /// The vertex.
        vertex: VertexId,
    },
    /// Replica → client.
    Reply {
        /// The request answered.
        id: RequestId,
        /// Its output.
        output: O,
    },
}

impl<C, O> Message for BPaxosMsg<C, O>
where
    C: Clone + std::fmt::Debug + Send + 'static,
    O: Clone + std::fmt::Debug + Send + 'static,
{
    fn kind(&self) -> &'static str {
        match self {
            BPaxosMsg::Request { .. } => "request",
            BPaxosMsg::Rejected { .. } => "rejected",
            BPaxosMsg::DepRequest { .. } => "dep-request",
            BPaxosMsg::DepReply { .. } => "dep-reply",
            BPaxosMsg::Phase1a { .. } => "phase1a",
            BPaxosMsg::Phase1b { .. } => "phase1b",
            BPaxosMsg::Phase2a { .. } => "phase2a",
            BPaxosMsg::Phase2b { .. } => "phase2b",
            BPaxosMsg::Nack { .. } => "nack",
            BPaxosMsg::Commit { .. } => "commit",
            BPaxosMsg::Recover { .. } => "recover",
            BPaxosMsg::Reply { .. } => "reply",
        }
    }
}

/// BPaxos timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BPaxosTimer {
    /// Leader/proposer housekeeping.
    LeaderTick,
    /// Replica housekeeping (recovery of missing dependencies).
    ReplicaTick,
    /// A client session's timer.
    Client(ClientTimer),
}
