//! Replay equals re-execution; parallel replay; crash and resume; bad input.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use stratus_replay::demo::{self, Dataset, Hindsight, SplitMix};
use stratus_replay::{
    CheckpointPolicy, LogFilter, Probe, Program, RecordConfig, ReplayConfig, ReplayError, Run,
    logs, replay_parallel,
};

/// A small program with a skip block whose state is a vector and an RNG.
#[derive(Clone, Copy, Default)]
struct Version {
    outer: bool,
    inner: bool,
    crash_at: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Toy {
    w: Vec<f64>,
    rng: SplitMix,
}

fn toy(run: &Run, v: Version) -> Result<f64, ReplayError> {
    let epochs: u32 = run.arg("epochs", 12)?;
    let mut st = Toy {
        w: vec![0.5; 8],
        rng: SplitMix(42),
    };
    for e in run.loop_over("epoch", 0..epochs) {
        if v.crash_at == Some(e) {
            return Err(ReplayError::Usage("simulated crash".into()));
        }
        run.skip_block("train", &mut st, |s| {
            for k in run.loop_over("step", 0..30) {
                let j = (s.rng.next_u64() % 8) as usize;
                s.w[j] = (s.w[j] * 1.7 + f64::from(s.rng.unit())).sin();
                if v.inner && k % 10 == 0 {
                    run.log("inner_w0", &s.w[0])?;
                }
            }
            Ok(())
        })?;
        run.log("loss", &st.w.iter().sum::<f64>())?;
        if v.outer {
            run.log("norm", &st.w.iter().map(|x| x * x).sum::<f64>().sqrt())?;
        }
    }
    let last = st.w.iter().sum::<f64>();
    run.log("final", &last)?;
    Ok(last)
}

fn program() -> Program {
    Program::new("toy", 1)
}

fn record(dir: &Path, policy: CheckpointPolicy, v: Version) -> i64 {
    let run = Run::record(dir, &program(), RecordConfig::default().policy(policy)).unwrap();
    toy(&run, v).unwrap();
    run.finish().unwrap().run_id
}

/// (main iteration, loop path, value) of `name` in run `run_id`.
fn values(dir: &Path, run_id: i64, name: &str) -> Vec<(i64, String, serde_json::Value)> {
    let filter = LogFilter {
        runs: vec![run_id],
        names: vec![name.to_string()],
        ..LogFilter::default()
    };
    logs(dir, &filter)
        .unwrap()
        .into_iter()
        .map(|r| (r.main_iteration, r.path, r.value))
        .collect()
}

/// The ground truth: run the new version of the program from scratch.
fn reexecute(v: Version, names: &[&str]) -> Vec<Vec<(i64, String, serde_json::Value)>> {
    let tmp = tempfile::tempdir().unwrap();
    let id = record(tmp.path(), CheckpointPolicy::Never, v);
    names.iter().map(|n| values(tmp.path(), id, n)).collect()
}

const NEW: Version = Version {
    outer: true,
    inner: true,
    crash_at: None,
};

#[test]
fn sequential_replay_equals_reexecution() {
    let truth = reexecute(NEW, &["norm", "inner_w0", "loss", "final"]);
    assert_eq!(truth[0].len(), 12);
    assert_eq!(truth[1].len(), 36);
    for policy in [
        CheckpointPolicy::Every(1),
        CheckpointPolicy::Every(4),
        CheckpointPolicy::Adaptive,
        CheckpointPolicy::Never,
    ] {
        let tmp = tempfile::tempdir().unwrap();
        record(tmp.path(), policy, Version::default());
        let run = Run::replay(tmp.path(), &program(), ReplayConfig::default()).unwrap();
        toy(&run, NEW).unwrap();
        let s = run.finish().unwrap();
        let got: Vec<_> = ["norm", "inner_w0", "loss", "final"]
            .iter()
            .map(|n| values(tmp.path(), s.run_id, n))
            .collect();
        assert_eq!(got, truth, "{policy:?}");
        assert!(s.probed.contains("train"), "{policy:?}");
    }
}

#[test]
fn outer_log_restores_instead_of_executing() {
    let outer = Version {
        outer: true,
        ..Version::default()
    };
    let truth = reexecute(outer, &["norm"]);
    let tmp = tempfile::tempdir().unwrap();
    record(tmp.path(), CheckpointPolicy::Every(1), Version::default());
    for probe in [Probe::Discover, Probe::Nothing] {
        let run = Run::replay(
            tmp.path(),
            &program(),
            ReplayConfig::default().probe(probe.clone()),
        )
        .unwrap();
        toy(&run, outer).unwrap();
        let s = run.finish().unwrap();
        assert_eq!(values(tmp.path(), s.run_id, "norm"), truth[0]);
        assert!(s.probed.is_empty());
        // Discover executes the first invocation to look for new statements, then restores.
        let executed = u64::from(probe == Probe::Discover);
        assert_eq!(
            (s.executed, s.restored),
            (executed, 12 - executed),
            "{probe:?}"
        );
    }
}

#[test]
fn parallel_replay_equals_reexecution() {
    let truth = reexecute(NEW, &["norm", "inner_w0", "final"]);
    for policy in [CheckpointPolicy::Every(1), CheckpointPolicy::Every(5)] {
        let tmp = tempfile::tempdir().unwrap();
        record(tmp.path(), policy, Version::default());
        for workers in 1..=4 {
            let report = replay_parallel(
                tmp.path(),
                &program(),
                ReplayConfig::default(),
                workers,
                |run| toy(run, NEW).map(|_| ()),
            )
            .unwrap();
            let got: Vec<_> = ["norm", "inner_w0", "final"]
                .iter()
                .map(|n| values(tmp.path(), report.run_id, n))
                .collect();
            assert_eq!(got, truth, "{policy:?} with {workers} workers");
            let covered: u64 = report
                .workers
                .iter()
                .map(|(p, _)| p.range.end - p.range.start)
                .sum();
            assert_eq!(covered, 12);
            for (plan, _) in &report.workers {
                assert!(plan.warm_start <= plan.range.start);
                if policy == CheckpointPolicy::Every(1) && plan.range.start > 0 {
                    assert_eq!(plan.warm_start, plan.range.start - 1);
                }
            }
        }
    }
}

#[test]
fn worker_processes_split_the_same_way() {
    let truth = reexecute(NEW, &["norm"]);
    let tmp = tempfile::tempdir().unwrap();
    record(tmp.path(), CheckpointPolicy::Every(2), Version::default());
    let mut got = Vec::new();
    for w in 0..3 {
        let run =
            Run::replay(tmp.path(), &program(), ReplayConfig::default().worker(w, 3)).unwrap();
        toy(&run, NEW).unwrap();
        let s = run.finish().unwrap();
        got.extend(values(tmp.path(), s.run_id, "norm"));
    }
    assert_eq!(got, truth[0]);
    let runs = stratus_replay::runs(tmp.path()).unwrap();
    assert_eq!(runs.len(), 4);
    assert!(runs.iter().all(|r| r.status == "complete"), "{runs:?}");
    assert!(
        runs[1..]
            .iter()
            .all(|r| r.workers == 3 && r.parent_run == Some(1))
    );
}

#[test]
fn crash_then_resume_gives_the_uninterrupted_record() {
    let clean = tempfile::tempdir().unwrap();
    let clean_id = record(clean.path(), CheckpointPolicy::Every(3), Version::default());
    let tmp = tempfile::tempdir().unwrap();
    {
        let run = Run::record(
            tmp.path(),
            &program(),
            RecordConfig::default().policy(CheckpointPolicy::Every(3)),
        )
        .unwrap();
        let crashed = Version {
            crash_at: Some(8),
            ..Version::default()
        };
        assert!(toy(&run, crashed).is_err());
        // Dropped without `finish`: what a killed process leaves behind.
    }
    let runs = stratus_replay::runs(tmp.path()).unwrap();
    assert_eq!(runs[0].status, "running");
    // The partial record is replayable as it is.
    let run = Run::replay(tmp.path(), &program(), ReplayConfig::default()).unwrap();
    toy(&run, NEW).unwrap();
    let partial = run.finish().unwrap();
    assert_eq!(values(tmp.path(), partial.run_id, "norm").len(), 8);
    // Resume, then compare with the uninterrupted record.
    let run = Run::resume(
        tmp.path(),
        &program(),
        RecordConfig::default().policy(CheckpointPolicy::Every(3)),
    )
    .unwrap();
    toy(&run, Version::default()).unwrap();
    let s = run.finish().unwrap();
    assert_eq!(s.run_id, runs[0].run_id);
    assert!(s.restored >= 1, "resume starts from a checkpoint");
    for name in ["loss", "final"] {
        assert_eq!(
            values(tmp.path(), s.run_id, name),
            values(clean.path(), clean_id, name)
        );
    }
    assert!(matches!(
        Run::resume(tmp.path(), &program(), RecordConfig::default()),
        Err(ReplayError::NoRecord { .. })
    ));
    let truth = reexecute(NEW, &["norm"]);
    let run = Run::replay(tmp.path(), &program(), ReplayConfig::default()).unwrap();
    toy(&run, NEW).unwrap();
    let r = run.finish().unwrap();
    assert_eq!(values(tmp.path(), r.run_id, "norm"), truth[0]);
}

fn checkpoint_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("checkpoints/run-1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn corrupt_or_missing_checkpoints_fall_back_to_reexecution() {
    let truth = reexecute(NEW, &["norm", "inner_w0"]);
    let tmp = tempfile::tempdir().unwrap();
    record(tmp.path(), CheckpointPolicy::Every(1), Version::default());
    let original: Vec<_> = ["loss"].iter().map(|n| values(tmp.path(), 1, n)).collect();
    let ck = |t: u32| tmp.path().join(format!("checkpoints/run-1/train.{t}.0.ck"));
    // Flip bytes in one, truncate another, delete a third: around the 2-worker boundary (6).
    let mut image = std::fs::read(ck(5)).unwrap();
    let mid = image.len() / 2;
    image[mid] ^= 0xff;
    std::fs::write(ck(5), image).unwrap();
    let image = std::fs::read(ck(4)).unwrap();
    std::fs::write(ck(4), &image[..image.len() - 3]).unwrap();
    std::fs::remove_file(ck(8)).unwrap();
    assert_eq!(checkpoint_files(tmp.path()).len(), 11);
    for probe in [Probe::Nothing, Probe::Discover] {
        for workers in [1, 2] {
            let report = replay_parallel(
                tmp.path(),
                &program(),
                ReplayConfig::default().probe(probe.clone()),
                workers,
                |run| toy(run, NEW).map(|_| ()),
            )
            .unwrap();
            assert_eq!(values(tmp.path(), report.run_id, "norm"), truth[0]);
            if probe == Probe::Discover {
                assert_eq!(values(tmp.path(), report.run_id, "inner_w0"), truth[1]);
            }
            let fallbacks: u64 = report.workers.iter().map(|(_, s)| s.fallbacks).sum();
            // Discover re-executes the probed block everywhere, so only planning meets them.
            if probe == Probe::Nothing || workers == 2 {
                assert!(fallbacks >= 1, "{probe:?} {workers}");
            }
            if workers == 2 {
                // Worker 1 cannot start from iterations 5 or 4; it warms up from 3.
                assert_eq!(report.workers[1].0.warm_start, 3);
            }
        }
    }
    // The original record is untouched.
    assert_eq!(values(tmp.path(), 1, "loss"), original[0]);
}

#[test]
fn version_and_structure_mismatches_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    record(tmp.path(), CheckpointPolicy::Every(1), Version::default());
    let err =
        Run::replay(tmp.path(), &Program::new("toy", 2), ReplayConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ReplayError::VersionMismatch {
                recorded: 1,
                current: 2,
                ..
            }
        ),
        "{err}"
    );
    let err = Run::replay(
        tmp.path(),
        &Program::new("other", 1),
        ReplayConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ReplayError::NoRecord { .. }), "{err}");
    let err = Run::replay(
        tmp.path(),
        &program(),
        ReplayConfig::default().record_run(99),
    )
    .unwrap_err();
    assert!(matches!(err, ReplayError::NoRecord { .. }), "{err}");

    // Same program name, different state type in the block.
    let run = Run::replay(tmp.path(), &program(), ReplayConfig::default()).unwrap();
    let mut other = vec![1u8, 2, 3];
    if let Some(_epoch) = run.loop_over("epoch", 0..3).next() {
        let err = run.skip_block("train", &mut other, |_| Ok(())).unwrap_err();
        assert!(matches!(err, ReplayError::StructureMismatch(_)), "{err}");
        let err = run
            .skip_block("renamed", &mut other, |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, ReplayError::StructureMismatch(_)), "{err}");
    }
    let err = run
        .skip_block("bad/name", &mut other, |_| Ok(()))
        .unwrap_err();
    assert!(matches!(err, ReplayError::InvalidName(_)), "{err}");
    run.finish().unwrap();
}

