//! AFT over each backend vs the same backend used directly: throughput and per-transaction
//! latency (p50/p99) for read-heavy and write-heavy transactions; then storage size over a
//! long run with garbage collection.
//!
//! ```sh
//! cargo bench -p stratus-txn --bench aft
//! AFT_TXNS=20000 cargo bench -p stratus-txn --bench aft   # more transactions per cell
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use stratus_lattice::kvs::{Kvs, KvsConfig};
use stratus_sim::SimRng;
use stratus_txn::storage::{KvsStorage, MemStorage, RedbStorage, Storage};
use stratus_txn::{AftCluster, AftNode};

const OPS_PER_TXN: usize = 4;
const KEYS: u64 = 10_000;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `(is_write, key)` per operation, `OPS_PER_TXN` per transaction.
fn workload(txns: usize, write_fraction: f64, seed: u64) -> Vec<Vec<(bool, String)>> {
    let mut rng = SimRng::new(seed);
    (0..txns)
        .map(|_| {
            (0..OPS_PER_TXN)
                .map(|_| {
                    (
                        rng.chance(write_fraction),
                        format!("key{}", rng.below(KEYS)),
                    )
                })
                .collect()
        })
        .collect()
}

struct Stats {
    txns_per_s: f64,
    p50: Duration,
    p99: Duration,
}

fn stats(mut lat: Vec<Duration>, wall: Duration) -> Stats {
    lat.sort();
    let n = lat.len();
    Stats {
        txns_per_s: n as f64 / wall.as_secs_f64(),
        p50: lat[n / 2],
        p99: lat[(n * 99 / 100).min(n - 1)],
    }
}

fn preload(storage: &Arc<dyn Storage>, node: &AftNode) {
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(500) {
        node.run(|tx| {
            for k in chunk {
                tx.put(&format!("key{k}"), vec![0u8; 16])?;
            }
            Ok(())
        })
        .expect("preload through AFT");
    }
    let direct: Vec<(String, Vec<u8>)> = (0..KEYS)
        .map(|k| (format!("plain/key{k}"), vec![0u8; 16]))
        .collect();
    for chunk in direct.chunks(500) {
        storage.put_many(chunk.to_vec()).expect("preload direct");
    }
}

fn run_direct(storage: &Arc<dyn Storage>, txns: &[Vec<(bool, String)>]) -> Stats {
    let mut lat = Vec::with_capacity(txns.len());
    let start = Instant::now();
    for t in txns {
        let s = Instant::now();
        let mut writes = Vec::new();
        for (write, key) in t {
            let key = format!("plain/{key}");
            if *write {
                writes.push((key, vec![1u8; 16]));
            } else {
                std::hint::black_box(storage.get(&key).expect("get"));
            }
        }
        if !writes.is_empty() {
            storage.put_many(writes).expect("put");
        }
        lat.push(s.elapsed());
    }
    stats(lat, start.elapsed())
}

fn run_aft(node: &AftNode, txns: &[Vec<(bool, String)>]) -> Stats {
    let mut lat = Vec::with_capacity(txns.len());
    let start = Instant::now();
    for t in txns {
        let s = Instant::now();
        node.run(|tx| {
            for (write, key) in t {
                if *write {
                    tx.put(key, vec![1u8; 16])?;
                } else {
                    std::hint::black_box(tx.get(key)?);
                }
            }
            Ok(())
        })
        .expect("transaction");
        lat.push(s.elapsed());
    }
    stats(lat, start.elapsed())
}

