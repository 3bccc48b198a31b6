//! The KVS on worker threads: merges, replication, hot keys, the durable tier, bad input.

use std::time::Duration;

use stratus_lattice::kvs::{AnyLattice, Kvs, KvsConfig, KvsError, Op, Reply};
use stratus_lattice::ring::RingError;
use stratus_lattice::{Lww, Max, SetUnionBTreeSet};

type Ids = SetUnionBTreeSet<u64>;

fn ids(range: std::ops::Range<u64>) -> Ids {
    SetUnionBTreeSet::from_elems(range)
}

#[test]
fn puts_merge_and_gets_read_them() {
    let kvs: Kvs<u64, Ids> = Kvs::start(KvsConfig::new(3)).unwrap();
    for i in 0..100u64 {
        kvs.put(i % 10, SetUnionBTreeSet::singleton(i)).unwrap();
    }
    for k in 0..10u64 {
        let v = kvs.get(&k).unwrap().unwrap();
        assert_eq!(v.len(), 10);
        assert!(v.iter().all(|x| x % 10 == k));
    }
    assert_eq!(kvs.get(&1000).unwrap(), None);
    let report = kvs.shutdown().unwrap();
    assert!(report.flushed);
    assert_eq!(
        report.keys.iter().sum::<usize>(),
        10,
        "replication 1: one copy each"
    );
    assert!(matches!(kvs.get(&1), Err(KvsError::ShutDown)));
}

