//! What replicas exchange: batches of changed values and hot-key replication factors.

use std::sync::Arc;

/// One gossip round from one replica to another: the current values of keys that changed
/// since the last round, and (when the receiver has not acknowledged it yet) the sender's
/// table of raised replication factors.
#[derive(Debug, PartialEq)]
pub struct GossipBatch<K, V> {
    /// Sequence number, per sender; the receiver acknowledges it.
    pub seq: u64,
    /// Changed keys and their values at the sender (merging them is idempotent, so a batch
    /// delivered twice does no harm).
    pub entries: Vec<(K, V)>,
    /// Keys replicated above the default, with their factor (a `MapUnion<K, Max<rf>>`
    /// in spirit: merged by maximum).
    pub hot: Vec<(K, u16)>,
}

/// A message between two shards.
#[derive(Debug, PartialEq)]
pub enum PeerMsg<K, V> {
    /// A gossip round (shared, so retransmissions and network duplicates copy nothing).
    Gossip(Arc<GossipBatch<K, V>>),
    /// The receiver merged batch `seq`.
    Ack {
        /// The acknowledged batch.
        seq: u64,
    },
}

impl<K, V> Clone for PeerMsg<K, V> {
    fn clone(&self) -> Self {
        match self {
            PeerMsg::Gossip(b) => PeerMsg::Gossip(Arc::clone(b)),
            PeerMsg::Ack { seq } => PeerMsg::Ack { seq: *seq },
        }
    }
}

impl<K, V> PeerMsg<K, V> {
    /// Entries carried (for cost models and statistics).
    pub fn entries(&self) -> usize {
        match self {
            PeerMsg::Gossip(b) => b.entries.len() + b.hot.len(),
            PeerMsg::Ack { .. } => 0,
        }
    }
}