#[test]
fn nondeterministic_block_is_detected() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static OUTSIDE: AtomicU64 = AtomicU64::new(0);
    let prog = |run: &Run| -> Result<(), ReplayError> {
        let mut st = 0u64;
        for _ in run.loop_over("epoch", 0..4) {
            // Reads state that is not in the block's state: replay cannot reproduce it.
            run.skip_block("b", &mut st, |s| {
                *s += OUTSIDE.fetch_add(1, Ordering::Relaxed);
                Ok(())
            })?;
        }
        Ok(())
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = Run::record(
        tmp.path(),
        &program(),
        RecordConfig::default().policy(CheckpointPolicy::Every(1)),
    )
    .unwrap();
    prog(&run).unwrap();
    run.finish().unwrap();
    let run = Run::replay(
        tmp.path(),
        &program(),
        ReplayConfig::default().probe(Probe::Everything),
    )
    .unwrap();
    let err = prog(&run).unwrap_err();
    assert!(
        matches!(err, ReplayError::Divergence { iteration: 0, .. }),
        "{err}"
    );
}

#[test]
fn unserializable_log_value_is_an_error_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let run = Run::record(tmp.path(), &program(), RecordConfig::default()).unwrap();
    let mut bad = HashMap::new();
    bad.insert((1, 2), 3);
    for _ in run.loop_over("epoch", 0..2) {
        let err = run.log("pairs", &bad).unwrap_err();
        assert!(matches!(err, ReplayError::LogValue { .. }), "{err}");
        run.log("ok", &1).unwrap();
    }
    let s = run.finish().unwrap();
    assert_eq!(values(tmp.path(), s.run_id, "ok").len(), 2);
    assert!(values(tmp.path(), s.run_id, "pairs").is_empty());
}

