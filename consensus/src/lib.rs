#![doc = include_str!("../README.md")]

mod client_table;
mod command;
mod error;
mod handle;
mod kv;
mod kv_model;
mod nop;
mod resend;
mod scenario_setup;
mod state_machine;

pub mod bpaxos;
pub mod client;
pub mod multipaxos;

pub use client::{ClientConfig, KvWorkload, LoadClient, NopWorkload, Workload};
pub use client_table::{ClientTable, Dedup};
pub use command::{Batch, ClientId, ClusterId, Command, RequestId, batch_digest};
pub use error::ConsensusError;
pub use handle::{Answer, Client, HostProtocol};
pub use kv::{KvCommand, KvOutput, KvStore};
pub use kv_model::KvKeyModel;
pub use nop::Nop;
pub use state_machine::StateMachine;
