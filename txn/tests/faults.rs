//! AFT under injected faults vs plain storage, over many seeds.
//!
//! Replay one seed: `STRATUS_SEED=n cargo test -p stratus-txn --test faults`.

use stratus_sim::seeds::sweep;
use stratus_txn::scenario::{Mode, TxnScenario};

#[test]
fn aft_shows_no_anomaly_over_1000_seeds() {
    let mut killed = 0;
    let mut restarts = 0;
    let mut collected = 0;
    sweep(1000, |seed| {
        let outcome = TxnScenario::faulty(seed, Mode::Aft)
            .run()
            .map_err(|e| e.to_string())?;
        killed += outcome.killed;
        restarts += outcome.restarts;
        collected += outcome.collected;
        outcome.check()
    });
    // The faults really happened.
    assert!(
        killed > 0 && restarts > 0 && collected > 0,
        "{killed} {restarts} {collected}"
    );
}

#[test]
fn plain_storage_shows_anomalies_under_the_same_faults() {
    let mut anomalous_runs = 0;
    let mut anomalies = 0;
    for seed in 0..100 {
        let outcome = TxnScenario::faulty(seed, Mode::Plain).run().unwrap();
        assert!(outcome.live);
        if !outcome.anomalies.is_empty() {
            anomalous_runs += 1;
            anomalies += outcome.anomalies.len();
        }
    }
    assert!(
        anomalous_runs > 50,
        "only {anomalous_runs} of 100 runs showed anomalies"
    );
    assert!(anomalies > 100);
}
