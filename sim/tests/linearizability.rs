//! Integration tests of history recording and the linearizability checker.

use stratus_sim::history::{History, HistoryError, HistoryEvent, OpId, Operation};
use stratus_sim::linearizability::{
    KvModel, Model, RegisterHistory, RegisterInput, RegisterModel, RegisterOutput,
    SyntheticHistory, Verdict, check, check_partitioned, corrupt,
};
use stratus_sim::rng::SimRng;

type In = RegisterInput<u64>;
type Out = RegisterOutput<u64>;

/// Records a write of `value` to `key`: `ret = None` leaves it pending.
fn write(h: &mut RegisterHistory, client: u64, key: u64, value: u64, call: u64, ret: Option<u64>) {
    let op = h.invoke(client, In::Write { key, value }, call);
    if let Some(ret) = ret {
        h.complete(op, Out::WriteOk, ret);
    }
}

/// Records a read of `key` that saw `seen`.
fn read(h: &mut RegisterHistory, client: u64, key: u64, seen: Option<u64>, call: u64, ret: u64) {
    let op = h.invoke(client, In::Read { key }, call);
    h.complete(op, Out::Read(seen), ret);
}

fn register_verdict(h: &RegisterHistory) -> Verdict {
    check(&RegisterModel::new(), h).expect("well-formed history")
}

// ---------------------------------------------------------------- literature cases

#[test]
fn empty_history_is_linearizable() {
    assert!(register_verdict(&History::new()).is_linearizable());
}

#[test]
fn read_concurrent_with_write_may_see_either_value() {
    for seen in [None, Some(1)] {
        let mut h = History::new();
        write(&mut h, 0, 0, 1, 0, Some(3));
        read(&mut h, 1, 0, seen, 1, 2);
        assert!(register_verdict(&h).is_linearizable(), "read saw {seen:?}");
    }
}

#[test]
fn read_after_completed_write_must_not_see_old_value() {
    let mut h = History::new();
    write(&mut h, 0, 0, 1, 0, Some(1));
    read(&mut h, 1, 0, None, 2, 3);
    let verdict = register_verdict(&h);
    assert!(!verdict.is_linearizable());
    let cx = verdict.counterexample().unwrap();
    assert_eq!(cx.partition, "all");
    assert_eq!(cx.operations.len(), 2);
    assert_eq!(cx.longest_linearized, vec![OpId(0)]);
    let text = cx.to_string();
    assert!(
        text.contains("op#1 client 1 [2, 3] Read { key: 0 } -> Read(None)"),
        "{text}"
    );
}

#[test]
fn read_of_a_value_never_written_is_rejected() {
    let mut h = History::new();
    write(&mut h, 0, 0, 1, 0, Some(3));
    read(&mut h, 1, 0, Some(2), 1, 2);
    assert!(!register_verdict(&h).is_linearizable());
}

#[test]
fn equal_stamps_mean_concurrent() {
    // The read's call carries the write's return stamp: they overlap, so the old value is fine.
    let mut h = History::new();
    write(&mut h, 0, 0, 1, 0, Some(2));
    read(&mut h, 1, 0, None, 2, 3);
    assert!(register_verdict(&h).is_linearizable());
}

#[test]
fn new_old_inversion_is_rejected() {
    // Two sequential reads, both concurrent with one write: new then old is impossible.
    for second_reader in [1, 2] {
        let mut h = History::new();
        write(&mut h, 0, 0, 1, 0, Some(10));
        read(&mut h, 1, 0, Some(1), 1, 2);
        read(&mut h, second_reader, 0, None, 3, 4);
        assert!(
            !register_verdict(&h).is_linearizable(),
            "second reader {second_reader}"
        );
    }
    // Old then new is fine.
    let mut h = History::new();
    write(&mut h, 0, 0, 1, 0, Some(10));
    read(&mut h, 1, 0, None, 1, 2);
    read(&mut h, 1, 0, Some(1), 3, 4);
    assert!(register_verdict(&h).is_linearizable());
}

#[test]
fn pending_write_may_or_may_not_be_visible() {
    for seen in [None, Some(1)] {
        let mut h = History::new();
        write(&mut h, 0, 0, 1, 0, None);
        read(&mut h, 1, 0, seen, 5, 6);
        assert!(register_verdict(&h).is_linearizable(), "read saw {seen:?}");
    }
}

