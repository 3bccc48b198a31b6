//! Storage on the lattice crate's Anna-style KVS: values are last-writer-wins registers
//! (a delete writes a tombstone), and a grow-only set per top-level prefix indexes keys so
//! they can be listed (the KVS itself has no scans, like Anna).

use std::sync::atomic::{AtomicU64, Ordering};

use stratus_lattice::kvs::{AnyLattice, Kvs, Op, Reply};
use stratus_lattice::{Lww, SetUnionBTreeSet};

use super::Storage;
use crate::error::StorageError;

/// A [`Storage`] over a running [`Kvs`] of [`AnyLattice`] values.
pub struct KvsStorage {
    kvs: Kvs<String, AnyLattice>,
    clock: AtomicU64,
    writer: u64,
}

impl std::fmt::Debug for KvsStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KvsStorage")
    }
}

fn unavailable(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(e.to_string())
}

/// Index buckets per prefix: one big index set would be one hot key, re-sent whole by
/// every gossip round of every replica.
const INDEX_BUCKETS: u64 = 32;

fn segment(key: &str) -> &str {
    key.split_once('/').map_or(key, |(s, _)| s)
}

/// The index key listing `key` (its first path segment, and a bucket by hash).
fn index_key(key: &str) -> String {
    let bucket = stratus_lattice::ring::ring_hash(key) % INDEX_BUCKETS;
    format!("\u{0}index/{}/{bucket}", segment(key))
}

impl KvsStorage {
    /// Storage over `kvs`; `writer` breaks ties between writers of equal timestamps (give
    /// each process sharing the KVS its own).
    pub fn new(kvs: Kvs<String, AnyLattice>, writer: u64) -> Self {
        KvsStorage {
            kvs,
            clock: AtomicU64::new(1),
            writer,
        }
    }

    fn stamp(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    fn register(&self, bytes: Option<&[u8]>) -> AnyLattice {
        // A leading byte tells a value (1) from a tombstone (0).
        let mut encoded = vec![u8::from(bytes.is_some())];
        encoded.extend_from_slice(bytes.unwrap_or_default());
        AnyLattice::Lww(Lww::new(self.stamp(), self.writer, encoded))
    }
}

fn decode(key: &str, value: Option<AnyLattice>) -> Result<Option<Vec<u8>>, StorageError> {
    match value {
        None => Ok(None),
        Some(AnyLattice::Lww(reg)) => match reg.value().split_first() {
            Some((1, rest)) => Ok(Some(rest.to_vec())),
            Some((0, _)) => Ok(None),
            _ => Err(StorageError::Corrupt {
                key: key.to_string(),
                detail: "register without a presence byte".into(),
            }),
        },
        Some(other) => Err(StorageError::Corrupt {
            key: key.to_string(),
            detail: format!("expected a register, found a {}", other.type_name()),
        }),
    }
}

impl Storage for KvsStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        decode(key, self.kvs.get(&key.to_string()).map_err(unavailable)?)
    }

    fn put_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), StorageError> {
        let mut ops = Vec::with_capacity(entries.len() * 2);
        for (key, _) in &entries {
            let index = SetUnionBTreeSet::singleton(key.as_bytes().to_vec());
            ops.push(Op::Put(index_key(key), AnyLattice::Set(index)));
        }
        for (key, value) in entries {
            let reg = self.register(Some(&value));
            ops.push(Op::Put(key, reg));
        }
        for reply in self.kvs.execute(ops).map_err(unavailable)? {
            if let Reply::Rejected(e) = reply {
                return Err(unavailable(e));
            }
        }
        Ok(())
    }

    fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        let ops = keys
            .iter()
            .map(|k| Op::Put(k.clone(), self.register(None)))
            .collect();
        for reply in self.kvs.execute(ops).map_err(unavailable)? {
            if let Reply::Rejected(e) = reply {
                return Err(unavailable(e));
            }
        }
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let index = self.kvs.get(&index_key(prefix)).map_err(unavailable)?;
        let candidates: Vec<String> = match index {
            None => Vec::new(),
            Some(AnyLattice::Set(set)) => set
                .iter()
                .filter_map(|k| String::from_utf8(k.clone()).ok())
                .filter(|k| k.starts_with(prefix))
                .collect(),
            Some(other) => {
                return Err(StorageError::Corrupt {
                    key: index_key(prefix),
                    detail: format!("expected a set, found a {}", other.type_name()),
                });
            }
        };
        let ops = candidates.iter().map(|k| Op::Get(k.clone())).collect();
        let replies = self.kvs.execute(ops).map_err(unavailable)?;
        let mut live = Vec::new();
        for (key, reply) in candidates.into_iter().zip(replies) {
            let value = reply.into_result().map_err(unavailable)?;
            if decode(&key, value)?.is_some() {
                live.push(key);
            }
        }
        Ok(live)
    }

    fn len(&self) -> Result<usize, StorageError> {
        // Live keys under every indexed prefix AFT uses.
        let mut n = 0;
        for prefix in ["data/", "tx/"] {
            n += self.list(prefix)?.len();
        }
        Ok(n)
    }
}
