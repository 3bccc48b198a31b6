//! Flor's three measurements on a real workload: an MLP trained on nycflights13.
//!
//! ```sh
//! cargo bench -p stratus-replay --bench overhead
//! ```
//!
//! (a) record overhead against the same training code with no recording; (b) replay time for
//! a new log statement in the outer loop and inside the skip block against full
//! re-execution; (c) parallel replay with 1 and 2 workers, plus the partition plan for N.
//! Reads `../shared/data/flights.csv.gz` (or `STRATUS_FLIGHTS=path`); without it the bench
//! says so and exits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use stratus_replay::demo::{self, Dataset, Hindsight, Mlp, SplitMix, TrainArgs, TrainState};
use stratus_replay::{
    CheckpointPolicy, Probe, Program, RecordConfig, ReplayConfig, Run, replay_parallel, replay_plan,
};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// CPU time of the calling thread (user + system) from `/proc/thread-self/stat`, in clock
/// ticks of 10 ms; `None` off Linux. Less sensitive than wall time to other processes on a
/// shared machine.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn cpu_since(start: Option<Duration>) -> Duration {
    match (start, thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    }
}

fn list(v: &[Duration]) -> String {
    let all: Vec<String> = v
        .iter()
        .map(|d| format!("{:.3}", d.as_secs_f64()))
        .collect();
    all.join(" ")
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::var_os("STRATUS_FLIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flights.csv.gz")
        });
    if !path.exists() {
        println!(
            "skipping: {} not found (set STRATUS_FLIGHTS=path to the nycflights13 flights CSV)",
            path.display()
        );
        return Ok(());
    }
    let reps: usize = std::env::var("STRATUS_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let t = Instant::now();
    let data = Dataset::flights_csv(&path, None)?;
    println!(
        "data: {} rows x {} features from {} ({} to load)",
        data.len(),
        data.d,
        path.display(),
        secs(t.elapsed())
    );
    let args = TrainArgs {
        epochs: 20,
        ..TrainArgs::default()
    };
    let program = Program::new("flights-mlp", 1);
    let cfg = || {
        RecordConfig::default()
            .arg("epochs", args.epochs.to_string())
            .policy(CheckpointPolicy::Adaptive)
    };
    let root = std::env::temp_dir().join(format!("stratus-replay-bench-{}", std::process::id()));

    if std::env::var_os("STRATUS_BENCH_FINE_ONLY").is_some() {
        fine_grained(&data, reps, &root)?;
        std::fs::remove_dir_all(&root).ok();
        return Ok(());
    }

    // (a) Record overhead: alternate plain and recorded runs (ABBA order against drift),
    // compare medians of wall time and of the training thread's CPU time.
    let (mut plain, mut recorded) = (Vec::new(), Vec::new());
    let (mut plain_cpu, mut recorded_cpu) = (Vec::new(), Vec::new());
    let mut last_summary = None;
    for rep in 0..reps {
        for which in [rep % 2, 1 - rep % 2] {
            let (t, c) = (Instant::now(), thread_cpu());
            if which == 0 {
                let (_, losses) = demo::train_unrecorded(&data, &args)?;
                plain.push(t.elapsed());
                plain_cpu.push(cpu_since(c));
                assert_eq!(losses.len(), args.epochs as usize);
            } else {
                let dir = root.join(format!("rec-{rep}"));
                let run = Run::record(&dir, &program, cfg())?;
                demo::train(&run, &data, Hindsight::default())?;
                last_summary = Some(run.finish()?);
                recorded.push(t.elapsed());
                recorded_cpu.push(cpu_since(c));
            }
        }
    }
    let summary = last_summary.expect("reps >= 1");
    let (p, r) = (median(plain.clone()), median(recorded.clone()));
    println!(
        "\n(a) record overhead, {} epochs, median of {reps}",
        args.epochs
    );
    let (pc, rc) = (median(plain_cpu.clone()), median(recorded_cpu.clone()));
    println!(
        "    training-thread CPU: plain {} recorded {} ratio {:.4} (overhead {:+.2}%); runs plain {} | recorded {}",
        secs(pc),
        secs(rc),
        rc.as_secs_f64() / pc.as_secs_f64().max(1e-9),
        (rc.as_secs_f64() / pc.as_secs_f64().max(1e-9) - 1.0) * 100.0,
        list(&plain_cpu),
        list(&recorded_cpu)
    );
    println!(
        "    all runs (s), plain: {} | recorded: {}",
        list(&plain),
        list(&recorded)
    );
    println!("    plain training (no recording): {}", secs(p));
    println!("    recorded (stratus-replay):     {}", secs(r));
    println!(
        "    ratio: {:.4} (overhead {:+.2}%)",
        r.as_secs_f64() / p.as_secs_f64(),
        (r.as_secs_f64() / p.as_secs_f64() - 1.0) * 100.0
    );
    println!(
        "    checkpoints: {} written, {} bytes ({} raw), writer time {}, period chosen {:?}, training-thread snapshot time {}",
        summary.checkpoints.count,
        summary.checkpoints.bytes,
        summary.checkpoints.raw_bytes,
        secs(summary.checkpoints.write_time),
        summary.periods,
        secs(summary.snapshot_time)
    );

    fine_grained(&data, reps, &root)?;

    // (b) Replay against full re-execution (the new version run from scratch).
    let dir = root.join("rec-0");
    let full = p;
    let replay_time = |hindsight: Hindsight,
                       probe: Probe,
                       workers: u32|
     -> Result<Duration, Box<dyn std::error::Error>> {
        let t = Instant::now();
        replay_parallel(
            &dir,
            &program,
            ReplayConfig::default().probe(probe),
            workers,
            |run| demo::train(run, &data, hindsight).map(|_| ()),
        )?;
        Ok(t.elapsed())
    };
    let outer = Hindsight {
        outer: true,
        inner: false,
    };
    let inner = Hindsight {
        outer: false,
        inner: true,
    };
    println!(
        "\n(b) replay vs. full re-execution ({} = plain training)",
        secs(full)
    );
    let rows = [
        ("outer-loop log, probe discovered", outer, Probe::Discover),
        ("outer-loop log, no block probed", outer, Probe::Nothing),
        ("log inside the skip block", inner, Probe::Discover),
    ];
    let mut inner_1 = Duration::ZERO;
    for (name, h, probe) in rows {
        let d = replay_time(h, probe, 1)?;
        if h.inner {
            inner_1 = d;
        }
        println!(
            "    {name:<34} {}  speed-up {:.1}x",
            secs(d),
            full.as_secs_f64() / d.as_secs_f64()
        );
    }

    // (c) Parallel replay of the expensive case (every block re-executes).
    let inner_2 = replay_time(inner, Probe::Discover, 2)?;
    println!("\n(c) parallel replay, log inside the skip block");
    println!("    1 worker:  {}", secs(inner_1));
    println!(
        "    2 workers: {}  speed-up {:.2}x",
        secs(inner_2),
        inner_1.as_secs_f64() / inner_2.as_secs_f64()
    );
    for n in [1, 2, 4, 8] {
        let plan = replay_plan(&dir, &program, n)?;
        let parts: Vec<String> = plan
            .iter()
            .map(|w| {
                format!(
                    "{}..{} (warm from {})",
                    w.range.start, w.range.end, w.warm_start
                )
            })
            .collect();
        println!("    plan for {n} workers: {}", parts.join(", "));
    }
    std::fs::remove_dir_all(&root).ok();
    Ok(())
}

