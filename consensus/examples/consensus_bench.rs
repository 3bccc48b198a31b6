//! Benchmarks for `stratus-consensus`, printed as tables for the README.
//!
//! Run: `cargo run --release -p stratus-consensus --example consensus_bench [virtual|reconfig|threads|all]`
//!
//! 1. Virtual time (the simulator's cost model: every protocol message costs the receiving
//!    node the same 10 µs of virtual CPU; replies to clients are free so clients never
//!    bottleneck): throughput of MultiPaxos (unbatched and batched) and of BPaxos with 1–5
//!    leaders and 1–2 acceptor groups, as closed-loop client sessions grow.
//! 2. Real threads, the way openraft's `benchmarks/minimal` measures itself: a whole cluster
//!    in one process (one thread per node, crossbeam channels, in-memory state), empty
//!    commands, closed-loop clients at 1 / 64 / 256 / 1024; the same state machine
//!    unreplicated (one server thread) as the baseline; BPaxos in the same harness.

use std::time::{Duration, Instant};

use stratus_consensus::bpaxos::{BPaxos, BPaxosNode};
use stratus_consensus::client::{ClientHost, ClientTimer};
use stratus_consensus::multipaxos::{MultiPaxos, MultiPaxosConfig, MultiPaxosNode};
use stratus_consensus::{
    ClientConfig, ClientTable, ClusterId, Command, Dedup, LoadClient, Nop, NopWorkload, RequestId,
    StateMachine,
};
use stratus_sim::{
    Context, CostModel, LiveCluster, Message, NetConfig, Node, NodeId, SimConfig, Time, TimerId,
};