#[test]
fn concurrent_clients_converge_on_every_replica() {
    let config = KvsConfig::new(4)
        .replication(3)
        .gossip_interval(Duration::from_millis(1));
    let kvs: Kvs<u64, Ids> = Kvs::start(config).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let client = kvs.client();
            s.spawn(move || {
                let ops: Vec<Op<u64, Ids>> = (0..2_000u64)
                    .map(|i| Op::Put(i % 50, SetUnionBTreeSet::singleton(t * 10_000 + i)))
                    .collect();
                let replies = client.execute(ops).unwrap();
                assert!(replies.iter().all(|r| *r == Reply::Stored));
            });
        }
    });
    assert!(kvs.sync(Duration::from_secs(10)).unwrap());
    for key in 0..50u64 {
        let want: Ids = (0..4u64)
            .flat_map(|t| {
                (0..2_000u64)
                    .filter(move |i| i % 50 == key)
                    .map(move |i| t * 10_000 + i)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(Ids::default(), |mut acc, x| {
                acc.insert(x);
                acc
            });
        let replicas = kvs.placement().replicas(&key, 3);
        let values = kvs.replica_values(&key).unwrap();
        for w in replicas {
            assert_eq!(values[w].as_ref(), Some(&want), "key {key} at worker {w}");
        }
    }
}

#[test]
fn skewed_load_promotes_hot_keys_to_every_worker() {
    let config = KvsConfig::new(2).hot_keys(0.05, 4096);
    let kvs: Kvs<u64, Max<u64>> = Kvs::start(config).unwrap();
    let clients = [kvs.client(), kvs.client()];
    for round in 0..20u64 {
        for client in &clients {
            // Half the operations hit key 7.
            let ops: Vec<Op<u64, Max<u64>>> = (0..2_000u64)
                .map(|i| {
                    let key = if i % 2 == 0 { 7 } else { 1_000 + i };
                    Op::Put(key, Max::new(round * 10_000 + i))
                })
                .collect();
            client.execute(ops).unwrap();
        }
    }
    let hot = kvs.hot_keys();
    let (_, replicas) = hot
        .iter()
        .find(|(k, _)| *k == 7)
        .expect("key 7 must be promoted");
    assert_eq!(replicas.len(), 2);
    assert!(kvs.sync(Duration::from_secs(10)).unwrap());
    let values = kvs.replica_values(&7).unwrap();
    assert!(
        values
            .iter()
            .all(|v| *v == Some(Max::new(19 * 10_000 + 1_998))),
        "{values:?}"
    );
    // Both workers served puts to the hot key once it was replicated.
    let report = kvs.shutdown().unwrap();
    assert!(report.workers.iter().any(|s| s.promotions > 0));
    assert!(report.workers.iter().all(|s| s.puts > 0));
}

#[test]
fn a_put_of_another_lattice_type_is_refused_and_nothing_changes() {
    let kvs: Kvs<String, AnyLattice> = Kvs::start(KvsConfig::new(2)).unwrap();
    let key = "k".to_string();
    kvs.put(key.clone(), AnyLattice::Max(Max::new(5))).unwrap();
    let err = kvs
        .put(key.clone(), AnyLattice::Lww(Lww::new(1, 1, b"x".to_vec())))
        .unwrap_err();
    assert_eq!(
        err,
        KvsError::TypeMismatch {
            stored: "max",
            incoming: "lww"
        }
    );
    assert_eq!(kvs.get(&key).unwrap(), Some(AnyLattice::Max(Max::new(5))));
    kvs.put(key.clone(), AnyLattice::Max(Max::new(9))).unwrap();
    assert_eq!(kvs.get(&key).unwrap(), Some(AnyLattice::Max(Max::new(9))));
}

#[test]
fn bad_shapes_are_refused_before_starting() {
    let err = Kvs::<u64, Max<u64>>::start(KvsConfig::new(0))
        .err()
        .unwrap();
    assert_eq!(err, KvsError::Placement(RingError::NoNodes));
    let err = Kvs::<u64, Max<u64>>::start(KvsConfig::new(2).replication(3))
        .err()
        .unwrap();
    assert_eq!(
        err,
        KvsError::Placement(RingError::ReplicationTooHigh {
            factor: 3,
            nodes: 2
        })
    );
}

#[test]
fn the_durable_tier_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = KvsConfig::new(3).replication(2).durable(dir.path());
    {
        let kvs: Kvs<u64, Ids> = Kvs::start(config.clone()).unwrap();
        for k in 0..30u64 {
            kvs.put(k, ids(k * 10..k * 10 + 5)).unwrap();
        }
        kvs.shutdown().unwrap();
    }
    let kvs: Kvs<u64, Ids> = Kvs::start(config.clone()).unwrap();
    for k in 0..30u64 {
        assert_eq!(
            kvs.get(&k).unwrap(),
            Some(ids(k * 10..k * 10 + 5)),
            "key {k}"
        );
        // Both replicas were written through (gossip lands in the file too).
        let values = kvs.replica_values(&k).unwrap();
        for w in kvs.placement().replicas(&k, 2) {
            assert_eq!(values[w], Some(ids(k * 10..k * 10 + 5)));
        }
    }
    // Merges continue on top of the reloaded state.
    kvs.put(3, ids(100..101)).unwrap();
    let mut want = ids(30..35);
    want.insert(100);
    assert_eq!(kvs.get(&3).unwrap(), Some(want));
    drop(kvs);

    // Reopening with another shape would misplace keys: refused.
    let err = Kvs::<u64, Ids>::start(KvsConfig::new(4).replication(2).durable(dir.path()))
        .err()
        .unwrap();
    assert!(matches!(err, KvsError::LayoutMismatch { .. }), "{err}");
}

#[test]
fn a_corrupt_durable_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shard-0000.redb"),
        b"this is not a redb file at all",
    )
    .unwrap();
    let err = Kvs::<u64, Ids>::start(KvsConfig::new(1).durable(dir.path()))
        .err()
        .unwrap();
    assert!(matches!(err, KvsError::Corrupt { .. }), "{err}");
}

#[test]
fn a_directory_written_for_other_types_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = KvsConfig::new(1).durable(dir.path());
    {
        let kvs: Kvs<String, Lww<String>> = Kvs::start(config.clone()).unwrap();
        kvs.put("a".into(), Lww::new(1, 1, "hello".into())).unwrap();
        kvs.shutdown().unwrap();
    }
    let err = Kvs::<String, Ids>::start(config).err().unwrap();
    assert!(matches!(err, KvsError::LayoutMismatch { .. }), "{err}");
}

