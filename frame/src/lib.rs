#![doc = include_str!("../README.md")]

pub mod column;
pub mod datetime;
pub mod dtype;
pub mod error;
mod factorize;
pub mod frame;
pub mod index;
pub mod io;
pub mod ops;
pub mod partition;
pub mod value;

pub use column::Column;
pub use dtype::DType;
pub use error::{FrameError, Result};
pub use frame::DataFrame;
pub use index::Index;
pub use io::csv_read::{CsvOptions, read_csv, read_csv_bytes, read_csv_with};
pub use ops::arith::{ArithOp, CmpOp};
pub use ops::distinct::Keep;
pub use ops::groupby::{Agg, GroupBy};
pub use ops::join::JoinHow;
pub use ops::sort::SortKey;
pub use ops::window::{Cumulative, WindowAgg};
pub use partition::Partitioning;
pub use value::Value;
