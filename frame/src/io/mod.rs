//! Reading and writing: CSV, Arrow, Parquet.

pub mod arrow;
pub mod csv_read;
pub mod csv_write;
#[cfg(feature = "parquet")]
pub mod parquet;
