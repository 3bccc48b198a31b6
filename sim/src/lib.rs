#![doc = "Deterministic simulation for Stratus (skeleton)."]
