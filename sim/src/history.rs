//! Recording what clients asked for and what they were told.
//!
//! A [`History`] is the raw material of a linearizability check: a log of call and return
//! events with logical timestamps. It is deliberately dumb while recording (appending never
//! fails, so recording code in a simulation has nothing to handle) and strict when read back:
//! [`History::operations`] pairs calls with returns and rejects anything malformed with a
//! typed [`HistoryError`], because a checker fed a broken history would report nonsense.
//!
//! Timestamps come from one global, strictly increasing counter. Operation A happens before
//! operation B exactly when `A.ret < B.call`; equal or overlapping stamps mean the two were
//! concurrent. An operation without a return is *pending*: its client crashed or gave up, so
//! it may have taken effect at any point after its call, or never.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

/// Identifies one operation within a [`History`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub u64);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op#{}", self.0)
    }
}

/// One entry of a history: a client invoked an operation, or an operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryEvent<I, O> {
    /// Client `client` invoked operation `op` with `input` at logical time `at`.
    Call {
        /// The operation this call starts.
        op: OpId,
        /// The (sequential) client that issued it.
        client: u64,
        /// What the client asked for.
        input: I,
        /// Logical timestamp of the invocation.
        at: u64,
    },
    /// Operation `op` returned `output` at logical time `at`.
    Return {
        /// The operation this return completes.
        op: OpId,
        /// What the client was told.
        output: O,
        /// Logical timestamp of the response.
        at: u64,
    },
}

impl<I, O> HistoryEvent<I, O> {
    /// The operation the event belongs to.
    pub fn op(&self) -> OpId {
        match self {
            HistoryEvent::Call { op, .. } | HistoryEvent::Return { op, .. } => *op,
        }
    }

    /// Renames the event's operation; used when merging histories.
    fn with_op(self, new: OpId) -> Self {
        match self {
            HistoryEvent::Call {
                client, input, at, ..
            } => HistoryEvent::Call {
                op: new,
                client,
                input,
                at,
            },
            HistoryEvent::Return { output, at, .. } => HistoryEvent::Return {
                op: new,
                output,
                at,
            },
        }
    }
}

/// One operation reconstructed from a history: a call paired with its return, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The operation's identifier.
    pub id: OpId,
    /// The client that issued it.
    pub client: u64,
    /// What the client asked for.
    pub input: I,
    /// What the client was told; `None` for a pending operation.
    pub output: Option<O>,
    /// Logical timestamp of the call.
    pub call: u64,
    /// Logical timestamp of the return; `None` for a pending operation.
    pub ret: Option<u64>,
}

impl<I, O> Operation<I, O> {
    /// Whether the operation never returned (its client crashed or gave up).
    pub fn is_pending(&self) -> bool {
        self.ret.is_none()
    }
}

/// Why a history cannot be turned into operations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// A return names an operation that was never called.
    #[error("{op} returned but was never called")]
    ReturnWithoutCall {
        /// The offending operation.
        op: OpId,
    },
    /// The same operation was called twice.
    #[error("{op} was called twice")]
    DuplicateCall {
        /// The offending operation.
        op: OpId,
    },
    /// The same operation returned twice.
    #[error("{op} returned twice")]
    DuplicateReturn {
        /// The offending operation.
        op: OpId,
    },
    /// An operation's return is stamped earlier than its call.
    #[error("{op} returned at {ret}, before its call at {call}")]
    ReturnBeforeCall {
        /// The offending operation.
        op: OpId,
        /// Timestamp of the call.
        call: u64,
        /// Timestamp of the (earlier) return.
        ret: u64,
    },
    /// A client invoked a new operation while its previous one was still outstanding.
    ///
    /// Clients are sequential by definition; a client that gives up on an operation and moves
    /// on must do so under a new client id, or the checker would order its operations wrongly.
    #[error("client {client} invoked {second} while {first} was still outstanding")]
    ClientOverlap {
        /// The client.
        client: u64,
        /// The operation still outstanding.
        first: OpId,
        /// The operation invoked too early.
        second: OpId,
    },
}

/// A log of call and return events, in recording order.
#[derive(Clone, Debug)]
pub struct History<I, O> {
    events: Vec<HistoryEvent<I, O>>,
    /// The smallest id not used by any event, so [`History::invoke`] stays fresh even after
    /// raw [`History::push`]es. Saturates instead of overflowing; a history that exhausts
    /// the id space gets duplicate ids, which [`History::operations`] reports.
    next_id: u64,
}

impl<I, O> Default for History<I, O> {
    fn default() -> Self {
        History {
            events: Vec::new(),
            next_id: 0,
        }
    }
}

