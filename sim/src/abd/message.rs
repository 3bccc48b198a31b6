//! ABD's messages, tags and timers.

use crate::node::Message;

/// A version: higher `ts` wins, ties broken by writer id, so concurrent writers never collide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag {
    /// Logical timestamp.
    pub ts: u64,
    /// Id of the writer that chose it.
    pub writer: u32,
}

/// Messages between ABD clients and replicas. `phase` numbers each client phase, so replies
/// to an earlier phase (delayed, duplicated) are recognised and ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbdMsg {
    /// Client → replica: what is your tag and value for `key`?
    Query {
        /// The client's phase number.
        phase: u64,
        /// The register.
        key: u64,
    },
    /// Replica → client: the replica's current tag and value.
    QueryReply {
        /// Echoed phase number.
        phase: u64,
        /// The register.
        key: u64,
        /// Current tag.
        tag: Tag,
        /// Current value (`None`: never written).
        value: Option<u64>,
    },
    /// Client → replica: adopt `(tag, value)` if newer than yours.
    Store {
        /// The client's phase number.
        phase: u64,
        /// The register.
        key: u64,
        /// The tag to store.
        tag: Tag,
        /// The value to store.
        value: Option<u64>,
    },
    /// Replica → client: the store is durable here.
    StoreAck {
        /// Echoed phase number.
        phase: u64,
    },
}

impl Message for AbdMsg {
    fn kind(&self) -> &'static str {
        match self {
            AbdMsg::Query { .. } => "query",
            AbdMsg::QueryReply { .. } => "query-reply",
            AbdMsg::Store { .. } => "store",
            AbdMsg::StoreAck { .. } => "store-ack",
        }
    }
}

/// Client timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbdTimer {
    /// Resend the current phase's requests to replicas that have not answered.
    Retry {
        /// The phase the timer was set for; stale once the phase moved on.
        phase: u64,
    },
    /// Think time is over: start the next operation.
    NextOp,
}
