//! The simulator's mechanics, each checked with a small probe node: crashes, restarts,
//! partitions, pauses, the cost model, duplication, loss, timers and bad configuration.

use std::time::Duration;

use stratus_sim::{
    Context, CostModel, Fault, FaultScript, Latency, Message, NetConfig, Node, NodeId, Sim,
    SimConfig, SimError, Time, TimerId,
};

#[derive(Clone, Debug, PartialEq)]
enum Msg {
    Ping(u64),
    Pong(u64),
}

impl Message for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Ping(_) => "ping",
            Msg::Pong(_) => "pong",
        }
    }
}

/// Sends its configured pings at start, answers pings with pongs, logs what it handles,
/// persists a count of pings, and arms/cancels timers as told.
#[derive(Debug, Default)]
struct Probe {
    pings_at_start: Vec<(NodeId, u64)>,
    timers_at_start: Vec<(Duration, u32)>,
    cancel_timer: Option<u32>,
    log: Vec<(Time, NodeId, Msg)>,
    fired: Vec<u32>,
    starts_seen_durable: Vec<u64>,
}

impl Node for Probe {
    type Msg = Msg;
    type Timer = u32;
    type Durable = u64;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        self.starts_seen_durable.push(*ctx.durable());
        for &(to, n) in &self.pings_at_start {
            ctx.send(to, Msg::Ping(n));
        }
        let mut ids = Vec::<(u32, TimerId)>::new();
        for &(delay, tag) in &self.timers_at_start {
            ids.push((tag, ctx.set_timer(delay, tag)));
        }
        if let Some(cancel) = self.cancel_timer {
            for (tag, id) in ids {
                if tag == cancel {
                    ctx.cancel_timer(id);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        self.log.push((ctx.now(), from, msg.clone()));
        if let Msg::Ping(n) = msg {
            ctx.persist(|count| *count += 1);
            ctx.send(from, Msg::Pong(n));
        }
    }

    fn on_timer(&mut self, _ctx: &mut Context<'_, Self>, _id: TimerId, tag: u32) {
        self.fired.push(tag);
    }
}

fn fixed_net() -> NetConfig {
    NetConfig {
        latency: Latency::Fixed(Duration::from_millis(1)),
        ..NetConfig::default()
    }
}

fn sim(net: NetConfig) -> Sim<Probe> {
    Sim::new(SimConfig::new(1).net(net).trace_detail(true)).unwrap()
}

fn pongs(p: &Probe) -> usize {
    p.log
        .iter()
        .filter(|(_, _, m)| matches!(m, Msg::Pong(_)))
        .count()
}

#[test]
fn a_crash_loses_volatile_state_and_keeps_durable_state() {
    let mut s = sim(fixed_net());
    let server = s.add_node(|_| Probe::default());
    let client = s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1), (server, 2)],
        ..Probe::default()
    });
    s.run_until(Time::from_millis(10)).unwrap();
    assert_eq!(s.node(server).unwrap().log.len(), 2);
    assert_eq!(*s.durable(server).unwrap(), 2);
    assert_eq!(pongs(s.node(client).unwrap()), 2);

    s.schedule_fault(Time::from_millis(10), Fault::Crash(server))
        .unwrap();
    s.schedule_fault(Time::from_millis(20), Fault::Restart(server))
        .unwrap();
    s.run_until(Time::from_millis(15)).unwrap();
    assert!(!s.is_up(server));
    s.run_until(Time::from_millis(30)).unwrap();
    let restarted = s.node(server).unwrap();
    assert!(restarted.log.is_empty(), "volatile log must be lost");
    assert_eq!(
        restarted.starts_seen_durable,
        vec![2],
        "durable count survives"
    );
    assert_eq!(s.metrics(server).unwrap().crashes, 1);
}

#[test]
fn messages_to_a_crashed_node_are_dropped() {
    let mut s = sim(fixed_net());
    let server = s.add_node(|_| Probe::default());
    let client = s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1)],
        ..Probe::default()
    });
    s.schedule_fault(Time::ZERO, Fault::Crash(server)).unwrap();
    s.run_until(Time::from_millis(10)).unwrap();
    assert_eq!(pongs(s.node(client).unwrap()), 0);
    assert_eq!(s.metrics(server).unwrap().dropped_down, 1);
}

#[test]
fn one_way_partitions_cut_one_direction_only() {
    let mut s = sim(fixed_net());
    let a = NodeId(0);
    let b = NodeId(1);
    s.add_node(move |_| Probe {
        pings_at_start: vec![(b, 1)],
        ..Probe::default()
    });
    s.add_node(move |_| Probe {
        pings_at_start: vec![(a, 2)],
        ..Probe::default()
    });
    s.schedule_fault(Time::ZERO, Fault::Block { from: a, to: b })
        .unwrap();
    s.run_until(Time::from_millis(10)).unwrap();
    // a → b is cut: b never sees a's ping. b → a works, but a's pong back is cut too.
    assert!(s.node(b).unwrap().log.is_empty());
    let a_log = &s.node(a).unwrap().log;
    assert_eq!(a_log.len(), 1);
    assert_eq!(a_log[0].2, Msg::Ping(2));
    assert_eq!(s.metrics(a).unwrap().dropped_partition, 2);
}

