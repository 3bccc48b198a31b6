//! The run handle: loops, logs, arguments and skip blocks, in record or replay mode.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use rusqlite::params;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::args::{parse_arg, process_arg};
use crate::config::{Probe, Program, RecordConfig, ReplayConfig};
use crate::error::{ReplayError, Result};
use crate::loops::LoopIter;
use crate::plan::{self, WorkerPlan};
use crate::policy::CheckpointPolicy;
use crate::store::{self, RecordIndex};
use crate::writer::{CheckpointStats, Msg, Writer, WriterConfig};

mod skip_block;

/// Whether a run records or replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Executing for real, writing logs and checkpoints.
    Record,
    /// Re-running after the fact, restoring skip blocks from checkpoints.
    Replay,
}

/// What happens in one main-loop iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before the warm-up start: not executed at all.
    Skip,
    /// Rebuilding state from a checkpoint: executed (or restored) without logging.
    Warmup,
    /// This run's own iterations: logged.
    Active,
    /// Past this worker's range: the loop ends.
    End,
}

/// Which main-loop iterations this run executes and logs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    warm_start: i64,
    active_from: i64,
    until: Option<i64>,
    /// Runs the code before the main loop with logging on.
    owns_start: bool,
    /// Runs the code after the main loop with logging on (it alone ends with the final state).
    owns_end: bool,
}

impl Window {
    pub(crate) fn phase(&self, t: i64) -> Phase {
        if self.until.is_some_and(|u| t >= u) {
            Phase::End
        } else if t < self.warm_start {
            Phase::Skip
        } else if t < self.active_from {
            Phase::Warmup
        } else {
            Phase::Active
        }
    }
}

/// One open loop iteration. Cheap to push and pop (no allocation): the loop position text
/// is built only when something is written there.
pub(crate) struct Frame {
    name: Rc<str>,
    iteration: i64,
    /// Whether its `loops` row was written. Inner-loop rows are written lazily, on the first
    /// log inside them, so a tight inner loop costs no database row per iteration.
    announced: bool,
}

#[derive(Default)]
struct BlockRt {
    since_last: Option<u64>,
    body: Option<Duration>,
    period: Option<u64>,
    /// Names logged inside the block (during record: all; during replay: this execution).
    seen: BTreeSet<String>,
    valid: bool,
    probed: Option<bool>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) frames: Vec<Frame>,
    main: i64,
    main_seen: bool,
    main_done: bool,
    phase: Option<Phase>,
    skipped_any: bool,
    in_block: Option<String>,
    occurrences: BTreeMap<String, u32>,
    blocks: BTreeMap<String, BlockRt>,
    seq: i64,
    stats: Counters,
}

#[derive(Default)]
struct Counters {
    restored: u64,
    executed: u64,
    fallbacks: u64,
    warmup_iterations: u64,
    active_iterations: u64,
    snapshot_time: Duration,
}

/// What a run did, returned by [`Run::finish`].
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// The run's id in the record database.
    pub run_id: i64,
    /// Worker index (0 for records).
    pub worker: u32,
    /// Checkpoints written (record) — count, bytes, write time.
    pub checkpoints: CheckpointStats,
    /// Checkpoint period last chosen per block (record).
    pub periods: BTreeMap<String, u64>,
    /// Time the training thread spent cloning snapshots and handing them to the writer.
    pub snapshot_time: Duration,
    /// Skip-block invocations restored from checkpoints (replay, resume).
    pub restored: u64,
    /// Skip-block invocations executed.
    pub executed: u64,
    /// Corrupt or unreadable checkpoints replaced by re-execution from an earlier state.
    pub fallbacks: u64,
    /// Blocks that replay found probed (holding new log statements).
    pub probed: BTreeSet<String>,
    /// Main-loop iterations run without logging to rebuild state.
    pub warmup_iterations: u64,
    /// Main-loop iterations logged.
    pub active_iterations: u64,
}

