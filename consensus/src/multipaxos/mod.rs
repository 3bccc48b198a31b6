//! MultiPaxos: a stable leader runs phase 1 once per ballot over all future slots, then
//! phase 2 per slot — pipelined, batched, to a quorum of acceptors only — while replicas
//! execute chosen slots in order and snapshot so every log can be garbage-collected.
//!
//! Roles, one file each: [`Leader`] (election by ballots and heartbeats, recovery of in-flight
//! slots in phase 1), [`Acceptor`] (promises and votes on stable storage), [`Replica`]
//! (in-order execution, at-most-once via the client table, snapshots). [`MultiPaxos`] builds
//! a deployment on the simulator or on threads; [`PaxosScenario`] is the seeded fault
//! experiment the tests sweep, with the [`Monitor`] checking invariants at every step.

mod acceptor;
mod ballot;
mod cluster;
mod config;
mod leader;
mod matchmaker;
mod message;
mod monitor;
mod node;
mod replica;
mod scenario;

pub use acceptor::{Acceptor, AcceptorState};
pub use ballot::Ballot;
pub use cluster::{LiveDeployment, MultiPaxos, SimDeployment};
pub use config::{Bug, Layout, MultiPaxosConfig};
pub use leader::Leader;
pub use matchmaker::{Matchmaker, MatchmakerState, MatchmakerStatus};
pub use message::{PaxosMsg, PaxosTimer, Vote};
pub use monitor::{AuditEvent, Monitor, Violation};
pub use node::{MultiPaxosDurable, MultiPaxosNode};
pub use replica::{Replica, ReplicaSnapshot};
pub use scenario::{PaxosOutcome, PaxosScenario};
