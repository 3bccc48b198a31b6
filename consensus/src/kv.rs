//! The standard replicated machine: a key-value store with get, put, compare-and-set and
//! append.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ConsensusError;
use crate::state_machine::StateMachine;

/// A key-value store command.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvCommand {
    /// Read `key`.
    Get {
        /// The key.
        key: u64,
    },
    /// Overwrite `key` with `value`.
    Put {
        /// The key.
        key: u64,
        /// The new value.
        value: String,
    },
    /// Set `key` to `new` only if its current value is `expect` (`None`: absent).
    Cas {
        /// The key.
        key: u64,
        /// The value the caller believes is there.
        expect: Option<String>,
        /// The value to install on success.
        new: String,
    },
    /// Append `suffix` to the value of `key` (an absent key counts as empty).
    Append {
        /// The key.
        key: u64,
        /// What to append.
        suffix: String,
    },
}

impl KvCommand {
    /// The key the command touches (the linearizability checker partitions by it).
    pub fn key(&self) -> u64 {
        match self {
            KvCommand::Get { key }
            | KvCommand::Put { key, .. }
            | KvCommand::Cas { key, .. }
            | KvCommand::Append { key, .. } => *key,
        }
    }

    /// Whether the command only reads.
    pub fn is_read(&self) -> bool {
        matches!(self, KvCommand::Get { .. })
    }
}

/// The answer to a [`KvCommand`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOutput {
    /// The value read (`None`: absent).
    Value(Option<String>),
    /// A put or append took effect.
    Ok,
    /// Whether a compare-and-set took effect.
    Cas(bool),
}

/// A replicated map from `u64` keys to string values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    entries: BTreeMap<u64, String>,
}

impl KvStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key`, without going through the log (for inspection in tests).
    pub fn get(&self, key: u64) -> Option<&str> {
        self.entries.get(&key).map(String::as_str)
    }

    /// Number of keys present.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl StateMachine for KvStore {
    type Command = KvCommand;
    type Output = KvOutput;

    fn apply(&mut self, command: &KvCommand) -> KvOutput {
        match command {
            KvCommand::Get { key } => KvOutput::Value(self.entries.get(key).cloned()),
            KvCommand::Put { key, value } => {
                self.entries.insert(*key, value.clone());
                KvOutput::Ok
            }
            KvCommand::Cas { key, expect, new } => {
                if self.entries.get(key) == expect.as_ref() {
                    self.entries.insert(*key, new.clone());
                    KvOutput::Cas(true)
                } else {
                    KvOutput::Cas(false)
                }
            }
            KvCommand::Append { key, suffix } => {
                self.entries.entry(*key).or_default().push_str(suffix);
                KvOutput::Ok
            }
        }
    }

    /// Commands on different keys commute, and so do two reads of the same key.
    fn conflicts(a: &KvCommand, b: &KvCommand) -> bool {
        a.key() == b.key() && !(a.is_read() && b.is_read())
    }

    fn conflict_class(command: &KvCommand) -> Option<u64> {
        Some(command.key())
    }

    fn snapshot(&self) -> Vec<u8> {
        // Serialising a BTreeMap of strings cannot fail; an empty vector would only appear if
        // postcard's infallible-in-practice encoder ever did, and restore would then report it.
        postcard::to_stdvec(self).unwrap_or_default()
    }

    fn restore(bytes: &[u8]) -> Result<Self, ConsensusError> {
        match postcard::take_from_bytes::<KvStore>(bytes) {
            Ok((store, [])) => Ok(store),
            Ok((_, rest)) => Err(ConsensusError::CorruptSnapshot(format!(
                "{} trailing bytes",
                rest.len()
            ))),
            Err(e) => Err(ConsensusError::CorruptSnapshot(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_behave_like_a_map() {
        let mut kv = KvStore::new();
        assert_eq!(kv.apply(&KvCommand::Get { key: 1 }), KvOutput::Value(None));
        let append = KvCommand::Append {
            key: 1,
            suffix: "a".into(),
        };
        assert_eq!(kv.apply(&append), KvOutput::Ok);
        assert_eq!(kv.apply(&append), KvOutput::Ok);
        assert_eq!(kv.get(1), Some("aa"));
        let cas = |expect: Option<&str>, new: &str| KvCommand::Cas {
            key: 1,
            expect: expect.map(String::from),
            new: new.into(),
        };
        assert_eq!(kv.apply(&cas(None, "x")), KvOutput::Cas(false));
        assert_eq!(kv.apply(&cas(Some("aa"), "x")), KvOutput::Cas(true));
        kv.apply(&KvCommand::Put {
            key: 2,
            value: "y".into(),
        });
        assert_eq!(
            kv.apply(&KvCommand::Get { key: 2 }),
            KvOutput::Value(Some("y".into()))
        );
    }

    #[test]
    fn conflicts_are_same_key_with_a_write() {
        let get = |key| KvCommand::Get { key };
        let put = |key| KvCommand::Put {
            key,
            value: String::new(),
        };
        assert!(!KvStore::conflicts(&get(1), &get(1)));
        assert!(KvStore::conflicts(&get(1), &put(1)));
        assert!(KvStore::conflicts(&put(1), &put(1)));
        assert!(!KvStore::conflicts(&put(1), &put(2)));
    }

    #[test]
    fn snapshots_round_trip_and_corruption_is_an_error() {
        let mut kv = KvStore::new();
        for k in 0..10 {
            kv.apply(&KvCommand::Put {
                key: k,
                value: format!("v{k}"),
            });
        }
        let bytes = kv.snapshot();
        assert_eq!(KvStore::restore(&bytes).unwrap(), kv);
        assert!(matches!(
            KvStore::restore(&bytes[..bytes.len() - 1]),
            Err(ConsensusError::CorruptSnapshot(_))
        ));
        let mut extended = bytes.clone();
        extended.push(0);
        assert!(matches!(
            KvStore::restore(&extended),
            Err(ConsensusError::CorruptSnapshot(_))
        ));
        assert!(matches!(
            KvStore::restore(&[0xff, 0xff, 0xff]),
            Err(ConsensusError::CorruptSnapshot(_))
        ));
    }
}
