//! MultiPaxos on the simulator under faults: linearizable, invariants hold at every step,
//! live after healing; each invariant's bug is caught; seeds replay.

use stratus_consensus::multipaxos::{Bug, PaxosScenario};
use stratus_sim::seeds::{find_failure, sweep};

#[test]
fn multipaxos_is_safe_and_live_under_faults_over_1000_seeds() {
    let mut faults = 0;
    let mut completed = 0;
    let mut max_log = 0;
    let ran = sweep(1000, |seed| {
        let outcome = PaxosScenario::faulty(seed)
            .run()
            .map_err(|e| e.to_string())?;
        faults += outcome.faults.events.len();
        completed += outcome.completed;
        max_log = max_log.max(outcome.max_leader_log);
        outcome.check()
    });
    assert!(
        faults >= ran as usize,
        "too few faults: {faults} over {ran} seeds"
    );
    eprintln!("{ran} seeds, {faults} faults, {completed} commands, largest leader log {max_log}");
}

fn caught(bug: Bug) -> stratus_sim::seeds::SeedFailure {
    find_failure(1000, |seed| {
        PaxosScenario::faulty(seed)
            .with_bug(bug)
            .run()
            .map_err(|e| e.to_string())?
            .check()
    })
    .unwrap_or_else(|| panic!("{bug:?} was not caught within 1000 seeds"))
}

#[test]
fn one_value_per_slot_catches_a_leader_that_skips_phase1_recovery() {
    let failure = caught(Bug::SkipPhase1Recovery);
    assert!(failure.message.contains("two values chosen"), "{failure}");
    eprintln!("SkipPhase1Recovery caught at seed {}", failure.seed);
}

#[test]
fn executed_logs_invariant_catches_replicas_executing_unchosen_values() {
    let failure = caught(Bug::ExecuteUnchosen);
    assert!(
        failure.message.contains("executed slot")
            || failure.message.contains("executed logs diverge"),
        "{failure}"
    );
    eprintln!("ExecuteUnchosen caught at seed {}", failure.seed);
}

#[test]
fn linearizability_catches_replicas_that_reexecute_retries() {
    let failure = caught(Bug::NoDedup);
    assert!(failure.message.contains("not linearizable"), "{failure}");
    eprintln!("NoDedup caught at seed {}", failure.seed);
}

#[test]
fn liveness_catches_a_leader_that_never_resends() {
    let failure = caught(Bug::NoResend);
    assert!(failure.message.contains("liveness"), "{failure}");
    eprintln!("NoResend caught at seed {}", failure.seed);
}

#[test]
fn a_seed_replays_to_the_same_trace_and_history() {
    let a = PaxosScenario::faulty(11).run().unwrap();
    let b = PaxosScenario::faulty(11).run().unwrap();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(format!("{:?}", a.history), format!("{:?}", b.history));
    let c = PaxosScenario::faulty(12).run().unwrap();
    assert_ne!(a.trace_hash, c.trace_hash);
}

/// f = 2, more clients, batching with a delay, a pipeline window of 3 slots and aggressive
/// snapshots (every 4 slots): exercises batches, garbage collection and catch-up much harder
/// than the default.
fn heavy(seed: u64) -> PaxosScenario {
    let mut s = PaxosScenario::faulty(seed);
    s.config = stratus_consensus::multipaxos::MultiPaxosConfig::new(2);
    s.config.batch_delay = std::time::Duration::from_micros(300);
    s.config.batch_max = 4;
    s.config.snapshot_every = 4;
    s.config.fetch_limit = 3;
    s.config.pipeline = Some(3);
    s.leaders = 3;
    s.acceptors = 5;
    s.replicas = 3;
    s.clients = 6;
    s.ops_per_client = 40;
    s
}

#[test]
fn f2_with_batching_and_aggressive_gc_over_200_seeds() {
    let mut max_log = 0;
    let mut max_votes = 0;
    let ran = sweep(200, |seed| {
        let outcome = heavy(seed).run().map_err(|e| e.to_string())?;
        max_log = max_log.max(outcome.max_leader_log);
        max_votes = max_votes.max(outcome.max_acceptor_votes);
        outcome.check()
    });
    eprintln!("{ran} seeds; largest leader log {max_log}, most votes kept {max_votes}");
}

#[test]
fn garbage_collection_bounds_every_log_on_a_long_run() {
    let mut s = PaxosScenario::faulty(5);
    s.chaos = false;
    s.crash_leader = false;
    s.clients = 4;
    s.ops_per_client = 500;
    let outcome = s.run().unwrap();
    outcome.check().unwrap();
    assert!(outcome.chosen_slots > 500, "{}", outcome.chosen_slots);
    // Snapshots every 16 slots: logs stay within a few snapshot intervals of the head.
    assert!(
        outcome.max_leader_log <= 64,
        "leader log {}",
        outcome.max_leader_log
    );
    assert!(
        outcome.max_acceptor_votes <= 64,
        "acceptor votes {}",
        outcome.max_acceptor_votes
    );
}

#[test]
fn matchmaker_multipaxos_with_reconfigurations_over_1000_seeds() {
    let mut reconfigs = 0;
    let mut mm_reconfigs = 0;
    let mut faults = 0;
    let ran = sweep(1000, |seed| {
        let outcome = PaxosScenario::matchmaker(seed)
            .run()
            .map_err(|e| e.to_string())?;
        reconfigs += outcome.reconfigurations.len();
        mm_reconfigs += outcome.matchmaker_reconfigurations.len();
        faults += outcome.faults.events.len();
        outcome.check()
    });
    assert!(
        reconfigs as u64 >= ran,
        "too few reconfigurations completed: {reconfigs} over {ran} seeds"
    );
    assert!(
        mm_reconfigs as u64 >= ran / 2,
        "too few matchmaker replacements completed: {mm_reconfigs} over {ran} seeds"
    );
    eprintln!(
        "{ran} seeds, {faults} faults, {reconfigs} acceptor reconfigurations and {mm_reconfigs} matchmaker replacements completed"
    );
}

fn caught_mm(bug: Bug) -> stratus_sim::seeds::SeedFailure {
    find_failure(1000, |seed| {
        PaxosScenario::matchmaker(seed)
            .with_bug(bug)
            .run()
            .map_err(|e| e.to_string())?
            .check()
    })
    .unwrap_or_else(|| panic!("{bug:?} was not caught within 1000 seeds"))
}

#[test]
fn one_value_per_slot_catches_phase1_that_skips_earlier_configurations() {
    let failure = caught_mm(Bug::SkipPriorConfigs);
    assert!(failure.message.contains("two values chosen"), "{failure}");
    eprintln!("SkipPriorConfigs caught at seed {}", failure.seed);
}

#[test]
fn one_value_per_slot_catches_configurations_collected_too_early() {
    let failure = caught_mm(Bug::EarlyConfigGc);
    assert!(failure.message.contains("two values chosen"), "{failure}");
    eprintln!("EarlyConfigGc caught at seed {}", failure.seed);
}

#[test]
fn one_value_per_slot_catches_matchmakers_bootstrapped_from_one_stopped_matchmaker() {
    let failure = caught_mm(Bug::BootstrapFromOne);
    assert!(failure.message.contains("two values chosen"), "{failure}");
    eprintln!("BootstrapFromOne caught at seed {}", failure.seed);
}
