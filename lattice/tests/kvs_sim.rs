//! The KVS core on the simulator: replicas converge under loss, duplication, reordering,
//! partitions and crash/restart, over many seeds; fire-and-forget gossip is caught.
//!
//! Replay one seed: `STRATUS_SEED=n cargo test -p stratus-lattice --test kvs_sim`.
//! More seeds: `STRATUS_SEEDS=10000 cargo test --release -p stratus-lattice --test kvs_sim`.

use stratus_lattice::kvs::{ConvergenceScenario, ScalingRun};
use stratus_sim::seeds::{find_failure, sweep};

#[test]
fn replicas_converge_over_1000_seeds() {
    let mut promoted = 0;
    let ran = sweep(1000, |seed| {
        let outcome = ConvergenceScenario::faulty(seed)
            .run()
            .map_err(|e| e.to_string())?;
        promoted += outcome.promoted;
        outcome.check()
    });
    assert!(ran >= 1);
    // The workload is skewed so hot-key replication happens during the faults.
    assert!(promoted > 0, "no key was ever promoted to hot");
}

#[test]
fn fire_and_forget_gossip_is_caught() {
    let failure = find_failure(200, |seed| {
        ConvergenceScenario::faulty(seed)
            .broken()
            .run()
            .map_err(|e| e.to_string())?
            .check()
    })
    .expect("lost gossip must show up as divergent replicas");
    assert!(
        failure.message.contains("not converged") || failure.message.contains("liveness"),
        "{failure}"
    );
    // The failing seed replays identically.
    let again = ConvergenceScenario::faulty(failure.seed)
        .broken()
        .run()
        .unwrap();
    assert!(again.check().is_err());
}

#[test]
fn a_seed_replays_identically() {
    let a = ConvergenceScenario::faulty(7).run().unwrap();
    let b = ConvergenceScenario::faulty(7).run().unwrap();
    assert_eq!(a.events, b.events);
    assert_eq!(a.converged_at, b.converged_at);
    assert_eq!(a.acked_puts, b.acked_puts);
}

#[test]
fn scaling_runs_in_virtual_time() {
    let mut run = ScalingRun::new(1, 4);
    run.duration = std::time::Duration::from_millis(20);
    let point = run.run().unwrap();
    assert!(point.ops > 0);
    assert!(point.gossip_per_put > 0.0, "replication 3 must gossip");
    let mut single = ScalingRun::new(1, 1);
    single.duration = std::time::Duration::from_millis(20);
    let one = single.run().unwrap();
    assert_eq!(
        one.gossip_per_put, 0.0,
        "one node has no one to gossip with"
    );
}
