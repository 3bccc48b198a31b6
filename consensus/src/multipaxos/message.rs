//! MultiPaxos messages and timers.

use stratus_sim::{Message, NodeId};

use super::ballot::Ballot;
use crate::client::ClientTimer;
use crate::command::{Batch, ClusterId, Command, RequestId};

/// One acceptor vote reported in phase 1: `(slot, ballot it was cast in, value)`.
pub type Vote<C> = (u64, Ballot, Batch<C>);

/// Messages between clients, leaders, acceptors and replicas.
#[derive(Clone, Debug, PartialEq)]
pub enum PaxosMsg<C, O> {
    /// Client → leader: please order this command.
    Request {
        /// The cluster the client means.
        cluster: ClusterId,
        /// The command.
        command: Command<C>,
    },
    /// Client → leader: several commands at once (a client node multiplexing sessions).
    Requests {
        /// The cluster the client means.
        cluster: ClusterId,
        /// The commands.
        commands: Vec<Command<C>>,
    },
    /// Leader → client: this deployment is not the cluster the request named.
    Rejected {
        /// The refused request.
        id: RequestId,
        /// The cluster that refused it.
        serving: ClusterId,
    },
    /// Leader → acceptors: promise `ballot` and report your votes from slot `from` on.
    Phase1a {
        /// The new ballot.
        ballot: Ballot,
        /// Lowest slot the leader cares about (its garbage-collection watermark).
        from: u64,
    },
    /// Acceptor → leader: promised; here are my votes and my watermark.
    Phase1b {
        /// The ballot promised.
        ballot: Ballot,
        /// Slots below it were garbage-collected here: chosen and persisted by every replica.
        watermark: u64,
        /// Votes at or above the watermark.
        votes: Vec<Vote<C>>,
    },
    /// Leader → acceptors: accept `value` in `slot` at `ballot`.
    Phase2a {
        /// The leader's ballot.
        ballot: Ballot,
        /// The slot.
        slot: u64,
        /// The batch proposed.
        value: Batch<C>,
        /// The leader's garbage-collection watermark, piggybacked.
        gc: u64,
    },
    /// Acceptor → leader: accepted.
    Phase2b {
        /// The ballot accepted in.
        ballot: Ballot,
        /// The slot.
        slot: u64,
    },
    /// Acceptor → leader: refused, a higher ballot was promised.
    Nack {
        /// The promised ballot.
        ballot: Ballot,
    },
    /// Leader → replicas: these slots are chosen.
    Chosen {
        /// `(slot, value)` pairs.
        entries: Vec<(u64, Batch<C>)>,
    },
    /// Active leader → everyone: I lead `ballot`.
    Heartbeat {
        /// The leader's ballot.
        ballot: Ballot,
        /// Every slot below this is chosen (and the leader has its value).
        chosen_upto: u64,
        /// Garbage-collection watermark.
        gc: u64,
        /// The acceptor configuration of `ballot` (followers campaign with it).
        config: Vec<NodeId>,
    },
    /// Leader → matchmakers (Matchmaker MultiPaxos): I will use `config` in `ballot`; which
    /// configurations did earlier ballots use?
    MatchRequest {
        /// The matchmaker epoch the leader believes current; matchmakers of another epoch do
        /// not answer, so a quorum never mixes two sets.
        epoch: u64,
        /// The new ballot.
        ballot: Ballot,
        /// Its acceptor configuration.
        config: Vec<NodeId>,
    },
    /// Matchmaker → leader: the configurations of earlier ballots it still holds.
    MatchReply {
        /// The matchmaker epoch it was served in.
        epoch: u64,
        /// The ballot matched.
        ballot: Ballot,
        /// `(ballot, configuration)` of every earlier ballot not garbage-collected.
        prior: Vec<(Ballot, Vec<NodeId>)>,
        /// Slots below this were chosen and persisted by every replica when configurations
        /// were last garbage-collected: a leader must not propose there.
        watermark: u64,
    },
    /// Leader → matchmakers: configurations of ballots below `below` are retired.
    GarbageCollect {
        /// Every configuration of a lower ballot may be dropped.
        below: Ballot,
        /// The replicas' persisted watermark when they were retired.
        watermark: u64,
    },
    /// Leader → the matchmakers of the previous epoch (`prev`): stop serving; the matchmakers
    /// of `epoch` are `next`.
    StopMatchmakers {
        /// The new matchmaker epoch.
        epoch: u64,
        /// The matchmakers being replaced.
        prev: Vec<NodeId>,
        /// The new matchmakers.
        next: Vec<NodeId>,
    },
    /// Matchmaker → leader: stopped for `epoch`; here is everything I held.
    StopAck {
        /// The epoch being installed.
        epoch: u64,
        /// Configurations per ballot.
        configs: Vec<(Ballot, Vec<NodeId>)>,
        /// Garbage-collection point for configurations.
        gc_below: Ballot,
        /// The watermark that came with it.
        watermark: u64,
    },
    /// Leader → new matchmakers: start serving `epoch` with this state (merged from a quorum
    /// of the stopped matchmakers).
    Bootstrap {
        /// The epoch.
        epoch: u64,
        /// The matchmakers it replaces.
        prev: Vec<NodeId>,
        /// Its matchmakers.
        members: Vec<NodeId>,
        /// Configurations per ballot.
        configs: Vec<(Ballot, Vec<NodeId>)>,
        /// Garbage-collection point for configurations.
        gc_below: Ballot,
        /// The watermark.
        watermark: u64,
    },
    /// New matchmaker → leader: bootstrapped (durably).
    BootstrapAck {
        /// The epoch.
        epoch: u64,
    },
    /// Stopped matchmaker → leader: I no longer serve; epoch `epoch` is served by `next`.
    MatchmakersMoved {
        /// The epoch that replaced this matchmaker's.
        epoch: u64,
        /// The matchmakers it replaced (so a leader can finish the replacement itself).
        prev: Vec<NodeId>,
        /// Its matchmakers.
        next: Vec<NodeId>,
    },
    /// Host → leaders: replace the matchmakers (the active leader acts on it).
    ReconfigureMatchmakers {
        /// The new matchmakers (`2f + 1` distinct nodes of the layout's matchmaker pool).
        matchmakers: Vec<NodeId>,
    },
    /// Host → leaders: move to a new acceptor configuration (the active leader acts on it).
    Reconfigure {
        /// The new configuration (`2f + 1` distinct acceptors of the pool).
        acceptors: Vec<NodeId>,
    },
    /// Replica → leader: send me chosen values from `from` on.
    Fetch {
        /// First slot the replica lacks.
        from: u64,
    },
    /// Replica → leaders: my snapshot covers every slot below `slot`.
    Persisted {
        /// The replica's index in the layout.
        replica: u32,
        /// Slots below it are in the replica's durable snapshot.
        slot: u64,
    },
    /// Replica → client node: the outputs of several of its requests (one slot's worth).
    Replies {
        /// `(request, output)` pairs.
        replies: Vec<(RequestId, O)>,
        /// Index of the leader the replica believes active.
        leader: u32,
    },
    /// Replica → client: the output of request `id`.
    Reply {
        /// The request answered.
        id: RequestId,
        /// Its output.
        output: O,
        /// Index of the leader the replica believes active (a hint for the client).
        leader: u32,
    },
}

