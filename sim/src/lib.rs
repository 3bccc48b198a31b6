#![doc = "Deterministic simulation for Stratus (skeleton)."]
pub mod rng;
