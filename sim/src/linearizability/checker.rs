//! The linearizability search: Wing & Gong's algorithm with Lowe's memoisation.
//!
//! The search walks a time-ordered list of call and return entries. At a call it tries to
//! linearize that operation next (the model must accept its output); on success the operation is
//! lifted out of the list and the walk restarts from the head. Reaching a return means that
//! operation had to be linearized before this point and was not, so the search backtracks to the
//! most recent choice and tries the next candidate after it. A configuration already seen (same
//! set of linearized operations, same model state) cannot lead anywhere new, so it is skipped:
//! that cache is what turns the exponential search into something usable on real histories.
//!
//! Pending operations (no return) have no return entry: nothing forces them to be linearized, so
//! the search succeeds as soon as no *completed* operation is left in the list.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::Hash;

use super::bitset::Bitset;
use super::entries::{Entry, EntryList};
use super::model::Model;
use crate::history::{History, HistoryError, OpId, Operation};

/// The outcome of a linearizability check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some total order of the operations respects real time and the sequential model.
    Linearizable,
    /// No such order exists; the counterexample says where the search got stuck.
    NotLinearizable(Counterexample),
}

impl Verdict {
    /// Whether the history was found linearizable.
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }

    /// The counterexample, if the history was not linearizable.
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match self {
            Verdict::Linearizable => None,
            Verdict::NotLinearizable(c) => Some(c),
        }
    }
}

/// A readable explanation of a failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// `Debug` rendering of the failing partition's key, or `"all"` for an unpartitioned check.
    pub partition: String,
    /// The partition's operations in call order, one per line:
    /// `op#id client C [call, ret] input -> output`.
    pub operations: Vec<String>,
    /// The deepest partial linearization the search reached, in linearization order. The
    /// operations that could not follow it are where to look first.
    pub longest_linearized: Vec<OpId>,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "history is not linearizable (partition {})",
            self.partition
        )?;
        writeln!(f, "operations ({}):", self.operations.len())?;
        for line in &self.operations {
            writeln!(f, "  {line}")?;
        }
        write!(
            f,
            "longest linearizable prefix ({} ops):",
            self.longest_linearized.len()
        )?;
        for op in &self.longest_linearized {
            write!(f, " {op}")?;
        }
        Ok(())
    }
}

impl Counterexample {
    fn new<I: fmt::Debug, O: fmt::Debug>(
        partition: String,
        ops: &[Operation<I, O>],
        longest_linearized: Vec<OpId>,
    ) -> Self {
        let operations = ops
            .iter()
            .map(|op| {
                let ret = op
                    .ret
                    .map_or_else(|| "pending".to_owned(), |r| r.to_string());
                let output = op
                    .output
                    .as_ref()
                    .map_or_else(|| "pending".to_owned(), |o| format!("{o:?}"));
                format!(
                    "{} client {} [{}, {}] {:?} -> {}",
                    op.id, op.client, op.call, ret, op.input, output
                )
            })
            .collect();
        Counterexample {
            partition,
            operations,
            longest_linearized,
        }
    }
}

/// Checks that `history` is linearizable with respect to `model`.
///
/// Fails only if the history is malformed; a non-linearizable history is a
/// [`Verdict::NotLinearizable`], not an error.
pub fn check<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
) -> Result<Verdict, HistoryError> {
    let ops = history.operations()?;
    Ok(match search(model, &ops) {
        Ok(()) => Verdict::Linearizable,
        Err(longest) => {
            Verdict::NotLinearizable(Counterexample::new("all".to_owned(), &ops, longest))
        }
    })
}

/// Checks each partition of `history` independently (P-compositionality).
///
/// Operations are grouped by `key_of(input)` and each group is checked from `model.init()`, so
/// the model's state describes one key. This is sound exactly when operations on different keys
/// never constrain each other (as for a map of independent registers), and it is much faster:
/// the search is exponential in the concurrency of one partition rather than of the whole
/// history. Partitions are checked in key order and the first failing one is reported, so the
/// result is deterministic.
pub fn check_partitioned<M, K>(
    model: &M,
    history: &History<M::Input, M::Output>,
    key_of: impl Fn(&M::Input) -> K,
) -> Result<Verdict, HistoryError>
where
    M: Model,
    K: Hash + Eq + Ord + Clone + fmt::Debug,
{
    // Validate the whole history first: per-client sequencing is a cross-partition property.
    let ops = history.operations()?;
    let mut partitions: BTreeMap<K, Vec<ModelOp<M>>> = BTreeMap::new();
    for op in ops {
        partitions.entry(key_of(&op.input)).or_default().push(op);
    }
    for (key, part) in &partitions {
        if let Err(longest) = search(model, part) {
            return Ok(Verdict::NotLinearizable(Counterexample::new(
                format!("{key:?}"),
                part,
                longest,
            )));
        }
    }
    Ok(Verdict::Linearizable)
}

