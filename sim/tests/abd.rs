//! ABD on the simulator: the correct register is linearizable under faults over many seeds,
//! the broken one (reads without write-back) is caught, and seeds replay exactly.

use stratus_sim::LiveCluster;
use stratus_sim::abd::{AbdScenario, ClientConfig, deployment, merged_history};
use stratus_sim::linearizability::{RegisterInput, RegisterModel, check_partitioned};
use stratus_sim::seeds::{find_failure, sweep};

#[test]
fn same_seed_same_trace_hash_and_history() {
    let a = AbdScenario::faulty(7).run().unwrap();
    let b = AbdScenario::faulty(7).run().unwrap();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.events, b.events);
    assert_eq!(format!("{:?}", a.history), format!("{:?}", b.history));
    let c = AbdScenario::faulty(8).run().unwrap();
    assert_ne!(a.trace_hash, c.trace_hash, "different seeds should diverge");
}

#[test]
fn correct_abd_is_linearizable_under_faults_over_1000_seeds() {
    let mut faults_seen = 0;
    let ran = sweep(1000, |seed| {
        let outcome = AbdScenario::faulty(seed).run().map_err(|e| e.to_string())?;
        faults_seen += outcome.faults.events.len();
        outcome.check()
    });
    assert!(ran >= 1, "no seed ran");
    // The sweep must really have been under fire, not a healthy network.
    assert!(
        faults_seen >= ran as usize,
        "too few faults: {faults_seen} over {ran} seeds"
    );
}

#[test]
fn broken_abd_is_caught_and_its_seed_replays() {
    let failure = find_failure(1000, |seed| {
        AbdScenario::faulty(seed)
            .broken()
            .run()
            .map_err(|e| e.to_string())?
            .check()
    })
    .expect("the checker must catch reads without write-back within 1000 seeds");
    assert!(failure.message.contains("not linearizable"), "{failure}");
    // Replaying the seed gives the same history and the same verdict.
    let first = AbdScenario::faulty(failure.seed).broken().run().unwrap();
    let again = AbdScenario::faulty(failure.seed).broken().run().unwrap();
    assert_eq!(
        format!("{:?}", first.history),
        format!("{:?}", again.history)
    );
    assert_eq!(first.trace_hash, again.trace_hash);
    assert!(!first.verdict.is_linearizable());
    eprintln!("broken ABD caught at seed {}", failure.seed);
}

#[test]
fn abd_runs_unchanged_on_the_live_thread_driver() {
    let (nodes, clients) = deployment(3, 3, |replicas| ClientConfig {
        ops: 30,
        ..ClientConfig::new(replicas)
    });
    let cluster = LiveCluster::start(1, nodes).unwrap();
    assert!(
        cluster.wait_halted(&clients, std::time::Duration::from_secs(30)),
        "live clients did not finish"
    );
    let report = cluster.shutdown().unwrap();
    let (history, completed) = merged_history(&report.nodes);
    assert_eq!(completed, 90);
    let verdict =
        check_partitioned(&RegisterModel::<u64>::new(), &history, RegisterInput::key).unwrap();
    assert!(verdict.is_linearizable(), "{verdict:?}");
}