impl<I, O> History<I, O> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `client` invoked an operation with `input` at time `at`; returns its id.
    pub fn invoke(&mut self, client: u64, input: I, at: u64) -> OpId {
        let op = OpId(self.next_id);
        self.push(HistoryEvent::Call {
            op,
            client,
            input,
            at,
        });
        op
    }

    /// Records that `op` returned `output` at time `at`.
    pub fn complete(&mut self, op: OpId, output: O, at: u64) {
        self.push(HistoryEvent::Return { op, output, at });
    }

    /// Appends a raw event without any validation (tests use it to build malformed histories).
    pub fn push(&mut self, event: HistoryEvent<I, O>) {
        self.next_id = self.next_id.max(event.op().0.saturating_add(1));
        self.events.push(event);
    }

    /// All events, in recording order.
    pub fn events(&self) -> &[HistoryEvent<I, O>] {
        &self.events
    }

    /// Number of events (calls plus returns).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Appends the events of `other`, typically recorded by other clients against the same
    /// global clock.
    ///
    /// Both histories numbered their operations from zero, so `other`'s operations are
    /// renumbered past this history's ids, consistently: a call and its return keep naming the
    /// same operation. The events keep their timestamps; their order in the log does not
    /// matter to [`History::operations`].
    pub fn extend(&mut self, other: History<I, O>) {
        let mut renamed: HashMap<OpId, OpId> = HashMap::new();
        self.events.reserve(other.events.len());
        for event in other.events {
            let new = match renamed.entry(event.op()) {
                Entry::Occupied(slot) => *slot.get(),
                Entry::Vacant(slot) => *slot.insert(OpId(self.next_id)),
            };
            self.push(event.with_op(new));
        }
    }

    /// Pairs calls with returns and validates the result.
    ///
    /// Operations come back sorted by call time (ties by id). Errors are reported for the
    /// first offending event in log order: calls are validated first, then returns, then the
    /// per-client sequencing.
    pub fn operations(&self) -> Result<Vec<Operation<I, O>>, HistoryError>
    where
        I: Clone,
        O: Clone,
    {
        // Two passes (calls, then returns) so that a merged log whose returns precede the
        // matching calls in log order is still read correctly: only the stamps carry time.
        let mut index: HashMap<OpId, usize> = HashMap::new();
        let mut ops: Vec<Operation<I, O>> = Vec::new();
        for event in &self.events {
            if let HistoryEvent::Call {
                op,
                client,
                input,
                at,
            } = event
            {
                if index.insert(*op, ops.len()).is_some() {
                    return Err(HistoryError::DuplicateCall { op: *op });
                }
                ops.push(Operation {
                    id: *op,
                    client: *client,
                    input: input.clone(),
                    output: None,
                    call: *at,
                    ret: None,
                });
            }
        }
        for event in &self.events {
            if let HistoryEvent::Return { op, output, at } = event {
                let Some(&i) = index.get(op) else {
                    return Err(HistoryError::ReturnWithoutCall { op: *op });
                };
                let operation = &mut ops[i];
                if operation.ret.is_some() {
                    return Err(HistoryError::DuplicateReturn { op: *op });
                }
                if *at < operation.call {
                    return Err(HistoryError::ReturnBeforeCall {
                        op: *op,
                        call: operation.call,
                        ret: *at,
                    });
                }
                operation.ret = Some(*at);
                operation.output = Some(output.clone());
            }
        }
        ops.sort_by_key(|op| (op.call, op.id));
        check_clients_sequential(&ops)?;
        Ok(ops)
    }
}

/// Rejects a client whose next call is not strictly after its previous operation's return.
fn check_clients_sequential<I, O>(ops: &[Operation<I, O>]) -> Result<(), HistoryError> {
    // `ops` is sorted by call time, so the previous operation seen for a client is the one
    // that must have finished before the current call.
    let mut last: HashMap<u64, &Operation<I, O>> = HashMap::new();
    for op in ops {
        if let Some(prev) = last.insert(op.client, op) {
            let finished_before = prev.ret.is_some_and(|ret| ret < op.call);
            if !finished_before {
                return Err(HistoryError::ClientOverlap {
                    client: op.client,
                    first: prev.id,
                    second: op.id,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type H = History<&'static str, u32>;

    #[test]
    fn invoke_and_complete_pair_up() {
        let mut h = H::new();
        let a = h.invoke(1, "a", 0);
        let b = h.invoke(2, "b", 1);
        h.complete(b, 20, 2);
        assert_ne!(a, b);
        assert_eq!(h.len(), 3);
        let ops = h.operations().unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].id, a);
        assert!(ops[0].is_pending());
        assert_eq!(ops[1].output, Some(20));
        assert_eq!(ops[1].ret, Some(2));
    }

    #[test]
    fn invoke_after_push_stays_fresh() {
        let mut h = H::new();
        h.push(HistoryEvent::Call {
            op: OpId(41),
            client: 0,
            input: "x",
            at: 0,
        });
        let next = h.invoke(1, "y", 1);
        assert_eq!(next, OpId(42));
    }

    #[test]
    fn extend_renumbers_consistently() {
        let mut a = H::new();
        let a0 = a.invoke(1, "a", 0);
        a.complete(a0, 1, 3);
        let mut b = H::new();
        let b0 = b.invoke(2, "b", 1);
        b.complete(b0, 2, 2);
        let b1 = b.invoke(2, "c", 4);
        a.extend(b);
        let ops = a.operations().unwrap();
        assert_eq!(ops.len(), 3);
        let ids: std::collections::HashSet<_> = ops.iter().map(|o| o.id).collect();
        assert_eq!(ids.len(), 3);
        let b_ops: Vec<_> = ops.iter().filter(|o| o.client == 2).collect();
        assert_eq!(b_ops[0].output, Some(2));
        assert_eq!(b_ops[1].input, "c");
        assert!(b_ops[1].is_pending());
        assert_ne!(b_ops[1].id, b1, "renumbered past the first history's ids");
    }

    #[test]
    fn return_at_call_stamp_is_allowed() {
        let mut h = H::new();
        let a = h.invoke(1, "a", 5);
        h.complete(a, 1, 5);
        assert!(h.operations().is_ok());
    }

    #[test]
    fn same_stamp_for_one_client_is_overlap() {
        let mut h = H::new();
        let a = h.invoke(1, "a", 0);
        h.complete(a, 1, 3);
        let b = h.invoke(1, "b", 3);
        assert_eq!(
            h.operations(),
            Err(HistoryError::ClientOverlap {
                client: 1,
                first: a,
                second: b
            })
        );
    }
}
