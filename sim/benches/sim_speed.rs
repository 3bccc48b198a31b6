//! Simulator speed: events per second on one core.
//!
//! `busy_5_nodes`: five nodes keep 64 tokens each in flight, every delivery forwards the token
//! to a random peer over a lossy, duplicating, reordering network — the simulator's own
//! overhead with trivial node logic. `abd_faulty`: the full ABD scenario (5 replicas, 4
//! clients, chaos), i.e. realistic protocol work per event.
//!
//! Run: `cargo bench -p stratus-sim --bench sim_speed`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratus_sim::abd::AbdScenario;
use stratus_sim::{Context, Message, NetConfig, Node, NodeId, Sim, SimConfig, TimerId};

#[derive(Clone, Debug)]
struct Token(u64);

impl Message for Token {
    fn kind(&self) -> &'static str {
        "token"
    }
}

struct Forwarder {
    peers: u32,
    tokens: u64,
}

impl Node for Forwarder {
    type Msg = Token;
    type Timer = ();
    type Durable = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        for t in 0..self.tokens {
            let to = NodeId(ctx.rng().below(u64::from(self.peers)) as u32);
            ctx.send(to, Token(t));
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _from: NodeId, msg: Token) {
        let to = NodeId(ctx.rng().below(u64::from(self.peers)) as u32);
        ctx.send(to, Token(msg.0 + 1));
    }

    fn on_timer(&mut self, _: &mut Context<'_, Self>, _: TimerId, _: ()) {}
}

const EVENTS: u64 = 1_000_000;

fn busy_run(seed: u64) -> u64 {
    // Loss and duplication balance out, so the token population stays roughly constant.
    let net = NetConfig {
        loss: 0.01,
        duplication: 0.01,
        reorder: 0.05,
        ..NetConfig::default()
    };
    let mut sim: Sim<Forwarder> = Sim::new(SimConfig::new(seed).net(net)).expect("valid config");
    for _ in 0..5 {
        sim.add_node(|_| Forwarder {
            peers: 5,
            tokens: 64,
        });
    }
    while sim.events() < EVENTS && sim.step() {}
    sim.events()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("busy_5_nodes_1M_events", |b| {
        b.iter(|| black_box(busy_run(black_box(1))))
    });
    let events = AbdScenario::faulty(1).run().expect("runs").events;
    group.throughput(Throughput::Elements(events));
    group.bench_function("abd_faulty_scenario", |b| {
        b.iter(|| black_box(AbdScenario::faulty(black_box(1)).run().expect("runs")))
    });
    group.finish();

    // A plain line for the README: events/s over a few repetitions.
    let started = Instant::now();
    let mut total = 0;
    let mut reps = 0;
    while started.elapsed() < Duration::from_secs(3) {
        total += busy_run(reps + 10);
        reps += 1;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("busy 5-node run: {total} events in {reps} runs, {rate:.0} events/s");
}

criterion_group!(benches, bench);
criterion_main!(benches);
