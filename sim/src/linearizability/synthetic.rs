//! Generated register histories, for testing and benchmarking the checker.

use std::collections::HashMap;

use super::register::{RegisterInput, RegisterOutput};
use crate::history::{History, HistoryEvent};
use crate::rng::SimRng;

/// A register history as recorded by the checker's users.
pub type RegisterHistory = History<RegisterInput<u64>, RegisterOutput<u64>>;

/// Parameters of a generated key-value history.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticHistory {
    /// Number of sequential clients (at least one is used).
    pub clients: u64,
    /// Number of keys, `0..keys` (at least one is used).
    pub keys: u64,
    /// Number of operations in total.
    pub operations: usize,
    /// Probability that an operation is a read rather than a write.
    pub read_fraction: f64,
    /// Seed of every random choice: the same parameters give the same history.
    pub seed: u64,
}

/// One generated operation before it is turned into events.
struct Plan {
    client: u64,
    input: RegisterInput<u64>,
}

/// The three instants of a generated operation, in the order they are sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Call,
    TakesEffect,
    Return,
}

impl SyntheticHistory {
    /// A history that is linearizable by construction.
    ///
    /// Clients run concurrently: each operation gets a call time, a linearization point strictly
    /// after it and a return strictly after that, on a shared fine-grained clock, and the next
    /// operation goes to whichever client is free first, so with several clients the intervals
    /// genuinely overlap. Operations are applied to a real map in linearization-point order to
    /// produce their outputs; written values are unique (1, 2, 3, ...), so a read names exactly
    /// one write.
    pub fn linearizable(&self) -> RegisterHistory {
        let mut rng = SimRng::new(self.seed);
        let clients = self.clients.max(1);
        let keys = self.keys.max(1);

        // Lay the operations out on a raw clock; ties between operations are fine because the
        // raw times are only sorted, then replaced by strictly increasing stamps.
        let mut free_at = vec![0u64; usize::try_from(clients).unwrap_or(usize::MAX).min(1 << 20)];
        let mut plans = Vec::with_capacity(self.operations);
        let mut instants: Vec<(u64, Phase, usize)> = Vec::with_capacity(3 * self.operations);
        let mut next_value = 1u64;
        for i in 0..self.operations {
            let (client, free) = free_at
                .iter()
                .enumerate()
                .min_by_key(|&(c, &t)| (t, c))
                .map_or((0, 0), |(c, &t)| (c, t));
            let call = free + rng.below(3);
            let effect = call + 1 + rng.below(8);
            let ret = effect + 1 + rng.below(8);
            free_at[client] = ret + 1;
            let key = rng.below(keys);
            let input = if rng.chance(self.read_fraction) {
                RegisterInput::Read { key }
            } else {
                let value = next_value;
                next_value += 1;
                RegisterInput::Write { key, value }
            };
            plans.push(Plan {
                client: client as u64,
                input,
            });
            instants.push((call, Phase::Call, i));
            instants.push((effect, Phase::TakesEffect, i));
            instants.push((ret, Phase::Return, i));
        }
        instants.sort_unstable();

        let mut history = History::new();
        let mut store: HashMap<u64, u64> = HashMap::new();
        let mut ids = vec![None; plans.len()];
        let mut outputs = vec![None; plans.len()];
        let mut stamp = 0u64;
        for (_, phase, i) in instants {
            let plan = &plans[i];
            match phase {
                Phase::Call => {
                    ids[i] = Some(history.invoke(plan.client, plan.input.clone(), stamp));
                    stamp += 1;
                }
                Phase::TakesEffect => {
                    outputs[i] = Some(match &plan.input {
                        RegisterInput::Read { key } => {
                            RegisterOutput::Read(store.get(key).copied())
                        }
                        RegisterInput::Write { key, value } => {
                            store.insert(*key, *value);
                            RegisterOutput::WriteOk
                        }
                    });
                }
                Phase::Return => {
                    // Each operation's call and effect sort before its return, so both are set.
                    if let (Some(op), Some(output)) = (ids[i], outputs[i].take()) {
                        history.complete(op, output, stamp);
                        stamp += 1;
                    }
                }
            }
        }
        history
    }
}

/// A copy of `history` with one read's result replaced by a stale or impossible value.
///
/// The replacement is drawn (from `seed`) among "never written", a value written anywhere in the
/// history, and a value nobody wrote. The result is usually, but not necessarily, not
/// linearizable (a stale value may still be explainable by concurrency), so tests must decide
/// with an independent checker. Histories without a completed read are returned unchanged.
pub fn corrupt(history: &RegisterHistory, seed: u64) -> RegisterHistory {
    let mut rng = SimRng::new(seed);
    let mut events = history.events().to_vec();
    let reads: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            matches!(
                e,
                HistoryEvent::Return {
                    output: RegisterOutput::Read(_),
                    ..
                }
            )
        })
        .map(|(i, _)| i)
        .collect();
    let written: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            HistoryEvent::Call {
                input: RegisterInput::Write { value, .. },
                ..
            } => Some(*value),
            _ => None,
        })
        .collect();
    if let Some(&victim) = rng.choose(&reads) {
        let fresh = match rng.below(3) {
            0 => None,
            1 => rng.choose(&written).copied(),
            _ => Some(u64::MAX),
        };
        if let HistoryEvent::Return {
            output: RegisterOutput::Read(seen),
            ..
        } = &mut events[victim]
        {
            // Make sure something changed; otherwise this would not be a corruption at all.
            *seen = if *seen == fresh {
                match fresh {
                    Some(_) => None,
                    None => Some(u64::MAX),
                }
            } else {
                fresh
            };
        }
    }
    let mut out = History::new();
    for event in events {
        out.push(event);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(seed: u64) -> SyntheticHistory {
        SyntheticHistory {
            clients: 8,
            keys: 1,
            operations: 200,
            read_fraction: 0.5,
            seed,
        }
    }

    #[test]
    fn deterministic_and_complete() {
        let a = params(3).linearizable();
        let b = params(3).linearizable();
        assert_eq!(a.events(), b.events());
        let ops = a.operations().unwrap();
        assert_eq!(ops.len(), 200);
        assert!(ops.iter().all(|op| !op.is_pending()));
    }

    #[test]
    fn clients_really_overlap() {
        let ops = params(5).linearizable().operations().unwrap();
        // Count operations that are concurrent with at least one op of another client.
        let overlapping = ops
            .iter()
            .filter(|a| {
                ops.iter().any(|b| {
                    a.client != b.client && a.call <= b.ret.unwrap() && b.call <= a.ret.unwrap()
                })
            })
            .count();
        assert!(overlapping > 190, "only {overlapping} ops overlap");
        let max_concurrent = ops
            .iter()
            .map(|a| {
                ops.iter()
                    .filter(|b| b.call <= a.call && a.call <= b.ret.unwrap())
                    .count()
            })
            .max()
            .unwrap();
        assert!(max_concurrent >= 6, "max concurrency {max_concurrent}");
    }

    #[test]
    fn corrupt_changes_exactly_one_read() {
        let h = params(9).linearizable();
        let c = corrupt(&h, 1);
        let diffs = h
            .events()
            .iter()
            .zip(c.events())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(diffs, 1);
    }
}
