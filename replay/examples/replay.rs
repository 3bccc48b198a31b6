//! Command-line front end to hindsight logging on the demo MLP.
//!
//! ```sh
//! cargo run --release -p stratus-replay --example replay -- record --dir /tmp/flor --epochs=8
//! cargo run --release -p stratus-replay --example replay -- replay --dir /tmp/flor --outer --workers 2
//! cargo run --release -p stratus-replay --example replay -- logs --dir /tmp/flor --names val_loss,weight_norm
//! ```
//!
//! `record` trains (arguments `--epochs=`, `--lr=`, `--batch=`, `--hidden=`, `--seed=` are
//! recorded); kill it mid-way and `resume` continues the record. `replay` runs the program
//! again with new log statements switched on (`--outer`: `weight_norm` per epoch; `--inner`:
//! `grad_norm` inside the skip block); `--workers N` splits it over threads, `--worker I/N`
//! runs one process's share (start one process per index). `logs` prints every run's values as one table (`--csv
//! FILE` writes it), `plan` shows how `--workers N` would split a replay. Data: `--data PATH`
//! (the nycflights13 CSV, optionally `.gz`; `--rows N` limits it) or a synthetic set.

use std::path::PathBuf;
use std::time::Instant;

use stratus_replay::demo::{self, Dataset, Hindsight};
use stratus_replay::{
    Probe, Program, RecordConfig, ReplayConfig, Run, dataframe, replay_parallel, replay_plan,
};

struct Opts {
    dir: PathBuf,
    data: Option<PathBuf>,
    rows: Option<usize>,
    outer: bool,
    inner: bool,
    workers: u32,
    worker: Option<(u32, u32)>,
    probe: Probe,
    names: Vec<String>,
    csv: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        dir: PathBuf::from("flor-record"),
        data: None,
        rows: None,
        outer: false,
        inner: false,
        workers: 1,
        worker: None,
        probe: Probe::Discover,
        names: vec!["val_loss".into(), "weight_norm".into(), "grad_norm".into()],
        csv: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "--dir" => o.dir = value("--dir")?.into(),
            "--data" => o.data = Some(value("--data")?.into()),
            "--rows" => {
                o.rows = Some(
                    value("--rows")?
                        .parse()
                        .map_err(|e| format!("--rows: {e}"))?,
                )
            }
            "--outer" => o.outer = true,
            "--inner" => o.inner = true,
            "--workers" => {
                o.workers = value("--workers")?
                    .parse()
                    .map_err(|e| format!("--workers: {e}"))?
            }
            "--worker" => {
                let v = value("--worker")?;
                let (i, n) = v
                    .split_once('/')
                    .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)))
                    .filter(|&(i, n): &(u32, u32)| i < n)
                    .ok_or_else(|| format!("--worker {v}: use INDEX/COUNT, e.g. 0/2"))?;
                o.worker = Some((i, n));
            }
            "--probe" => {
                o.probe = match value("--probe")?.as_str() {
                    "discover" => Probe::Discover,
                    "none" => Probe::Nothing,
                    "all" => Probe::Everything,
                    other => return Err(format!("--probe {other}: use discover, none or all")),
                }
            }
            "--names" => o.names = value("--names")?.split(',').map(str::to_string).collect(),
            "--csv" => o.csv = Some(value("--csv")?.into()),
            // Training arguments (`--epochs=8`) are read by the run itself.
            s if s.starts_with("--") && s.contains('=') => {}
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn load(o: &Opts) -> Result<Dataset, Box<dyn std::error::Error>> {
    Ok(match &o.data {
        Some(p) => Dataset::flights_csv(p, o.rows)?,
        None => Dataset::synthetic(o.rows.unwrap_or(20_000), 8, 1),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = argv.first() else {
        eprintln!("usage: replay record|resume|replay|logs|plan --dir DIR [options]");
        std::process::exit(2);
    };
    let o = parse(&argv[1..])?;
    let program =
        Program::new("demo-mlp", 1).code_version(format!("outer={} inner={}", o.outer, o.inner));
    let hindsight = Hindsight {
        outer: o.outer,
        inner: o.inner,
    };
    let start = Instant::now();
    match cmd.as_str() {
        "record" | "resume" => {
            let data = load(&o)?;
            let cfg = RecordConfig::default().from_process();
            let run = if cmd == "record" {
                Run::record(&o.dir, &program, cfg)?
            } else {
                Run::resume(&o.dir, &program, cfg)?
            };
            println!("{cmd}: run {} on {} rows", run.run_id(), data.len());
            demo::train(&run, &data, hindsight)?;
            let s = run.finish()?;
            println!(
                "done in {:.2} s: {} checkpoints, {} bytes, period {:?}, {} restored",
                start.elapsed().as_secs_f64(),
                s.checkpoints.count,
                s.checkpoints.bytes,
                s.periods,
                s.restored
            );
        }
        "replay" if o.worker.is_some() => {
            // One process's share; start the others with the other indices.
            let (i, n) = o.worker.expect("guarded");
            let data = load(&o)?;
            let cfg = ReplayConfig::default().probe(o.probe.clone()).worker(i, n);
            let run = Run::replay(&o.dir, &program, cfg)?;
            demo::train(&run, &data, hindsight)?;
            let s = run.finish()?;
            println!(
                "replay run {} (worker {i} of {n}) in {:.2} s: {} iterations logged after {} warm-up, {} restored, {} executed",
                s.run_id,
                start.elapsed().as_secs_f64(),
                s.active_iterations,
                s.warmup_iterations,
                s.restored,
                s.executed
            );
        }
        "replay" => {
            let data = load(&o)?;
            let cfg = ReplayConfig::default().probe(o.probe.clone());
            let report = replay_parallel(&o.dir, &program, cfg, o.workers, |run| {
                demo::train(run, &data, hindsight).map(|_| ())
            })?;
            println!(
                "replay run {} in {:.2} s",
                report.run_id,
                report.wall.as_secs_f64()
            );
            for (plan, s) in &report.workers {
                println!(
                    "  worker {}: iterations {:?} (warm from {}), {} restored, {} executed, probed {:?}, {} fallbacks",
                    s.worker,
                    plan.range,
                    plan.warm_start,
                    s.restored,
                    s.executed,
                    s.probed,
                    s.fallbacks
                );
            }
        }
        "logs" => {
            let names: Vec<&str> = o.names.iter().map(String::as_str).collect();
            let frame = dataframe(&o.dir, Some(program.name()), &names)?;
            match &o.csv {
                Some(path) => {
                    frame.write_csv(std::fs::File::create(path)?)?;
                    println!("{} rows written to {}", frame.rows.len(), path.display());
                }
                None => frame.write_csv(std::io::stdout().lock())?,
            }
        }
        "plan" => {
            for w in replay_plan(&o.dir, &program, o.workers)? {
                println!(
                    "iterations {}..{}: warm up from {} ({} extra)",
                    w.range.start,
                    w.range.end,
                    w.warm_start,
                    w.warmup_iterations()
                );
            }
        }
        other => {
            eprintln!("unknown command {other}: use record, resume, replay, logs or plan");
            std::process::exit(2);
        }
    }
    Ok(())
}
