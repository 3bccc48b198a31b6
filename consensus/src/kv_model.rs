//! The sequential specification of one key of [`KvStore`](crate::KvStore), for `sim`'s
//! linearizability checker.

use stratus_sim::linearizability::Model;

use crate::kv::{KvCommand, KvOutput};

/// One key of the KV store as a sequential object: its state is the key's value. Use with
/// `check_partitioned(&KvKeyModel, &history, KvCommand::key)`.
///
/// `sim` ships `KvModel` for read/write registers; compare-and-set and append need their own
/// spec, which is this.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvKeyModel;

impl KvKeyModel {
    fn apply(state: &Option<String>, input: &KvCommand) -> (Option<String>, KvOutput) {
        match input {
            KvCommand::Get { .. } => (state.clone(), KvOutput::Value(state.clone())),
            KvCommand::Put { value, .. } => (Some(value.clone()), KvOutput::Ok),
            KvCommand::Cas { expect, new, .. } => {
                if state == expect {
                    (Some(new.clone()), KvOutput::Cas(true))
                } else {
                    (state.clone(), KvOutput::Cas(false))
                }
            }
            KvCommand::Append { suffix, .. } => {
                let mut value = state.clone().unwrap_or_default();
                value.push_str(suffix);
                (Some(value), KvOutput::Ok)
            }
        }
    }
}

impl Model for KvKeyModel {
    type State = Option<String>;
    type Input = KvCommand;
    type Output = KvOutput;

    fn init(&self) -> Option<String> {
        None
    }

    fn step(
        &self,
        state: &Option<String>,
        input: &KvCommand,
        output: &KvOutput,
    ) -> Option<Option<String>> {
        let (next, expected) = Self::apply(state, input);
        (expected == *output).then_some(next)
    }

    fn step_pending(&self, state: &Option<String>, input: &KvCommand) -> Vec<Option<String>> {
        vec![Self::apply(state, input).0]
    }
}

#[cfg(test)]
mod tests {
    use stratus_sim::history::History;
    use stratus_sim::linearizability::check_partitioned;

    use super::*;

    #[test]
    fn a_lost_append_is_caught_and_a_concurrent_one_is_not() {
        let append = |s: &str| KvCommand::Append {
            key: 0,
            suffix: s.into(),
        };
        let mut h = History::new();
        let a = h.invoke(1, append("a"), 1);
        h.complete(a, KvOutput::Ok, 2);
        let b = h.invoke(2, append("b"), 3);
        let r = h.invoke(1, KvCommand::Get { key: 0 }, 4);
        h.complete(r, KvOutput::Value(Some("a".into())), 5);
        h.complete(b, KvOutput::Ok, 6);
        let verdict = check_partitioned(&KvKeyModel, &h, KvCommand::key).unwrap();
        assert!(verdict.is_linearizable(), "{verdict:?}");
        // A read after both appends returned must see both, once each.
        let late = h.invoke(1, KvCommand::Get { key: 0 }, 7);
        h.complete(late, KvOutput::Value(Some("abb".into())), 8);
        let verdict = check_partitioned(&KvKeyModel, &h, KvCommand::key).unwrap();
        assert!(!verdict.is_linearizable());
    }
}
