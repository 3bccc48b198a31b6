//! Client operations and their replies.

use super::error::KvsError;

/// One client operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<K, V> {
    /// Merge the value into the key (a put is a merge, never an overwrite).
    Put(K, V),
    /// Read the key's value at one replica.
    Get(K),
}

impl<K, V> Op<K, V> {
    /// The key the operation touches.
    pub fn key(&self) -> &K {
        match self {
            Op::Put(k, _) | Op::Get(k) => k,
        }
    }
}

/// The outcome of one operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply<V> {
    /// The put was merged (and, with a durable tier, committed).
    Stored,
    /// The value read, `None` if the replica holds nothing for the key.
    Value(Option<V>),
    /// The put was refused; nothing changed. Boxed: errors are rare and replies are many,
    /// so a reply stays two words plus the value.
    Rejected(Box<KvsError>),
}

impl<V> Reply<V> {
    /// The value of a get; `Ok(None)` for a stored put; the error of a rejected put.
    pub fn into_result(self) -> Result<Option<V>, KvsError> {
        match self {
            Reply::Stored => Ok(None),
            Reply::Value(v) => Ok(v),
            Reply::Rejected(e) => Err(*e),
        }
    }
}

/// What a shard did with an operation.
#[derive(Debug, PartialEq)]
pub enum Handled<K, V> {
    /// Served here.
    Done(Reply<V>),
    /// This shard is not a replica of the key: send the operation to worker `to` (its
    /// primary), which always serves it.
    Forward {
        /// The key's primary.
        to: usize,
        /// The operation, unchanged.
        op: Op<K, V>,
    },
}
