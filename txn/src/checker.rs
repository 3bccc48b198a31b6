//! An isolation checker for read-atomic histories: dirty reads, fractured reads and
//! read-your-writes violations among committed transactions.

use std::collections::HashMap;

/// One committed transaction as a client observed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnRecord {
    /// The transaction's label (unique per attempt).
    pub id: u64,
    /// Its position in the version (commit) order; larger is newer.
    pub order: u64,
    /// Keys it wrote.
    pub writes: Vec<String>,
    /// Its reads in program order: the key, the label of the transaction whose write it
    /// saw (`None`: nothing), and whether it had itself written the key before reading.
    pub reads: Vec<Read>,
}

/// One read of a [`TxnRecord`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    /// The key.
    pub key: String,
    /// Whose write was seen (`None`: the key read as absent).
    pub saw: Option<u64>,
    /// The reader had written this key earlier in the same transaction.
    pub after_own_write: bool,
}

/// An isolation anomaly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anomaly {
    /// A read saw a write of a transaction that never committed.
    DirtyRead {
        /// The reader.
        reader: u64,
        /// The key.
        key: String,
        /// The uncommitted writer.
        writer: u64,
    },
    /// A read saw transaction `writer`'s write of one key but, for `key` which `writer`
    /// also wrote, an older version (or nothing): `writer`'s writes were not seen together.
    FracturedRead {
        /// The reader.
        reader: u64,
        /// The key read too old.
        key: String,
        /// The transaction whose other write was seen.
        writer: u64,
        /// What was seen for `key` instead.
        saw: Option<u64>,
    },
    /// A transaction read a key it had written and did not see its own write.
    ReadYourWrites {
        /// The transaction.
        reader: u64,
        /// The key.
        key: String,
        /// What it saw.
        saw: Option<u64>,
    },
}

/// Checks a history of committed transactions; returns every anomaly found.
pub fn check(history: &[TxnRecord]) -> Vec<Anomaly> {
    let by_id: HashMap<u64, &TxnRecord> = history.iter().map(|t| (t.id, t)).collect();
    let mut anomalies = Vec::new();
    for t in history {
        // What `t` saw for each key from others (first read; later reads of the same key
        // must agree, which a repeated-read check would add).
        let mut seen: HashMap<&str, Option<u64>> = HashMap::new();
        for r in &t.reads {
            if r.after_own_write {
                if r.saw != Some(t.id) {
                    anomalies.push(Anomaly::ReadYourWrites {
                        reader: t.id,
                        key: r.key.clone(),
                        saw: r.saw,
                    });
                }
                continue;
            }
            if let Some(w) = r.saw
                && w != t.id
                && !by_id.contains_key(&w)
            {
                anomalies.push(Anomaly::DirtyRead {
                    reader: t.id,
                    key: r.key.clone(),
                    writer: w,
                });
                continue;
            }
            seen.entry(r.key.as_str()).or_insert(r.saw);
        }
        for (&key, &saw) in &seen {
            let Some(writer) = saw.and_then(|w| by_id.get(&w)) else {
                continue;
            };
            for other in &writer.writes {
                if other == key {
                    continue;
                }
                let Some(&other_saw) = seen.get(other.as_str()) else {
                    continue;
                };
                let too_old = match other_saw {
                    None => true,
                    Some(y) if y == writer.id => false,
                    Some(y) => by_id.get(&y).is_some_and(|y| y.order < writer.order),
                };
                if too_old {
                    anomalies.push(Anomaly::FracturedRead {
                        reader: t.id,
                        key: other.clone(),
                        writer: writer.id,
                        saw: other_saw,
                    });
                }
            }
        }
    }
    anomalies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(key: &str, saw: Option<u64>) -> Read {
        Read {
            key: key.into(),
            saw,
            after_own_write: false,
        }
    }

    fn txn(id: u64, writes: &[&str], reads: Vec<Read>) -> TxnRecord {
        TxnRecord {
            id,
            order: id,
            writes: writes.iter().map(|s| s.to_string()).collect(),
            reads,
        }
    }

    #[test]
    fn a_clean_history_passes() {
        let h = vec![
            txn(1, &["x", "y"], vec![]),
            txn(2, &["x", "y"], vec![]),
            txn(3, &["y"], vec![]),
            txn(4, &[], vec![read("x", Some(2)), read("y", Some(2))]),
            txn(5, &[], vec![read("x", Some(1)), read("y", Some(1))]),
            // A newer version of y than x's writer wrote is not a fracture.
            txn(6, &[], vec![read("x", Some(2)), read("y", Some(3))]),
        ];
        assert!(check(&h).is_empty(), "{:?}", check(&h));
    }

    #[test]
    fn a_fractured_read_is_flagged() {
        let h = vec![
            txn(1, &["x", "y"], vec![]),
            txn(2, &["x", "y"], vec![]),
            txn(3, &[], vec![read("x", Some(2)), read("y", Some(1))]),
        ];
        assert_eq!(
            check(&h),
            vec![Anomaly::FracturedRead {
                reader: 3,
                key: "y".into(),
                writer: 2,
                saw: Some(1)
            }]
        );
        let h = vec![
            txn(1, &["x", "y"], vec![]),
            txn(3, &[], vec![read("x", Some(1)), read("y", None)]),
        ];
        assert!(matches!(
            check(&h)[..],
            [Anomaly::FracturedRead { saw: None, .. }]
        ));
    }

    #[test]
    fn a_dirty_read_is_flagged() {
        let h = vec![txn(3, &[], vec![read("x", Some(9))])];
        assert_eq!(
            check(&h),
            vec![Anomaly::DirtyRead {
                reader: 3,
                key: "x".into(),
                writer: 9
            }]
        );
    }

    #[test]
    fn a_missed_own_write_is_flagged() {
        let mut r = read("x", Some(1));
        r.after_own_write = true;
        let h = vec![txn(1, &["x"], vec![]), txn(2, &["x"], vec![r])];
        assert_eq!(
            check(&h),
            vec![Anomaly::ReadYourWrites {
                reader: 2,
                key: "x".into(),
                saw: Some(1)
            }]
        );
    }
}
