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

use stratus_replay::demo::{self, Dataset, Hindsight, TrainArgs};
use stratus_replay::{
    CheckpointPolicy, Probe, Program, RecordConfig, ReplayConfig, Run, replay_parallel, replay_plan,
};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
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

    // (a) Record overhead: alternate plain and recorded runs, compare medians.
    let (mut plain, mut recorded) = (Vec::new(), Vec::new());
    let mut last_summary = None;
    for rep in 0..reps {
        let t = Instant::now();
        let (_, losses) = demo::train_unrecorded(&data, &args)?;
        plain.push(t.elapsed());
        let dir = root.join(format!("rec-{rep}"));
        let t = Instant::now();
        let run = Run::record(&dir, &program, cfg())?;
        demo::train(&run, &data, Hindsight::default())?;
        let summary = run.finish()?;
        recorded.push(t.elapsed());
        assert_eq!(losses.len(), args.epochs as usize);
        last_summary = Some(summary);
    }
    let summary = last_summary.expect("reps >= 1");
    let (p, r) = (median(plain.clone()), median(recorded.clone()));
    println!(
        "\n(a) record overhead, {} epochs, median of {reps}",
        args.epochs
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
