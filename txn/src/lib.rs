#![doc = include_str!("../README.md")]

mod cluster;
mod error;
mod metadata;
mod node;
mod tx;
mod version;

pub mod checker;
pub mod scenario;
pub mod simulated;
pub mod storage;

pub use cluster::{AftCluster, GcReport};
pub use error::{StorageError, TxId, TxnError};
pub use node::{AftNode, Broadcast, CommitStage, NodeStats, RefreshReport};
pub use tx::{RetryPolicy, Tx};
pub use version::{CommitRecord, Version};
