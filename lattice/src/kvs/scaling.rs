//! Throughput against cluster size in virtual time: the same shard core as sim nodes, with
//! the sim's cost model charging CPU per operation, per gossip entry and per message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use stratus_sim::{CostModel, NodeId, Sim, SimConfig, SimError, SimRng, Time};

use super::config::KvsConfig;
use super::node::{KvsMsg, KvsNode};
use super::op::Op;
use super::placement::Placement;
use super::shard::ShardParams;
use crate::Max;

/// One point of a scaling curve: `nodes` KVS nodes driven to saturation by closed-loop
/// clients that route batches to each key's primary (as Anna's client proxies do).
#[derive(Clone, Debug)]
pub struct ScalingRun {
    /// The seed.
    pub seed: u64,
    /// KVS nodes.
    pub nodes: usize,
    /// Replication factor (clamped to the node count).
    pub replication: usize,
    /// Operations per client request.
    pub batch: usize,
    /// Requests each node has outstanding at any time.
    pub outstanding: usize,
    /// Fraction of gets; the rest are puts.
    pub read_fraction: f64,
    /// Virtual time measured (after a warm-up of a tenth of it).
    pub duration: Duration,
    /// CPU each message, operation and gossip entry costs.
    pub cost: CostModel,
}

/// The measured throughput of one [`ScalingRun`].
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingPoint {
    /// KVS nodes.
    pub nodes: usize,
    /// Operations completed in the measured span.
    pub ops: u64,
    /// Completed operations per virtual second, whole cluster.
    pub throughput: f64,
    /// The same per node.
    pub per_node: f64,
    /// Gossip entries sent per put, averaged over the cluster.
    pub gossip_per_put: f64,
}

impl ScalingRun {
    /// `nodes` nodes, replication 3, batches of 100, 4 outstanding per node, 50% gets, 200 ms
    /// of virtual time; a request costs 5 µs plus 1 µs per operation, a gossip round 5 µs plus
    /// 0.5 µs per entry, acknowledgements and responses 1 µs.
    pub fn new(seed: u64, nodes: usize) -> Self {
        let us = Duration::from_micros;
        ScalingRun {
            seed,
            nodes,
            replication: 3,
            batch: 100,
            outstanding: 4,
            read_fraction: 0.5,
            duration: Duration::from_millis(200),
            cost: CostModel::uniform(us(1))
                .with_kind("request", us(5))
                .with_unit("request", us(1))
                .with_kind("gossip", us(5))
                .with_unit("gossip", Duration::from_nanos(500))
                .with_kind("forwarded", us(2)),
        }
    }

    /// Runs the point.
    pub fn run(&self) -> Result<ScalingPoint, SimError> {
        let nodes = self.nodes.max(1);
        let config = KvsConfig::new(nodes)
            .virtual_nodes(64)
            .replication(self.replication.clamp(1, nodes))
            .hot_replication(self.replication.clamp(1, nodes));
        let placement = Arc::new(
            Placement::new(&config).map_err(|e| SimError::InvalidFaultPlan(e.to_string()))?,
        );
        let mut sim: Sim<KvsNode<u64, Max<u64>>> =
            Sim::new(SimConfig::new(self.seed).cost(self.cost.clone()))?;
        let ids: Vec<NodeId> = (0..nodes)
            .map(|i| {
                let params = ShardParams::new(i, Arc::clone(&placement), &config);
                let interval = config.gossip_interval;
                sim.add_node(move |_| KvsNode::new(params.clone(), interval))
            })
            .collect();

        // A pool of keys per node, each owned (as primary) by that node.
        let mut rng = SimRng::new(self.seed ^ 0x5ca1_ab1e);
        let per_node_keys = 2048;
        let mut pools: Vec<Vec<u64>> = vec![Vec::new(); nodes];
        while pools.iter().any(|p| p.len() < per_node_keys) {
            let key = rng.next_u64();
            let owner = placement.primary(&key);
            if pools[owner].len() < per_node_keys {
                pools[owner].push(key);
            }
        }
        let mut next_req = 0u64;
        let mut open: HashMap<u64, (usize, usize)> = HashMap::new(); // req -> (node, left)
        let make_batch = |rng: &mut SimRng, node: usize| -> Vec<Op<u64, Max<u64>>> {
            (0..self.batch)
                .map(|_| {
                    let key = pools[node][rng.below(per_node_keys as u64) as usize];
                    if rng.chance(self.read_fraction) {
                        Op::Get(key)
                    } else {
                        Op::Put(key, Max::new(rng.next_u64()))
                    }
                })
                .collect()
        };
        for (node, &id) in ids.iter().enumerate() {
            for _ in 0..self.outstanding {
                next_req += 1;
                let ops = make_batch(&mut rng, node);
                open.insert(next_req, (node, ops.len()));
                sim.inject(id, KvsMsg::Request { req: next_req, ops })?;
            }
        }
        let warmup = self.duration / 10;
        let start = Time::ZERO + warmup;
        let end = start + self.duration;
        let mut ops = 0u64;
        let step = Duration::from_micros(200);
        let mut puts_measured = 0u64;
        let mut entries_at_start = 0u64;
        let mut started = false;
        while sim.now() < end {
            sim.run_for(step)?;
            let now = sim.now();
            if !started && now >= start {
                started = true;
                entries_at_start = self.entries_sent(&sim, &ids);
            }
            for (_, msg) in sim.take_external() {
                let KvsMsg::Response { req, replies } = msg else {
                    continue;
                };
                let Some((node, left)) = open.get_mut(&req) else {
                    continue;
                };
                *left = left.saturating_sub(replies.len());
                if started && now <= end {
                    ops += replies.len() as u64;
                    puts_measured += replies
                        .iter()
                        .filter(|(_, r)| matches!(r, super::op::Reply::Stored))
                        .count() as u64;
                }
                if *left == 0 {
                    let node = *node;
                    open.remove(&req);
                    next_req += 1;
                    let batch = make_batch(&mut rng, node);
                    open.insert(next_req, (node, batch.len()));
                    sim.inject(
                        ids[node],
                        KvsMsg::Request {
                            req: next_req,
                            ops: batch,
                        },
                    )?;
                }
            }
        }
        let entries = self.entries_sent(&sim, &ids) - entries_at_start;
        let secs = self.duration.as_secs_f64();
        let throughput = ops as f64 / secs;
        Ok(ScalingPoint {
            nodes,
            ops,
            throughput,
            per_node: throughput / nodes as f64,
            gossip_per_put: if puts_measured == 0 {
                0.0
            } else {
                entries as f64 / puts_measured as f64
            },
        })
    }

    fn entries_sent(&self, sim: &Sim<KvsNode<u64, Max<u64>>>, ids: &[NodeId]) -> u64 {
        ids.iter()
            .filter_map(|&id| sim.durable(id))
            .map(|s| s.stats().entries_sent)
            .sum()
    }
}
