//! A read/write register: the sequential spec of one key of a key-value store.

use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use super::model::Model;

/// An operation on a key-value store of registers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput<V> {
    /// Read the value of `key`.
    Read {
        /// The key read.
        key: u64,
    },
    /// Overwrite `key` with `value`.
    Write {
        /// The key written.
        key: u64,
        /// The new value.
        value: V,
    },
}

impl<V> RegisterInput<V> {
    /// The key the operation touches (the partition key for
    /// [`check_partitioned`](super::check_partitioned)).
    pub fn key(&self) -> u64 {
        match self {
            RegisterInput::Read { key } | RegisterInput::Write { key, .. } => *key,
        }
    }
}

/// The answer to a [`RegisterInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOutput<V> {
    /// The value read; `None` if the key was never written.
    Read(Option<V>),
    /// The write was acknowledged.
    WriteOk,
}

/// A single register; its state is the current value (`None` = never written).
///
/// Keys inside the inputs are ignored: the model describes one key, so use it with
/// [`check_partitioned`](super::check_partitioned) keyed by [`RegisterInput::key`], or with
/// [`check`](super::check) on a single-key history. [`KvModel`](super::KvModel) checks a
/// multi-key history as a whole.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterModel<V>(PhantomData<V>);

impl<V> RegisterModel<V> {
    /// The register model.
    pub fn new() -> Self {
        RegisterModel(PhantomData)
    }
}

impl<V: Clone + Eq + Hash + Debug> Model for RegisterModel<V> {
    type State = Option<V>;
    type Input = RegisterInput<V>;
    type Output = RegisterOutput<V>;

    fn init(&self) -> Option<V> {
        None
    }

    fn step(
        &self,
        state: &Option<V>,
        input: &RegisterInput<V>,
        output: &RegisterOutput<V>,
    ) -> Option<Option<V>> {
        match (input, output) {
            (RegisterInput::Read { .. }, RegisterOutput::Read(seen)) => {
                (seen == state).then(|| state.clone())
            }
            (RegisterInput::Write { value, .. }, RegisterOutput::WriteOk) => {
                Some(Some(value.clone()))
            }
            // An answer of the wrong kind is something no correct register produces.
            _ => None,
        }
    }

    fn step_pending(&self, state: &Option<V>, input: &RegisterInput<V>) -> Vec<Option<V>> {
        match input {
            RegisterInput::Read { .. } => vec![state.clone()],
            RegisterInput::Write { value, .. } => vec![Some(value.clone())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_must_match_state() {
        let m = RegisterModel::<u32>::new();
        let read = RegisterInput::Read { key: 0 };
        assert_eq!(
            m.step(&None, &read, &RegisterOutput::Read(None)),
            Some(None)
        );
        assert_eq!(m.step(&Some(1), &read, &RegisterOutput::Read(None)), None);
        assert_eq!(
            m.step(&Some(1), &read, &RegisterOutput::Read(Some(1))),
            Some(Some(1))
        );
    }

    #[test]
    fn write_sets_state_and_mismatched_output_is_illegal() {
        let m = RegisterModel::<u32>::new();
        let write = RegisterInput::Write { key: 0, value: 7 };
        assert_eq!(
            m.step(&None, &write, &RegisterOutput::WriteOk),
            Some(Some(7))
        );
        assert_eq!(m.step(&None, &write, &RegisterOutput::Read(None)), None);
        assert_eq!(
            m.step(
                &None,
                &RegisterInput::Read { key: 0 },
                &RegisterOutput::WriteOk
            ),
            None
        );
        assert_eq!(m.step_pending(&Some(1), &write), vec![Some(7)]);
        assert_eq!(
            m.step_pending(&Some(1), &RegisterInput::Read { key: 3 }),
            vec![Some(1)]
        );
        assert_eq!(write.key(), 0);
    }
}