#[test]
fn pending_write_cannot_be_visible_then_invisible() {
    let mut h = History::new();
    write(&mut h, 0, 0, 1, 0, None);
    read(&mut h, 1, 0, Some(1), 5, 6);
    read(&mut h, 1, 0, None, 7, 8);
    assert!(!register_verdict(&h).is_linearizable());
}

#[test]
fn pending_write_cannot_take_effect_before_its_call() {
    let mut h = History::new();
    read(&mut h, 1, 0, Some(1), 0, 1);
    write(&mut h, 0, 0, 1, 2, None);
    assert!(!register_verdict(&h).is_linearizable());
}

#[test]
fn pending_operations_may_be_dropped() {
    // Two pending writes, and later reads that see neither, then one of them.
    let mut h = History::new();
    write(&mut h, 0, 0, 1, 0, None);
    write(&mut h, 1, 0, 2, 1, None);
    h.invoke(2, In::Read { key: 0 }, 2); // a pending read changes nothing
    read(&mut h, 3, 0, None, 3, 4);
    read(&mut h, 3, 0, Some(2), 5, 6);
    assert!(register_verdict(&h).is_linearizable());
}

#[test]
fn output_of_the_wrong_kind_is_rejected() {
    let mut h = History::new();
    let op = h.invoke(0, In::Read { key: 0 }, 0);
    h.complete(op, Out::WriteOk, 1);
    assert!(!register_verdict(&h).is_linearizable());
}

#[test]
fn merged_client_histories_are_checked_together() {
    // Two clients record separately against one clock; merging renumbers the second's ops.
    let mut a = History::new();
    write(&mut a, 0, 0, 1, 0, Some(1));
    let mut b = History::new();
    read(&mut b, 1, 0, None, 2, 3);
    let mut merged = a.clone();
    merged.extend(b);
    assert_eq!(merged.operations().unwrap().len(), 2);
    assert!(!register_verdict(&merged).is_linearizable());
}

// ---------------------------------------------------------------- malformed histories

fn call(op: u64, client: u64, at: u64) -> HistoryEvent<In, Out> {
    HistoryEvent::Call {
        op: OpId(op),
        client,
        input: In::Read { key: 0 },
        at,
    }
}

fn ret(op: u64, at: u64) -> HistoryEvent<In, Out> {
    HistoryEvent::Return {
        op: OpId(op),
        output: Out::Read(None),
        at,
    }
}

fn malformed(events: Vec<HistoryEvent<In, Out>>) -> HistoryError {
    let mut h = History::new();
    for e in events {
        h.push(e);
    }
    let from_ops = h.operations().unwrap_err();
    let from_check = check(&RegisterModel::new(), &h).unwrap_err();
    let from_partitioned = check_partitioned(&RegisterModel::new(), &h, In::key).unwrap_err();
    assert_eq!(from_ops, from_check);
    assert_eq!(from_ops, from_partitioned);
    from_ops
}

#[test]
fn return_without_call_is_an_error() {
    assert_eq!(
        malformed(vec![call(0, 0, 0), ret(0, 1), ret(7, 2)]),
        HistoryError::ReturnWithoutCall { op: OpId(7) }
    );
}

#[test]
fn duplicate_call_is_an_error() {
    assert_eq!(
        malformed(vec![call(0, 0, 0), call(0, 1, 1)]),
        HistoryError::DuplicateCall { op: OpId(0) }
    );
}

#[test]
fn duplicate_return_is_an_error() {
    assert_eq!(
        malformed(vec![call(0, 0, 0), ret(0, 1), ret(0, 2)]),
        HistoryError::DuplicateReturn { op: OpId(0) }
    );
}

#[test]
fn return_before_call_is_an_error() {
    assert_eq!(
        malformed(vec![call(0, 0, 5), ret(0, 3)]),
        HistoryError::ReturnBeforeCall {
            op: OpId(0),
            call: 5,
            ret: 3
        }
    );
}

