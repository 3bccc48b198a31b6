//! A consistent-hash ring with virtual nodes: which workers own a key (Anna's placement).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// Errors building or querying a ring.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// A ring needs at least one node.
    #[error("a hash ring needs at least one node")]
    NoNodes,
    /// Each node needs at least one virtual node.
    #[error("a hash ring needs at least one virtual node per node")]
    NoVirtualNodes,
    /// More replicas were asked for than there are nodes.
    #[error("replication factor {factor} exceeds the {nodes} nodes of the ring")]
    ReplicationTooHigh {
        /// Requested replicas.
        factor: usize,
        /// Nodes available.
        nodes: usize,
    },
    /// A replication factor of zero would store nothing.
    #[error("replication factor must be at least 1")]
    ZeroReplication,
}

/// FNV-1a: fixed by this code (unlike `std`'s `DefaultHasher`), so placement is the same in
/// every process and every version — a requirement once a durable tier exists.
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        // A final avalanche so nearby keys spread over the ring.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    // Integers are mixed a word at a time (a byte loop is 8 multiplies per `u64` key, on
    // every routed operation); `finish` avalanches the result either way.
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

/// The ring position of any hashable value.
pub fn ring_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    value.hash(&mut h);
    h.finish()
}

/// Nodes `0..nodes`, each placed at `virtual_nodes` points of a 64-bit ring. A key belongs to
/// the first distinct nodes found walking clockwise from its hash.
#[derive(Clone, Debug)]
pub struct HashRing {
    nodes: usize,
    /// `(position, node)`, sorted by position: lookups are binary searches over a flat
    /// array, several times cheaper than walking a B-tree on every routed operation.
    points: Vec<(u64, usize)>,
}

impl HashRing {
    /// A ring of `nodes` nodes with `virtual_nodes` points each.
    pub fn new(nodes: usize, virtual_nodes: usize) -> Result<Self, RingError> {
        if nodes == 0 {
            return Err(RingError::NoNodes);
        }
        if virtual_nodes == 0 {
            return Err(RingError::NoVirtualNodes);
        }
        let mut points = BTreeMap::new();
        for node in 0..nodes {
            for v in 0..virtual_nodes {
                // On the (astronomically rare) collision the earlier node keeps the point.
                points
                    .entry(ring_hash(&(node as u64, v as u64)))
                    .or_insert(node);
            }
        }
        Ok(HashRing {
            nodes,
            points: points.into_iter().collect(),
        })
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The `factor` distinct nodes responsible for `key`, primary first.
    pub fn replicas<K: Hash + ?Sized>(
        &self,
        key: &K,
        factor: usize,
    ) -> Result<Vec<usize>, RingError> {
        if factor == 0 {
            return Err(RingError::ZeroReplication);
        }
        if factor > self.nodes {
            return Err(RingError::ReplicationTooHigh {
                factor,
                nodes: self.nodes,
            });
        }
        let start = ring_hash(key);
        let mut owners = Vec::with_capacity(factor);
        let first = self.points.partition_point(|&(at, _)| at < start);
        let (before, after) = self.points.split_at(first);
        for &(_, node) in after.iter().chain(before) {
            if !owners.contains(&node) {
                owners.push(node);
                if owners.len() == factor {
                    break;
                }
            }
        }
        Ok(owners)
    }

    /// The ring's points `(position, node)`, sorted by position (for lookup tables built
    /// over the ring).
    pub fn points(&self) -> &[(u64, usize)] {
        &self.points
    }

    /// The node owning ring position `hash`: the first point at or after it, wrapping.
    pub fn owner_of_hash(&self, hash: u64) -> usize {
        let i = self.points.partition_point(|&(at, _)| at < hash);
        self.points
            .get(i)
            .or(self.points.first())
            .map_or(0, |&(_, node)| node)
    }

    /// The primary owner of `key`.
    pub fn primary<K: Hash + ?Sized>(&self, key: &K) -> usize {
        // A ring always has a node and factor 1 never exceeds it.
        self.replicas(key, 1).map(|r| r[0]).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_shapes_get_typed_errors() {
        assert_eq!(HashRing::new(0, 10).unwrap_err(), RingError::NoNodes);
        assert_eq!(HashRing::new(3, 0).unwrap_err(), RingError::NoVirtualNodes);
        let ring = HashRing::new(3, 10).unwrap();
        assert_eq!(
            ring.replicas("k", 4).unwrap_err(),
            RingError::ReplicationTooHigh {
                factor: 4,
                nodes: 3
            }
        );
        assert_eq!(
            ring.replicas("k", 0).unwrap_err(),
            RingError::ZeroReplication
        );
    }

    #[test]
    fn replicas_are_distinct_stable_and_start_at_the_primary() {
        let ring = HashRing::new(5, 64).unwrap();
        for k in 0..1000u64 {
            let r = ring.replicas(&k, 3).unwrap();
            assert_eq!(r.len(), 3);
            assert!(r[0] != r[1] && r[1] != r[2] && r[0] != r[2]);
            assert_eq!(r[0], ring.primary(&k));
            assert_eq!(r, HashRing::new(5, 64).unwrap().replicas(&k, 3).unwrap());
        }
    }

    #[test]
    fn load_is_balanced_with_enough_virtual_nodes() {
        let ring = HashRing::new(4, 256).unwrap();
        let mut load = [0u32; 4];
        for k in 0..40_000u64 {
            load[ring.primary(&k)] += 1;
        }
        assert!(
            load.iter().all(|&l| (8_000..12_000).contains(&l)),
            "{load:?}"
        );
    }

    #[test]
    fn adding_a_node_moves_only_its_share_of_keys() {
        let before = HashRing::new(4, 256).unwrap();
        let after = HashRing::new(5, 256).unwrap();
        let moved = (0..20_000u64)
            .filter(|k| before.primary(k) != after.primary(k))
            .count();
        // Ideal is 1/5 of the keys; a modulo placement would move 4/5.
        assert!(moved < 20_000 * 3 / 10, "{moved} keys moved");
    }
}
