//! BPaxos on the simulator under faults: linearizable, its invariants hold at every step, live
//! after healing; each invariant's bug is caught; seeds replay; the same nodes on threads.

use std::time::Duration;

use stratus_consensus::bpaxos::{BPaxos, BPaxosScenario, Bug};
use stratus_consensus::{
    ClientConfig, ConsensusError, KvCommand, KvKeyModel, KvStore, KvWorkload, LoadClient,
};
use stratus_sim::history::History;
use stratus_sim::linearizability::check_partitioned;
use stratus_sim::seeds::{SeedFailure, find_failure, sweep};

#[test]
fn bpaxos_is_safe_and_live_under_faults_over_1000_seeds() {
    let mut faults = 0;
    let mut chosen = 0;
    let ran = sweep(1000, |seed| {
        let outcome = BPaxosScenario::faulty(seed)
            .run()
            .map_err(|e| e.to_string())?;
        faults += outcome.faults.events.len();
        chosen += outcome.chosen;
        outcome.check()
    });
    assert!(
        faults >= ran as usize,
        "too few faults: {faults} over {ran} seeds"
    );
    eprintln!("{ran} seeds, {faults} faults, {chosen} vertices chosen");
}

fn caught(bug: Bug) -> SeedFailure {
    find_failure(1000, |seed| {
        BPaxosScenario::faulty(seed)
            .with_bug(bug)
            .run()
            .map_err(|e| e.to_string())?
            .check()
    })
    .unwrap_or_else(|| panic!("{bug:?} was not caught within 1000 seeds"))
}

#[test]
fn conflicting_vertices_depend_on_each_other_or_the_check_fails() {
    let f = caught(Bug::FirstDepReplyOnly);
    assert!(f.message.contains("without either depending"), "{f}");
    eprintln!("FirstDepReplyOnly caught at seed {}", f.seed);
}

#[test]
fn one_value_per_vertex_catches_recovery_that_ignores_votes() {
    let f = caught(Bug::RecoverIgnoringVotes);
    assert!(f.message.contains("two values chosen"), "{f}");
    eprintln!("RecoverIgnoringVotes caught at seed {}", f.seed);
}

#[test]
fn same_order_everywhere_catches_unsorted_components() {
    let f = caught(Bug::UnsortedComponents);
    assert!(f.message.contains("different orders"), "{f}");
    eprintln!("UnsortedComponents caught at seed {}", f.seed);
}

#[test]
fn liveness_catches_replicas_that_never_recover() {
    let f = caught(Bug::NoRecovery);
    assert!(f.message.contains("liveness"), "{f}");
    eprintln!("NoRecovery caught at seed {}", f.seed);
}

#[test]
fn a_bpaxos_seed_replays() {
    let a = BPaxosScenario::faulty(3).run().unwrap();
    let b = BPaxosScenario::faulty(3).run().unwrap();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(format!("{:?}", a.history), format!("{:?}", b.history));
}

#[test]
fn bpaxos_with_three_leaders_and_two_acceptor_groups() {
    let ran = sweep(200, |seed| {
        let mut s = BPaxosScenario::faulty(seed);
        s.leaders = 3;
        s.groups = 2;
        s.clients = 5;
        s.keys = 4;
        s.run().map_err(|e| e.to_string())?.check()
    });
    assert!(ran >= 1);
}

#[test]
fn bpaxos_on_threads_is_linearizable() {
    let builder = BPaxos::<KvStore>::new(1).leaders(3);
    let layout = builder.build_layout().unwrap();
    let clients = (0..3)
        .map(|_| {
            let config = ClientConfig {
                sessions: 4,
                ops_per_session: 25,
                think: Duration::ZERO,
                ..ClientConfig::new(0)
            };
            LoadClient::new(config, layout.leaders.clone(), KvWorkload { keys: 4 })
        })
        .collect();
    let live = builder.live(9, clients).unwrap();
    assert!(
        live.cluster
            .wait_halted(&live.clients, Duration::from_secs(30))
    );
    let report = live.cluster.shutdown().unwrap();
    let mut history = History::new();
    let mut completed = 0;
    for c in report.nodes.iter().filter_map(|n| n.as_client()) {
        history.extend(c.history().clone());
        completed += c.completed();
    }
    assert_eq!(completed, 300);
    let verdict = check_partitioned(&KvKeyModel, &history, KvCommand::key).unwrap();
    assert!(verdict.is_linearizable(), "{verdict:?}");
}

#[test]
fn bad_bpaxos_layouts_are_typed_errors() {
    assert_eq!(
        BPaxos::<KvStore>::new(1).leaders(0).build_layout(),
        Err(ConsensusError::EmptyRole { role: "leaders" })
    );
    assert_eq!(
        BPaxos::<KvStore>::new(1).acceptor_groups(0).build_layout(),
        Err(ConsensusError::EmptyRole {
            role: "acceptor groups"
        })
    );
}

#[test]
fn the_host_client_works_against_bpaxos_too() {
    let mut live = BPaxos::<KvStore>::new(1)
        .leaders(3)
        .live(4, Vec::new())
        .unwrap();
    let mut client = live.client();
    for i in 0..10 {
        let append = KvCommand::Append {
            key: 1,
            suffix: i.to_string(),
        };
        assert_eq!(
            client.propose(append).unwrap(),
            stratus_consensus::KvOutput::Ok
        );
    }
    assert_eq!(
        client.propose(KvCommand::Get { key: 1 }).unwrap(),
        stratus_consensus::KvOutput::Value(Some("0123456789".into()))
    );
    assert_eq!(
        client.propose_to(5, KvCommand::Get { key: 1 }),
        Err(ConsensusError::UnknownCluster {
            requested: 5,
            serving: 0
        })
    );
    live.cluster.shutdown().unwrap();
}

#[test]
fn commuting_commands_stay_unordered_or_the_check_fails() {
    let f = caught(Bug::DependOnEverything);
    assert!(f.message.contains("do not conflict"), "{f}");
    eprintln!("DependOnEverything caught at seed {}", f.seed);
}