/// An operation as the model sees it.
type ModelOp<M> = Operation<<M as Model>::Input, <M as Model>::Output>;

/// A linearization decision the search may have to undo.
struct Frame<S> {
    /// The lifted call node.
    node: usize,
    /// The operation's index.
    op: usize,
    /// The model state before the operation was applied.
    prev: S,
    /// Further states a pending operation could lead to, not tried yet.
    untried: Vec<S>,
}

/// The mutable state of one search over one set of operations.
struct Search<'a, M: Model> {
    model: &'a M,
    ops: &'a [ModelOp<M>],
    list: EntryList,
    state: M::State,
    linearized: Bitset,
    /// Configurations already explored: revisiting one cannot succeed where it failed before.
    seen: HashSet<(Bitset, M::State)>,
    stack: Vec<Frame<M::State>>,
    /// Completed operations not yet linearized; zero means success.
    remaining: usize,
    longest: Vec<OpId>,
}

/// Runs the search; on failure returns the deepest partial linearization reached.
fn search<M: Model>(model: &M, ops: &[ModelOp<M>]) -> Result<(), Vec<OpId>> {
    let mut s = Search {
        model,
        ops,
        list: EntryList::new(ops.iter().map(|op| (op.call, op.ret))),
        state: model.init(),
        linearized: Bitset::new(ops.len()),
        seen: HashSet::new(),
        stack: Vec::new(),
        remaining: ops.iter().filter(|op| !op.is_pending()).count(),
        longest: Vec::new(),
    };
    s.run()
}

impl<M: Model> Search<'_, M> {
    fn run(&mut self) -> Result<(), Vec<OpId>> {
        let mut cursor = self.list.first();
        loop {
            if self.remaining == 0 {
                return Ok(());
            }
            match cursor.and_then(|node| Some((node, self.list.entry(node)?))) {
                Some((node, Entry::Call { op })) => {
                    let operation = &self.ops[op];
                    let lifted = match &operation.output {
                        Some(output) => {
                            let next = self.model.step(&self.state, &operation.input, output);
                            self.try_lift(node, op, next.into_iter())
                        }
                        None => {
                            let next = self.model.step_pending(&self.state, &operation.input);
                            self.try_lift(node, op, next.into_iter())
                        }
                    };
                    cursor = if lifted {
                        self.list.first()
                    } else {
                        self.list.next(node)
                    };
                }
                // A return (or, defensively, the end of the list while completed operations
                // remain): some operation that had to be linearized by now was not.
                _ => {
                    let Some(frame) = self.stack.pop() else {
                        return Err(std::mem::take(&mut self.longest));
                    };
                    self.list.unlift(frame.node);
                    self.linearized.remove(frame.op);
                    self.state = frame.prev;
                    if !self.ops[frame.op].is_pending() {
                        self.remaining += 1;
                    }
                    // A pending operation may still have other outcomes to try at this spot.
                    cursor = if self.try_lift(frame.node, frame.op, frame.untried.into_iter()) {
                        self.list.first()
                    } else {
                        self.list.next(frame.node)
                    };
                }
            }
        }
    }

    /// Linearizes operation `op` (call node `node`) next, moving to the first candidate state
    /// whose configuration is new. Returns whether it did.
    fn try_lift(
        &mut self,
        node: usize,
        op: usize,
        mut candidates: impl Iterator<Item = M::State>,
    ) -> bool {
        self.linearized.insert(op);
        while let Some(next) = candidates.next() {
            if self.seen.insert((self.linearized.clone(), next.clone())) {
                let prev = std::mem::replace(&mut self.state, next);
                self.stack.push(Frame {
                    node,
                    op,
                    prev,
                    untried: candidates.collect(),
                });
                self.list.lift(node);
                if !self.ops[op].is_pending() {
                    self.remaining -= 1;
                }
                if self.stack.len() > self.longest.len() {
                    self.longest = self.stack.iter().map(|f| self.ops[f.op].id).collect();
                }
                return true;
            }
        }
        self.linearized.remove(op);
        false
    }
}