#[test]
fn full_storage_leaves_training_alone_and_replay_reexecutes() {
    let clean = tempfile::tempdir().unwrap();
    let clean_id = record(clean.path(), CheckpointPolicy::Every(1), Version::default());
    let tmp = tempfile::tempdir().unwrap();
    let cfg = RecordConfig::default()
        .policy(CheckpointPolicy::Every(1))
        .storage_budget(300);
    let run = Run::record(tmp.path(), &program(), cfg).unwrap();
    let result = toy(&run, Version::default()).unwrap();
    let err = run.finish().unwrap_err();
    let ReplayError::RecordIncomplete { first, failures } = err else {
        panic!("expected RecordIncomplete, got {err}");
    };
    assert!(
        matches!(*first, ReplayError::StorageFull { limit: 300, .. }),
        "{first}"
    );
    assert!(failures >= 1);
    // Training was not harmed: same result and logs as with room to spare.
    assert_eq!(
        values(tmp.path(), 1, "final")[0].2,
        serde_json::json!(result)
    );
    assert_eq!(
        values(tmp.path(), 1, "loss"),
        values(clean.path(), clean_id, "loss")
    );
    assert_eq!(
        stratus_replay::runs(tmp.path()).unwrap()[0].status,
        "incomplete"
    );
    // Replay re-executes where checkpoints are missing, with the same outputs.
    let truth = reexecute(NEW, &["norm"]);
    let report = replay_parallel(tmp.path(), &program(), ReplayConfig::default(), 2, |run| {
        toy(run, NEW).map(|_| ())
    })
    .unwrap();
    assert_eq!(values(tmp.path(), report.run_id, "norm"), truth[0]);
}