fn main() {
    let n = env("AFT_TXNS", 5_000) as usize;
    println!("{n} transactions of {OPS_PER_TXN} operations over {KEYS} keys per cell, one thread");
    println!(
        "\n{:<8} {:<12} {:>12} {:>12} {:>9}  {:>9} {:>9}  {:>9} {:>9}",
        "backend",
        "mix",
        "direct tx/s",
        "AFT tx/s",
        "overhead",
        "dir p50",
        "dir p99",
        "AFT p50",
        "AFT p99"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let backends: Vec<(&str, Arc<dyn Storage>, usize)> = vec![
        ("memory", Arc::new(MemStorage::new()), n),
        (
            "kvs",
            Arc::new(KvsStorage::new(
                Kvs::start(KvsConfig::new(2)).expect("kvs"),
                1,
            )),
            n / 5,
        ),
        (
            "redb",
            Arc::new(RedbStorage::open(dir.path().join("bench.redb")).expect("redb")),
            n / 25,
        ),
    ];
    let only = std::env::var("AFT_BACKENDS").unwrap_or_else(|_| "memory,kvs,redb".into());
    for (name, storage, count) in backends.into_iter().filter(|b| only.contains(b.0)) {
        let (node, _) = AftNode::open(0, Arc::clone(&storage)).expect("node");
        preload(&storage, &node);
        for (mix, wf) in [("read-heavy", 0.05), ("write-heavy", 0.5)] {
            let txns = workload(count.max(50), wf, 42);
            // Interleave and keep the better of two runs each, to damp noise.
            let d1 = run_direct(&storage, &txns);
            let a1 = run_aft(&node, &txns);
            let d2 = run_direct(&storage, &txns);
            let a2 = run_aft(&node, &txns);
            let d = if d1.txns_per_s > d2.txns_per_s {
                d1
            } else {
                d2
            };
            let a = if a1.txns_per_s > a2.txns_per_s {
                a1
            } else {
                a2
            };
            println!(
                "{:<8} {:<12} {:>12.0} {:>12.0} {:>8.0}%  {:>7.1}µs {:>7.1}µs  {:>7.1}µs {:>7.1}µs",
                name,
                mix,
                d.txns_per_s,
                a.txns_per_s,
                (d.txns_per_s / a.txns_per_s - 1.0) * 100.0,
                d.p50.as_secs_f64() * 1e6,
                d.p99.as_secs_f64() * 1e6,
                a.p50.as_secs_f64() * 1e6,
                a.p99.as_secs_f64() * 1e6,
            );
        }
    }

    println!(
        "\nThroughput against AFT nodes in virtual time (sim cost model, 16 closed-loop clients per node):"
    );
    println!(
        "{:>6} {:>14} {:>14} {:>10}",
        "nodes", "txns/s total", "txns/s per node", "vs 1 node"
    );
    let mut base = None;
    for nodes in [1usize, 2, 4, 8, 16] {
        let outcome = stratus_txn::simulated::SimTxnScenario::scaling(42, nodes)
            .run()
            .expect("scaling run");
        let per_node = outcome.throughput() / nodes as f64;
        let b = *base.get_or_insert(per_node);
        println!(
            "{:>6} {:>14.0} {:>14.0} {:>10.3}",
            nodes,
            outcome.throughput(),
            per_node,
            per_node / b
        );
    }
    if std::env::var("AFT_NO_GC").is_ok() {
        return;
    }
    println!(
        "\nStorage keys over a long write-heavy run on 2 nodes (memory), GC every 1,000 txns:"
    );
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let (cluster, _) = AftCluster::new(Arc::clone(&storage), 2).expect("cluster");
    let txns = workload(20_000, 0.5, 7);
    println!("{:>8} {:>14} {:>14}", "txns", "keys (no GC)", "keys (GC)");
    let plain: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let (no_gc, _) = AftNode::open(0, Arc::clone(&plain)).expect("node");
    for (i, t) in txns.iter().enumerate() {
        let node = cluster.node(i % 2).expect("node");
        for n in [node.as_ref(), &no_gc] {
            n.run(|tx| {
                for (write, key) in t {
                    if *write {
                        tx.put(&key[..key.len().min(5)], vec![1u8; 16])?;
                    } else {
                        std::hint::black_box(tx.get(&key[..key.len().min(5)])?);
                    }
                }
                Ok(())
            })
            .expect("transaction");
        }
        if (i + 1) % 1_000 == 0 {
            cluster.gc().expect("gc");
            if (i + 1) % 4_000 == 0 {
                println!(
                    "{:>8} {:>14} {:>14}",
                    i + 1,
                    plain.len().expect("len"),
                    storage.len().expect("len")
                );
            }
        }
    }
}
