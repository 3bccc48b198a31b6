//! What a node knows about committed transactions, the atomic read-set rule and the
//! garbage-collection rule. Pure: no storage, no locks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::error::TxId;
use crate::version::{CommitRecord, Version};

/// Committed transactions known to one node.
#[derive(Debug, Default)]
pub(crate) struct Metadata {
    records: BTreeMap<Version, Arc<CommitRecord>>,
    versions: HashMap<String, BTreeSet<Version>>,
    /// Transactions garbage-collected: a late broadcast of one must not resurrect it.
    collected: HashSet<TxId>,
}

/// What a transaction read for a key: a version, or nothing (no version at all).
pub(crate) type ReadSet = BTreeMap<String, Option<Version>>;

impl Metadata {
    /// Learns a committed transaction; `false` if it was known (or collected) already.
    pub(crate) fn apply(&mut self, record: Arc<CommitRecord>) -> bool {
        let v = record.version;
        if self.collected.contains(&v.tx) || self.records.contains_key(&v) {
            return false;
        }
        for key in &record.writes {
            self.versions.entry(key.clone()).or_default().insert(v);
        }
        self.records.insert(v, record);
        true
    }

    /// Number of committed transactions known.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// The version of `key` a transaction that already read `reads` must see, by the
    /// read-atomic rule: the newest committed version `v` such that every key `v`'s
    /// transaction also wrote, if already read, was read at `v` or later; and no older than
    /// any already-read transaction that also wrote `key`. `Ok(None)`: no version (the key
    /// reads as absent). `Err(())`: the constraints admit no version.
    pub(crate) fn choose(&self, key: &str, reads: &ReadSet) -> Result<Option<Version>, ()> {
        let lower = reads
            .values()
            .flatten()
            .filter(|v| {
                self.records
                    .get(v)
                    .is_some_and(|r| r.writes.binary_search_by(|w| w.as_str().cmp(key)).is_ok())
            })
            .max()
            .copied();
        if let Some(versions) = self.versions.get(key) {
            for &v in versions.iter().rev() {
                if lower.is_some_and(|l| v < l) {
                    break;
                }
                let Some(record) = self.records.get(&v) else {
                    continue;
                };
                // Walk the reads (a handful), not the record's writes (maybe thousands).
                let atomic = reads.iter().all(|(k, read)| {
                    record.writes.binary_search(k).is_err() || matches!(read, Some(r) if *r >= v)
                });
                if atomic {
                    return Ok(Some(v));
                }
            }
        }
        match lower {
            None => Ok(None),
            Some(_) => Err(()),
        }
    }

    /// Transactions that can be deleted given `horizon`, the smallest timestamp any running
    /// transaction began at or read: for every key it wrote, a newer version exists at or
    /// below the horizon. Such a version is never chosen by a running transaction (the
    /// newest version at or below its oldest read is always an admissible choice, and the
    /// rule picks the newest admissible one), nor by a later one.
    pub(crate) fn collectible(&self, horizon: u64) -> Vec<Arc<CommitRecord>> {
        self.records
            .range(
                ..Version {
                    ts: horizon,
                    tx: TxId(0),
                },
            )
            .filter(|(v, record)| {
                record.writes.iter().all(|k| {
                    self.versions.get(k).is_some_and(|vs| {
                        vs.range((std::ops::Bound::Excluded(**v), std::ops::Bound::Unbounded))
                            .next()
                            .is_some_and(|newer| newer.ts <= horizon)
                    })
                })
            })
            .map(|(_, r)| Arc::clone(r))
            .collect()
    }

    /// Forgets a collected transaction for good.
    pub(crate) fn remove(&mut self, record: &CommitRecord) {
        let v = record.version;
        self.records.remove(&v);
        for key in &record.writes {
            if let Some(vs) = self.versions.get_mut(key) {
                vs.remove(&v);
                if vs.is_empty() {
                    self.versions.remove(key);
                }
            }
        }
        self.collected.insert(v.tx);
    }

    /// The record of a known transaction.
    pub(crate) fn record(&self, v: &Version) -> Option<&Arc<CommitRecord>> {
        self.records.get(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(ts: u64) -> Version {
        Version { ts, tx: TxId(ts) }
    }

    fn rec(ts: u64, writes: &[&str]) -> Arc<CommitRecord> {
        let mut writes: Vec<String> = writes.iter().map(|s| s.to_string()).collect();
        writes.sort();
        Arc::new(CommitRecord {
            version: v(ts),
            writes,
        })
    }

    #[test]
    fn reads_avoid_fractures() {
        let mut m = Metadata::default();
        m.apply(rec(1, &["x", "y"]));
        m.apply(rec(2, &["x", "y"]));
        // Read x at 1 (say, before 2 committed): y must come from 1 too.
        let mut reads = ReadSet::new();
        reads.insert("x".into(), Some(v(1)));
        assert_eq!(m.choose("y", &reads), Ok(Some(v(1))));
        // Fresh: the newest.
        assert_eq!(m.choose("y", &ReadSet::new()), Ok(Some(v(2))));
        // Read x as absent: a y written together with x cannot be seen.
        let mut absent = ReadSet::new();
        absent.insert("x".into(), None);
        assert_eq!(m.choose("y", &absent), Ok(None));
        // Lower bound: having read y at 2, x must be at least 2.
        let mut at2 = ReadSet::new();
        at2.insert("y".into(), Some(v(2)));
        assert_eq!(m.choose("x", &at2), Ok(Some(v(2))));
    }

    #[test]
    fn conflicting_constraints_have_no_version() {
        let mut m = Metadata::default();
        m.apply(rec(1, &["w"]));
        m.apply(rec(3, &["w", "y", "z"]));
        // A read set the rule itself would never build (w at 1 but z at 3, both written by
        // 3): y must be ≥ 3 (z's writer wrote y) yet 3 also wrote w, read older.
        let mut reads = ReadSet::new();
        reads.insert("w".into(), Some(v(1)));
        reads.insert("z".into(), Some(v(3)));
        assert_eq!(m.choose("y", &reads), Err(()));
    }

    #[test]
    fn gc_keeps_what_a_reader_at_the_horizon_may_need() {
        let mut m = Metadata::default();
        m.apply(rec(1, &["x"]));
        m.apply(rec(2, &["x"]));
        m.apply(rec(3, &["x", "y"]));
        m.apply(rec(5, &["x"]));
        // Horizon 4: version 3 is the newest at or below it for x and for y: kept;
        // 1 and 2 are dominated by 3 (≤ 4): collectible. 5 is above: kept.
        let c: Vec<u64> = m.collectible(4).iter().map(|r| r.version.ts).collect();
        assert_eq!(c, vec![1, 2]);
        // Horizon 2: only 1 (dominated by 2 ≤ 2).
        let c: Vec<u64> = m.collectible(2).iter().map(|r| r.version.ts).collect();
        assert_eq!(c, vec![1]);
        for r in m.collectible(4) {
            m.remove(&r);
        }
        assert!(
            !m.apply(rec(1, &["x"])),
            "a collected transaction stays collected"
        );
        assert_eq!(m.len(), 2);
    }
}
