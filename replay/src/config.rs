//! What identifies a program, and the knobs of record and replay.

use std::collections::{BTreeMap, BTreeSet};

use crate::policy::CheckpointPolicy;

/// Identity of a recorded program.
///
/// `compute_version` names the *computation*: bump it whenever a change alters what the
/// program computes (model, data, optimizer). Adding log statements does not — that is the
/// point of hindsight logging — so replay refuses a record with another compute version
/// ([`ReplayError::VersionMismatch`](crate::ReplayError::VersionMismatch)) but accepts any
/// `code_version` (a free-form tag such as a git commit, stored with each run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub(crate) name: String,
    pub(crate) compute_version: u32,
    pub(crate) code_version: String,
}

impl Program {
    /// A program called `name` at compute version `compute_version`.
    pub fn new(name: impl Into<String>, compute_version: u32) -> Self {
        Program {
            name: name.into(),
            compute_version,
            code_version: String::new(),
        }
    }

    /// Tags runs with a code version (e.g. a git commit or "added grad-norm log").
    pub fn code_version(mut self, tag: impl Into<String>) -> Self {
        self.code_version = tag.into();
        self
    }

    /// The program name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Options for [`Run::record`](crate::Run::record) and [`Run::resume`](crate::Run::resume).
#[derive(Clone, Debug)]
pub struct RecordConfig {
    pub(crate) policy: CheckpointPolicy,
    pub(crate) max_pending: usize,
    pub(crate) budget: Option<u64>,
    pub(crate) args: BTreeMap<String, String>,
    pub(crate) read_env: bool,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            policy: CheckpointPolicy::Adaptive,
            max_pending: 2,
            budget: None,
            args: BTreeMap::new(),
            read_env: false,
        }
    }
}

impl RecordConfig {
    /// Sets the checkpoint policy (default: [`CheckpointPolicy::Adaptive`]).
    pub fn policy(mut self, policy: CheckpointPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Caps the checkpoint snapshots waiting for the background writer (default 2); the
    /// training thread blocks beyond it, which bounds memory.
    pub fn max_pending(mut self, n: usize) -> Self {
        self.max_pending = n.max(1);
        self
    }

    /// Caps the bytes of checkpoints this run may write; beyond it checkpoints are dropped and
    /// reported as [`ReplayError::StorageFull`](crate::ReplayError::StorageFull) by `finish`
    /// — training itself continues.
    pub fn storage_budget(mut self, bytes: u64) -> Self {
        self.budget = Some(bytes);
        self
    }

    /// Overrides argument `name` (as if given as `--name=value`).
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.args.insert(name.into(), value.into());
        self
    }

    /// Also read argument overrides from the process: `--name=value` / `--name value` on the
    /// command line, then the environment variable `STRATUS_ARG_<NAME>` (upper case, `-` as `_`).
    pub fn from_process(mut self) -> Self {
        self.read_env = true;
        self
    }
}

/// Which skip blocks replay re-executes instead of restoring.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Probe {
    /// Execute each block's first invocation (per worker) and watch its log statements: if it
    /// logs a name the record never saw inside it, the block is *probed* and keeps executing;
    /// otherwise later invocations are restored from checkpoints. Costs one execution per block
    /// and worker; a new statement that fires only in later iterations needs [`Probe::Blocks`].
    #[default]
    Discover,
    /// These blocks are probed; every other block is restored wherever a checkpoint exists.
    Blocks(BTreeSet<String>),
    /// No block is probed (new statements are only in the outer loop).
    Nothing,
    /// Every block re-executes (a full re-execution that still checks against checkpoints).
    Everything,
}

/// Options for replay.
#[derive(Clone, Debug)]
pub struct ReplayConfig {
    pub(crate) probe: Probe,
    pub(crate) verify: bool,
    pub(crate) record_run: Option<i64>,
    pub(crate) worker: (u32, u32),
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            probe: Probe::Discover,
            verify: true,
            record_run: None,
            worker: (0, 1),
        }
    }
}

impl ReplayConfig {
    /// Sets how probed blocks are found (default [`Probe::Discover`]).
    pub fn probe(mut self, probe: Probe) -> Self {
        self.probe = probe;
        self
    }

    /// Whether a re-executed block whose invocation also has a checkpoint is compared with it
    /// (default on): a mismatch is [`ReplayError::Divergence`](crate::ReplayError::Divergence),
    /// i.e. the block is not deterministic and replay cannot be trusted.
    pub fn verify(mut self, on: bool) -> Self {
        self.verify = on;
        self
    }

    /// Replays this recorded run instead of the program's latest record.
    pub fn record_run(mut self, run_id: i64) -> Self {
        self.record_run = Some(run_id);
        self
    }

    /// Makes this process worker `index` of `count` (for replay split across processes): it
    /// replays only its share of the main loop, starting from the nearest checkpoint.
    pub fn worker(mut self, index: u32, count: u32) -> Self {
        let count = count.max(1);
        self.worker = (index.min(count - 1), count);
        self
    }
}
