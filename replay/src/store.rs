//! The record database: one SQLite file per record directory holding every run (record and
//! replay) of every program version, in a loops/logs schema like FlorDB's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{ReplayError, Result};

/// Schema version stored in the `meta` table.
pub const SCHEMA_VERSION: u32 = 1;
const DB_FILE: &str = "record.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  run_id INTEGER PRIMARY KEY, program TEXT NOT NULL, compute_version INTEGER NOT NULL,
  code_version TEXT NOT NULL, mode TEXT NOT NULL, parent_run INTEGER,
  started_ms INTEGER NOT NULL, status TEXT NOT NULL, workers INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS args(run_id INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(run_id, name));
CREATE TABLE IF NOT EXISTS loops(run_id INTEGER NOT NULL, worker INTEGER NOT NULL, path TEXT NOT NULL,
  parent_path TEXT, name TEXT NOT NULL, iteration INTEGER NOT NULL, main_iteration INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logs(run_id INTEGER NOT NULL, worker INTEGER NOT NULL, seq INTEGER NOT NULL,
  path TEXT NOT NULL, main_iteration INTEGER NOT NULL, block TEXT, name TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_by_name ON logs(name, run_id);
CREATE TABLE IF NOT EXISTS blocks(run_id INTEGER NOT NULL, name TEXT NOT NULL, state_type TEXT NOT NULL,
  log_names TEXT NOT NULL DEFAULT '[]', PRIMARY KEY(run_id, name));
CREATE TABLE IF NOT EXISTS iterations(run_id INTEGER NOT NULL, main_iteration INTEGER NOT NULL,
  blocks TEXT NOT NULL, PRIMARY KEY(run_id, main_iteration));
CREATE TABLE IF NOT EXISTS checkpoints(run_id INTEGER NOT NULL, block TEXT NOT NULL,
  main_iteration INTEGER NOT NULL, occurrence INTEGER NOT NULL, file TEXT NOT NULL,
  bytes INTEGER NOT NULL, raw_bytes INTEGER NOT NULL, write_us INTEGER NOT NULL,
  PRIMARY KEY(run_id, block, main_iteration, occurrence));
";

/// Opens (creating if needed) the record database of `dir` and checks its schema.
pub(crate) fn connect(dir: &Path) -> Result<Connection> {
    std::fs::create_dir_all(dir).map_err(|e| ReplayError::io(dir, e))?;
    let path = dir.join(DB_FILE);
    let conn = Connection::open(&path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let not_a_record = |found: Option<String>| ReplayError::NotARecord {
        path: path.clone(),
        found,
        expected: SCHEMA_VERSION,
    };
    // A file that is not SQLite fails here, on its first real read.
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|_| not_a_record(None))?;
    let _ = mode;
    conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|_| not_a_record(None))?
        > 0;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if has_meta {
        let v: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key='schema'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if v.as_deref() != Some(&SCHEMA_VERSION.to_string()) {
            return Err(not_a_record(v));
        }
    } else if tables > 0 {
        return Err(not_a_record(None));
    }
    conn.execute_batch(SCHEMA)?;
    conn.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', ?1)",
        params![SCHEMA_VERSION.to_string()],
    )?;
    Ok(conn)
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One run in the record database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// Row id, unique within the directory.
    pub run_id: i64,
    /// Program name.
    pub program: String,
    /// Version of the computation (replay requires the recorded one).
    pub compute_version: u32,
    /// Free-form code version (e.g. a git commit), differs between record and replay.
    pub code_version: String,
    /// `"record"` or `"replay"`.
    pub mode: String,
    /// For a replay, the recorded run it replayed.
    pub parent_run: Option<i64>,
    /// `"running"` (or killed), `"complete"`, or `"incomplete"` (background writes failed).
    pub status: String,
    /// Number of replay workers (1 for records).
    pub workers: u32,
}

/// A checkpoint in the index.
#[derive(Clone, Debug)]
pub(crate) struct CheckpointEntry {
    pub(crate) file: PathBuf,
}

/// What replay needs to know about a recorded run.
#[derive(Debug)]
pub(crate) struct RecordIndex {
    pub(crate) run: RunInfo,
    pub(crate) args: BTreeMap<String, String>,
    /// Block name → (state type, names logged inside it during record).
    pub(crate) blocks: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Completed main-loop iterations → block name → invocations in that iteration.
    pub(crate) iterations: BTreeMap<i64, BTreeMap<String, u32>>,
    pub(crate) checkpoints: BTreeMap<(String, i64, u32), CheckpointEntry>,
}

pub(crate) fn run_info(conn: &Connection, run_id: i64) -> Result<RunInfo> {
    Ok(conn.query_row(
        "SELECT run_id, program, compute_version, code_version, mode, parent_run, status, workers
         FROM runs WHERE run_id=?1",
        params![run_id],
        row_to_run,
    )?)
}

fn row_to_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunInfo> {
    Ok(RunInfo {
        run_id: r.get(0)?,
        program: r.get(1)?,
        compute_version: r.get(2)?,
        code_version: r.get(3)?,
        mode: r.get(4)?,
        parent_run: r.get(5)?,
        status: r.get(6)?,
        workers: r.get(7)?,
    })
}

/// Latest record run of `program` whose status is in `statuses`.
pub(crate) fn latest_record(
    conn: &Connection,
    program: &str,
    statuses: &[&str],
) -> Result<Option<i64>> {
    let mut stmt = conn.prepare(
        "SELECT run_id, status FROM runs WHERE program=?1 AND mode='record' ORDER BY run_id DESC",
    )?;
    let rows = stmt.query_map(params![program], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (id, status) = row?;
        if statuses.contains(&status.as_str()) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Whether any run (of any status) of `program` exists, and its compute version.
pub(crate) fn any_record_version(conn: &Connection, program: &str) -> Result<Option<u32>> {
    Ok(conn
        .query_row(
            "SELECT compute_version FROM runs WHERE program=?1 AND mode='record' ORDER BY run_id DESC",
            params![program],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn load_index(conn: &Connection, dir: &Path, run_id: i64) -> Result<RecordIndex> {
    let run = run_info(conn, run_id)?;
    let mut args = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT name, value FROM args WHERE run_id=?1")?;
    for row in stmt.query_map(params![run_id], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (k, v) = row?;
        args.insert(k, v);
    }
    let mut blocks = BTreeMap::new();
    let mut stmt =
        conn.prepare("SELECT name, state_type, log_names FROM blocks WHERE run_id=?1")?;
    for row in stmt.query_map(params![run_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (name, ty, names) = row?;
        let names: BTreeSet<String> = serde_json::from_str(&names).unwrap_or_default();
        blocks.insert(name, (ty, names));
    }
    let mut iterations = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT main_iteration, blocks FROM iterations WHERE run_id=?1")?;
    for row in stmt.query_map(params![run_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })? {
        let (t, b) = row?;
        let b: BTreeMap<String, u32> = serde_json::from_str(&b).map_err(|e| {
            ReplayError::StructureMismatch(format!("iteration {t} has a malformed block list: {e}"))
        })?;
        iterations.insert(t, b);
    }
    let mut checkpoints = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT block, main_iteration, occurrence, file FROM checkpoints WHERE run_id=?1",
    )?;
    for row in stmt.query_map(params![run_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, String>(3)?,
        ))
    })? {
        let (b, t, o, f) = row?;
        checkpoints.insert((b, t, o), CheckpointEntry { file: dir.join(f) });
    }
    Ok(RecordIndex {
        run,
        args,
        blocks,
        iterations,
        checkpoints,
    })
}