/// A recording or replaying run of a program, opened on a record directory.
///
/// All methods take `&self`, so loops, logs and skip blocks nest freely inside each other's
/// closures. A `Run` belongs to one thread; parallel replay opens one per worker.
pub struct Run {
    dir: PathBuf,
    program: Program,
    mode: Mode,
    run_id: i64,
    worker: u32,
    pub(crate) window: Window,
    policy: CheckpointPolicy,
    replay_cfg: ReplayConfig,
    record_cfg: RecordConfig,
    index: Option<RecordIndex>,
    /// Whether `finish` sets the run's status (parallel replay sets it once for all workers).
    owns_status: bool,
    writer: RefCell<Writer>,
    pub(crate) st: RefCell<State>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("dir", &self.dir)
            .field("program", &self.program.name)
            .field("mode", &self.mode)
            .field("run_id", &self.run_id)
            .field("worker", &self.worker)
            .finish()
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ReplayError::InvalidName(name.to_string()))
    }
}

impl Run {
    /// Starts recording a new run of `program` in `dir` (created if missing).
    pub fn record(dir: impl AsRef<Path>, program: &Program, cfg: RecordConfig) -> Result<Run> {
        let dir = dir.as_ref().to_path_buf();
        let conn = store::connect(&dir)?;
        let run_id = insert_run(&conn, program, "record", None, 1)?;
        drop(conn);
        let window = Window {
            warm_start: 0,
            active_from: 0,
            until: None,
            owns_start: true,
            owns_end: true,
        };
        Run::open_recording(dir, program, run_id, window, cfg, None)
    }

    /// Continues the latest unfinished record of `program` (a run that was killed or crashed):
    /// iterations after the last completed one are recorded again, starting from the nearest
    /// checkpoint, and arguments come from the record.
    pub fn resume(dir: impl AsRef<Path>, program: &Program, cfg: RecordConfig) -> Result<Run> {
        let dir = dir.as_ref().to_path_buf();
        let conn = store::connect(&dir)?;
        let run_id =
            store::latest_record(&conn, &program.name, &["running"])?.ok_or_else(|| {
                ReplayError::NoRecord {
                    dir: dir.clone(),
                    program: program.name.clone(),
                    what: "unfinished record",
                }
            })?;
        let index = store::load_index(&conn, &dir, run_id)?;
        check_version(&index, program)?;
        let next = index.iterations.keys().next_back().map_or(0, |t| t + 1);
        // The partial iteration and everything logged outside the main loop are redone.
        for table in ["logs", "loops"] {
            conn.execute(
                &format!(
                    "DELETE FROM {table} WHERE run_id=?1 AND (main_iteration>=?2 OR main_iteration<0)"
                ),
                params![run_id, next],
            )?;
        }
        for table in ["iterations", "checkpoints"] {
            conn.execute(
                &format!("DELETE FROM {table} WHERE run_id=?1 AND main_iteration>=?2"),
                params![run_id, next],
            )?;
        }
        drop(conn);
        let (warm, skipped) = plan::warm_start(&index, next as u64);
        let window = Window {
            warm_start: warm as i64,
            active_from: next,
            until: None,
            owns_start: true,
            owns_end: true,
        };
        let run = Run::open_recording(dir, program, run_id, window, cfg, Some(index))?;
        run.st.borrow_mut().stats.fallbacks += skipped;
        Ok(run)
    }

    /// Opens a replay of `program`'s latest record (or `cfg`'s chosen run) in `dir`. Run the
    /// same program code against the returned handle: the main loop yields this worker's
    /// iterations, skip blocks restore from checkpoints unless probed.
    pub fn replay(dir: impl AsRef<Path>, program: &Program, cfg: ReplayConfig) -> Result<Run> {
        let dir = dir.as_ref().to_path_buf();
        let (index, replay_run) = open_replay_run(&dir, program, &cfg, cfg.worker.1)?;
        let mut run = Run::replay_worker(dir, program, cfg, index, replay_run)?;
        run.owns_status = true;
        Ok(run)
    }

    pub(crate) fn replay_worker(
        dir: PathBuf,
        program: &Program,
        cfg: ReplayConfig,
        index: RecordIndex,
        replay_run: i64,
    ) -> Result<Run> {
        let (worker, workers) = cfg.worker;
        let plan = worker_plan(&index, worker, workers);
        let (warm, skipped) = plan::warm_start(&index, plan.range.start);
        let window = Window {
            warm_start: warm as i64,
            active_from: plan.range.start as i64,
            until: Some(plan.range.end as i64),
            owns_start: worker == 0,
            owns_end: worker + 1 == workers,
        };
        let mut run = Run::open(
            dir,
            program,
            Mode::Replay,
            replay_run,
            worker,
            window,
            RecordConfig::default(),
            cfg,
            Some(index),
        )?;
        run.owns_status = false;
        run.st.borrow_mut().stats.fallbacks += skipped;
        Ok(run)
    }

