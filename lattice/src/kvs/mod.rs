//! An Anna-style key-value store: coordination-free, every value a lattice, `put` a merge.
//!
//! The same sans-IO core ([`ShardState`]) runs in two drivers:
//! - [`Kvs`]: worker threads in this process, each the only owner of its shard (no locks on
//!   the data path), clients routing batches by the consistent-hash ring, optional redb tier;
//! - [`KvsNode`]: one node of a [`stratus_sim`] simulation, gossiping over a faulty network
//!   ([`ConvergenceScenario`] checks that all replicas converge).

mod config;
mod durable;
mod error;
mod gossip;
mod local;
mod node;
mod op;
mod placement;
mod scaling;
mod scenario;
mod shard;
mod store;
mod value;
mod worker;

pub use config::KvsConfig;
pub use error::KvsError;
pub use gossip::{GossipBatch, PeerMsg};
pub use local::LocalWorker;
pub use node::{KvsMsg, KvsNode};
pub use op::{Handled, Op, Reply};
pub use placement::Placement;
pub use scaling::{ScalingPoint, ScalingRun};
pub use scenario::{ConvergenceOutcome, ConvergenceScenario, PutIds};
pub use shard::{Entry, KvsKey, ShardParams, ShardState, ShardStats};
pub use store::{Kvs, KvsClient, KvsReport, Pending};
pub use value::{AnyLattice, KvsValue};
