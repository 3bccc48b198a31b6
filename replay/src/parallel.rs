//! Parallel replay on threads: the main loop's iterations are split across workers, each
//! starting from the nearest checkpoint before its share.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::params;

use crate::config::{Program, ReplayConfig};
use crate::error::{ReplayError, Result};
use crate::plan::WorkerPlan;
use crate::run::{Run, RunSummary, open_replay_run, worker_plan};
use crate::store;

/// What a parallel replay did.
#[derive(Clone, Debug)]
pub struct ReplayReport {
    /// The replay run's id (all workers log under it).
    pub run_id: i64,
    /// Each worker's plan and summary, in worker order.
    pub workers: Vec<(WorkerPlan, RunSummary)>,
    /// Wall-clock time of the whole replay.
    pub wall: Duration,
}

/// The partition plan for replaying `program`'s latest record in `dir` with `workers`
/// workers, without running anything.
pub fn replay_plan(
    dir: impl AsRef<Path>,
    program: &Program,
    workers: u32,
) -> Result<Vec<WorkerPlan>> {
    let dir = dir.as_ref();
    let conn = store::connect(dir)?;
    let record =
        store::latest_record(&conn, &program.name, &["complete", "incomplete", "running"])?
            .ok_or_else(|| ReplayError::NoRecord {
                dir: dir.to_path_buf(),
                program: program.name.clone(),
                what: "record",
            })?;
    let index = store::load_index(&conn, dir, record)?;
    let workers = workers.max(1);
    Ok((0..workers)
        .map(|w| worker_plan(&index, w, workers))
        .collect())
}

/// Replays `program` with `workers` threads, each calling `body` on its own [`Run`].
///
/// `body` is the program: the same code that recorded, with new log statements. The
/// outputs equal those of one sequential replay (and of a full re-execution).
pub fn replay_parallel<F>(
    dir: impl AsRef<Path>,
    program: &Program,
    cfg: ReplayConfig,
    workers: u32,
    body: F,
) -> Result<ReplayReport>
where
    F: Fn(&Run) -> Result<()> + Sync,
{
    let dir = dir.as_ref();
    let workers = workers.max(1);
    let start = Instant::now();
    let (index, run_id) = open_replay_run(dir, program, &cfg, workers)?;
    let plans: Vec<WorkerPlan> = (0..workers)
        .map(|w| worker_plan(&index, w, workers))
        .collect();
    // Each worker reloads the index on its own connection: SQLite handles are per thread.
    drop(index);
    let results: Vec<Result<RunSummary>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let cfg = cfg.clone().worker(w, workers);
                let body = &body;
                scope.spawn(move || -> Result<RunSummary> {
                    let conn = store::connect(dir)?;
                    let parent = store::run_info(&conn, run_id)?
                        .parent_run
                        .expect("replay runs have a parent");
                    let index = store::load_index(&conn, dir, parent)?;
                    drop(conn);
                    let run = Run::replay_worker(dir.to_path_buf(), program, cfg, index, run_id)?;
                    body(&run)?;
                    run.finish()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ReplayError::Usage("a replay worker panicked".into())))
            })
            .collect()
    });
    let mut summaries = Vec::with_capacity(results.len());
    let mut failed = None;
    for r in results {
        match r {
            Ok(s) => summaries.push(s),
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    let conn = store::connect(dir)?;
    let status = if failed.is_some() {
        "incomplete"
    } else {
        "complete"
    };
    conn.execute(
        "UPDATE runs SET status=?2 WHERE run_id=?1",
        params![run_id, status],
    )?;
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(ReplayReport {
        run_id,
        workers: plans.into_iter().zip(summaries).collect(),
        wall: start.elapsed(),
    })
}