#[test]
fn client_overlap_is_an_error() {
    // Client 0 invokes op 1 while op 0 is still outstanding.
    assert_eq!(
        malformed(vec![call(0, 0, 0), call(1, 0, 1), ret(0, 2), ret(1, 3)]),
        HistoryError::ClientOverlap {
            client: 0,
            first: OpId(0),
            second: OpId(1)
        }
    );
    // A pending operation must be its client's last.
    assert_eq!(
        malformed(vec![call(0, 0, 0), call(1, 0, 1), ret(1, 3)]),
        HistoryError::ClientOverlap {
            client: 0,
            first: OpId(0),
            second: OpId(1)
        }
    );
}

#[test]
fn errors_render_readably() {
    let e = HistoryError::ClientOverlap {
        client: 3,
        first: OpId(1),
        second: OpId(2),
    };
    assert_eq!(
        e.to_string(),
        "client 3 invoked op#2 while op#1 was still outstanding"
    );
}

// ---------------------------------------------------------------- brute-force reference

/// Whether some order of `ops` consistent with real time satisfies `model`, by trying them all.
///
/// Independent of the checker: plain recursion over "which minimal operation goes next", no
/// entry list, no memoisation. Pending operations may be chosen or left out.
fn brute_force<M: Model>(model: &M, ops: &[Operation<M::Input, M::Output>]) -> bool {
    fn go<M: Model>(
        model: &M,
        ops: &[Operation<M::Input, M::Output>],
        done: &mut [bool],
        state: &M::State,
    ) -> bool {
        if ops
            .iter()
            .zip(done.iter())
            .all(|(op, &d)| d || op.ret.is_none())
        {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] {
                continue;
            }
            // `i` may go next only if no unfinished completed op returned before it was called.
            let blocked = ops
                .iter()
                .zip(done.iter())
                .any(|(o, &d)| !d && o.ret.is_some_and(|r| r < ops[i].call));
            if blocked {
                continue;
            }
            let next: Vec<M::State> = match &ops[i].output {
                Some(out) => model.step(state, &ops[i].input, out).into_iter().collect(),
                None => model.step_pending(state, &ops[i].input),
            };
            for s in next {
                done[i] = true;
                if go(model, ops, done, &s) {
                    return true;
                }
                done[i] = false;
            }
        }
        false
    }
    let mut done = vec![false; ops.len()];
    go(model, ops, &mut done, &model.init())
}

/// A small random register history, linearizable or not.
fn random_small_history(seed: u64) -> RegisterHistory {
    let mut rng = SimRng::new(seed);
    let params = SyntheticHistory {
        clients: rng.range_inclusive(1, 3),
        keys: rng.range_inclusive(1, 2),
        operations: rng.range_inclusive(1, 7) as usize,
        read_fraction: rng.next_f64(),
        seed: rng.next_u64(),
    };
    let base = params.linearizable();
    let mut events = match rng.below(3) {
        0 => base.events().to_vec(),
        1 => corrupt(&base, rng.next_u64()).events().to_vec(),
        // Fully random read results among the written values and "never written".
        _ => {
            let mut events = base.events().to_vec();
            let max = events.len() as u64;
            for e in &mut events {
                if let HistoryEvent::Return {
                    output: Out::Read(seen),
                    ..
                } = e
                {
                    let v = rng.below(max + 1);
                    *seen = (v > 0).then_some(v);
                }
            }
            events
        }
    };
    // Sometimes a client crashes: its last operation never returns.
    if rng.chance(0.4) {
        let crashed = rng.below(params.clients);
        let last_call = events.iter().rev().find_map(|e| match e {
            HistoryEvent::Call { op, client, .. } if *client == crashed => Some(*op),
            _ => None,
        });
        events.retain(|e| !matches!(e, HistoryEvent::Return { op, .. } if Some(*op) == last_call));
    }
    let mut h = History::new();
    for e in events {
        h.push(e);
    }
    h
}

