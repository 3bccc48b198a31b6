//! YCSB-style mixes: the Stratus KVS against `parking_lot::RwLock<HashMap>` and `dashmap`,
//! the same keys and the same pre-generated operation streams, engines interleaved and
//! repeated; then throughput against cluster size in virtual time.
//!
//! ```sh
//! cargo bench -p stratus-lattice --bench ycsb               # 1M keys, 2M ops per thread, 5 rounds
//! YCSB_KEYS=100000 YCSB_OPS=200000 YCSB_ROUNDS=1 cargo bench -p stratus-lattice --bench ycsb
//! ```
//!
//! Puts are max-merges everywhere (`Max<u64>` in the KVS, `max` in the maps); gets fold the
//! value read into a checksum so no engine can skip them.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use parking_lot::RwLock;
use stratus_lattice::Max;
use stratus_lattice::kvs::{Kvs, KvsConfig, Op, Reply, ScalingRun};
use stratus_sim::SimRng;

/// One operation of a stream: `(is_put, key, value)`.
type Stream = Vec<(bool, u64, u64)>;

#[derive(Clone, Copy)]
struct Mix {
    name: &'static str,
    read_fraction: f64,
    zipf: bool,
}

const MIXES: [Mix; 4] = [
    Mix {
        name: "read-heavy 95/5, uniform",
        read_fraction: 0.95,
        zipf: false,
    },
    Mix {
        name: "read-heavy 95/5, zipf 0.99",
        read_fraction: 0.95,
        zipf: true,
    },
    Mix {
        name: "update-heavy 50/50, uniform",
        read_fraction: 0.5,
        zipf: false,
    },
    Mix {
        name: "update-heavy 50/50, zipf 0.99",
        read_fraction: 0.5,
        zipf: true,
    },
];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Zipf(θ) over ranks 0..n by inverse CDF, ranks scrambled over the key space (YCSB's
/// "scrambled zipfian", so hot keys are not neighbours).
struct Zipf {
    cdf: Vec<f64>,
    permutation: Vec<u64>,
}

impl Zipf {
    fn new(n: u64, theta: f64, rng: &mut SimRng) -> Self {
        let mut cdf = Vec::with_capacity(n as usize);
        let mut total = 0.0;
        for rank in 1..=n {
            total += 1.0 / (rank as f64).powf(theta);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        let mut permutation: Vec<u64> = (0..n).collect();
        rng.shuffle(&mut permutation);
        Zipf { cdf, permutation }
    }

    fn sample(&self, rng: &mut SimRng) -> u64 {
        let u = rng.next_f64();
        let rank = self.cdf.partition_point(|&c| c < u);
        self.permutation[rank.min(self.cdf.len() - 1)]
    }
}

fn streams(mix: Mix, keys: u64, ops: u64, threads: usize, zipf: &Zipf, seed: u64) -> Vec<Stream> {
    (0..threads)
        .map(|t| {
            let mut rng = SimRng::new(seed ^ (t as u64) << 32);
            (0..ops)
                .map(|i| {
                    let key = if mix.zipf {
                        zipf.sample(&mut rng)
                    } else {
                        rng.below(keys)
                    };
                    (!rng.chance(mix.read_fraction), key, i + 1)
                })
                .collect()
        })
        .collect()
}

/// Runs `body` on each stream in its own thread, all released together; returns the
/// wall time from release to the last finish.
fn timed<F>(streams: &[Stream], body: F) -> Duration
where
    F: Fn(usize, &Stream) -> u64 + Sync,
{
    let barrier = Barrier::new(streams.len() + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = streams
            .iter()
            .enumerate()
            .map(|(t, stream)| {
                let barrier = &barrier;
                let body = &body;
                s.spawn(move || {
                    barrier.wait();
                    black_box(body(t, stream));
                    Instant::now()
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let end = handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .max()
            .unwrap_or(start);
        end - start
    })
}

fn run_rwlock(keys: u64, streams: &[Stream]) -> Duration {
    let map: RwLock<HashMap<u64, u64>> = RwLock::new((0..keys).map(|k| (k, 0)).collect());
    timed(streams, |_, stream| {
        let mut sum = 0u64;
        for &(put, key, value) in stream {
            if put {
                let mut m = map.write();
                let v = m.entry(key).or_insert(0);
                *v = (*v).max(value);
            } else if let Some(v) = map.read().get(&key) {
                sum = sum.wrapping_add(*v);
            }
        }
        sum
    })
}

fn run_dashmap(keys: u64, streams: &[Stream]) -> Duration {
    run_dashmap_with::<std::collections::hash_map::RandomState>(keys, streams)
}

/// dashmap with the hasher the KVS shards use (foldhash), to separate the hasher's share of
/// the ratio from the design's.
fn run_dashmap_with<S>(keys: u64, streams: &[Stream]) -> Duration
where
    S: std::hash::BuildHasher + Default + Clone + Send + Sync,
{
    let map: DashMap<u64, u64, S> = DashMap::with_hasher(S::default());
    for k in 0..keys {
        map.insert(k, 0);
    }
    timed(streams, |_, stream| {
        let mut sum = 0u64;
        for &(put, key, value) in stream {
            if put {
                let mut v = map.entry(key).or_insert(0);
                *v = (*v).max(value);
            } else if let Some(v) = map.get(&key) {
                sum = sum.wrapping_add(*v);
            }
        }
        sum
    })
}

const BATCH: usize = 4096;
const LOCAL_BATCH: usize = 1 << 16;

fn run_stratus(keys: u64, streams: &[Stream]) -> (Duration, usize) {
    let kvs: Kvs<u64, Max<u64>> =
        Kvs::start(KvsConfig::new(streams.len())).expect("start the store");
    // Preload every key, as the maps are.
    let loader = kvs.client();
    let mut pending = Vec::new();
    for chunk in (0..keys).collect::<Vec<_>>().chunks(1 << 16) {
        let ops = chunk.iter().map(|&k| Op::Put(k, Max::new(0))).collect();
        pending.push(loader.submit(ops).expect("preload"));
    }
    for p in pending {
        p.wait().expect("preload");
    }
    let clients: Vec<_> = streams.iter().map(|_| kvs.client()).collect();
    let clients = Arc::new(clients);
    let wall = timed(streams, |t, stream| {
        let client = &clients[t];
        let mut sum = 0u64;
        let mut in_flight = std::collections::VecDeque::new();
        for chunk in stream.chunks(BATCH) {
            let ops: Vec<Op<u64, Max<u64>>> = chunk
                .iter()
                .map(|&(put, key, value)| {
                    if put {
                        Op::Put(key, Max::new(value))
                    } else {
                        Op::Get(key)
                    }
                })
                .collect();
            in_flight.push_back(client.submit(ops).expect("submit"));
            // Two batches in flight: the workers serve one while this thread routes the next.
            if in_flight.len() > 2 {
                sum = sum.wrapping_add(collect(in_flight.pop_front()));
            }
        }
        while let Some(p) = in_flight.pop_front() {
            sum = sum.wrapping_add(collect(Some(p)));
        }
        sum
    });
    let hot = kvs.hot_keys().len();
    drop(kvs);
    (wall, hot)
}

/// Co-located mode: each bench thread is a worker ([`Kvs::run_local`]).
fn run_stratus_local(keys: u64, streams: &[Stream], config: KvsConfig) -> (Duration, usize) {
    let barrier = Barrier::new(streams.len());
    let (times, report) = Kvs::<u64, Max<u64>>::run_local(config, |w| {
        // Preload the keys this worker owns (all local, so no worker waits on another).
        let me = w.id();
        let owned: Vec<Op<u64, Max<u64>>> = (0..keys)
            .filter(|k| w.placement().primary(k) == me)
            .map(|k| Op::Put(k, Max::new(0)))
            .collect();
        w.execute_with(owned, |_, _| {}).expect("preload");
        barrier.wait();
        let start = Instant::now();
        let mut sum = 0u64;
        // Large batches: remote operations leave in chunks of 1024 as the batch is issued and
        // are answered while it runs, so the wait at the batch's end is short.
        for chunk in streams[me].chunks(LOCAL_BATCH) {
            let ops = chunk.iter().map(|&(put, key, value)| {
                if put {
                    Op::Put(key, Max::new(value))
                } else {
                    Op::Get(key)
                }
            });
            w.execute_with(ops, |_, r| {
                if let Reply::Value(Some(v)) = r {
                    sum = sum.wrapping_add(*v.get());
                }
            })
            .expect("execute");
        }
        black_box(sum);
        (start, Instant::now())
    })
    .expect("run_local");
    let start = times.iter().map(|t| t.0).min().expect("a worker");
    let end = times.iter().map(|t| t.1).max().expect("a worker");
    (end - start, report.hot_keys)
}

/// The bare shard core on the calling thread (one shard per stream, no driver): the floor
/// under both Stratus modes.
fn run_shard_core(keys: u64, streams: &[Stream]) -> Duration {
    use stratus_lattice::kvs::{Handled, Placement, ShardParams, ShardState};
    let config = KvsConfig::new(1);
    let placement = Arc::new(Placement::new(&config).expect("placement"));
    let params = ShardParams::new(0, placement, &config);
    let shards: Vec<parking_lot::Mutex<ShardState<u64, Max<u64>>>> = streams
        .iter()
        .map(|_| {
            let mut shard = ShardState::default();
            for k in 0..keys {
                let _ = shard.handle(&params, Op::Put(k, Max::new(0)));
            }
            parking_lot::Mutex::new(shard)
        })
        .collect();
    timed(streams, |t, stream| {
        let mut shard = shards[t].lock();
        let mut sum = 0u64;
        for &(put, key, value) in stream {
            let op = if put {
                Op::Put(key, Max::new(value))
            } else {
                Op::Get(key)
            };
            if let Handled::Done(Reply::Value(Some(v))) = shard.handle(&params, op) {
                sum = sum.wrapping_add(*v.get());
            }
        }
        sum
    })
}

fn collect(pending: Option<stratus_lattice::kvs::Pending<Max<u64>>>) -> u64 {
    let Some(pending) = pending else { return 0 };
    let mut sum = 0u64;
    for reply in pending.wait().expect("replies") {
        if let Reply::Value(Some(v)) = reply {
            sum = sum.wrapping_add(*v.get());
        }
    }
    sum
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn main() {
    let keys = env("YCSB_KEYS", 1_000_000);
    let ops = env("YCSB_OPS", 2_000_000);
    let rounds = env("YCSB_ROUNDS", 5).max(1);
    let seed = env("YCSB_SEED", 42);
    println!(
        "YCSB: {keys} keys, {ops} ops per thread, {rounds} rounds (engines interleaved), seed {seed}"
    );
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "throughput in M ops/s; dash+fh = dashmap with foldhash (the KVS shards' hasher); \
         clients = Kvs worker threads + client threads; local = Kvs::run_local (replication 1, \
         hot keys on every worker); full = run_local with every key on every worker"
    );
    let mut rng = SimRng::new(seed);
    let zipf = Zipf::new(keys, 0.99, &mut rng);
    println!(
        "\n{:<30} {:>3}  {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  {:>8} {:>8} {:>8} {:>8} {:>8}  {:>4}",
        "mix",
        "thr",
        "rwlock",
        "dashmap",
        "dash+fh",
        "clients",
        "local",
        "full",
        "loc÷rw",
        "loc÷dash",
        "loc÷d+fh",
        "full÷dsh",
        "cli÷dash",
        "hot"
    );
    // Optional filters for profiling one case: YCSB_MIX=<substring>, YCSB_THREADS=<n>.
    let only_mix = std::env::var("YCSB_MIX").unwrap_or_default();
    let only_threads = env("YCSB_THREADS", 0) as usize;
    let skip_sim = std::env::var("YCSB_NO_SIM").is_ok();
    let engines = std::env::var("YCSB_ENGINES")
        .unwrap_or_else(|_| "rwlock,dashmap,dashfold,clients,local,full".into());
    for mix in MIXES
        .into_iter()
        .filter(|m| m.name.contains(only_mix.as_str()))
    {
        for threads in [1usize, 2]
            .into_iter()
            .filter(|&t| only_threads == 0 || t == only_threads)
        {
            let streams = streams(mix, keys, ops, threads, &zipf, seed);
            let total = (ops * threads as u64) as f64;
            let (mut rw, mut dm, mut st, mut lo) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut df = Vec::new();
            let mut fu = Vec::new();
            let mut hot = 0;
            let rate = |wall: Duration| total / wall.as_secs_f64() / 1e6;
            for _ in 0..rounds {
                if engines.contains("rwlock") {
                    rw.push(rate(run_rwlock(keys, &streams)));
                }
                if engines.contains("dashmap") {
                    dm.push(rate(run_dashmap(keys, &streams)));
                }
                if engines.contains("core") {
                    eprintln!(
                        "  shard core alone: {:.2} M/s",
                        rate(run_shard_core(keys, &streams))
                    );
                }
                if engines.contains("dashfold") {
                    df.push(rate(run_dashmap_with::<foldhash::fast::RandomState>(
                        keys, &streams,
                    )));
                }
                if engines.contains("clients") {
                    st.push(rate(run_stratus(keys, &streams).0));
                }
                if engines.contains("local") {
                    let config = KvsConfig::new(threads);
                    let (wall, h) = run_stratus_local(keys, &streams, config);
                    hot = h;
                    lo.push(rate(wall));
                }
                if engines.contains("full") {
                    // Every key on every worker: all operations local, puts gossiped.
                    let config = KvsConfig::new(threads).replication(threads);
                    fu.push(rate(run_stratus_local(keys, &streams, config).0));
                }
            }
            let (rw, dm, df, st, lo) = (median(rw), median(dm), median(df), median(st), median(lo));
            let fu = median(fu);
            println!(
                "{:<30} {:>3}  {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}  {:>7.2}x {:>7.2}x {:>7.2}x {:>7.2}x {:>7.2}x  {:>4}",
                mix.name,
                threads,
                rw,
                dm,
                df,
                st,
                lo,
                fu,
                lo / rw,
                lo / dm,
                lo / df,
                fu / dm,
                st / dm,
                hot
            );
        }
    }

    if skip_sim {
        return;
    }
    println!("\nVirtual-time scaling (sim cost model; replication 3, batches of 100, 50% gets):");
    println!(
        "{:>6} {:>14} {:>14} {:>10} {:>14}",
        "nodes", "ops/s total", "ops/s per node", "vs 3 nodes", "gossip/put"
    );
    let mut base = None;
    for nodes in [1usize, 2, 3, 4, 8, 16, 32, 64] {
        let point = ScalingRun::new(seed, nodes).run().expect("scaling run");
        if nodes == 3 {
            base = Some(point.per_node);
        }
        let rel = base.map_or(String::from("-"), |b| format!("{:.3}", point.per_node / b));
        println!(
            "{:>6} {:>14.0} {:>14.0} {:>10} {:>14.2}",
            nodes, point.throughput, point.per_node, rel, point.gossip_per_put
        );
    }
}
