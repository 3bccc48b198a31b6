//! Which workers hold a key: the consistent-hash ring plus a flat lookup table so the hot
//! path does not walk a B-tree.

use std::hash::Hash;

use super::config::KvsConfig;
use super::error::KvsError;
use crate::ring::{HashRing, ring_hash};

/// Bits of the key hash that index the lookup table.
const TABLE_BITS: u32 = 16;
/// Marks a table slot that contains a ring point: its keys need the exact ring walk.
const MIXED: u16 = u16::MAX;

/// Key placement for one store: a [`HashRing`] of `workers` workers and, for speed, a table
/// over the top 16 hash bits giving the primary of every slot that no ring point splits.
#[derive(Clone, Debug)]
pub struct Placement {
    ring: HashRing,
    table: Vec<u16>,
    replication: usize,
    hot_replication: usize,
}

impl Placement {
    /// The placement `config` describes (validated first).
    pub fn new(config: &KvsConfig) -> Result<Self, KvsError> {
        config.validate()?;
        let ring = HashRing::new(config.workers, config.virtual_nodes)?;
        let slots = 1usize << TABLE_BITS;
        let mut table = vec![MIXED; slots];
        let points = ring.points();
        for (slot, entry) in table.iter_mut().enumerate() {
            let start = (slot as u64) << (64 - TABLE_BITS);
            let end = start | ((1u64 << (64 - TABLE_BITS)) - 1);
            // The first point at or after the slot's start; if it lies beyond the slot's end,
            // every key in the slot walks to that same point.
            let i = points.partition_point(|&(at, _)| at < start);
            if let Some(&(at, node)) = points.get(i).or(points.first())
                && (at > end || at < start)
            {
                *entry = node as u16;
            }
        }
        Ok(Placement {
            ring,
            table,
            replication: config.replication,
            hot_replication: config.hot_replication,
        })
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.ring.nodes()
    }

    /// Replicas of an ordinary key.
    pub fn replication(&self) -> usize {
        self.replication
    }

    /// Replicas of a hot key.
    pub fn hot_replication(&self) -> usize {
        self.hot_replication
    }

    /// The primary owner of `key` (the first replica).
    pub fn primary<K: Hash + ?Sized>(&self, key: &K) -> usize {
        if self.ring.nodes() == 1 {
            return 0;
        }
        let hash = ring_hash(key);
        match self.table[(hash >> (64 - TABLE_BITS)) as usize] {
            MIXED => self.ring.owner_of_hash(hash),
            node => usize::from(node),
        }
    }

    /// The `factor` replicas of `key`, primary first. `factor` is clamped to the worker
    /// count: replica sets only ever grow, so a larger factor always extends a smaller one.
    pub fn replicas<K: Hash + ?Sized>(&self, key: &K, factor: usize) -> Vec<usize> {
        let factor = factor.clamp(1, self.workers());
        self.ring
            .replicas(key, factor)
            .unwrap_or_else(|_| vec![self.primary(key)])
    }

    /// Whether `worker` is among the `factor` replicas of `key`.
    pub fn is_replica<K: Hash + ?Sized>(&self, key: &K, factor: usize, worker: usize) -> bool {
        if factor <= 1 {
            return self.primary(key) == worker;
        }
        self.replicas(key, factor).contains(&worker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_agrees_with_the_ring() {
        let config = KvsConfig::new(5).virtual_nodes(200).replication(2);
        let placement = Placement::new(&config).unwrap();
        let ring = HashRing::new(5, 200).unwrap();
        for key in 0..50_000u64 {
            assert_eq!(placement.primary(&key), ring.primary(&key), "key {key}");
        }
        let replicas = placement.replicas(&7u64, 3);
        assert_eq!(replicas, ring.replicas(&7u64, 3).unwrap());
        assert_eq!(&placement.replicas(&7u64, 2)[..], &replicas[..2]);
        assert!(placement.is_replica(&7u64, 3, replicas[2]));
    }

    #[test]
    fn keys_spread_over_workers() {
        let placement = Placement::new(&KvsConfig::new(4).virtual_nodes(300)).unwrap();
        let mut counts = [0usize; 4];
        for key in 0..40_000u64 {
            counts[placement.primary(&key)] += 1;
        }
        for c in counts {
            assert!((8_000..12_000).contains(&c), "{counts:?}");
        }
    }
}
