//! The transaction API over every backend, bad input, failures mid-commit, GC.

use std::sync::Arc;

use stratus_lattice::kvs::{Kvs, KvsConfig};
use stratus_txn::storage::{
    FaultyStorage, KvsStorage, MemStorage, RedbStorage, Storage, StorageFaults,
};
use stratus_txn::{AftCluster, AftNode, StorageError, TxId, TxnError};

fn mem() -> Arc<dyn Storage> {
    Arc::new(MemStorage::new())
}

fn transfer_workload(storage: Arc<dyn Storage>) {
    let (node, _) = AftNode::open(0, storage).unwrap();
    node.run(|tx| {
        tx.put_as("a", &100i64)?;
        tx.put_as("b", &0i64)?;
        Ok(())
    })
    .unwrap();
    for _ in 0..20 {
        node.run(|tx| {
            let a: i64 = tx.get_as("a")?.unwrap_or(0);
            let b: i64 = tx.get_as("b")?.unwrap_or(0);
            tx.put_as("a", &(a - 5))?;
            tx.put_as("b", &(b + 5))?;
            Ok(())
        })
        .unwrap();
    }
    let (a, b): (i64, i64) = node
        .run(|tx| Ok((tx.get_as("a")?.unwrap(), tx.get_as("b")?.unwrap())))
        .unwrap();
    assert_eq!((a, b), (0, 100));
}

#[test]
fn every_backend_runs_transactions() {
    transfer_workload(mem());
    let dir = tempfile::tempdir().unwrap();
    transfer_workload(Arc::new(
        RedbStorage::open(dir.path().join("aft.redb")).unwrap(),
    ));
    let kvs = Kvs::start(KvsConfig::new(2).replication(2)).unwrap();
    transfer_workload(Arc::new(KvsStorage::new(kvs, 1)));
}

#[test]
fn reads_see_own_writes_and_deletes() {
    let (node, _) = AftNode::open(0, mem()).unwrap();
    let tx = node.begin().unwrap();
    assert_eq!(node.get(tx, "k").unwrap(), None);
    node.put(tx, "k", b"v".to_vec()).unwrap();
    assert_eq!(node.get(tx, "k").unwrap(), Some(b"v".to_vec()));
    node.commit(tx).unwrap();
    let tx = node.begin().unwrap();
    node.delete(tx, "k").unwrap();
    assert_eq!(node.get(tx, "k").unwrap(), None);
    node.commit(tx).unwrap();
    let tx = node.begin().unwrap();
    assert_eq!(node.get(tx, "k").unwrap(), None);
}

#[test]
fn finished_and_unknown_transactions_are_typed_errors() {
    let (node, _) = AftNode::open(0, mem()).unwrap();
    assert_eq!(
        node.get(TxId(12345), "k").unwrap_err(),
        TxnError::UnknownTransaction(TxId(12345))
    );
    let tx = node.begin().unwrap();
    node.put(tx, "k", b"v".to_vec()).unwrap();
    node.abort(tx).unwrap();
    assert_eq!(
        node.commit(tx).unwrap_err(),
        TxnError::Finished(tx, "aborted")
    );
    let tx2 = node.begin().unwrap();
    assert_eq!(
        node.get(tx2, "k").unwrap(),
        None,
        "an aborted write is never visible"
    );
    node.commit(tx2).unwrap();
    assert_eq!(
        node.put(tx2, "k", vec![]).unwrap_err(),
        TxnError::Finished(tx2, "committed")
    );
    let tx3 = node.begin().unwrap();
    node.put(tx3, "n", b"not a number".to_vec()).unwrap();
    node.commit(tx3).unwrap();
    let err = node.run(|tx| tx.get_as::<u64>("n")).unwrap_err();
    assert!(matches!(err, TxnError::Codec { .. }), "{err}");
}

#[test]
fn a_storage_failure_mid_commit_leaves_nothing_visible() {
    let faulty = Arc::new(FaultyStorage::new(
        MemStorage::new(),
        StorageFaults {
            fail: 0.0,
            partial_write: 1.0,
        },
        7,
    ));
    let storage: Arc<dyn Storage> = faulty.clone();
    let (node, _) = AftNode::open(0, Arc::clone(&storage)).unwrap();
    let tx = node.begin().unwrap();
    node.put(tx, "x", b"1".to_vec()).unwrap();
    node.put(tx, "y", b"1".to_vec()).unwrap();
    node.put(tx, "z", b"1".to_vec()).unwrap();
    let err = node.commit(tx).unwrap_err();
    assert!(err.is_transient(), "{err}");
    faulty.set_enabled(false);
    // Some versions may be in storage, but no reader (here or after a restart) sees them.
    let (fresh, _) = AftNode::open(1, storage).unwrap();
    for n in [&node, &fresh] {
        let r = n.begin().unwrap();
        for k in ["x", "y", "z"] {
            assert_eq!(n.get(r, k).unwrap(), None);
        }
    }
}

