//! ABD: the Attiya–Bar-Noy–Dolev atomic register, as simulator nodes.
//!
//! A multi-writer, multi-reader register per key, replicated on `2f + 1` replicas and
//! tolerating `f` crashes. Every operation has two phases against a majority:
//!
//! * **write(v)**: query a majority for the highest tag `(ts, writer)`, then store
//!   `v` with tag `(ts + 1, me)` at a majority;
//! * **read**: query a majority, take the value with the highest tag, then **write it back**
//!   to a majority before returning it.
//!
//! The write-back is what makes reads linearizable: without it a read can return a value that
//! only a minority holds, and a later read can miss it (a new–old inversion).
//! [`ClientConfig::write_back`] switches it off — the broken variant this crate's tests use to
//! prove the simulator and the linearizability checker catch real bugs.
//!
//! Replicas keep their register state in durable storage, so crash–restart loses nothing.

mod client;
mod message;
mod replica;
mod scenario;

pub use client::{Client, ClientConfig};
pub use message::{AbdMsg, AbdTimer, Tag};
pub use replica::{Replica, ReplicaStore};
pub use scenario::{AbdOutcome, AbdScenario};

use crate::context::Context;
use crate::history::History;
use crate::linearizability::{RegisterInput, RegisterOutput};
use crate::node::{Node, NodeId, TimerId};

/// Nodes for a deployment outside the simulator (e.g. [`crate::LiveCluster`]): replicas get
/// ids `0..replicas`, then `clients` clients configured by `client` (given the replica ids).
/// Returns the nodes in id order and the client ids.
pub fn deployment(
    replicas: usize,
    clients: usize,
    client: impl Fn(Vec<NodeId>) -> ClientConfig,
) -> (Vec<AbdNode>, Vec<NodeId>) {
    let replica_ids: Vec<NodeId> = (0..replicas as u32).map(NodeId).collect();
    let mut nodes: Vec<AbdNode> = replica_ids
        .iter()
        .map(|_| AbdNode::Replica(Replica))
        .collect();
    let client_ids = (replicas..replicas + clients)
        .map(|i| NodeId(i as u32))
        .collect();
    for _ in 0..clients {
        nodes.push(AbdNode::Client(Box::new(Client::new(client(
            replica_ids.clone(),
        )))));
    }
    (nodes, client_ids)
}

/// The clients' histories among `nodes` merged into one, and how many operations completed.
pub fn merged_history<'a>(
    nodes: impl IntoIterator<Item = &'a AbdNode>,
) -> (History<RegisterInput<u64>, RegisterOutput<u64>>, u64) {
    let mut history = History::new();
    let mut completed = 0;
    for client in nodes.into_iter().filter_map(AbdNode::as_client) {
        history.extend(client.history().clone());
        completed += client.completed();
    }
    (history, completed)
}

/// Either role of an ABD deployment, so one simulation can hold both.
#[derive(Debug)]
pub enum AbdNode {
    /// A storage replica.
    Replica(Replica),
    /// A client issuing reads and writes and recording their history.
    Client(Box<Client>),
}

impl AbdNode {
    /// The client inside, if this node is one.
    pub fn as_client(&self) -> Option<&Client> {
        match self {
            AbdNode::Client(c) => Some(c),
            AbdNode::Replica(_) => None,
        }
    }
}

impl Node for AbdNode {
    type Msg = AbdMsg;
    type Timer = AbdTimer;
    type Durable = ReplicaStore;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        match self {
            AbdNode::Replica(_) => {}
            AbdNode::Client(c) => c.on_start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: AbdMsg) {
        match self {
            AbdNode::Replica(r) => r.on_message(ctx, from, msg),
            AbdNode::Client(c) => c.on_message(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _timer: TimerId, payload: AbdTimer) {
        match self {
            AbdNode::Replica(_) => {}
            AbdNode::Client(c) => c.on_timer(ctx, payload),
        }
    }
}