#[test]
fn corrupt_database_and_wrong_schema_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("record.sqlite"),
        b"definitely not sqlite, just text padding it out to a page....",
    )
    .unwrap();
    let err = Run::record(tmp.path(), &program(), RecordConfig::default()).unwrap_err();
    assert!(
        matches!(err, ReplayError::NotARecord { found: None, .. }),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    record(tmp.path(), CheckpointPolicy::Every(1), Version::default());
    assert!(bump_schema_version(tmp.path()));
    let err = Run::replay(tmp.path(), &program(), ReplayConfig::default()).unwrap_err();
    assert!(
        matches!(err, ReplayError::NotARecord { found: Some(_), .. }),
        "{err}"
    );
}

/// Pretends the record was written by a future schema (the crate never writes this itself).
fn bump_schema_version(dir: &Path) -> bool {
    let conn = rusqlite::Connection::open(dir.join("record.sqlite")).unwrap();
    conn.execute("UPDATE meta SET value='999' WHERE key='schema'", [])
        .unwrap()
        == 1
}

#[test]
fn args_are_overridable_and_replayed() {
    let tmp = tempfile::tempdir().unwrap();
    let run = Run::record(
        tmp.path(),
        &program(),
        RecordConfig::default().arg("epochs", "5"),
    )
    .unwrap();
    toy(&run, Version::default()).unwrap();
    run.finish().unwrap();
    // Replay ignores the default (12) and the new override: the record says 5.
    let run = Run::replay(tmp.path(), &program(), ReplayConfig::default()).unwrap();
    assert_eq!(run.arg("epochs", 12u32).unwrap(), 5);
    toy(&run, NEW).unwrap();
    let s = run.finish().unwrap();
    assert_eq!(values(tmp.path(), s.run_id, "norm").len(), 5);

    let run = Run::record(
        tmp.path(),
        &program(),
        RecordConfig::default().arg("epochs", "many"),
    )
    .unwrap();
    let err = run.arg("epochs", 12u32).unwrap_err();
    assert!(matches!(err, ReplayError::Arg { .. }), "{err}");
    assert_eq!(run.arg("name", String::from("x")).unwrap(), "x");
    run.finish().unwrap();
}

