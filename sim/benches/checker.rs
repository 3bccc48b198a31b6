//! Throughput of the linearizability checker on generated register histories.
//!
//! `cargo bench -p stratus-sim --bench checker`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use stratus_sim::linearizability::{
    RegisterHistory, RegisterInput, RegisterModel, SyntheticHistory, check, check_partitioned,
};

fn history(operations: usize, clients: u64, keys: u64) -> RegisterHistory {
    SyntheticHistory {
        clients,
        keys,
        operations,
        read_fraction: 0.5,
        seed: 2026,
    }
    .linearizable()
}

/// Prints one untimed-by-criterion run as operations per second, the number people quote.
fn report(name: &str, operations: usize, run: impl Fn() -> bool) {
    let start = Instant::now();
    let ok = run();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: {operations} ops in {:.3} ms = {:.0} ops/s (linearizable: {ok})",
        secs * 1e3,
        operations as f64 / secs
    );
}

fn bench_checker(c: &mut Criterion) {
    let model = RegisterModel::<u64>::new();

    let many_keys = history(10_000, 8, 100);
    let partitioned = || {
        check_partitioned(&model, black_box(&many_keys), RegisterInput::key)
            .is_ok_and(|v| v.is_linearizable())
    };
    report(
        "check_partitioned/10k_ops_8_clients_100_keys",
        10_000,
        partitioned,
    );
    c.bench_function("check_partitioned/10k_ops_8_clients_100_keys", |b| {
        b.iter(partitioned)
    });

    let one_key = history(1_000, 8, 1);
    let single = || check(&model, black_box(&one_key)).is_ok_and(|v| v.is_linearizable());
    report("check/1k_ops_1_key_8_clients", 1_000, single);
    c.bench_function("check/1k_ops_1_key_8_clients", |b| b.iter(single));
}

criterion_group!(benches, bench_checker);
criterion_main!(benches);
