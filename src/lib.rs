#![doc = include_str!("../README.md")]

/// Deterministic simulation, the live thread driver and the linearizability checker
/// (crate `stratus-sim`).
pub use stratus_sim as sim;

/// Lattices and their law checker; the Anna-style KVS is to come (crate `stratus-lattice`).
pub use stratus_lattice as lattice;

/// Flor-style hindsight logging: record training runs cheaply, replay them with new log
/// statements (crate `stratus-replay`).
pub use stratus_replay as replay;

/// Replicated state machines: MultiPaxos (leader election, batching, thrifty quorums, log
/// garbage collection), Matchmaker MultiPaxos (reconfiguration while serving) and BPaxos
/// (generalized consensus), tested under faults (crate `stratus-consensus`).
pub use stratus_consensus as consensus;
