//! The store's shape and tuning knobs, shared by the thread driver and the sim nodes.

use std::path::PathBuf;
use std::time::Duration;

use super::error::KvsError;

/// How a store is laid out and how it replicates. Built with [`KvsConfig::new`] and the
/// builder methods; checked by [`KvsConfig::validate`] before anything starts.
#[derive(Clone, Debug, PartialEq)]
pub struct KvsConfig {
    /// Worker threads (or sim nodes), each the only owner of its shard.
    pub workers: usize,
    /// Points per worker on the consistent-hash ring (Anna uses 3000 per thread).
    pub virtual_nodes: usize,
    /// Replicas of an ordinary key.
    pub replication: usize,
    /// Replicas of a key once it is hot (selective replication).
    pub hot_replication: usize,
    /// A key is hot when it takes at least this fraction of a worker's sampled accesses in
    /// one window.
    pub hot_fraction: f64,
    /// Accesses per window after which a worker looks for hot keys.
    pub hot_window: u64,
    /// One access in `hot_sample` is counted (a power of two): counting every access would
    /// cost a hash-map update per operation.
    pub hot_sample: u64,
    /// How often replicas exchange the deltas they accumulated.
    pub gossip_interval: Duration,
    /// Gossip ticks without an acknowledgement before a delta batch is sent again.
    pub retransmit_ticks: u32,
    /// Where the redb durable tier keeps one file per worker; `None` keeps data in memory.
    pub durable_dir: Option<PathBuf>,
}

impl KvsConfig {
    /// `workers` workers, replication 1, hot keys replicated to every worker, 3000 virtual
    /// nodes each, gossip every 10 ms, memory only.
    pub fn new(workers: usize) -> Self {
        KvsConfig {
            workers,
            virtual_nodes: 3000,
            replication: 1,
            hot_replication: workers,
            hot_fraction: 0.002,
            hot_window: 1 << 16,
            hot_sample: 16,
            gossip_interval: Duration::from_millis(10),
            retransmit_ticks: 4,
            durable_dir: None,
        }
    }

    /// Sets the replication factor of ordinary keys (builder style).
    pub fn replication(mut self, replicas: usize) -> Self {
        self.replication = replicas;
        self
    }

    /// Sets the replication factor of hot keys (builder style).
    pub fn hot_replication(mut self, replicas: usize) -> Self {
        self.hot_replication = replicas;
        self
    }

    /// Sets the virtual nodes per worker (builder style).
    pub fn virtual_nodes(mut self, points: usize) -> Self {
        self.virtual_nodes = points;
        self
    }

    /// Sets the hot-key detection: fraction of sampled accesses and window length.
    pub fn hot_keys(mut self, fraction: f64, window: u64) -> Self {
        self.hot_fraction = fraction;
        self.hot_window = window;
        self
    }

    /// Sets the gossip period (builder style).
    pub fn gossip_interval(mut self, interval: Duration) -> Self {
        self.gossip_interval = interval;
        self
    }

    /// Keeps each worker's shard in a redb file under `dir`, committed with
    /// `Durability::Immediate` before a put is acknowledged (builder style).
    pub fn durable(mut self, dir: impl Into<PathBuf>) -> Self {
        self.durable_dir = Some(dir.into());
        self
    }

    /// Checks every knob; the ring itself checks workers and replication factors.
    pub fn validate(&self) -> Result<(), KvsError> {
        use crate::ring::RingError;
        if self.workers == 0 {
            return Err(RingError::NoNodes.into());
        }
        if self.virtual_nodes == 0 {
            return Err(RingError::NoVirtualNodes.into());
        }
        for factor in [self.replication, self.hot_replication] {
            if factor == 0 {
                return Err(RingError::ZeroReplication.into());
            }
            if factor > self.workers {
                return Err(RingError::ReplicationTooHigh {
                    factor,
                    nodes: self.workers,
                }
                .into());
            }
        }
        if self.hot_replication < self.replication {
            return Err(KvsError::Config(format!(
                "hot replication {} is below the ordinary replication {}",
                self.hot_replication, self.replication
            )));
        }
        if self.workers > usize::from(u16::MAX) {
            return Err(KvsError::Config(format!(
                "{} workers exceed the limit of {}",
                self.workers,
                u16::MAX
            )));
        }
        if !(self.hot_fraction > 0.0 && self.hot_fraction <= 1.0) {
            return Err(KvsError::Config(format!(
                "hot fraction {} is not in (0, 1]",
                self.hot_fraction
            )));
        }
        if self.hot_window == 0 || !self.hot_sample.is_power_of_two() {
            return Err(KvsError::Config(
                "hot window must be positive and hot sample a power of two".into(),
            ));
        }
        if self.gossip_interval.is_zero() || self.retransmit_ticks == 0 {
            return Err(KvsError::Config(
                "gossip interval and retransmit ticks must be positive".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::RingError;

    #[test]
    fn bad_shapes_are_typed_errors() {
        assert_eq!(
            KvsConfig::new(0).validate(),
            Err(KvsError::Placement(RingError::NoNodes))
        );
        assert_eq!(
            KvsConfig::new(2).replication(3).validate(),
            Err(KvsError::Placement(RingError::ReplicationTooHigh {
                factor: 3,
                nodes: 2
            }))
        );
        assert!(matches!(
            KvsConfig::new(3)
                .replication(3)
                .hot_replication(2)
                .validate(),
            Err(KvsError::Config(_))
        ));
        assert!(matches!(
            KvsConfig::new(3).hot_keys(0.0, 10).validate(),
            Err(KvsError::Config(_))
        ));
        assert!(KvsConfig::new(3).replication(2).validate().is_ok());
    }
}
