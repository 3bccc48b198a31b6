//! A tour of Stratus: each crate shows its system doing real work on embedded defaults.
//!
//! Run: `cargo run --release --example tour` (optionally `STRATUS_SEED=n` to pick the seed).
//!
//! Today's sections:
//! 1. `sim` — the ABD atomic register on the deterministic simulator under loss, duplication,
//!    reordering and a minority of replicas crashing; the history is checked for
//!    linearizability, then the broken variant (reads without write-back) is hunted down over
//!    seeds, and the same nodes run on real threads.

use std::time::{Duration, Instant};

use stratus::sim::abd::{AbdScenario, ClientConfig, deployment, merged_history};
use stratus::sim::linearizability::{RegisterInput, RegisterModel, check_partitioned};
use stratus::sim::seeds::{SeedPlan, find_failure};
use stratus::sim::{CostModel, LiveCluster};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = match SeedPlan::from_env(1)? {
        SeedPlan::One(s) => s,
        SeedPlan::Range(_) => 42,
    };
    println!("Stratus tour (seed {seed}; set STRATUS_SEED to change it)\n");
    sim_section(seed)?;
    Ok(())
}

fn sim_section(seed: u64) -> Result<(), Box<dyn std::error::Error>> {
    println!("== sim: the ABD atomic register under faults ==");
    let started = Instant::now();
    let mut scenario = AbdScenario::faulty(seed);
    scenario.ops_per_client = 200;
    scenario.chaos_until = stratus::sim::Time::from_millis(400);
    // Replicas spend 20 µs of virtual CPU per request, so throughput has a ceiling.
    scenario.cost = CostModel::uniform(Duration::from_micros(20));
    let outcome = scenario.run()?;
    let wall = started.elapsed();
    println!(
        "{} replicas, {} clients x {} ops on {} keys; network: 5% loss, 5% duplication, 10% reordering",
        scenario.replicas, scenario.clients, scenario.ops_per_client, scenario.keys
    );
    println!(
        "faults drawn from the seed ({}):",
        outcome.faults.events.len()
    );
    for line in outcome.faults.to_string().lines().take(8) {
        println!("{line}");
    }
    if outcome.faults.events.len() > 8 {
        println!("  ... {} more", outcome.faults.events.len() - 8);
    }
    println!(
        "events: {}  virtual time: {:.1} ms  wall time: {:.1} ms  trace hash: {:016x}",
        outcome.events,
        outcome.elapsed.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3,
        outcome.trace_hash
    );
    println!(
        "completed ops: {}  all clients done: {}  throughput: {:.0} ops/s (virtual time)",
        outcome.completed,
        outcome.all_done,
        outcome.throughput()
    );
    let verdict = if outcome.verdict.is_linearizable() {
        "linearizable".to_string()
    } else {
        format!(
            "NOT linearizable\n{}",
            outcome
                .verdict
                .counterexample()
                .map(|c| c.to_string())
                .unwrap_or_default()
        )
    };
    println!(
        "checker: {} operations, {verdict}",
        outcome.history.len() / 2
    );
    println!("per-node metrics:\n{}", outcome.metrics);

    let hunt = Instant::now();
    match find_failure(1000, |s| {
        AbdScenario::faulty(s)
            .broken()
            .run()
            .map_err(|e| e.to_string())?
            .check()
    }) {
        Some(failure) => {
            let replay = AbdScenario::faulty(failure.seed).broken().run()?;
            let again = AbdScenario::faulty(failure.seed).broken().run()?;
            println!(
                "broken ABD (no read write-back): caught at seed {} after {:.0} ms",
                failure.seed,
                hunt.elapsed().as_secs_f64() * 1e3,
            );
            println!(
                "replaying seed {}: trace hash {:016x} twice: {}, same history: {}, still not linearizable: {}",
                failure.seed,
                replay.trace_hash,
                replay.trace_hash == again.trace_hash,
                format!("{:?}", replay.history) == format!("{:?}", again.history),
                !replay.verdict.is_linearizable()
            );
            if let Some(cex) = replay.verdict.counterexample() {
                for line in cex.to_string().lines().take(12) {
                    println!("  {line}");
                }
            }
        }
        None => println!("broken ABD: not caught within 1000 seeds"),
    }

    // The very same node code on OS threads, real channels and real timers.
    let (nodes, clients) = deployment(5, 4, |replicas| ClientConfig {
        ops: 2000,
        think: Duration::ZERO,
        ..ClientConfig::new(replicas)
    });
    let cluster = LiveCluster::start(seed, nodes)?;
    let finished = cluster.wait_halted(&clients, Duration::from_secs(60));
    let report = cluster.shutdown()?;
    let (history, done) = merged_history(&report.nodes);
    let verdict = check_partitioned(&RegisterModel::<u64>::new(), &history, RegisterInput::key)?;
    println!(
        "live driver: {done} ops on 9 threads in {:.0} ms ({:.0} ops/s wall clock), finished: {finished}, linearizable: {}\n",
        report.elapsed.as_secs_f64() * 1e3,
        done as f64 / report.elapsed.as_secs_f64(),
        verdict.is_linearizable()
    );
    Ok(())
}
