#![doc = include_str!("../README.md")]

/// Deterministic simulation, the live thread driver and the linearizability checker
/// (crate `stratus-sim`).
pub use stratus_sim as sim;

/// Lattices, their law checker and the Anna-style coordination-free KVS (crate
/// `stratus-lattice`).
pub use stratus_lattice as lattice;

/// Flor-style hindsight logging: record training runs cheaply, replay them with new log
/// statements (crate `stratus-replay`).
pub use stratus_replay as replay;

/// AFT: atomic fault tolerance with read-atomic isolation over any key-value storage (crate
/// `stratus-txn`).
pub use stratus_txn as txn;

/// Replicated state machines: MultiPaxos (leader election, batching, thrifty quorums, log
/// garbage collection), Matchmaker MultiPaxos (reconfiguration while serving) and BPaxos
/// (generalized consensus), tested under faults (crate `stratus-consensus`).
pub use stratus_consensus as consensus;

/// Naru-style selectivity estimation: a masked autoregressive model of a table's joint
/// distribution, progressive sampling, and the baselines it is measured against (crate
/// `stratus-cardest`).
pub use stratus_cardest as cardest;

/// FaaSFS: a transactional POSIX file system for cloud functions, where each invocation is
/// a transaction validated at commit and restarted on conflict (crate `stratus-fs`).
pub use stratus_fs as fs;

/// Modin-style dataframes: the dataframe algebra (selection, map, window, groupby, join,
/// transpose, …) on block partitions run in parallel, CSV and Arrow interop (crate
/// `stratus-frame`).
pub use stratus_frame as frame;