impl<C, O> Message for PaxosMsg<C, O>
where
    C: Clone + std::fmt::Debug + Send + 'static,
    O: Clone + std::fmt::Debug + Send + 'static,
{
    fn kind(&self) -> &'static str {
        match self {
            PaxosMsg::Request { .. } => "request",
            PaxosMsg::Requests { .. } => "requests",
            PaxosMsg::Replies { .. } => "replies",
            PaxosMsg::Rejected { .. } => "rejected",
            PaxosMsg::Phase1a { .. } => "phase1a",
            PaxosMsg::Phase1b { .. } => "phase1b",
            PaxosMsg::Phase2a { .. } => "phase2a",
            PaxosMsg::Phase2b { .. } => "phase2b",
            PaxosMsg::Nack { .. } => "nack",
            PaxosMsg::Chosen { .. } => "chosen",
            PaxosMsg::Heartbeat { .. } => "heartbeat",
            PaxosMsg::MatchRequest { .. } => "match-request",
            PaxosMsg::MatchReply { .. } => "match-reply",
            PaxosMsg::GarbageCollect { .. } => "garbage-collect",
            PaxosMsg::Reconfigure { .. } => "reconfigure",
            PaxosMsg::StopMatchmakers { .. } => "stop-matchmakers",
            PaxosMsg::StopAck { .. } => "stop-ack",
            PaxosMsg::Bootstrap { .. } => "bootstrap",
            PaxosMsg::BootstrapAck { .. } => "bootstrap-ack",
            PaxosMsg::MatchmakersMoved { .. } => "matchmakers-moved",
            PaxosMsg::ReconfigureMatchmakers { .. } => "reconfigure-matchmakers",
            PaxosMsg::Fetch { .. } => "fetch",
            PaxosMsg::Persisted { .. } => "persisted",
            PaxosMsg::Reply { .. } => "reply",
        }
    }
}

/// MultiPaxos timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaxosTimer {
    /// Leader: heartbeat, resend, election check.
    LeaderTick,
    /// Leader: propose the buffered batch.
    Flush,
    /// Replica: fetch missing slots, report the snapshot watermark.
    ReplicaTick,
    /// A client session's timer.
    Client(ClientTimer),
}
