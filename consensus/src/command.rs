//! Commands as the protocols carry them: tagged with a request id so that retries are
//! executed at most once.

use std::hash::{DefaultHasher, Hash, Hasher};

use stratus_sim::NodeId;

/// Names one deployment, so a command sent to the wrong cluster is refused, not executed.
pub type ClusterId = u64;

/// Identifies a client session; unique across the deployment.
pub type ClientId = u64;

/// A client's request: `(client, seq)`. A client has one request outstanding at a time and
/// numbers them 1, 2, 3, …, so replicas can recognise a retry of the last request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId {
    /// The session that sent it.
    pub client: ClientId,
    /// Its number within the session, from 1.
    pub seq: u64,
}

/// A state-machine command with its request id and the node replies go to.
#[derive(Clone, Debug, PartialEq)]
pub struct Command<C> {
    /// At-most-once key.
    pub id: RequestId,
    /// Where replicas send the output ([`NodeId::EXTERNAL`] for a host-side client).
    pub reply_to: NodeId,
    /// The command itself.
    pub op: C,
}

/// What one log slot holds: a batch of commands; the empty batch is the no-op a new leader
/// uses to fill holes.
pub type Batch<C> = Vec<Command<C>>;

/// A fingerprint of a batch (its request ids), for invariant monitors that compare values
/// chosen and executed across nodes without keeping whole batches.
pub fn batch_digest<C>(batch: &[Command<C>]) -> u64 {
    // `DefaultHasher::new()` uses fixed keys, so the digest is the same in every run.
    let mut hasher = DefaultHasher::new();
    batch.len().hash(&mut hasher);
    for command in batch {
        command.id.hash(&mut hasher);
    }
    hasher.finish()
}
