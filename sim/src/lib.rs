#![doc = "Deterministic simulation for Stratus (skeleton)."]
pub mod history;
pub mod linearizability;
pub mod rng;