    /// Opens a recording worker (a fresh record, or the resumption of `index`).
    fn open_recording(
        dir: PathBuf,
        program: &Program,
        run_id: i64,
        window: Window,
        cfg: RecordConfig,
        index: Option<RecordIndex>,
    ) -> Result<Run> {
        let replay_cfg = ReplayConfig::default();
        Run::open(
            dir,
            program,
            Mode::Record,
            run_id,
            0,
            window,
            cfg,
            replay_cfg,
            index,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn open(
        dir: PathBuf,
        program: &Program,
        mode: Mode,
        run_id: i64,
        worker: u32,
        window: Window,
        record_cfg: RecordConfig,
        replay_cfg: ReplayConfig,
        index: Option<RecordIndex>,
    ) -> Result<Run> {
        let writer = Writer::start(WriterConfig {
            dir: dir.clone(),
            run_id,
            worker,
            max_pending: record_cfg.max_pending,
            budget: record_cfg.budget,
        })?;
        Ok(Run {
            dir,
            program: program.clone(),
            mode,
            run_id,
            worker,
            window,
            policy: record_cfg.policy,
            replay_cfg,
            record_cfg,
            index,
            owns_status: true,
            writer: RefCell::new(writer),
            st: RefCell::new(State {
                main: -1,
                ..State::default()
            }),
        })
    }

    /// Record or replay.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// This run's id in the record database.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// The record directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn send(&self, msg: Msg) {
        self.writer.borrow().send(msg);
    }

    /// Whether output of the current point is kept (not warm-up, and outside the main loop
    /// only in the worker that owns that part of the program).
    fn active(&self, st: &State) -> bool {
        match st.phase {
            Some(p) if st.main >= 0 => p == Phase::Active,
            _ => {
                if st.main_done {
                    self.window.owns_end
                } else {
                    self.window.owns_start
                }
            }
        }
    }

    /// A command-line / environment overridable argument, replayed from the record.
    ///
    /// Record: the value comes from [`RecordConfig::arg`], then (with
    /// [`RecordConfig::from_process`]) `--name=value` or `STRATUS_ARG_<NAME>`, else `default`;
    /// it is stored. Replay and resume: the recorded value (an argument the record lacks takes
    /// `default`). Values parse as JSON, falling back to a plain string.
    pub fn arg<T: Serialize + DeserializeOwned>(&self, name: &str, default: T) -> Result<T> {
        let bad = |reason: String| ReplayError::Arg {
            name: name.to_string(),
            reason,
        };
        let raw = match (&self.index, self.mode) {
            (Some(index), _) => index.args.get(name).cloned(),
            (None, _) => self.record_cfg.args.get(name).cloned().or_else(|| {
                if self.record_cfg.read_env {
                    process_arg(name)
                } else {
                    None
                }
            }),
        };
        let value = match raw {
            Some(raw) => parse_arg(&raw).map_err(bad)?,
            None => default,
        };
        let json = serde_json::to_string(&value).map_err(|e| bad(e.to_string()))?;
        if self.mode == Mode::Record && self.index.is_none() || self.mode == Mode::Replay {
            self.send(Msg::Arg {
                name: name.to_string(),
                value: json,
            });
        }
        Ok(value)
    }

    /// Logs `value` under `name` at the current loop position.
    ///
    /// Fails only if the value cannot be serialized ([`ReplayError::LogValue`]); storage
    /// failures are reported by [`Run::finish`] so they never interrupt training.
    pub fn log<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<()> {
        let json = serde_json::to_string(value).map_err(|source| ReplayError::LogValue {
            name: name.to_string(),
            source,
        })?;
        let mut st = self.st.borrow_mut();
        if let Some(b) = st.in_block.clone() {
            st.blocks
                .entry(b)
                .or_default()
                .seen
                .insert(name.to_string());
        }
        if !self.active(&st) {
            return Ok(());
        }
        self.announce(&mut st);
        st.seq += 1;
        let msg = Msg::Log {
            seq: st.seq,
            path: path_of(&st.frames),
            main: st.main,
            block: st.in_block.clone(),
            name: name.to_string(),
            value: json,
        };
        drop(st);
        self.send(msg);
        Ok(())
    }

    /// Marks a loop (Flor's `loop`; `loop` is a Rust keyword). The first top-level loop is
    /// the *main loop*: checkpoints, resume and parallel replay are organised by its
    /// iterations. Loops nest; each iteration's position (`epoch=3/step=7`) labels its logs.
    pub fn loop_over<I: IntoIterator>(&self, name: &str, iter: I) -> LoopIter<'_, I::IntoIter> {
        let mut st = self.st.borrow_mut();
        let main = st.frames.is_empty() && !st.main_seen && st.in_block.is_none();
        if main {
            st.main_seen = true;
        }
        LoopIter {
            run: self,
            inner: iter.into_iter(),
            name: Rc::from(name),
            next_index: 0,
            open: false,
            main,
            finished: false,
        }
    }

