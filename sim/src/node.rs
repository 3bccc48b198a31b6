//! The `Node` trait: what a sans-IO protocol role implements to run on a driver.

use std::fmt::{self, Debug};

use crate::context::Context;

/// Identifies a node within one simulation or live cluster (dense, starting at 0).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The world outside the cluster: messages a host injects come `from` it, and messages
    /// nodes send `to` it are handed back to the host (`Sim::take_external`, `LiveCluster::recv`).
    pub const EXTERNAL: NodeId = NodeId(u32::MAX);

    /// The id as an index into per-node tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == NodeId::EXTERNAL {
            f.write_str("ext")
        } else {
            write!(f, "n{}", self.0)
        }
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(self, f)
    }
}

/// Identifies one timer set by a node; unique for the node's whole life, across restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// A message exchanged between nodes.
///
/// `Clone` because the network may duplicate it; `kind` names the message's type for the cost
/// model, metrics and traces (e.g. `"prepare"`, `"accept"`).
pub trait Message: Clone + Debug + Send + 'static {
    /// A short, stable name for this message's type.
    fn kind(&self) -> &'static str;

    /// How many units of work the message carries (operations in a batch, entries in a
    /// gossip round), for the cost model's per-unit charges. One by default.
    fn units(&self) -> u64 {
        1
    }
}

/// A protocol role as a state machine: it reacts to start, messages and timers, and acts only
/// through the [`Context`] — sending, setting timers, persisting, drawing randomness, reading
/// the clock. It never touches threads, sockets or the OS clock, so the same code runs under
/// the deterministic simulator and the live thread driver.
///
/// State kept in `self` is volatile: a crash drops it. State written with
/// [`Context::persist`] lives in [`Node::Durable`] and survives crashes; a restarted node
/// reads it back in [`Node::on_start`].
pub trait Node: Sized + Send + 'static {
    /// The messages this node exchanges.
    type Msg: Message;
    /// The payload of this node's timers.
    type Timer: Clone + Debug + Send + 'static;
    /// State that survives a crash (stable storage). Use `()` when there is none.
    type Durable: Clone + Debug + Default + Send + 'static;

    /// Called once when the node starts, and again after every restart.
    fn on_start(&mut self, ctx: &mut Context<'_, Self>);

    /// Called for each message delivered to this node.
    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Self::Msg);

    /// Called when a timer set by this node fires (cancelled timers never fire).
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: TimerId, payload: Self::Timer);
}
