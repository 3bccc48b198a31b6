//! Several AFT nodes over one storage: commits broadcast between them, and garbage
//! collection with a horizon that respects every node's running transactions.

use std::sync::{Arc, Weak};

use parking_lot::RwLock;

use crate::error::TxnError;
use crate::node::{AftNode, Broadcast, RefreshReport};
use crate::storage::Storage;
use crate::version::{CommitRecord, record_key, version_key};

/// Delivers every commit record to every other node at once.
struct DirectBroadcast {
    nodes: RwLock<Vec<Weak<AftNode>>>,
}

impl Broadcast for DirectBroadcast {
    fn publish(&self, from: u16, record: Arc<CommitRecord>) {
        for node in self.nodes.read().iter().filter_map(Weak::upgrade) {
            if node.id() != from {
                node.receive(Arc::clone(&record));
            }
        }
    }
}

/// What one garbage-collection pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// The horizon used (smallest timestamp any running transaction began at or read).
    pub horizon: u64,
    /// Transactions collected.
    pub transactions: usize,
    /// Storage keys deleted (versions and records).
    pub keys_deleted: usize,
}

/// AFT nodes in one process sharing a storage.
pub struct AftCluster {
    nodes: Vec<Arc<AftNode>>,
    storage: Arc<dyn Storage>,
    broadcast: Arc<DirectBroadcast>,
}

impl AftCluster {
    /// Starts `nodes` nodes over `storage` (each rebuilding metadata from it).
    pub fn new(
        storage: Arc<dyn Storage>,
        nodes: usize,
    ) -> Result<(Self, Vec<RefreshReport>), TxnError> {
        let broadcast = Arc::new(DirectBroadcast {
            nodes: RwLock::new(Vec::new()),
        });
        let mut list = Vec::with_capacity(nodes);
        let mut reports = Vec::with_capacity(nodes);
        for id in 0..nodes {
            let (node, report) = AftNode::open(id as u16, Arc::clone(&storage))?;
            let node = Arc::new(node);
            node.set_broadcast(Arc::clone(&broadcast) as Arc<dyn Broadcast>);
            list.push(node);
            reports.push(report);
        }
        *broadcast.nodes.write() = list.iter().map(Arc::downgrade).collect();
        Ok((
            AftCluster {
                nodes: list,
                storage,
                broadcast,
            },
            reports,
        ))
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> Option<&Arc<AftNode>> {
        self.nodes.get(i)
    }

    /// Every node.
    pub fn nodes(&self) -> &[Arc<AftNode>] {
        &self.nodes
    }

    /// Replaces node `i` by a restarted one (metadata rebuilt from storage).
    pub fn restart(&mut self, i: usize) -> Result<RefreshReport, TxnError> {
        let Some(old) = self.nodes.get(i) else {
            return Err(TxnError::NodeDown);
        };
        old.crash();
        let (node, report) = AftNode::open(i as u16, Arc::clone(&self.storage))?;
        let node = Arc::new(node);
        node.set_broadcast(Arc::clone(&self.broadcast) as Arc<dyn Broadcast>);
        self.nodes[i] = node;
        *self.broadcast.nodes.write() = self.nodes.iter().map(Arc::downgrade).collect();
        Ok(report)
    }

    /// Collects dominated transactions below the cluster-wide horizon: forgotten by every
    /// node first, then their commit records deleted (so a restart cannot see them), then
    /// their versions.
    pub fn gc(&self) -> Result<GcReport, TxnError> {
        collect(&self.nodes, self.storage.as_ref())
    }
}

/// One GC pass over `nodes` sharing `storage`.
pub(crate) fn collect(nodes: &[Arc<AftNode>], storage: &dyn Storage) -> Result<GcReport, TxnError> {
    let horizon = nodes.iter().map(|n| n.horizon()).min().unwrap_or(0);
    // A record is collectible only if every node agrees (a node that missed a newer
    // version would still choose the older one).
    let mut records = match nodes.first() {
        Some(n) => n.collectible(horizon),
        None => return Ok(GcReport::default()),
    };
    for n in &nodes[1..] {
        let theirs: std::collections::HashSet<_> =
            n.collectible(horizon).iter().map(|r| r.version).collect();
        records.retain(|r| theirs.contains(&r.version));
    }
    for n in nodes {
        n.forget(&records);
    }
    let record_keys: Vec<String> = records.iter().map(|r| record_key(r.version)).collect();
    storage.delete(&record_keys)?;
    let version_keys: Vec<String> = records
        .iter()
        .flat_map(|r| r.writes.iter().map(move |k| version_key(k, r.version)))
        .collect();
    storage.delete(&version_keys)?;
    Ok(GcReport {
        horizon,
        transactions: records.len(),
        keys_deleted: record_keys.len() + version_keys.len(),
    })
}