#[test]
fn an_undecodable_record_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let config = KvsConfig::new(1).durable(dir.path());
    {
        let kvs: Kvs<u64, Ids> = Kvs::start(config.clone()).unwrap();
        kvs.put(1, ids(0..3)).unwrap();
        kvs.shutdown().unwrap();
    }
    // Damage one record behind the store's back.
    {
        let db = redb::Database::create(dir.path().join("shard-0000.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<'_, &[u8], &[u8]> = redb::TableDefinition::new("data");
            let mut table = txn.open_table(def).unwrap();
            table
                .insert([1u8].as_slice(), [0xffu8, 0xff, 0xff].as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let err = Kvs::<u64, Ids>::start(config).err().unwrap();
    assert!(matches!(err, KvsError::Corrupt { .. }), "{err}");
}

#[test]
fn co_located_workers_serve_each_other_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let config = KvsConfig::new(3)
        .replication(2)
        .hot_keys(0.05, 2048)
        .durable(dir.path());
    let (results, report) = Kvs::<u64, Ids>::run_local(config.clone(), |w| {
        let me = w.id() as u64;
        // Every worker writes every key (most of them remote), key 0 heavily.
        let ops: Vec<Op<u64, Ids>> = (0..6_000u64)
            .map(|i| {
                let key = if i % 3 == 0 { 0 } else { i % 40 };
                Op::Put(key, SetUnionBTreeSet::singleton(me * 100_000 + i))
            })
            .collect();
        let replies = w.execute(ops).unwrap();
        assert!(replies.iter().all(|r| *r == Reply::Stored));
        // Read-your-writes on keys this worker is a replica of.
        let mine: Vec<u64> = (1..40u64)
            .filter(|k| w.placement().primary(k) == w.id())
            .collect();
        for k in &mine {
            let v = w.get(k).unwrap().unwrap();
            assert!(v.iter().any(|x| x / 100_000 == me), "key {k}");
        }
        mine.len()
    })
    .unwrap();
    assert_eq!(
        results.iter().sum::<usize>(),
        39,
        "each key has one primary"
    );
    assert!(report.flushed);
    assert!(report.workers.iter().all(|s| s.forwarded + s.puts > 0));
    // Everything acknowledged is in the durable tier, on every replica.
    let kvs: Kvs<u64, Ids> = Kvs::start(config).unwrap();
    for key in 0..40u64 {
        let want: Vec<u64> = (0..3u64)
            .flat_map(|me| {
                (0..6_000u64)
                    .filter(move |i| (if i % 3 == 0 { 0 } else { i % 40 }) == key)
                    .map(move |i| me * 100_000 + i)
            })
            .collect();
        let got = kvs.get(&key).unwrap().unwrap_or_default();
        assert_eq!(got.len(), want.len(), "key {key}");
        assert!(want.iter().all(|x| got.contains(x)), "key {key}");
    }
}

#[test]
fn a_key_can_be_given_more_replicas_explicitly() {
    let kvs: Kvs<u64, Ids> = Kvs::start(KvsConfig::new(4)).unwrap();
    kvs.put(5, ids(0..10)).unwrap();
    assert_eq!(kvs.replica_values(&5).unwrap().iter().flatten().count(), 1);
    kvs.set_replication(5, 3).unwrap();
    // The value reached the new replicas before the call returned to routing clients.
    assert!(kvs.sync(Duration::from_secs(5)).unwrap());
    let held: Vec<_> = kvs
        .replica_values(&5)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(held.len(), 3);
    assert!(held.iter().all(|v| *v == ids(0..10)));
    // Later puts reach all three.
    kvs.put(5, ids(10..11)).unwrap();
    assert!(kvs.sync(Duration::from_secs(5)).unwrap());
    let held: Vec<_> = kvs
        .replica_values(&5)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    assert!(held.iter().all(|v| *v == ids(0..11)), "{held:?}");
    assert_eq!(
        kvs.set_replication(5, 5).unwrap_err(),
        KvsError::Placement(RingError::ReplicationTooHigh {
            factor: 5,
            nodes: 4
        })
    );
}