    pub(crate) fn open_iteration(&self, name: &Rc<str>, i: i64, main: bool, phase: Phase) {
        let mut st = self.st.borrow_mut();
        if main {
            st.main = i;
            st.phase = Some(phase);
            st.occurrences.clear();
            match phase {
                Phase::Warmup => st.stats.warmup_iterations += 1,
                Phase::Active => st.stats.active_iterations += 1,
                _ => {}
            }
        }
        st.frames.push(Frame {
            name: name.clone(),
            iteration: i,
            announced: false,
        });
        if main {
            self.announce(&mut st);
        }
    }

    /// Writes the `loops` rows of frames not yet written (when output is kept).
    fn announce(&self, st: &mut State) {
        if !self.active(st) {
            return;
        }
        let main = st.main;
        for k in 0..st.frames.len() {
            if st.frames[k].announced {
                continue;
            }
            st.frames[k].announced = true;
            let f = &st.frames[k];
            self.send(Msg::Loop {
                path: path_of(&st.frames[..=k]),
                parent: (k > 0).then(|| path_of(&st.frames[..k])),
                name: f.name.to_string(),
                iteration: f.iteration,
                main,
            });
        }
    }

    pub(crate) fn close_iteration(&self, main: bool) {
        let mut st = self.st.borrow_mut();
        st.frames.pop();
        if main && self.mode == Mode::Record && st.phase == Some(Phase::Active) {
            let msg = Msg::IterationDone {
                main: st.main,
                blocks: st.occurrences.clone(),
            };
            drop(st);
            self.send(msg);
        }
    }

    pub(crate) fn end_main(&self) {
        let mut st = self.st.borrow_mut();
        st.main = -1;
        st.phase = None;
        st.main_done = true;
    }

    pub(crate) fn skip_iteration(&self) {
        let mut st = self.st.borrow_mut();
        if !st.skipped_any {
            st.skipped_any = true;
            // State carried in from before the skipped iterations is no longer current.
            for b in st.blocks.values_mut() {
                b.valid = false;
            }
        }
    }