#[test]
fn run_retries_transient_failures() {
    let storage: Arc<dyn Storage> = Arc::new(FaultyStorage::new(
        MemStorage::new(),
        StorageFaults {
            fail: 0.2,
            partial_write: 0.2,
        },
        3,
    ));
    // Opening reads storage too; retry it like any transient failure.
    let node = (0..50)
        .find_map(|_| AftNode::open(0, Arc::clone(&storage)).ok())
        .unwrap()
        .0;
    let mut attempts = 0;
    for i in 0..50u64 {
        node.run(|tx| {
            attempts += 1;
            let n: u64 = tx.get_as("counter")?.unwrap_or(0);
            tx.put_as("counter", &(n + 1))?;
            tx.put_as(&format!("log/{i}"), &n)?;
            Ok(())
        })
        .unwrap();
    }
    assert!(attempts > 50, "faults must have forced retries");
    let n: u64 = node.run(|tx| tx.get_as("counter")).unwrap().unwrap();
    assert_eq!(n, 50, "each increment applied exactly once despite retries");
}

#[test]
fn a_corrupt_commit_record_is_reported_and_stays_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aft.redb");
    {
        let storage: Arc<dyn Storage> = Arc::new(RedbStorage::open(&path).unwrap());
        let (node, _) = AftNode::open(0, storage).unwrap();
        node.run(|tx| tx.put("good", b"1".to_vec())).unwrap();
        node.run(|tx| tx.put("bad", b"2".to_vec())).unwrap();
    }
    let storage = RedbStorage::open(&path).unwrap();
    let records = storage.list("tx/").unwrap();
    assert_eq!(records.len(), 2);
    let mut bytes = storage.get(&records[1]).unwrap().unwrap();
    bytes[0] ^= 0x55;
    storage.put_many(vec![(records[1].clone(), bytes)]).unwrap();
    let (node, report) = AftNode::open(0, Arc::new(storage)).unwrap();
    assert_eq!(report.learned, 1);
    assert!(matches!(report.corrupt[..], [StorageError::Corrupt { .. }]));
    let v = node
        .run(|tx| Ok((tx.get("good")?, tx.get("bad")?)))
        .unwrap();
    assert_eq!(v, (Some(b"1".to_vec()), None));
}

#[test]
fn not_a_redb_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk");
    std::fs::write(&path, b"definitely not redb").unwrap();
    assert!(matches!(
        RedbStorage::open(&path),
        Err(StorageError::Corrupt { .. })
    ));
}

#[test]
fn commits_reach_other_nodes_and_survive_restarts() {
    let storage = mem();
    let (mut cluster, _) = AftCluster::new(Arc::clone(&storage), 3).unwrap();
    cluster
        .node(0)
        .unwrap()
        .run(|tx| tx.put("k", b"v".to_vec()))
        .unwrap();
    let seen = cluster.node(2).unwrap().run(|tx| tx.get("k")).unwrap();
    assert_eq!(seen, Some(b"v".to_vec()));
    let stale = cluster.node(1).unwrap().begin().unwrap();
    cluster.restart(1).unwrap();
    // The old incarnation's transaction is gone, and ids are never reused.
    assert!(cluster.node(1).unwrap().get(stale, "k").is_err());
    let fresh = cluster.node(1).unwrap().begin().unwrap();
    assert_ne!(fresh, stale);
    assert_eq!(
        cluster.node(1).unwrap().get(fresh, "k").unwrap(),
        Some(b"v".to_vec())
    );
}

#[test]
fn gc_bounds_storage_and_spares_running_readers() {
    let storage = mem();
    let (cluster, _) = AftCluster::new(Arc::clone(&storage), 2).unwrap();
    let (a, b) = (cluster.node(0).unwrap(), cluster.node(1).unwrap());
    a.run(|tx| {
        tx.put("x", b"0".to_vec())?;
        tx.put("y", b"0".to_vec())
    })
    .unwrap();
    // A long reader on node 1 has seen x at version 0.
    let reader = b.begin().unwrap();
    assert_eq!(b.get(reader, "x").unwrap(), Some(b"0".to_vec()));
    let mut sizes = Vec::new();
    for i in 1..=200u32 {
        a.run(|tx| {
            tx.put("x", i.to_string().into_bytes())?;
            tx.put("y", i.to_string().into_bytes())
        })
        .unwrap();
        if i % 20 == 0 {
            cluster.gc().unwrap();
            sizes.push(storage.len().unwrap());
        }
    }
    // The reader still gets y from the same transaction as x.
    assert_eq!(b.get(reader, "y").unwrap(), Some(b"0".to_vec()));
    b.commit(reader).unwrap();
    let report = cluster.gc().unwrap();
    assert!(report.transactions > 0);
    let end = storage.len().unwrap();
    // Two keys, the newest version of each and its record, plus node leases.
    assert!(end <= 6, "{end} keys left; sizes over time {sizes:?}");
    assert_eq!(a.run(|tx| tx.get("x")).unwrap(), Some(b"200".to_vec()));
}
