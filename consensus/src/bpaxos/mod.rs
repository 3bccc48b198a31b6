//! BPaxos (Whittaker et al., arXiv 2003.00331): modular generalized consensus.
//!
//! Leaders name each command with a vertex `(leader, seq)` and ask a dependency service for
//! the earlier conflicting vertices; the leader's proposer then runs Paxos per vertex on
//! `(command, deps)` with an acceptor group; replicas build the graph of committed vertices and
//! execute its strongly connected components in dependency order (Tarjan), members by vertex
//! id. A dependency missing for too long is recovered: a proposer runs phase 1 and commits a
//! no-op if nothing was voted. Commands that do not conflict are never ordered.
//!
//! Proposers are co-located with their leaders (one node); everything else is its own node.
//! Not implemented: garbage collection of the graph and of the dependency service.

mod acceptor;
mod cluster;
mod config;
mod dependency;
mod graph;
mod leader;
mod message;
mod monitor;
mod node;
mod proposer;
mod replica;
mod scenario;
mod vertex;

pub use acceptor::{BpAcceptor, BpAcceptorState, VertexVote};
pub use cluster::{BPaxos, BPaxosLive, BPaxosSim};
pub use config::{BPaxosConfig, BPaxosLayout, Bug};
pub use dependency::{DepNode, DepState};
pub use graph::{Plan, plan};
pub use leader::BpLeader;
pub use message::{BPaxosMsg, BPaxosTimer};
pub use monitor::{BpAuditEvent, BpMonitor, BpViolation};
pub use node::{BPaxosDurable, BPaxosNode};
pub use replica::BpReplica;
pub use scenario::{BPaxosOutcome, BPaxosScenario};
pub use vertex::{VertexId, VertexValue};