fn fine_state(data: &Dataset) -> TrainState {
    let mut rng = SplitMix(11);
    let model = Mlp::new(data.d, 256, &mut rng);
    TrainState {
        model,
        rng,
        steps: 0,
    }
}

fn fine_step(s: &mut TrainState, data: &Dataset) {
    let n = data.len() as u64 - 64;
    let start = (s.rng.next_u64() % n) as u32;
    let batch: Vec<u32> = (start..start + 64).collect();
    s.model.sgd_step(data, &batch, 0.05);
    s.steps += 1;
}

fn fine_grained(
    data: &Dataset,
    reps: usize,
    root: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    // (a2) A fine-grained main loop: one minibatch step of a wider model per iteration, so a
    // checkpoint costs about as much as the body and the adaptive period has to stretch.
    let steps = 3000;
    let (mut plain2, mut rec2) = (Vec::new(), Vec::new());
    let (mut plain2_cpu, mut rec2_cpu) = (Vec::new(), Vec::new());
    let mut fine_summary = None;
    for rep in 0..reps {
        for which in [rep % 2, 1 - rep % 2] {
            let (t, c) = (Instant::now(), thread_cpu());
            let mut st = fine_state(data);
            if which == 0 {
                for _ in 0..steps {
                    fine_step(&mut st, data);
                }
                plain2.push(t.elapsed());
                plain2_cpu.push(cpu_since(c));
            } else {
                let dir = root.join(format!("fine-{rep}"));
                let run = Run::record(&dir, &Program::new("fine", 1), RecordConfig::default())?;
                for _ in run.loop_over("step", 0..steps) {
                    run.skip_block("sgd", &mut st, |s| {
                        fine_step(s, data);
                        Ok(())
                    })?;
                }
                fine_summary = Some(run.finish()?);
                rec2.push(t.elapsed());
                rec2_cpu.push(cpu_since(c));
            }
            std::hint::black_box(&st);
        }
    }
    let fs = fine_summary.expect("reps >= 1");
    let (p2, r2) = (median(plain2.clone()), median(rec2.clone()));
    println!(
        "\n(a2) record overhead, fine-grained: {steps} iterations of one 64-row SGD step, hidden 256"
    );
    let (pc2, rc2) = (median(plain2_cpu.clone()), median(rec2_cpu.clone()));
    println!(
        "    training-thread CPU: plain {} recorded {} ratio {:.4} (overhead {:+.2}%); runs plain {} | recorded {}",
        secs(pc2),
        secs(rc2),
        rc2.as_secs_f64() / pc2.as_secs_f64().max(1e-9),
        (rc2.as_secs_f64() / pc2.as_secs_f64().max(1e-9) - 1.0) * 100.0,
        list(&plain2_cpu),
        list(&rec2_cpu)
    );
    println!(
        "    all runs (s), plain: {} | recorded: {}",
        list(&plain2),
        list(&rec2)
    );
    println!(
        "    plain {} recorded {} ratio {:.4} (overhead {:+.2}%)",
        secs(p2),
        secs(r2),
        r2.as_secs_f64() / p2.as_secs_f64(),
        (r2.as_secs_f64() / p2.as_secs_f64() - 1.0) * 100.0
    );
    println!(
        "    checkpoints: {} written, {} bytes ({} raw), writer time {}, period chosen {:?}, snapshot time {}",
        fs.checkpoints.count,
        fs.checkpoints.bytes,
        fs.checkpoints.raw_bytes,
        secs(fs.checkpoints.write_time),
        fs.periods,
        secs(fs.snapshot_time)
    );

    Ok(())
}