#[test]
fn dataframe_spans_runs_and_exports_csv() {
    let tmp = tempfile::tempdir().unwrap();
    record(tmp.path(), CheckpointPolicy::Every(1), Version::default());
    let run = Run::replay(
        tmp.path(),
        &program(),
        ReplayConfig::default().probe(Probe::Nothing),
    )
    .unwrap();
    toy(
        &run,
        Version {
            outer: true,
            ..Version::default()
        },
    )
    .unwrap();
    run.finish().unwrap();
    let frame = stratus_replay::dataframe(tmp.path(), Some("toy"), &["loss", "norm"]).unwrap();
    assert_eq!(
        frame.columns,
        ["run_id", "code_version", "mode", "path", "loss", "norm"]
    );
    // 12 epochs of the record (no norm) + 12 of the replay (both columns).
    assert_eq!(frame.rows.len(), 24);
    assert!(
        frame.rows[..12]
            .iter()
            .all(|r| r[5].is_empty() && !r[4].is_empty())
    );
    assert!(
        frame.rows[12..]
            .iter()
            .all(|r| !r[5].is_empty() && r[2] == "replay")
    );
    // The replayed loss equals the recorded one.
    for i in 0..12 {
        assert_eq!(frame.rows[i][4], frame.rows[12 + i][4]);
        assert_eq!(frame.rows[i][3], format!("epoch={i}"));
    }
    let mut csv = Vec::new();
    frame.write_csv(&mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 25);
    assert!(text.starts_with("run_id,code_version,mode,path,loss,norm\n"));
}

