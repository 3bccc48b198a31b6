//! A tour of Stratus: each crate shows its system doing real work on embedded defaults.
//!
//! Run: `cargo run --release --example tour` (optionally `STRATUS_SEED=n` to pick the seed).
//!
//! Today's sections (sim, lattice, consensus, txn, replay, cardest, fs, frame):
//! 1. `sim` — the ABD atomic register on the deterministic simulator under loss, duplication,
//!    reordering and a minority of replicas crashing; the history is checked for
//!    linearizability, then the broken variant (reads without write-back) is hunted down over
//!    seeds, and the same nodes run on real threads.
//! 2. `lattice` — lattice merges in any order, then the Anna-style KVS on worker threads
//!    (hot-key replication, gossip) and on the simulator under faults (convergence).
//! 3. `consensus` — MultiPaxos, Matchmaker MultiPaxos and BPaxos replicating a KV store on
//!    the simulator under faults (invariants checked at every step, history checked for
//!    linearizability), then a 3-acceptor MultiPaxos cluster on threads answering a host-side
//!    client.
//! 4. `txn` — AFT: a function killed mid-commit leaves nothing visible; anomaly counts with
//!    and without AFT under injected faults.
//! 5. `replay` — Flor hindsight logging: a small MLP training run is recorded, then replayed
//!    with a log statement added after the fact; replay restores the epochs from checkpoints.
//! 6. `cardest` — Naru-style selectivity estimation: a small MADE learns the committed
//!    2,000-row flights sample; a few range queries estimated vs. the truth and independence.
//! 7. `fs` — FaaSFS: threads increment one counter file through invocations (each one a
//!    transaction, restarted on conflict): the final value is exact and the retries are
//!    counted; renames replace a file atomically while a reader runs.
//! 8. `frame` — Modin-style dataframes: the committed flights sample read with inferred types,
//!    grouped, sorted, joined and transposed.

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
    lattice_section(seed);
    kvs_section(seed)?;
    consensus_section(seed)?;
    txn_section()?;
    replay_section()?;
    cardest_section()?;
    fs_section()?;
    frame_section()?;
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

/// Lattices: replicas apply the same updates in different orders, with duplicates, and still
/// agree — checked here on shuffled streams drawn from the seed.
fn lattice_section(seed: u64) {
    use stratus::lattice::{GCounter, Lww, Merge, SetUnionBTreeSet, product_lattice};
    use stratus::sim::SimRng;

    product_lattice! {
        #[derive(Clone, Debug, Default, PartialEq)]
        struct Doc {
            title: Lww<String>,
            tags: SetUnionBTreeSet<u32>,
            views: GCounter,
        }
    }

    println!("== lattice: coordination-free merge ==");
    let mut rng = SimRng::new(seed);
    // 10,000 updates from 8 writers: title writes, tag adds, view increments.
    let updates: Vec<Doc> = (0..10_000u64)
        .map(|i| {
            let writer = rng.below(8);
            let mut d = Doc::default();
            match rng.below(3) {
                0 => d.title = Lww::new(rng.below(100), writer, format!("title-{i}")),
                1 => {
                    d.tags.insert(rng.below(50) as u32);
                }
                _ => d.views.increment(writer, i + 1),
            }
            d
        })
        .collect();
    let mut replicas = Vec::new();
    for r in 0..4 {
        let mut order: Vec<&Doc> = updates.iter().collect();
        // Each replica sees its own order, with 10% of updates delivered twice.
        rng.shuffle(&mut order);
        let dups: Vec<&Doc> = order.iter().copied().filter(|_| rng.chance(0.1)).collect();
        order.extend(dups);
        let mut doc = Doc::default();
        let mut grew = 0;
        for u in order {
            grew += usize::from(doc.merge(u.clone()));
        }
        println!(
            "replica {r}: title {:?}, {} tags, views {}, {grew} merges changed state",
            doc.title.value(),
            doc.tags.len(),
            doc.views.value()
        );
        replicas.push(doc);
    }
    let agree = replicas.windows(2).all(|w| w[0] == w[1]);
    println!("all 4 replicas equal after different orders and duplicates: {agree}\n");
}

