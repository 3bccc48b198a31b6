//! The sequential specification a history is checked against.

use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification: what a single-copy object would answer, one operation at a time.
///
/// The checker never inspects states beyond cloning, comparing and hashing them: equal states
/// (together with the set of operations already linearized) are explored once, which is what
/// keeps the search tractable. States should therefore be canonical (two states that behave the
/// same should compare equal).
pub trait Model {
    /// The object's state.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asks for.
    type Input: Clone + Debug;
    /// What a client is told.
    type Output: Clone + Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after applying `input` in `state`, if the operation could have returned
    /// `output` there; `None` if that output is impossible in that state.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// For a pending operation (no output observed): every state it could lead to if it took
    /// effect in `state`.
    ///
    /// The checker separately considers the operation never taking effect, so this need not
    /// include "unchanged" for operations that would change the state.
    fn step_pending(&self, state: &Self::State, input: &Self::Input) -> Vec<Self::State>;
}