#[test]
fn demo_mlp_replay_equals_reexecution() {
    let data = Dataset::synthetic(400, 5, 3);
    let new = Hindsight {
        outer: true,
        inner: true,
    };
    let args = |cfg: RecordConfig| cfg.arg("epochs", "4").arg("batch", "32");
    let prog = Program::new("mlp", 1);
    let truth_dir = tempfile::tempdir().unwrap();
    let run = Run::record(truth_dir.path(), &prog, args(RecordConfig::default())).unwrap();
    demo::train(&run, &data, new).unwrap();
    let truth_id = run.finish().unwrap().run_id;

    let tmp = tempfile::tempdir().unwrap();
    let run = Run::record(tmp.path(), &prog, args(RecordConfig::default())).unwrap();
    demo::train(&run, &data, Hindsight::default()).unwrap();
    let rec = run.finish().unwrap();
    assert!(rec.checkpoints.count >= 1 && rec.checkpoints.bytes > 0);
    let report = replay_parallel(tmp.path(), &prog, ReplayConfig::default(), 2, |run| {
        demo::train(run, &data, new).map(|_| ())
    })
    .unwrap();
    for name in ["weight_norm", "grad_norm", "val_loss"] {
        let want = values(truth_dir.path(), truth_id, name);
        assert!(!want.is_empty());
        assert_eq!(values(tmp.path(), report.run_id, name), want, "{name}");
    }
}

#[test]
fn unrecorded_baseline_is_the_same_computation() {
    let data = Dataset::synthetic(300, 4, 5);
    let args = demo::TrainArgs {
        epochs: 3,
        batch: 16,
        ..demo::TrainArgs::default()
    };
    let (plain_state, losses) = demo::train_unrecorded(&data, &args).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = RecordConfig::default()
        .arg("epochs", "3")
        .arg("batch", "16");
    let run = Run::record(tmp.path(), &Program::new("mlp", 1), cfg).unwrap();
    let state = demo::train(&run, &data, Hindsight::default()).unwrap();
    let s = run.finish().unwrap();
    assert_eq!(state, plain_state);
    let logged: Vec<f64> = values(tmp.path(), s.run_id, "val_loss")
        .into_iter()
        .map(|(_, _, v)| v.as_f64().unwrap())
        .collect();
    assert_eq!(logged, losses);
}

#[cfg(target_os = "linux")]
#[test]
fn a_real_enospc_is_storage_full_and_training_goes_on() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipping: no /dev/full on this machine");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Every checkpoint's temporary file is a link to /dev/full, whose writes fail with ENOSPC.
    let ck_dir = tmp.path().join("checkpoints/run-1");
    std::fs::create_dir_all(&ck_dir).unwrap();
    for t in 0..12 {
        std::os::unix::fs::symlink(full, ck_dir.join(format!("train.{t}.0.tmp"))).unwrap();
    }
    let run = Run::record(
        tmp.path(),
        &program(),
        RecordConfig::default().policy(CheckpointPolicy::Every(1)),
    )
    .unwrap();
    let result = toy(&run, Version::default()).unwrap();
    let err = run.finish().unwrap_err();
    let ReplayError::RecordIncomplete { first, failures } = err else {
        panic!("expected RecordIncomplete, got {err}");
    };
    assert_eq!(failures, 12);
    assert!(matches!(*first, ReplayError::StorageFull { .. }), "{first}");
    assert_eq!(
        values(tmp.path(), 1, "final")[0].2,
        serde_json::json!(result)
    );
}