#[test]
fn checker_agrees_with_brute_force_on_random_small_histories() {
    let mut verdicts = [0usize; 2];
    for seed in 0..2000u64 {
        let h = random_small_history(seed);
        let ops = h.operations().expect("generated histories are well-formed");
        let expected = brute_force(&KvModel::new(), &ops);

        let whole = check(&KvModel::new(), &h).unwrap();
        assert_eq!(
            whole.is_linearizable(),
            expected,
            "check (KV model) disagrees with brute force for seed {seed}: {:#?}",
            h.events()
        );
        let partitioned = check_partitioned(&RegisterModel::new(), &h, In::key).unwrap();
        assert_eq!(
            partitioned.is_linearizable(),
            expected,
            "check_partitioned disagrees with brute force for seed {seed}: {:#?}",
            h.events()
        );
        verdicts[usize::from(expected)] += 1;
    }
    // The comparison is only meaningful if both verdicts are well represented.
    assert!(
        verdicts[0] > 300 && verdicts[1] > 300,
        "verdicts {verdicts:?}"
    );
}

// ---------------------------------------------------------------- partitioning

#[test]
fn partitioned_check_reports_the_failing_key() {
    let mut h = History::new();
    // Keys 0 and 2 are fine; key 1 has a stale read after a completed write.
    write(&mut h, 0, 0, 1, 0, Some(1));
    write(&mut h, 1, 1, 2, 2, Some(3));
    write(&mut h, 2, 2, 3, 4, Some(9));
    read(&mut h, 0, 0, Some(1), 5, 6);
    read(&mut h, 1, 1, None, 7, 8);
    read(&mut h, 0, 2, None, 7, 8);

    let verdict = check_partitioned(&RegisterModel::new(), &h, In::key).unwrap();
    let cx = verdict.counterexample().expect("key 1 is not linearizable");
    assert_eq!(cx.partition, "1");
    assert_eq!(cx.operations.len(), 2);
    assert!(cx.to_string().contains("partition 1"));

    let whole = check(&KvModel::new(), &h).unwrap();
    assert_eq!(
        whole.counterexample().map(|c| c.partition.as_str()),
        Some("all")
    );

    // Without the bad read everything passes, partitioned or not.
    let ok_events: Vec<_> = h.events()[..h.len() - 4].to_vec();
    let mut ok = History::new();
    for e in ok_events {
        ok.push(e);
    }
    assert!(
        check_partitioned(&RegisterModel::new(), &ok, In::key)
            .unwrap()
            .is_linearizable()
    );
    assert!(check(&KvModel::new(), &ok).unwrap().is_linearizable());
}

#[test]
fn first_failing_partition_in_key_order_is_reported() {
    let mut h = History::new();
    for key in [5, 3, 8] {
        write(&mut h, key, key, key, 10 * key, Some(10 * key + 1));
        read(&mut h, key, key, None, 10 * key + 2, 10 * key + 3);
    }
    let verdict = check_partitioned(&RegisterModel::new(), &h, In::key).unwrap();
    assert_eq!(verdict.counterexample().unwrap().partition, "3");
}

// ---------------------------------------------------------------- scale

#[test]
fn large_partitioned_synthetic_history_is_accepted() {
    let h = SyntheticHistory {
        clients: 8,
        keys: 100,
        operations: 10_000,
        read_fraction: 0.5,
        seed: 42,
    }
    .linearizable();
    assert_eq!(h.len(), 20_000);
    let verdict = check_partitioned(&RegisterModel::new(), &h, In::key).unwrap();
    assert!(verdict.is_linearizable(), "{verdict:?}");
}

#[test]
fn large_single_key_synthetic_history_is_accepted() {
    let h = SyntheticHistory {
        clients: 8,
        keys: 1,
        operations: 1_000,
        read_fraction: 0.5,
        seed: 7,
    }
    .linearizable();
    assert!(check(&RegisterModel::new(), &h).unwrap().is_linearizable());
}

#[test]
fn corrupted_single_key_histories_agree_with_partitioned_and_kv() {
    // Medium histories, too big for brute force: the three ways of checking must agree.
    for seed in 0..50 {
        let h = SyntheticHistory {
            clients: 4,
            keys: 3,
            operations: 60,
            read_fraction: 0.6,
            seed,
        }
        .linearizable();
        let bad = corrupt(&h, seed);
        let kv = check(&KvModel::new(), &bad).unwrap().is_linearizable();
        let part = check_partitioned(&RegisterModel::new(), &bad, In::key)
            .unwrap()
            .is_linearizable();
        assert_eq!(kv, part, "seed {seed}");
    }
}