/// Slots in flight on threads (default 4; `PIPELINE=n` overrides): requests arriving while
/// the window is full form the next batch.
fn pipeline() -> usize {
    std::env::var("PIPELINE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}
const PER_MESSAGE: Duration = Duration::from_micros(10);
const WARM: Time = Time::from_millis(50);
const END: Time = Time::from_millis(250);

fn cost() -> CostModel {
    CostModel::uniform(PER_MESSAGE)
        .with_kind("reply", Duration::ZERO)
        .with_kind("replies", Duration::ZERO)
}

/// Client nodes for the virtual-time runs: every command travels in its own request, so
/// every protocol pays the per-message cost once per command at its entry point.
fn sim_clients(targets: &[NodeId], nodes: u32, sessions: u32) -> Vec<LoadClient<Nop>> {
    let mut clients = load_clients(targets, nodes, sessions, u64::MAX);
    for c in &mut clients {
        c.set_batch_requests(false);
    }
    clients
}

fn load_clients(targets: &[NodeId], nodes: u32, sessions: u32, ops: u64) -> Vec<LoadClient<Nop>> {
    (0..nodes)
        .map(|_| {
            let config = ClientConfig {
                sessions,
                ops_per_session: ops,
                think: Duration::ZERO,
                retry_after: Duration::from_millis(200),
                record_history: false,
                record_latencies: true,
                ..ClientConfig::new(0)
            };
            LoadClient::new(config, targets.to_vec(), NopWorkload)
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Completed commands and latencies of every client, at this instant.
fn tally<'a>(clients: impl Iterator<Item = &'a LoadClient<Nop>>) -> (u64, Vec<Duration>) {
    let mut done = 0;
    let mut lat = Vec::new();
    for c in clients {
        done += c.completed();
        lat.extend_from_slice(c.latencies());
    }
    (done, lat)
}

struct Point {
    tput: f64,
    p50: Duration,
}

fn measure_window(warm: (u64, usize), end: (u64, Vec<Duration>)) -> Point {
    let (done0, lat0) = warm;
    let (done1, lat1) = end;
    let mut lat: Vec<Duration> = lat1[lat0.min(lat1.len())..].to_vec();
    lat.sort_unstable();
    Point {
        tput: (done1 - done0) as f64 / (END - WARM).as_secs_f64(),
        p50: percentile(&lat, 0.5),
    }
}

fn sim_multipaxos(batch_max: usize, sessions: u32) -> Point {
    let mut config = MultiPaxosConfig::new(1);
    config.batch_max = batch_max;
    let builder = MultiPaxos::<Nop>::new(1).config(config);
    let layout = builder.build_layout().expect("valid");
    let clients = sim_clients(&layout.leaders[..1], 8, sessions.div_ceil(8));
    let mut dep = builder
        .simulate(
            SimConfig::new(1).net(NetConfig::default()).cost(cost()),
            clients,
        )
        .expect("valid");
    let ids = dep.clients.clone();
    dep.sim.run_until(WARM).expect("runs");
    let (d0, l0) = tally(ids.iter().filter_map(|&c| dep.sim.node(c)?.as_client()));
    dep.sim.run_until(END).expect("runs");
    let end = tally(ids.iter().filter_map(|&c| dep.sim.node(c)?.as_client()));
    measure_window((d0, l0.len()), end)
}

fn sim_bpaxos(leaders: usize, groups: usize, sessions: u32) -> Point {
    let builder = BPaxos::<Nop>::new(1)
        .leaders(leaders)
        .acceptor_groups(groups);
    let layout = builder.build_layout().expect("valid");
    // Spread client nodes over leaders: node i starts at leader i mod L (retries rotate).
    let nodes = 8u32.max(leaders as u32);
    let clients: Vec<LoadClient<Nop>> = (0..nodes)
        .map(|i| {
            let mut targets = layout.leaders.clone();
            targets.rotate_left(i as usize % leaders);
            sim_clients(&targets, 1, sessions.div_ceil(nodes))
                .pop()
                .expect("one")
        })
        .collect();
    let mut dep = builder
        .simulate(
            SimConfig::new(1).net(NetConfig::default()).cost(cost()),
            clients,
        )
        .expect("valid");
    let ids = dep.clients.clone();
    dep.sim.run_until(WARM).expect("runs");
    let (d0, l0) = tally(ids.iter().filter_map(|&c| dep.sim.node(c)?.as_client()));
    dep.sim.run_until(END).expect("runs");
    let end = tally(ids.iter().filter_map(|&c| dep.sim.node(c)?.as_client()));
    measure_window((d0, l0.len()), end)
}

fn virtual_time() {
    println!("## Virtual time: throughput (commands/s) and median latency vs. client sessions");
    println!(
        "cost model: {} µs of virtual CPU per message received, same for every protocol and role; f = 1; network 50–500 µs\n",
        PER_MESSAGE.as_micros()
    );
    let sessions = [8u32, 32, 128, 512, 1024];
    let mut rows: Vec<(String, Vec<Point>)> = Vec::new();
    rows.push((
        "MultiPaxos, batch 1".into(),
        sessions.iter().map(|&s| sim_multipaxos(1, s)).collect(),
    ));
    rows.push((
        "MultiPaxos, batch ≤ 64".into(),
        sessions.iter().map(|&s| sim_multipaxos(64, s)).collect(),
    ));
    for leaders in 1..=5 {
        rows.push((
            format!("BPaxos, {leaders} leader(s), 1 group"),
            sessions
                .iter()
                .map(|&s| sim_bpaxos(leaders, 1, s))
                .collect(),
        ));
    }
    rows.push((
        "BPaxos, 5 leaders, 2 groups".into(),
        sessions.iter().map(|&s| sim_bpaxos(5, 2, s)).collect(),
    ));
    print!("| protocol |");
    for s in sessions {
        print!(" {s} sessions |");
    }
    println!(" peak |");
    print!("|---|");
    for _ in sessions {
        print!("---|");
    }
    println!("---|");
    let mut peaks = Vec::new();
    for (name, points) in &rows {
        print!("| {name} |");
        for p in points {
            print!(
                " {:.0}k ({:.2} ms) |",
                p.tput / 1e3,
                p.p50.as_secs_f64() * 1e3
            );
        }
        let peak = points.iter().map(|p| p.tput).fold(0.0, f64::max);
        println!(" **{:.0}k** |", peak / 1e3);
        peaks.push((name.clone(), peak));
    }
    let find = |prefix: &str| {
        peaks
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .map(|(_, p)| *p)
            .unwrap_or(0.0)
    };
    let bp5 = find("BPaxos, 5 leader(s)");
    println!(
        "\nBPaxos 5 leaders / MultiPaxos batch 1 peak: {:.2}x; / MultiPaxos batched peak: {:.2}x\n",
        bp5 / find("MultiPaxos, batch 1"),
        bp5 / find("MultiPaxos, batch ≤")
    );
}

fn reconfiguration() {
    println!(
        "## Virtual time: Matchmaker MultiPaxos, 10 acceptor reconfigurations under steady load"
    );
    let mut config = MultiPaxosConfig::new(1);
    config.batch_max = 64;
    let builder = MultiPaxos::<Nop>::new(1)
        .config(config)
        .acceptors(6)
        .matchmakers(3);
    let layout = builder.build_layout().expect("valid");
    let clients = sim_clients(&layout.leaders[..1], 8, 8);
    let mut dep = builder
        .simulate(
            SimConfig::new(1).net(NetConfig::default()).cost(cost()),
            clients,
        )
        .expect("valid");
    let ids = dep.clients.clone();
    let bucket = Duration::from_millis(10);
    let snapshot = |dep: &stratus_consensus::multipaxos::SimDeployment<Nop>| {
        let cs: Vec<&LoadClient<Nop>> = ids
            .iter()
            .filter_map(|&c| dep.sim.node(c)?.as_client())
            .collect();
        let done: u64 = cs.iter().map(|c| c.completed()).sum();
        let lens: Vec<usize> = cs.iter().map(|c| c.latencies().len()).collect();
        (done, lens)
    };
    // Per 10 ms bucket: throughput and median latency.
    let mut buckets: Vec<(Time, f64, Duration)> = Vec::new();
    let mut t = Time::from_millis(100);
    dep.sim.run_until(t).expect("runs");
    let mut prev = snapshot(&dep);
    let pools = [[3u32, 4, 5], [0, 1, 2], [1, 3, 5], [0, 2, 4], [2, 3, 4]];
    let mut next = 0;
    while t < Time::from_millis(500) {
        if t >= Time::from_millis(300)
            && next < 10
            && (t - Time::from_millis(300)).as_millis().is_multiple_of(20)
        {
            let acceptors = pools[next % pools.len()]
                .iter()
                .map(|&i| layout.acceptors[i as usize])
                .collect();
            dep.sim
                .inject(
                    layout.leaders[0],
                    stratus_consensus::multipaxos::PaxosMsg::Reconfigure { acceptors },
                )
                .expect("known leader");
            next += 1;
        }
        t += bucket;
        dep.sim.run_until(t).expect("runs");
        let now = snapshot(&dep);
        let mut lat: Vec<Duration> = Vec::new();
        for (i, &c) in ids.iter().enumerate() {
            if let Some(client) = dep.sim.node(c).and_then(|n| n.as_client()) {
                lat.extend_from_slice(&client.latencies()[prev.1[i]..now.1[i]]);
            }
        }
        lat.sort_unstable();
        buckets.push((
            t,
            (now.0 - prev.0) as f64 / bucket.as_secs_f64(),
            percentile(&lat, 0.5),
        ));
        prev = now;
    }
    let leader = dep
        .sim
        .node(layout.leaders[0])
        .and_then(|n| n.as_leader())
        .expect("leader up");
    let durations = leader.reconfigurations().to_vec();
    let switches = leader.switchovers().to_vec();
    let median = |xs: Vec<f64>| {
        let mut xs = xs;
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let before: Vec<&(Time, f64, Duration)> = buckets
        .iter()
        .filter(|b| b.0 <= Time::from_millis(300))
        .collect();
    let during: Vec<&(Time, f64, Duration)> = buckets
        .iter()
        .filter(|b| b.0 > Time::from_millis(300))
        .collect();
    let tb = median(before.iter().map(|b| b.1).collect());
    let td = median(during.iter().map(|b| b.1).collect());
    let lb = median(before.iter().map(|b| b.2.as_secs_f64() * 1e3).collect());
    let ld = median(during.iter().map(|b| b.2.as_secs_f64() * 1e3).collect());
    // Mean one-way latency of the default network is 275 µs: a round trip is 550 µs.
    let rtt = 550e-6;
    let rtts: Vec<f64> = durations.iter().map(|d| d.as_secs_f64() / rtt).collect();
    println!(
        "f = 1, pool of 6 acceptors, 3 matchmakers, 64 closed-loop sessions, batches ≤ 64, {} µs per message; 10 ms buckets, 200 ms before (100–300 ms) and 200 ms during (300–500 ms; a reconfiguration every 20 ms)\n",
        PER_MESSAGE.as_micros()
    );
    println!("| | median throughput | median latency |");
    println!("|---|---|---|");
    println!("| before | {:.0} cmd/s | {lb:.3} ms |", tb);
    println!(
        "| during | {:.0} cmd/s ({:+.1}%) | {ld:.3} ms ({:+.1}%) |",
        td,
        (td / tb - 1.0) * 100.0,
        (ld / lb - 1.0) * 100.0
    );
    let in_rtts = |ds: &[Duration]| {
        ds.iter()
            .map(|d| format!("{:.1}", d.as_secs_f64() / rtt))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "\nnew configuration taking commands after (round trips of 550 µs): {}",
        in_rtts(&switches)
    );
    println!(
        "\n{} of 10 reconfigurations completed (old configuration retired); each took {} (in round trips of 550 µs: {})\n",
        durations.len(),
        durations
            .iter()
            .map(|d| format!("{:.2} ms", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(", "),
        rtts.iter()
            .map(|r| format!("{r:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

// ---- real threads ----

/// The unreplicated baseline: one server thread applying commands and answering, with the
/// same transport batching as the replicated runs (a client node's requests issued together
/// travel in one message, and so do the answers to them).
enum Solo {
    Server(Nop, ClientTable<()>),
    Client(Box<LoadClient<Nop>>),
}

#[derive(Clone, Debug)]
enum SoloMsg {
    Requests(Vec<Command<()>>),
    Replies(Vec<RequestId>),
}

impl Message for SoloMsg {
    fn kind(&self) -> &'static str {
        match self {
            SoloMsg::Requests(_) => "requests",
            SoloMsg::Replies(_) => "replies",
        }
    }
}

impl Node for Solo {
    type Msg = SoloMsg;
    type Timer = ClientTimer;
    type Durable = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        if let Solo::Client(c) = self {
            c.on_start(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, msg: SoloMsg) {
        match (self, msg) {
            (Solo::Server(machine, table), SoloMsg::Requests(commands)) => {
                let Some(to) = commands.first().map(|c| c.reply_to) else {
                    return;
                };
                let mut ids = Vec::with_capacity(commands.len());
                for command in commands {
                    if let Dedup::Fresh = table.check(command.id) {
                        machine.apply(&command.op);
                        table.record(command.id, ());
                    }
                    ids.push(command.id);
                }
                ctx.send(to, SoloMsg::Replies(ids));
            }
            (Solo::Client(c), SoloMsg::Replies(ids)) => {
                c.on_replies(ctx, ids.into_iter().map(|id| (id, ())).collect(), None);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId, timer: ClientTimer) {
        if let Solo::Client(c) = self {
            c.on_timer(ctx, timer);
        }
    }
}

impl ClientHost<Nop> for Solo {
    fn request(_: ClusterId, command: Command<()>) -> SoloMsg {
        SoloMsg::Requests(vec![command])
    }

    fn requests(_: ClusterId, commands: Vec<Command<()>>) -> Vec<SoloMsg> {
        vec![SoloMsg::Requests(commands)]
    }

    fn client_timer(timer: ClientTimer) -> ClientTimer {
        timer
    }
}

struct LiveRow {
    tput: f64,
    p50: Duration,
    p99: Duration,
}

fn summarize(clients: Vec<&LoadClient<Nop>>, elapsed: Duration) -> LiveRow {
    let (done, mut lat) = tally(clients.into_iter());
    lat.sort_unstable();
    LiveRow {
        tput: done as f64 / elapsed.as_secs_f64(),
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    }
}

fn ops_for(sessions: u32) -> u64 {
    let total: u64 = if sessions == 1 { 20_000 } else { 300_000 };
    (total / u64::from(sessions)).max(1)
}

fn live_solo(sessions: u32) -> LiveRow {
    let server = NodeId(0);
    let client = load_clients(&[server], 1, sessions, ops_for(sessions))
        .pop()
        .expect("one");
    let nodes = vec![
        Solo::Server(Nop::default(), ClientTable::default()),
        Solo::Client(Box::new(client)),
    ];
    let started = Instant::now();
    let cluster = LiveCluster::start(1, nodes).expect("starts");
    assert!(cluster.wait_halted(&[NodeId(1)], Duration::from_secs(120)));
    let elapsed = started.elapsed();
    let report = cluster.shutdown().expect("joins");
    let clients = report
        .nodes
        .iter()
        .filter_map(|n| match n {
            Solo::Client(c) => Some(&**c),
            Solo::Server(..) => None,
        })
        .collect();
    summarize(clients, elapsed)
}

fn live_multipaxos(sessions: u32, batch_max: usize, batch_requests: bool) -> LiveRow {
    let mut config = MultiPaxosConfig::new(1);
    config.batch_max = batch_max;
    config.pipeline = Some(pipeline());
    let builder = MultiPaxos::<Nop>::new(1).replicas(3).config(config);
    let layout = builder.build_layout().expect("valid");
    let mut clients = load_clients(&layout.leaders[..1], 1, sessions, ops_for(sessions));
    for c in &mut clients {
        c.set_batch_requests(batch_requests);
    }
    let started = Instant::now();
    let dep = builder.live(1, clients).expect("starts");
    let ids = dep.client_nodes().to_vec();
    assert!(dep.cluster().wait_halted(&ids, Duration::from_secs(120)));
    let elapsed = started.elapsed();
    let report = dep.shutdown().expect("joins");
    let clients = report
        .nodes
        .iter()
        .filter_map(MultiPaxosNode::as_client)
        .collect();
    summarize(clients, elapsed)
}

fn live_bpaxos(sessions: u32, leaders: usize) -> LiveRow {
    let builder = BPaxos::<Nop>::new(1).leaders(leaders).replicas(3);
    let layout = builder.build_layout().expect("valid");
    let clients = load_clients(&layout.leaders, 1, sessions, ops_for(sessions));
    let started = Instant::now();
    let live = builder.live(1, clients).expect("starts");
    assert!(
        live.cluster
            .wait_halted(&live.clients, Duration::from_secs(120))
    );
    let elapsed = started.elapsed();
    let report = live.cluster.shutdown().expect("joins");
    let clients = report
        .nodes
        .iter()
        .filter_map(BPaxosNode::as_client)
        .collect();
    summarize(clients, elapsed)
}

fn threads() {
    println!("## Real threads: empty commands, closed-loop clients, whole cluster in one process");
    println!(
        "machine: {} hardware threads; MultiPaxos f = 1 with 3 replicas (2 leaders, 3 acceptors, 3 replicas = 8 node threads + 1 client thread), batches ≤ 256 commands per slot, ≤ {} slots in flight, no batching delay",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        pipeline()
    );
    println!(
        "BPaxos f = 1, 2 leaders, 3 dependency nodes, 3 acceptors, 3 replicas (11 node threads + 1 client thread), no batching\n"
    );
    println!(
        "| clients | unreplicated | MultiPaxos | ratio | MultiPaxos, one message per request | BPaxos |"
    );
    println!("|---|---|---|---|---|---|");
    for sessions in [1u32, 64, 256, 1024] {
        let solo = live_solo(sessions);
        let mp = live_multipaxos(sessions, 256, true);
        let single = live_multipaxos(sessions, 256, false);
        let bp = live_bpaxos(sessions, 2);
        let cell = |r: &LiveRow| {
            format!(
                "{:.0} ops/s (p50 {:.0} µs, p99 {:.0} µs)",
                r.tput,
                r.p50.as_secs_f64() * 1e6,
                r.p99.as_secs_f64() * 1e6
            )
        };
        println!(
            "| {sessions} | {} | {} | {:.2} | {} | {} |",
            cell(&solo),
            cell(&mp),
            mp.tput / solo.tput,
            cell(&single),
            cell(&bp)
        );
    }
    println!();
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    if what == "virtual" || what == "all" {
        virtual_time();
    }
    if what == "reconfig" || what == "all" {
        reconfiguration();
    }
    if what == "threads" || what == "all" {
        threads();
    }
}
