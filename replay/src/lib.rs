#![doc = include_str!("../README.md")]

mod args;
mod checkpoint;
mod config;
pub mod demo;
mod error;
mod loops;
mod parallel;
mod plan;
mod policy;
mod query;
mod run;
mod store;
mod writer;

pub use checkpoint::FORMAT_VERSION as CHECKPOINT_FORMAT_VERSION;
pub use config::{Probe, Program, RecordConfig, ReplayConfig};
pub use error::{ReplayError, Result};
pub use loops::LoopIter;
pub use parallel::{ReplayReport, replay_parallel, replay_plan};
pub use plan::{WorkerPlan, partition};
pub use policy::{CheckpointPolicy, adaptive_period};
pub use query::{Frame, LogFilter, LogRow, dataframe, logs, runs};
pub use run::{Mode, Run, RunSummary};
pub use store::{RunInfo, SCHEMA_VERSION};
pub use writer::CheckpointStats;