fn kvs_section(seed: u64) -> Result<(), Box<dyn std::error::Error>> {
    use stratus::lattice::SetUnionBTreeSet;
    use stratus::lattice::kvs::{ConvergenceScenario, Kvs, KvsConfig, Op};

    println!("== lattice: the Anna-style KVS ==");
    // Four worker threads, each the only owner of its shard; two replicas per key; a key
    // taking 5% of the accesses is replicated to every worker.
    let config = KvsConfig::new(4).replication(2).hot_keys(0.05, 4096);
    let kvs: Kvs<String, SetUnionBTreeSet<u64>> = Kvs::start(config)?;
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let client = kvs.client();
            s.spawn(move || {
                for round in 0..10u64 {
                    let ops = (0..2_000u64)
                        .map(|i| {
                            // A third of the puts go to "trending", the rest spread over 500 keys.
                            let key = if i % 3 == 0 {
                                "trending".to_string()
                            } else {
                                format!("user-{}", i % 500)
                            };
                            Op::Put(
                                key,
                                SetUnionBTreeSet::singleton(t * 1_000_000 + round * 10_000 + i),
                            )
                        })
                        .collect();
                    client.execute(ops).expect("the store is running");
                }
            });
        }
    });
    let wall = started.elapsed();
    let synced = kvs.sync(Duration::from_secs(5))?;
    let trending = kvs.get(&"trending".to_string())?.map_or(0, |v| v.len());
    let replicas = kvs.replica_values(&"trending".to_string())?;
    let equal = replicas.iter().flatten().all(|v| v.len() == trending);
    println!(
        "4 clients x 20,000 merges in {:.1} ms; hot keys: {:?}",
        wall.as_secs_f64() * 1e3,
        kvs.hot_keys()
            .iter()
            .map(|(k, r)| format!("{k} on {} workers", r.len()))
            .collect::<Vec<_>>()
    );
    println!(
        "after gossip (synced: {synced}): \"trending\" holds {trending} ids on {} replicas, all equal: {equal}",
        replicas.iter().flatten().count()
    );
    let report = kvs.shutdown()?;
    let forwarded: u64 = report.workers.iter().map(|w| w.forwarded).sum();
    let batches: u64 = report.workers.iter().map(|w| w.batches_sent).sum();
    println!("gossip batches sent: {batches}; operations forwarded by a non-replica: {forwarded}");

    // The same shard core as sim nodes, under loss, duplication, reordering, partitions and
    // crash/restart: replicas must converge with every acknowledged put.
    let started = Instant::now();
    let mut promoted = 0;
    for s in seed..seed + 50 {
        let outcome = ConvergenceScenario::faulty(s).run()?;
        promoted += outcome.promoted;
        outcome.check().map_err(|e| format!("seed {s}: {e}"))?;
    }
    println!(
        "simulated: 50 seeds of 5 nodes under faults converged ({promoted} hot-key promotions) in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let broken = (seed..seed + 50).find(|&s| {
        ConvergenceScenario::faulty(s)
            .broken()
            .run()
            .is_ok_and(|o| o.check().is_err())
    });
    println!("fire-and-forget gossip diverges first at seed {broken:?}\n");
    Ok(())
}