#[test]
fn symmetric_partitions_heal() {
    let mut s = sim(fixed_net());
    let server = s.add_node(|_| Probe::default());
    let client = s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1)],
        ..Probe::default()
    });
    let script = FaultScript::new()
        .at(
            Time::ZERO,
            Fault::Partition(vec![vec![server], vec![client]]),
        )
        .at(Time::from_millis(5), Fault::Heal);
    s.apply_script(&script).unwrap();
    s.run_until(Time::from_millis(20)).unwrap();
    assert_eq!(
        pongs(s.node(client).unwrap()),
        0,
        "the ping was sent during the cut"
    );
    assert_eq!(s.fault_script().events.len(), 2);
}

#[test]
fn a_message_in_flight_when_the_link_is_cut_is_lost() {
    let mut s = sim(fixed_net());
    let server = s.add_node(|_| Probe::default());
    let client = s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1)],
        ..Probe::default()
    });
    // The ping departs at 0 and would arrive at 1 ms; the cut starts at 0.5 ms.
    s.schedule_fault(
        Time::from_micros(500),
        Fault::Block {
            from: client,
            to: server,
        },
    )
    .unwrap();
    s.run_until(Time::from_millis(10)).unwrap();
    assert!(s.node(server).unwrap().log.is_empty());
}

#[test]
fn a_paused_node_handles_its_queued_work_afterwards() {
    let mut s = sim(fixed_net());
    let server = s.add_node(|_| Probe::default());
    s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1), (server, 2)],
        ..Probe::default()
    });
    s.schedule_fault(
        Time::ZERO,
        Fault::Pause {
            node: server,
            duration: Duration::from_millis(10),
        },
    )
    .unwrap();
    s.run_until(Time::from_millis(30)).unwrap();
    let log = &s.node(server).unwrap().log;
    assert_eq!(log.len(), 2, "nothing is lost in a pause");
    assert!(log.iter().all(|(t, _, _)| *t >= Time::from_millis(10)));
    assert_eq!(log[0].2, Msg::Ping(1), "queued work keeps its order");
}

#[test]
fn the_cost_model_makes_a_busy_node_queue() {
    let config = SimConfig::new(3)
        .net(fixed_net())
        .cost(CostModel::uniform(Duration::from_millis(1)).with_kind("pong", Duration::ZERO));
    let mut s: Sim<Probe> = Sim::new(config).unwrap();
    let server = s.add_node(|_| Probe::default());
    for i in 0..10 {
        s.add_node(move |_| Probe {
            pings_at_start: vec![(server, i)],
            ..Probe::default()
        });
    }
    s.run_until(Time::from_millis(50)).unwrap();
    let log = &s.node(server).unwrap().log;
    assert_eq!(log.len(), 10);
    // All ten arrive at 1 ms; each takes 1 ms, so the last starts at 10 ms.
    assert_eq!(log[9].0, Time::from_millis(10));
    let m = s.metrics(server).unwrap();
    assert_eq!(m.max_queue, 9);
    assert_eq!(m.busy, Duration::from_millis(10));
    let util = m.utilisation(Duration::from_millis(50));
    assert!((util - 0.2).abs() < 1e-9, "{util}");
}

#[test]
fn persist_cost_is_charged() {
    let config = SimConfig::new(3)
        .net(fixed_net())
        .cost(CostModel::free().with_persist(Duration::from_millis(2)));
    let mut s: Sim<Probe> = Sim::new(config).unwrap();
    let server = s.add_node(|_| Probe::default());
    s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1)],
        ..Probe::default()
    });
    s.run_until(Time::from_millis(50)).unwrap();
    let m = s.metrics(server).unwrap();
    assert_eq!((m.persists, m.busy), (1, Duration::from_millis(2)));
}

#[test]
fn full_duplication_delivers_every_message_twice() {
    let net = NetConfig {
        duplication: 1.0,
        ..fixed_net()
    };
    let mut s = sim(net);
    let server = s.add_node(|_| Probe::default());
    let client = s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1)],
        ..Probe::default()
    });
    s.run_until(Time::from_millis(10)).unwrap();
    assert_eq!(s.node(server).unwrap().log.len(), 2);
    assert_eq!(pongs(s.node(client).unwrap()), 4);
    assert_eq!(s.metrics(client).unwrap().duplicated, 1);
}

#[test]
fn full_loss_delivers_nothing() {
    let net = NetConfig {
        loss: 1.0,
        ..fixed_net()
    };
    let mut s = sim(net);
    let server = s.add_node(|_| Probe::default());
    let client = s.add_node(move |_| Probe {
        pings_at_start: vec![(server, 1), (server, 2)],
        ..Probe::default()
    });
    s.run_until(Time::from_millis(10)).unwrap();
    assert!(s.node(server).unwrap().log.is_empty());
    assert_eq!(s.metrics(client).unwrap().dropped_loss, 2);
}

