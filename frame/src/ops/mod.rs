//! The dataframe algebra's operators, one file each.

pub mod arith;
pub mod concat;
pub mod distinct;
pub mod explode;
pub mod groupby;
pub mod join;
pub mod labels;
pub mod map;
pub mod sort;
pub mod transpose;
pub mod window;