    /// Ends the run: flushes the background writer, marks the run complete and reports what
    /// happened. If background writes failed (disk full, budget exceeded) the record is marked
    /// incomplete and [`ReplayError::RecordIncomplete`] is returned — training was not
    /// interrupted, and replay falls back to re-execution where checkpoints are missing.
    pub fn finish(self) -> Result<RunSummary> {
        let (names, summary) = {
            let st = self.st.borrow();
            let names: Vec<(String, BTreeSet<String>)> = st
                .blocks
                .iter()
                .map(|(n, b)| (n.clone(), b.seen.clone()))
                .collect();
            let summary = RunSummary {
                run_id: self.run_id,
                worker: self.worker,
                checkpoints: CheckpointStats::default(),
                periods: st
                    .blocks
                    .iter()
                    .filter_map(|(n, b)| b.period.map(|p| (n.clone(), p)))
                    .collect(),
                snapshot_time: st.stats.snapshot_time,
                restored: st.stats.restored,
                executed: st.stats.executed,
                fallbacks: st.stats.fallbacks,
                probed: st
                    .blocks
                    .iter()
                    .filter(|(n, b)| match &self.replay_cfg.probe {
                        Probe::Discover => b.probed == Some(true),
                        Probe::Everything => true,
                        Probe::Nothing => false,
                        Probe::Blocks(s) => s.contains(*n),
                    })
                    .map(|(n, _)| n.clone())
                    .collect(),
                warmup_iterations: st.stats.warmup_iterations,
                active_iterations: st.stats.active_iterations,
            };
            (names, summary)
        };
        if self.mode == Mode::Record {
            for (name, names) in names {
                self.send(Msg::BlockNames { name, names });
            }
        }
        let mut writer = self.writer.borrow_mut();
        let errors_before = writer.shared.errors.lock().len();
        let status = if errors_before == 0 {
            "complete"
        } else {
            "incomplete"
        };
        // Parallel replay marks its shared run complete once all workers are done.
        if self.owns_status {
            writer.send(Msg::Status(status));
        }
        writer.close();
        let mut summary = summary;
        summary.checkpoints = *writer.shared.checkpoints.lock();
        let mut errors = std::mem::take(&mut *writer.shared.errors.lock());
        if errors.is_empty() {
            Ok(summary)
        } else {
            Err(ReplayError::RecordIncomplete {
                failures: errors.len(),
                first: Box::new(errors.swap_remove(0)),
            })
        }
    }
}

/// The loop position text, e.g. `epoch=3/step=7`.
fn path_of(frames: &[Frame]) -> String {
    let mut path = String::new();
    for f in frames {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(&f.name);
        path.push('=');
        path.push_str(&f.iteration.to_string());
    }
    path
}

fn insert_run(
    conn: &rusqlite::Connection,
    program: &Program,
    mode: &str,
    parent: Option<i64>,
    workers: u32,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO runs(program, compute_version, code_version, mode, parent_run, started_ms, status, workers)
         VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7)",
        params![
            program.name,
            program.compute_version,
            program.code_version,
            mode,
            parent,
            store::now_ms(),
            workers
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn check_version(index: &RecordIndex, program: &Program) -> Result<()> {
    if index.run.compute_version != program.compute_version {
        return Err(ReplayError::VersionMismatch {
            program: program.name.clone(),
            recorded: index.run.compute_version,
            current: program.compute_version,
        });
    }
    Ok(())
}

/// Finds the record to replay, checks it, and creates the replay run row.
pub(crate) fn open_replay_run(
    dir: &Path,
    program: &Program,
    cfg: &ReplayConfig,
    workers: u32,
) -> Result<(RecordIndex, i64)> {
    let conn = store::connect(dir)?;
    let record = match cfg.record_run {
        Some(id) => Some(id),
        None => store::latest_record(&conn, &program.name, &["complete", "incomplete", "running"])?,
    };
    let Some(record) = record else {
        if let Some(v) = store::any_record_version(&conn, &program.name)? {
            return Err(ReplayError::VersionMismatch {
                program: program.name.clone(),
                recorded: v,
                current: program.compute_version,
            });
        }
        return Err(ReplayError::NoRecord {
            dir: dir.to_path_buf(),
            program: program.name.clone(),
            what: "record",
        });
    };
    let index = store::load_index(&conn, dir, record).map_err(|e| match e {
        ReplayError::Database(rusqlite::Error::QueryReturnedNoRows) => ReplayError::NoRecord {
            dir: dir.to_path_buf(),
            program: program.name.clone(),
            what: "record with that id",
        },
        e => e,
    })?;
    if index.run.program != program.name || index.run.mode != "record" {
        return Err(ReplayError::StructureMismatch(format!(
            "run {record} is a {} of {:?}, not a record of {:?}",
            index.run.mode, index.run.program, program.name
        )));
    }
    check_version(&index, program)?;
    let replay_run = insert_run(&conn, program, "replay", Some(record), workers)?;
    Ok((index, replay_run))
}

/// The plan of one worker over a record.
pub(crate) fn worker_plan(index: &RecordIndex, worker: u32, workers: u32) -> WorkerPlan {
    let total = index.iterations.keys().next_back().map_or(0, |t| t + 1) as u64;
    let range = plan::partition(total, workers as usize)[worker as usize].clone();
    let (warm, _) = plan::warm_start(index, range.start);
    WorkerPlan {
        range,
        warm_start: warm,
    }
}
