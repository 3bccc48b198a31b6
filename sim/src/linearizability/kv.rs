//! A whole key-value store of registers as one model, for unpartitioned checks.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use super::model::Model;
use super::register::{RegisterInput, RegisterOutput};

/// A map of independent registers checked as one object; absent keys were never written.
///
/// Checking a multi-key history with this model gives the same verdict as partitioning it by
/// key with [`RegisterModel`](super::RegisterModel), only much slower: it exists as the
/// reference the partitioned check is compared against, and for models where keys interact.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel<V>(PhantomData<V>);

impl<V> KvModel<V> {
    /// The key-value model.
    pub fn new() -> Self {
        KvModel(PhantomData)
    }
}

impl<V: Clone + Eq + Hash + Debug> Model for KvModel<V> {
    // A BTreeMap, not a HashMap: the state must be hashable and canonical.
    type State = BTreeMap<u64, V>;
    type Input = RegisterInput<V>;
    type Output = RegisterOutput<V>;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &RegisterInput<V>,
        output: &RegisterOutput<V>,
    ) -> Option<Self::State> {
        match (input, output) {
            (RegisterInput::Read { key }, RegisterOutput::Read(seen)) => {
                (seen.as_ref() == state.get(key)).then(|| state.clone())
            }
            (RegisterInput::Write { key, value }, RegisterOutput::WriteOk) => {
                let mut next = state.clone();
                next.insert(*key, value.clone());
                Some(next)
            }
            _ => None,
        }
    }

    fn step_pending(&self, state: &Self::State, input: &RegisterInput<V>) -> Vec<Self::State> {
        match input {
            RegisterInput::Read { .. } => vec![state.clone()],
            RegisterInput::Write { key, value } => {
                let mut next = state.clone();
                next.insert(*key, value.clone());
                vec![next]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_independent() {
        let m = KvModel::<u32>::new();
        let s = m
            .step(
                &m.init(),
                &RegisterInput::Write { key: 1, value: 5 },
                &RegisterOutput::WriteOk,
            )
            .unwrap();
        let r0 = RegisterInput::Read { key: 0 };
        let r1 = RegisterInput::Read { key: 1 };
        assert!(m.step(&s, &r0, &RegisterOutput::Read(None)).is_some());
        assert!(m.step(&s, &r1, &RegisterOutput::Read(Some(5))).is_some());
        assert!(m.step(&s, &r1, &RegisterOutput::Read(None)).is_none());
    }
}