fn txn_section() -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;
    use stratus::txn::scenario::{Mode, TxnScenario};
    use stratus::txn::storage::{MemStorage, Storage};
    use stratus::txn::{AftCluster, CommitStage};

    println!("== txn: AFT, atomic visibility for retried functions ==");
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let (cluster, _) = AftCluster::new(Arc::clone(&storage), 2)?;
    let (a, b) = (&cluster.nodes()[0], &cluster.nodes()[1]);
    a.run(|tx| {
        tx.put_as("checking", &100i64)?;
        tx.put_as("savings", &0i64)
    })?;
    // A transfer whose function dies after writing its versions, before the commit record.
    let tx = a.begin()?;
    a.put_as(tx, "checking", &40i64)?;
    a.put_as(tx, "savings", &60i64)?;
    a.commit_until(tx, CommitStage::AfterVersions)?;
    let (c, s): (i64, i64) = b.run(|tx| {
        Ok((
            tx.get_as("checking")?.unwrap_or(0),
            tx.get_as("savings")?.unwrap_or(0),
        ))
    })?;
    println!(
        "function killed between versions and commit record: node 1 reads checking {c}, savings {s} (sum {})",
        c + s
    );
    // The retry commits; both writes appear together on the other node.
    a.run(|tx| {
        let c: i64 = tx.get_as("checking")?.unwrap_or(0);
        tx.put_as("checking", &(c - 60))?;
        tx.put_as("savings", &60i64)
    })?;
    let (c, s): (i64, i64) = b.run(|tx| {
        Ok((
            tx.get_as("checking")?.unwrap_or(0),
            tx.get_as("savings")?.unwrap_or(0),
        ))
    })?;
    println!("after the retry: checking {c}, savings {s} (sum {})", c + s);

    let started = Instant::now();
    let (mut aft, mut plain) = (0, 0);
    for seed in 0..200 {
        aft += TxnScenario::faulty(seed, Mode::Aft).run()?.anomalies.len();
        plain += TxnScenario::faulty(seed, Mode::Plain)
            .run()?
            .anomalies
            .len();
    }
    println!(
        "200 seeds with killed functions, node crashes, lost broadcasts and storage faults: \
         {aft} anomalies with AFT, {plain} with plain storage ({:.0} ms)\n",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// Consensus: MultiPaxos and BPaxos on the simulator under faults, then MultiPaxos on threads.
fn consensus_section(seed: u64) -> Result<(), Box<dyn std::error::Error>> {
    use stratus::consensus::bpaxos::BPaxosScenario;
    use stratus::consensus::multipaxos::{MultiPaxos, PaxosScenario};
    use stratus::consensus::{KvCommand, KvStore};

    println!("== consensus: replicated KV store under faults ==");
    let started = Instant::now();
    let mut paxos = PaxosScenario::faulty(seed);
    paxos.ops_per_client = 100;
    let outcome = paxos.run()?;
    println!(
        "MultiPaxos (2 leaders, 3 acceptors, 2 replicas; {} faults incl. a leader crash): {} commands, {} slots chosen, {} events, {:.1} ms virtual, {:.1} ms wall",
        outcome.faults.events.len(),
        outcome.completed,
        outcome.chosen_slots,
        outcome.events,
        outcome.elapsed.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "  invariants at every step: {}; linearizable: {}; all clients done: {}; leader log at end: {} slots (GC)",
        outcome
            .violation
            .as_ref()
            .map_or("held".to_string(), |(_, v)| v.to_string()),
        outcome.verdict.is_linearizable(),
        outcome.all_done,
        outcome.max_leader_log
    );
    let started = Instant::now();
    let mut mm = PaxosScenario::matchmaker(seed);
    mm.ops_per_client = 100;
    let outcome = mm.run()?;
    println!(
        "Matchmaker MultiPaxos (6 acceptors in the pool, 5 matchmakers; {} faults; 4 acceptor reconfigurations and 2 matchmaker replacements requested mid-run): {} commands; completed by leaders still up at the end: {} reconfiguration(s), {} matchmaker replacement(s); {:.1} ms wall",
        outcome.faults.events.len(),
        outcome.completed,
        outcome.reconfigurations.len(),
        outcome.matchmaker_reconfigurations.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "  invariants at every step: {}; linearizable: {}; all clients done: {}",
        outcome
            .violation
            .as_ref()
            .map_or("held".to_string(), |(_, v)| v.to_string()),
        outcome.verdict.is_linearizable(),
        outcome.all_done
    );
    let started = Instant::now();
    let mut bpaxos = BPaxosScenario::faulty(seed);
    bpaxos.ops_per_client = 100;
    let outcome = bpaxos.run()?;
    println!(
        "BPaxos (2 leaders, 3 dependency nodes, 3 acceptors, 2 replicas; {} faults): {} commands, {} vertices chosen, {:.1} ms virtual, {:.1} ms wall",
        outcome.faults.events.len(),
        outcome.completed,
        outcome.chosen,
        outcome.elapsed.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "  invariants at every step: {}; linearizable: {}; all clients done: {}",
        outcome
            .violation
            .as_ref()
            .map_or("held".to_string(), |(_, v)| v.to_string()),
        outcome.verdict.is_linearizable(),
        outcome.all_done
    );
    let mut cluster = MultiPaxos::<KvStore>::new(1).live(seed, Vec::new())?;
    let mut client = cluster.client();
    let started = Instant::now();
    for i in 0..1000u64 {
        client.propose(KvCommand::Append {
            key: i % 4,
            suffix: "x".into(),
        })?;
    }
    let took = started.elapsed();
    let read = client.propose(KvCommand::Get { key: 0 })?;
    println!(
        "MultiPaxos on 7 threads: 1000 appends from one host client in {:.1} ms ({:.0} µs each); key 0 now {:?}\n",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / 1000.0,
        match read {
            stratus::consensus::KvOutput::Value(v) => v.map(|s| s.len()),
            _ => None,
        }
        .map(|n| format!("{n} bytes long"))
        .unwrap_or_default()
    );
    cluster.shutdown()?;
    Ok(())
}

fn replay_section() -> Result<(), Box<dyn std::error::Error>> {
    use stratus::replay::demo::{self, Dataset, Hindsight};
    use stratus::replay::{LogFilter, Probe, Program, RecordConfig, ReplayConfig, Run};

    println!("\n== replay: hindsight logging (Flor) ==");
    let dir = std::env::temp_dir().join(format!("stratus-tour-replay-{}", std::process::id()));
    let data = Dataset::synthetic(20_000, 8, 1);
    let program = Program::new("tour-mlp", 1);

    // Record: 12 epochs, logging only the validation loss.
    let started = Instant::now();
    let run = Run::record(&dir, &program, RecordConfig::default().arg("epochs", "12"))?;
    demo::train(&run, &data, Hindsight::default())?;
    let record = run.finish()?;
    let record_time = started.elapsed();
    println!(
        "recorded {} epochs of an MLP on {} rows in {:.2} s: {} checkpoints ({} bytes), period {:?}",
        12,
        data.len(),
        record_time.as_secs_f64(),
        record.checkpoints.count,
        record.checkpoints.bytes,
        record.periods
    );

    // Afterwards we want the weight norm per epoch, which was never logged: replay.
    let started = Instant::now();
    let with_norm = Hindsight {
        outer: true,
        inner: false,
    };
    let run = Run::replay(
        &dir,
        &program,
        ReplayConfig::default().probe(Probe::Nothing),
    )?;
    demo::train(&run, &data, with_norm)?;
    let replay = run.finish()?;
    let replay_time = started.elapsed();
    let filter = LogFilter {
        runs: vec![replay.run_id],
        names: vec!["weight_norm".into()],
        ..LogFilter::default()
    };
    let norms = stratus::replay::logs(&dir, &filter)?;
    println!(
        "replayed with a new `weight_norm` log in {:.3} s ({:.0}x faster than recording): \
         {} epochs restored, {} executed",
        replay_time.as_secs_f64(),
        record_time.as_secs_f64() / replay_time.as_secs_f64().max(1e-9),
        replay.restored,
        replay.executed
    );
    for row in norms.iter().step_by(3) {
        println!("  {:<9} weight_norm = {}", row.path, row.value);
    }
    // The replayed run re-derives the recorded values from checkpoints: they must agree.
    let losses = |run_id| -> Result<Vec<String>, stratus::replay::ReplayError> {
        let filter = LogFilter {
            runs: vec![run_id],
            names: vec!["val_loss".into()],
            ..LogFilter::default()
        };
        Ok(stratus::replay::logs(&dir, &filter)?
            .into_iter()
            .map(|r| r.value.to_string())
            .collect())
    };
    println!(
        "replayed val_loss equals the recorded one at all {} epochs: {}",
        norms.len(),
        losses(record.run_id)? == losses(replay.run_id)?
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn cardest_section() -> Result<(), Box<dyn std::error::Error>> {
    use stratus::cardest::{
        CsvOptions, Estimator, EstimatorConfig, Independence, Made, MadeConfig, Op, OutputEncoding,
        Predicate, Query, SAMPLE_PATH, TrainConfig, exact_count, read_path, train,
    };

    println!("\n== cardest: Naru-style selectivity estimation ==");
    let started = Instant::now();
    let table = read_path(SAMPLE_PATH, &CsvOptions::default())?;
    let mut model = Made::new(
        &table.domains(),
        &MadeConfig {
            hidden: 32,
            layers: 2,
            embedding: 16,
            output: OutputEncoding::OneHot,
            seed: 1,
            ..MadeConfig::default()
        },
    )?;
    let cfg = TrainConfig {
        epochs: 15,
        ..TrainConfig::default()
    };
    train(&mut model, &table, &cfg, |_| {})?;
    let est = Estimator::new(
        &model,
        table.rows(),
        EstimatorConfig {
            samples: 500,
            seed: 1,
            ..Default::default()
        },
    )?;
    let ind = Independence::new(&table);
    println!(
        "ResMADE 2 x 32 ({} bytes) trained on {} flights rows in {:.1} s",
        model.size_bytes(),
        table.rows(),
        started.elapsed().as_secs_f64()
    );
    let queries = [
        Query::new(vec![
            Predicate::new("carrier", Op::Eq, "AA"),
            Predicate::new("origin", Op::Eq, "JFK"),
        ]),
        Query::new(vec![
            Predicate::new("origin", Op::Eq, "EWR"),
            Predicate::new("distance", Op::Ge, 2000.0),
        ]),
        Query::new(vec![
            // LaGuardia's perimeter rule: almost no flights over 1,500 miles.
            Predicate::new("origin", Op::Eq, "LGA"),
            Predicate::new("distance", Op::Ge, 1600.0),
        ]),
    ];
    for q in &queries {
        let r = q.resolve(&table)?;
        println!(
            "{q}: true {}, Stratus {:.0}, independence {:.0}",
            exact_count(&table, &r),
            est.estimate_resolved(&r)?,
            ind.estimate(&r)
        );
    }
    // The saved model carries the table's schema (names, dictionaries, row count), so a
    // query optimiser that loads it estimates without the rows.
    let bytes = model.to_bytes();
    let loaded = Made::from_bytes(&bytes)?;
    let schema = loaded
        .schema()
        .ok_or("a trained model carries its schema")?;
    let alone = Estimator::for_model(
        &loaded,
        EstimatorConfig {
            samples: 500,
            seed: 1,
            ..Default::default()
        },
    )?;
    println!(
        "reloaded from {} bytes, without the table: {} -> {:.0} rows",
        bytes.len(),
        queries[0],
        alone.estimate(schema, &queries[0])?
    );
    Ok(())
}

fn fs_section() -> Result<(), Box<dyn std::error::Error>> {
    use stratus::fs::{Fs, OpenFlags, Txn};

    println!("\n== fs: FaaSFS, every invocation a transaction ==");
    let started = Instant::now();
    let fs = Fs::in_memory();
    let read_u64 = |f: &mut Txn, path: &str| -> stratus::fs::Result<u64> {
        let fd = f.open(path, OpenFlags::RDWR | OpenFlags::CREAT, 0o644)?;
        let mut b = [0u8; 8];
        let n = f.pread(fd, &mut b, 0)?;
        Ok(if n == 8 { u64::from_le_bytes(b) } else { 0 })
    };
    const THREADS: usize = 4;
    const EACH: usize = 250;
    let retries: u32 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let exec = fs.new_executor();
                s.spawn(move || {
                    let mut retries = 0;
                    for _ in 0..EACH {
                        let out = exec.invoke(|f| {
                            let v = read_u64(f, "/counter")? + 1;
                            let fd = f.open("/counter", OpenFlags::WRONLY, 0)?;
                            f.pwrite(fd, &v.to_le_bytes(), 0)
                        });
                        retries += out.map(|o| o.retries).unwrap_or(0);
                    }
                    retries
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let total = fs.invoke(|f| read_u64(f, "/counter"))?.value;
    println!(
        "{THREADS} executors x {EACH} increments of /counter: final value {total} (expected {}), {retries} conflicting attempts restarted",
        THREADS * EACH
    );
    // Rename atomicity: while a writer keeps replacing /config (write a temporary file, then
    // rename it over), readers see one whole version or the other, never a mix or nothing.
    let version = |v: u8| format!("version={v};").repeat(1000).into_bytes();
    fs.invoke(|f| {
        let fd = f.create("/config", 0o644)?;
        f.write(fd, &version(1))
    })?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let (torn, seen, gave_up, renames) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let exec = fs.new_executor();
            let (mut torn, mut seen, mut gave_up) = (0, [0usize; 2], 0);
            for _ in 0..300 {
                std::thread::sleep(Duration::from_micros(50));
                let data = exec
                    .invoke(|f| {
                        let fd = f.open("/config", OpenFlags::RDONLY, 0)?;
                        let mut b = vec![0u8; 20_000];
                        let n = f.read(fd, &mut b)?;
                        b.truncate(n);
                        Ok(b)
                    })
                    .map(|o| o.value);
                let Ok(data) = data else {
                    gave_up += 1;
                    continue;
                };
                match (data == version(1), data == version(2)) {
                    (true, _) => seen[0] += 1,
                    (_, true) => seen[1] += 1,
                    _ => torn += 1,
                }
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            (torn, seen, gave_up)
        });
        let writer = fs.new_executor();
        let mut renames = 0u32;
        while !done.load(std::sync::atomic::Ordering::Relaxed) && renames < 100_000 {
            let v = 2 - (renames % 2) as u8;
            let _ = writer.invoke(|f| {
                let fd = f.create("/config.tmp", 0o644)?;
                f.write(fd, &version(v))?;
                f.rename("/config.tmp", "/config")
            });
            renames += 1;
            // About 10,000 replacements a second: a busy writer, not a saturating one.
            std::thread::sleep(Duration::from_micros(100));
        }
        let (torn, seen, gave_up) = reader.join().unwrap_or((usize::MAX, [0, 0], 0));
        (torn, seen, gave_up, renames)
    });
    println!(
        "{renames} write-then-renames of /config under 300 reads: {torn} torn or missing, {} saw version 1, {} version 2, {gave_up} gave up after retries ({:.0} ms)",
        seen[0],
        seen[1],
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

fn frame_section() -> Result<(), Box<dyn std::error::Error>> {
    use stratus::frame::{Agg, JoinHow, SortKey, read_csv};

    println!("\n== frame: Modin-style dataframes ==");
    let started = Instant::now();
    let flights = read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/frame/tests/data/flights_sample.csv.gz"
    ))?;
    let (rows, cols) = flights.shape();
    let blocks = flights.partitioning();
    println!(
        "read {rows} x {cols} flights sample (types inferred: {} Int64, {} Float64, {} Utf8); \
         {} x {} blocks",
        flights
            .dtypes()
            .iter()
            .filter(|t| **t == stratus::frame::DType::Int64)
            .count(),
        flights
            .dtypes()
            .iter()
            .filter(|t| **t == stratus::frame::DType::Float64)
            .count(),
        flights
            .dtypes()
            .iter()
            .filter(|t| **t == stratus::frame::DType::Utf8)
            .count(),
        blocks.row_parts,
        blocks.col_parts
    );
    let by_carrier = flights
        .groupby(&["carrier"])?
        .as_index(false)
        .agg_as(&[
            ("flights", "flight", Agg::Size),
            ("mean_arr_delay", "arr_delay", Agg::Mean),
            ("p50_dep_delay", "dep_delay", Agg::Median),
        ])?
        .sort_by(&[SortKey::desc("mean_arr_delay")])?;
    println!("mean arrival delay by carrier, worst first:");
    print!("{}", by_carrier.head(4));
    let origins = by_carrier
        .merge(
            &flights
                .drop_duplicates(Some(&["carrier"]), stratus::frame::Keep::First)?
                .select(&["carrier", "origin"])?,
            &["carrier"],
            &["carrier"],
            JoinHow::Left,
        )?
        .select(&["carrier", "origin", "flights"])?
        .head(3)
        .transpose()?;
    println!("joined with each carrier's first origin, transposed:");
    print!("{origins}");
    println!("({:.0} ms)", started.elapsed().as_secs_f64() * 1e3);
    Ok(())
}