#[test]
fn back_pressure_with_one_pending_snapshot_loses_nothing() {
    #[derive(Clone, Serialize, Deserialize)]
    struct Big {
        data: Vec<u64>,
    }
    let tmp = tempfile::tempdir().unwrap();
    let cfg = RecordConfig::default()
        .policy(CheckpointPolicy::Every(1))
        .max_pending(1);
    let run = Run::record(tmp.path(), &program(), cfg).unwrap();
    let mut st = Big {
        data: vec![0; 50_000],
    };
    for i in run.loop_over("epoch", 0..40u64) {
        run.skip_block("fill", &mut st, |s| {
            s.data
                .iter_mut()
                .enumerate()
                .for_each(|(j, v)| *v = v.wrapping_mul(31).wrapping_add(i ^ j as u64));
            Ok(())
        })
        .unwrap();
    }
    let s = run.finish().unwrap();
    assert_eq!(s.checkpoints.count, 40);
    // Sizes vary per snapshot (varints); the total is at least one byte per element.
    assert!(s.checkpoints.raw_bytes >= 40 * 50_000);
    // Every checkpoint restores: replay with nothing probed executes no block.
    let run = Run::replay(
        tmp.path(),
        &program(),
        ReplayConfig::default().probe(Probe::Nothing),
    )
    .unwrap();
    let mut st2 = Big {
        data: vec![0; 50_000],
    };
    for i in run.loop_over("epoch", 0..40u64) {
        run.skip_block("fill", &mut st2, |_| panic!("restored, not executed ({i})"))
            .unwrap();
    }
    let r = run.finish().unwrap();
    assert_eq!((r.restored, r.executed), (40, 0));
    assert_eq!(st2.data, st.data);
}

/// Child half of `a_killed_process_leaves_a_resumable_record`: records into the directory named
/// by `STRATUS_REPLAY_CRASH_DIR` and aborts the process mid-run (no destructors, no flush —
/// like `kill -9`). Does nothing when run as an ordinary test.
#[test]
fn crash_child_entry() {
    let Ok(dir) = std::env::var("STRATUS_REPLAY_CRASH_DIR") else {
        return;
    };
    let run = Run::record(
        &dir,
        &program(),
        RecordConfig::default().policy(CheckpointPolicy::Every(2)),
    )
    .unwrap();
    let mut st = Toy {
        w: vec![0.5; 8],
        rng: SplitMix(42),
    };
    for e in run.loop_over("epoch", 0..12u32) {
        if e == 9 {
            std::process::abort();
        }
        run.skip_block("train", &mut st, |s| {
            for _ in run.loop_over("step", 0..30) {
                let j = (s.rng.next_u64() % 8) as usize;
                s.w[j] = (s.w[j] * 1.7 + f64::from(s.rng.unit())).sin();
            }
            Ok(())
        })
        .unwrap();
        run.log("loss", &st.w.iter().sum::<f64>()).unwrap();
    }
    unreachable!("the child aborts at epoch 9");
}

#[test]
fn a_killed_process_leaves_a_resumable_record() {
    let tmp = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child_entry", "--test-threads", "1"])
        .env("STRATUS_REPLAY_CRASH_DIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have been killed");
    let runs = stratus_replay::runs(tmp.path()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "running");
    // Whatever reached the database is a consistent prefix; resume completes it.
    let done = values(tmp.path(), 1, "loss").len();
    assert!(done <= 9);
    let run = Run::resume(
        tmp.path(),
        &program(),
        RecordConfig::default().policy(CheckpointPolicy::Every(2)),
    )
    .unwrap();
    toy(&run, Version::default()).unwrap();
    run.finish().unwrap();
    let clean = tempfile::tempdir().unwrap();
    let clean_id = record(clean.path(), CheckpointPolicy::Every(2), Version::default());
    for name in ["loss", "final"] {
        assert_eq!(
            values(tmp.path(), 1, name),
            values(clean.path(), clean_id, name),
            "{name}"
        );
    }
    let truth = reexecute(NEW, &["norm", "inner_w0"]);
    let report = replay_parallel(tmp.path(), &program(), ReplayConfig::default(), 2, |run| {
        toy(run, NEW).map(|_| ())
    })
    .unwrap();
    assert_eq!(values(tmp.path(), report.run_id, "norm"), truth[0]);
    assert_eq!(values(tmp.path(), report.run_id, "inner_w0"), truth[1]);
}
