//! The background writer: everything the training thread records (loop entries, logs,
//! checkpoint snapshots) is handed to one thread that serializes, compresses and writes it, so
//! the training thread pays only for a clone and a channel send.
//!
//! Memory is bounded: at most `max_pending` checkpoint snapshots are in flight (the training
//! thread blocks on a token channel beyond that — back-pressure), and rows go through a
//! bounded channel.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use parking_lot::Mutex;
use rusqlite::{Connection, params};

use crate::checkpoint;
use crate::error::{ReplayError, Result};
use crate::store;

/// A skip block's state, cloned on the training thread, serialized on the writer thread.
pub(crate) trait Snapshot: Send {
    fn encode(&self) -> std::result::Result<Vec<u8>, String>;
}

impl<S: serde::Serialize + Send> Snapshot for S {
    fn encode(&self) -> std::result::Result<Vec<u8>, String> {
        postcard::to_stdvec(self).map_err(|e| e.to_string())
    }
}

pub(crate) enum Msg {
    Loop {
        path: String,
        parent: Option<String>,
        name: String,
        iteration: i64,
        main: i64,
    },
    Log {
        seq: i64,
        path: String,
        main: i64,
        block: Option<String>,
        name: String,
        value: String,
    },
    Block {
        name: String,
        state_type: String,
    },
    BlockNames {
        name: String,
        names: BTreeSet<String>,
    },
    IterationDone {
        main: i64,
        blocks: BTreeMap<String, u32>,
    },
    Checkpoint {
        block: String,
        main: i64,
        occurrence: u32,
        snapshot: Box<dyn Snapshot>,
    },
    Arg {
        name: String,
        value: String,
    },
    Status(&'static str),
}

/// Counters the writer shares with the training thread.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) errors: Mutex<Vec<ReplayError>>,
    /// Last measured serialize + compress + write time per block.
    pub(crate) write_time: Mutex<HashMap<String, Duration>>,
    pub(crate) checkpoints: Mutex<CheckpointStats>,
}

/// What the writer wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Checkpoints written.
    pub count: u64,
    /// Bytes on disk (compressed).
    pub bytes: u64,
    /// Bytes before compression.
    pub raw_bytes: u64,
    /// Total time the writer spent serializing, compressing and writing them.
    pub write_time: Duration,
}

pub(crate) struct Writer {
    tx: Option<Sender<Msg>>,
    tokens: Sender<()>,
    thread: Option<JoinHandle<()>>,
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct WriterConfig {
    pub(crate) dir: PathBuf,
    pub(crate) run_id: i64,
    pub(crate) worker: u32,
    pub(crate) max_pending: usize,
    pub(crate) budget: Option<u64>,
}

impl Writer {
    pub(crate) fn start(cfg: WriterConfig) -> Result<Writer> {
        let conn = store::connect(&cfg.dir)?;
        let (tx, rx) = bounded(1 << 16);
        let (tokens, token_rx) = bounded(cfg.max_pending.max(1));
        let shared = Arc::new(Shared::default());
        let worker_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("replay-writer-{}", cfg.run_id))
            .spawn(move || {
                let mut w = Worker {
                    conn,
                    cfg,
                    shared: worker_shared,
                    used: 0,
                };
                w.run(rx, token_rx)
            })
            .map_err(|e| ReplayError::io("<writer thread>", e))?;
        Ok(Writer {
            tx: Some(tx),
            tokens,
            thread: Some(thread),
            shared,
        })
    }

    /// Queues a row; a failure (writer gone) is recorded, never returned to the training code.
    pub(crate) fn send(&self, msg: Msg) {
        if let Some(tx) = &self.tx
            && tx.send(msg).is_err()
        {
            self.shared.errors.lock().push(ReplayError::Usage(
                "background writer stopped unexpectedly".into(),
            ));
        }
    }

    /// Queues a checkpoint, blocking while `max_pending` snapshots are already in flight.
    pub(crate) fn send_checkpoint(&self, msg: Msg) {
        if self.tokens.send(()).is_ok() {
            self.send(msg);
        }
    }

