//! Stratus facade.
pub use stratus_sim as sim;
