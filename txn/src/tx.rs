//! A transaction handle and the retrying closure form (the FaaS retry model).

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{TxId, TxnError};
use crate::node::AftNode;

/// A running transaction on one node. Dropping it without committing aborts it.
pub struct Tx<'a> {
    node: &'a AftNode,
    id: TxId,
    done: bool,
}

impl<'a> Tx<'a> {
    /// Begins a transaction on `node`.
    pub fn begin(node: &'a AftNode) -> Result<Self, TxnError> {
        Ok(Tx {
            node,
            id: node.begin()?,
            done: false,
        })
    }

    /// The transaction's id.
    pub fn id(&self) -> TxId {
        self.id
    }

    /// Reads bytes.
    pub fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, TxnError> {
        self.node.get(self.id, key)
    }

    /// Reads a serde value.
    pub fn get_as<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, TxnError> {
        self.node.get_as(self.id, key)
    }

    /// Buffers a write of bytes.
    pub fn put(&mut self, key: &str, value: impl Into<Vec<u8>>) -> Result<(), TxnError> {
        self.node.put(self.id, key, value.into())
    }

    /// Buffers a write of a serde value.
    pub fn put_as<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), TxnError> {
        self.node.put_as(self.id, key, value)
    }

    /// Buffers a delete.
    pub fn delete(&mut self, key: &str) -> Result<(), TxnError> {
        self.node.delete(self.id, key)
    }

    /// Commits.
    pub fn commit(mut self) -> Result<(), TxnError> {
        self.done = true;
        self.node.commit(self.id)
    }

    /// Aborts.
    pub fn abort(mut self) -> Result<(), TxnError> {
        self.done = true;
        self.node.abort(self.id)
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Already finished (a failed read aborts) is fine: nothing to undo.
            let _ = self.node.abort(self.id);
        }
    }
}

/// How [`AftNode::run`] retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before giving up.
    pub attempts: u32,
    /// Sleep before the second attempt; doubled each time, capped at `max_backoff`.
    pub backoff: Duration,
    /// The largest sleep.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 10,
            backoff: Duration::from_micros(100),
            max_backoff: Duration::from_millis(20),
        }
    }
}

impl AftNode {
    /// Runs `body` in a transaction and commits it, retrying the whole closure on a
    /// transient failure (storage error, no atomic version, node down) with the default
    /// [`RetryPolicy`]. A non-transient error from `body` aborts and is returned as is.
    pub fn run<R>(
        &self,
        body: impl FnMut(&mut Tx<'_>) -> Result<R, TxnError>,
    ) -> Result<R, TxnError> {
        self.run_with(RetryPolicy::default(), body)
    }

    /// [`AftNode::run`] with an explicit policy.
    pub fn run_with<R>(
        &self,
        policy: RetryPolicy,
        mut body: impl FnMut(&mut Tx<'_>) -> Result<R, TxnError>,
    ) -> Result<R, TxnError> {
        let mut backoff = policy.backoff;
        let mut last = None;
        for attempt in 0..policy.attempts.max(1) {
            if attempt > 0 {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(policy.max_backoff);
            }
            let mut tx = Tx::begin(self)?;
            let outcome = body(&mut tx).and_then(|r| tx.commit().map(|()| r));
            match outcome {
                Ok(r) => return Ok(r),
                Err(e) if e.is_transient() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(TxnError::RetriesExhausted {
            attempts: policy.attempts.max(1),
            last: Box::new(last.unwrap_or(TxnError::NodeDown)),
        })
    }
}