    /// Flushes everything and stops the thread.
    pub(crate) fn close(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            self.shared
                .errors
                .lock()
                .push(ReplayError::Usage("background writer panicked".into()));
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

pub(crate) fn checkpoint_dir(run_id: i64) -> String {
    format!("checkpoints/run-{run_id}")
}

struct Worker {
    conn: Connection,
    cfg: WriterConfig,
    shared: Arc<Shared>,
    used: u64,
}

impl Worker {
    fn run(&mut self, rx: Receiver<Msg>, tokens: Receiver<()>) {
        while let Ok(first) = rx.recv() {
            // Batch whatever is queued into one transaction: one fsync-free commit per batch.
            let mut batch = vec![first];
            while batch.len() < 4096 {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.write_batch(batch, &tokens) {
                self.shared.errors.lock().push(e);
            }
        }
    }

    fn write_batch(&mut self, batch: Vec<Msg>, tokens: &Receiver<()>) -> Result<()> {
        let Worker {
            conn,
            cfg,
            shared,
            used,
        } = self;
        let tx = conn.transaction()?;
        let (run, worker) = (cfg.run_id, cfg.worker);
        for msg in batch {
            match msg {
                Msg::Loop {
                    path,
                    parent,
                    name,
                    iteration,
                    main,
                } => {
                    tx.prepare_cached(
                        "INSERT INTO loops(run_id, worker, path, parent_path, name, iteration, main_iteration)
                         VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![run, worker, path, parent, name, iteration, main])?;
                }
                Msg::Log {
                    seq,
                    path,
                    main,
                    block,
                    name,
                    value,
                } => {
                    tx.prepare_cached(
                        "INSERT INTO logs(run_id, worker, seq, path, main_iteration, block, name, value)
                         VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(params![run, worker, seq, path, main, block, name, value])?;
                }
                Msg::Block { name, state_type } => {
                    tx.execute(
                        "INSERT OR IGNORE INTO blocks(run_id, name, state_type) VALUES(?1, ?2, ?3)",
                        params![run, name, state_type],
                    )?;
                }
                Msg::BlockNames { name, names } => {
                    let old: String = tx.query_row(
                        "SELECT log_names FROM blocks WHERE run_id=?1 AND name=?2",
                        params![run, name],
                        |r| r.get(0),
                    )?;
                    let mut all: BTreeSet<String> = serde_json::from_str(&old).unwrap_or_default();
                    all.extend(names);
                    let json = serde_json::to_string(&all).expect("strings serialize");
                    tx.execute(
                        "UPDATE blocks SET log_names=?3 WHERE run_id=?1 AND name=?2",
                        params![run, name, json],
                    )?;
                }
                Msg::IterationDone { main, blocks } => {
                    let json = serde_json::to_string(&blocks).expect("a map of counts serializes");
                    tx.execute(
                        "INSERT OR REPLACE INTO iterations(run_id, main_iteration, blocks) VALUES(?1, ?2, ?3)",
                        params![run, main, json],
                    )?;
                }
                Msg::Checkpoint {
                    block,
                    main,
                    occurrence,
                    snapshot,
                } => {
                    let result = write_checkpoint(
                        cfg,
                        shared,
                        used,
                        &tx,
                        (&block, main, occurrence),
                        &*snapshot,
                    );
                    drop(snapshot);
                    // Free the slot only after the snapshot's memory is released.
                    let _ = tokens.try_recv();
                    if let Err(e) = result {
                        shared.errors.lock().push(e);
                    }
                }
                Msg::Arg { name, value } => {
                    tx.execute(
                        "INSERT OR REPLACE INTO args(run_id, name, value) VALUES(?1, ?2, ?3)",
                        params![run, name, value],
                    )?;
                }
                Msg::Status(status) => {
                    tx.execute(
                        "UPDATE runs SET status=?2 WHERE run_id=?1",
                        params![run, status],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn write_checkpoint(
    cfg: &WriterConfig,
    shared: &Shared,
    used: &mut u64,
    tx: &rusqlite::Transaction<'_>,
    (block, main, occurrence): (&str, i64, u32),
    snapshot: &dyn Snapshot,
) -> Result<()> {
    let start = Instant::now();
    let raw = snapshot.encode().map_err(|reason| ReplayError::State {
        block: block.to_string(),
        action: "serialized",
        reason,
    })?;
    let image = checkpoint::encode(&raw);
    if let Some(limit) = cfg.budget
        && *used + image.len() as u64 > limit
    {
        return Err(ReplayError::StorageFull {
            what: format!("checkpoint of {block:?} at iteration {main}"),
            used: *used,
            needed: image.len() as u64,
            limit,
        });
    }
    let rel = format!(
        "{}/{block}.{main}.{occurrence}.ck",
        checkpoint_dir(cfg.run_id)
    );
    let path: PathBuf = Path::new(&cfg.dir).join(&rel);
    if *used == 0 {
        // Created on the first checkpoint: replay runs write none and get no directory.
        let dir = cfg.dir.join(checkpoint_dir(cfg.run_id));
        std::fs::create_dir_all(&dir).map_err(|e| ReplayError::io(&dir, e))?;
    }
    checkpoint::write_file(&path, &image).map_err(disk_full)?;
    let took = start.elapsed();
    *used += image.len() as u64;
    tx.prepare_cached(
            "INSERT OR REPLACE INTO checkpoints(run_id, block, main_iteration, occurrence, file, bytes, raw_bytes, write_us)
             VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            cfg.run_id,
            block,
            main,
            occurrence,
            rel,
            image.len() as i64,
            raw.len() as i64,
            took.as_micros() as i64
        ])?;
    shared.write_time.lock().insert(block.to_string(), took);
    let mut stats = shared.checkpoints.lock();
    stats.count += 1;
    stats.bytes += image.len() as u64;
    stats.raw_bytes += raw.len() as u64;
    stats.write_time += took;
    Ok(())
}

/// ENOSPC becomes the same typed error as an exhausted budget, so callers handle one case.
fn disk_full(e: ReplayError) -> ReplayError {
    match e {
        ReplayError::Io { path, source } if source.raw_os_error() == Some(28) => {
            ReplayError::StorageFull {
                what: path.display().to_string(),
                used: 0,
                needed: 0,
                limit: 0,
            }
        }
        other => other,
    }
}
