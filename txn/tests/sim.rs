//! AFT on the `stratus_sim` simulator: faulty network, node crashes, dying functions.
//!
//! Replay one seed: `STRATUS_SEED=n cargo test -p stratus-txn --test sim`.

use stratus_sim::seeds::sweep;
use stratus_txn::simulated::SimTxnScenario;

#[test]
fn aft_on_the_simulator_shows_no_anomaly_over_1000_seeds() {
    let (mut committed, mut killed, mut retries) = (0, 0, 0);
    sweep(1000, |seed| {
        let o = SimTxnScenario::faulty(seed)
            .run()
            .map_err(|e| e.to_string())?;
        committed += o.committed;
        killed += o.killed;
        retries += o.retries;
        o.check()
    });
    assert!(
        committed > 0 && killed > 0 && retries > killed,
        "{committed} {killed} {retries}"
    );
}

#[test]
fn throughput_is_measured_in_virtual_time() {
    let mut one = SimTxnScenario::scaling(1, 1);
    one.invocations = 5;
    let mut four = SimTxnScenario::scaling(1, 4);
    four.invocations = 5;
    let (a, b) = (one.run().unwrap(), four.run().unwrap());
    assert!(a.live && b.live);
    assert!(a.anomalies.is_empty() && b.anomalies.is_empty());
    assert!(
        b.throughput() > 2.0 * a.throughput(),
        "{} vs {}",
        b.throughput(),
        a.throughput()
    );
}
