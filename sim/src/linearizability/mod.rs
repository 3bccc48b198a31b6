//! Checking recorded histories for linearizability.
//!
//! A history is linearizable when every operation can be given a single instant between its
//! call and its return such that, executed one at a time in that order, a sequential
//! [`Model`] produces exactly the outputs the clients saw. [`check`] searches for such an order
//! (Wing & Gong's search with Lowe's memoisation); [`check_partitioned`] splits the history by
//! key first (P-compositionality), which is how large key-value histories stay cheap to check.

pub mod checker;
pub mod kv;
pub mod model;
pub mod register;
pub mod synthetic;

mod bitset;
mod entries;

pub use checker::{Counterexample, Verdict, check, check_partitioned};
pub use kv::KvModel;
pub use model::Model;
pub use register::{RegisterInput, RegisterModel, RegisterOutput};
pub use synthetic::{RegisterHistory, SyntheticHistory, corrupt};
