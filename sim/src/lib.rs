#![doc = include_str!("../README.md")]

pub mod abd;
pub mod context;
pub mod cost;
pub mod error;
pub mod faults;
pub mod history;
pub mod linearizability;
pub mod live;
pub mod metrics;
pub mod network;
pub mod node;
pub mod rng;
pub mod seeds;
pub mod sim;
pub mod time;
pub mod trace;

pub use context::Context;
pub use cost::CostModel;
pub use error::SimError;
pub use faults::{Chaos, Fault, FaultScript};
pub use live::{LiveCluster, LiveReport};
pub use metrics::{MetricsReport, NodeMetrics};
pub use network::{Latency, NetConfig};
pub use node::{Message, Node, NodeId, TimerId};
pub use rng::SimRng;
pub use sim::{RunOutcome, Sim, SimConfig};
pub use time::Time;