#[test]
fn reordering_lets_later_messages_overtake() {
    let net = NetConfig {
        reorder: 0.5,
        reorder_delay: Duration::from_millis(20),
        ..fixed_net()
    };
    let mut s = sim(net);
    let server = s.add_node(|_| Probe::default());
    s.add_node(move |_| Probe {
        pings_at_start: (0..50).map(|i| (server, i)).collect(),
        ..Probe::default()
    });
    s.run_until(Time::from_millis(100)).unwrap();
    let order: Vec<u64> = s
        .node(server)
        .unwrap()
        .log
        .iter()
        .filter_map(|(_, _, m)| if let Msg::Ping(n) = m { Some(*n) } else { None })
        .collect();
    assert_eq!(order.len(), 50);
    assert!(
        order.windows(2).any(|w| w[0] > w[1]),
        "expected some reordering: {order:?}"
    );
}

#[test]
fn cancelled_timers_and_timers_from_before_a_crash_never_fire() {
    let mut s = sim(fixed_net());
    let n = s.add_node(|_| Probe {
        timers_at_start: vec![(Duration::from_millis(5), 1), (Duration::from_millis(5), 2)],
        cancel_timer: Some(2),
        ..Probe::default()
    });
    s.run_until(Time::from_millis(10)).unwrap();
    assert_eq!(s.node(n).unwrap().fired, vec![1]);

    // Crash at 11 ms with timers armed by the restart at 10 ms due at 15 ms: they must not
    // fire after the second restart at 12 ms (whose own timers are due at 17 ms).
    s.schedule_fault(Time::from_millis(10), Fault::Crash(n))
        .unwrap();
    s.schedule_fault(Time::from_millis(10), Fault::Restart(n))
        .unwrap();
    s.schedule_fault(Time::from_millis(11), Fault::Crash(n))
        .unwrap();
    s.schedule_fault(Time::from_millis(12), Fault::Restart(n))
        .unwrap();
    s.run_until(Time::from_millis(16)).unwrap();
    assert!(s.node(n).unwrap().fired.is_empty());
    s.run_until(Time::from_millis(20)).unwrap();
    assert_eq!(s.node(n).unwrap().fired, vec![1]);
}

#[test]
fn the_host_talks_to_nodes_as_external() {
    let mut s = sim(fixed_net());
    let server = s.add_node(|_| Probe::default());
    s.inject(server, Msg::Ping(9)).unwrap();
    s.run_until(Time::from_millis(10)).unwrap();
    assert_eq!(s.take_external(), vec![(server, Msg::Pong(9))]);
    assert!(s.take_external().is_empty());
}

#[test]
fn bad_configuration_gets_typed_errors() {
    let bad = NetConfig {
        loss: 1.5,
        ..NetConfig::default()
    };
    assert!(matches!(
        Sim::<Probe>::new(SimConfig::new(0).net(bad)),
        Err(SimError::InvalidProbability { name: "loss", .. })
    ));
    let negative = NetConfig {
        reorder: -0.1,
        ..NetConfig::default()
    };
    assert!(Sim::<Probe>::new(SimConfig::new(0).net(negative)).is_err());

    let mut empty: Sim<Probe> = Sim::new(SimConfig::new(0)).unwrap();
    assert_eq!(empty.run_until(Time::from_secs(1)), Err(SimError::NoNodes));

    let mut s = sim(fixed_net());
    s.add_node(|_| Probe::default());
    let unknown = SimError::UnknownNode {
        node: NodeId(5),
        nodes: 1,
    };
    assert_eq!(
        s.schedule_fault(Time::ZERO, Fault::Crash(NodeId(5))),
        Err(unknown.clone())
    );
    assert_eq!(s.inject(NodeId(5), Msg::Ping(0)), Err(unknown.clone()));
    let script = FaultScript::new().at(Time::ZERO, Fault::Heal).at(
        Time::ZERO,
        Fault::Partition(vec![vec![NodeId(0)], vec![NodeId(5)]]),
    );
    assert_eq!(s.apply_script(&script), Err(unknown.clone()));
    assert!(
        s.fault_script().events.is_empty(),
        "a rejected script schedules nothing"
    );
    assert_eq!(s.run_until_halted(&[NodeId(5)], Time::MAX), Err(unknown));
}

#[test]
fn detailed_traces_are_deterministic_and_show_recent_events() {
    let run = |seed| {
        let mut s: Sim<Probe> = Sim::new(
            SimConfig::new(seed)
                .net(NetConfig::lossy())
                .trace_detail(true),
        )
        .unwrap();
        let server = s.add_node(|_| Probe::default());
        s.add_node(move |_| Probe {
            pings_at_start: (0..20).map(|i| (server, i)).collect(),
            ..Probe::default()
        });
        s.run_until(Time::from_secs(1)).unwrap();
        (s.trace_hash(), s.trace_tail(), s.events())
    };
    let (h1, tail, events) = run(4);
    let (h2, _, _) = run(4);
    assert_eq!(h1, h2);
    assert_ne!(h1, run(5).0);
    assert!(events > 20);
    assert!(tail.contains("pong Pong("), "{tail}");
}
