//! Checking recorded histories for linearizability.
//!
//! A history is linearizable when every operation can be given a single instant between its
//! call and its return such that, executed one at a time in that order, a sequential
//! [`Model`] produces exactly the outputs the clients saw. [`check`] searches for such an order
//! (Wing & Gong's search with Lowe's memoisation); [`check_partitioned`] splits the history by
//! key first (P-compositionality), which is how large key-value histories stay cheap to check.
//!
//! ```
//! use stratus_sim::history::History;
//! use stratus_sim::linearizability::{RegisterInput, RegisterModel, RegisterOutput, check_partitioned};
//!
//! let mut h = History::new();
//! let w = h.invoke(0, RegisterInput::Write { key: 7, value: 1u64 }, 0);
//! h.complete(w, RegisterOutput::WriteOk, 1);
//! // Starts after the write returned, yet sees nothing: not linearizable.
//! let r = h.invoke(1, RegisterInput::Read { key: 7 }, 2);
//! h.complete(r, RegisterOutput::Read(None), 3);
//!
//! let verdict = check_partitioned(&RegisterModel::new(), &h, RegisterInput::key)?;
//! assert_eq!(verdict.counterexample().map(|c| c.partition.as_str()), Some("7"));
//! # Ok::<(), stratus_sim::history::HistoryError>(())
//! ```

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
