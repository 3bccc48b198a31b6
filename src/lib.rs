#![doc = include_str!("../README.md")]

/// Deterministic simulation, the live thread driver and the linearizability checker
/// (crate `stratus-sim`).
pub use stratus_sim as sim;
