//! A seeded convergence experiment: KVS nodes on a faulty simulated network must end with
//! every replica of every key equal, holding every acknowledged put and nothing invented.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use stratus_sim::{Chaos, FaultScript, NetConfig, NodeId, Sim, SimConfig, SimError, SimRng, Time};

use super::config::KvsConfig;
use super::node::{KvsMsg, KvsNode};
use super::op::{Op, Reply};
use super::placement::Placement;
use super::shard::ShardParams;
use crate::SetUnionBTreeSet;

/// The value every put merges: a set of put ids, so a lost or invented put shows by name.
pub type PutIds = SetUnionBTreeSet<u64>;

/// One seeded run: nodes, a skewed workload of puts and gets, faults, then healing.
#[derive(Clone, Debug)]
pub struct ConvergenceScenario {
    /// The seed for everything.
    pub seed: u64,
    /// The store's shape (workers = sim nodes).
    pub config: KvsConfig,
    /// Distinct keys.
    pub keys: u64,
    /// Puts issued (each adds a unique id to its key's set).
    pub puts: u64,
    /// Gets issued alongside.
    pub gets: u64,
    /// Probability a put or get goes to key 0 (to make it hot).
    pub skew: f64,
    /// Network faults.
    pub net: NetConfig,
    /// Crash, partition, cut and pause nodes until `chaos_until`.
    pub chaos: bool,
    /// When faults stop and everything heals; the workload is spread over this span.
    pub chaos_until: Time,
    /// A client re-sends an unacknowledged put after this long.
    pub retry_after: Duration,
    /// `false`: fire-and-forget gossip (the broken variant the check must catch).
    pub acked_gossip: bool,
    /// Give up (liveness failure) if not converged by then.
    pub deadline: Time,
}

impl ConvergenceScenario {
    /// 5 nodes, replication 2, hot keys on 4 nodes; 200 puts and 60 gets on 12 keys (30% on
    /// key 0); 5% loss, 5% duplication, 10% reordering; crashes, partitions, one-way cuts
    /// and pauses of up to two nodes for the first 300 ms.
    pub fn faulty(seed: u64) -> Self {
        let config = KvsConfig::new(5)
            .virtual_nodes(16)
            .replication(2)
            .hot_replication(4)
            .hot_keys(0.25, 32)
            .gossip_interval(Duration::from_millis(5));
        ConvergenceScenario {
            seed,
            config: KvsConfig {
                hot_sample: 1,
                ..config
            },
            keys: 12,
            puts: 200,
            gets: 60,
            skew: 0.3,
            net: NetConfig::lossy(),
            chaos: true,
            chaos_until: Time::from_millis(300),
            retry_after: Duration::from_millis(30),
            acked_gossip: true,
            deadline: Time::from_secs(30),
        }
    }

    /// The same run with fire-and-forget gossip: lost deltas are never resent.
    pub fn broken(mut self) -> Self {
        self.acked_gossip = false;
        self
    }

    /// Runs the scenario and checks convergence.
    pub fn run(&self) -> Result<ConvergenceOutcome, SimError> {
        let placement = Arc::new(
            Placement::new(&self.config).map_err(|e| SimError::InvalidFaultPlan(e.to_string()))?,
        );
        let mut sim: Sim<KvsNode<u64, PutIds>> =
            Sim::new(SimConfig::new(self.seed).net(self.net.clone()))?;
        let nodes: Vec<NodeId> = (0..self.config.workers)
            .map(|i| {
                let mut params = ShardParams::new(i, Arc::clone(&placement), &self.config);
                params.acked_gossip = self.acked_gossip;
                let interval = self.config.gossip_interval;
                sim.add_node(move |_| KvsNode::new(params.clone(), interval))
            })
            .collect();
        let faults = if self.chaos {
            let max_down = (self.config.workers - 1) / 2;
            sim.apply_chaos(&Chaos::new(nodes.clone(), max_down, self.chaos_until))?
        } else {
            FaultScript::new()
        };

        // The workload, drawn from the seed: (time, op) with puts numbered 0..puts.
        let mut rng = SimRng::new(self.seed ^ 0x6b76_735f_776c_6f61);
        let span = self.chaos_until.as_nanos().max(1);
        let mut workload: Vec<(u64, Op<u64, PutIds>)> = Vec::new();
        let pick_key = |rng: &mut SimRng| {
            if rng.chance(self.skew) {
                0
            } else {
                rng.below(self.keys.max(1))
            }
        };
        for id in 0..self.puts {
            let key = pick_key(&mut rng);
            let at = rng.next_u64() % span;
            workload.push((at, Op::Put(key, PutIds::singleton(id))));
        }
        for _ in 0..self.gets {
            let key = pick_key(&mut rng);
            workload.push((rng.next_u64() % span, Op::Get(key)));
        }
        workload.sort_by_key(|(at, _)| *at);

        let mut issued: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        // req -> (op, last sent); a put stays here until acknowledged.
        let mut open: BTreeMap<u64, (Op<u64, PutIds>, Time)> = BTreeMap::new();
        let mut acked: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        let mut phantom_reads = Vec::new();
        let mut next = workload.into_iter().peekable();
        let step = Duration::from_millis(1);
        let mut req = 0u64;
        let converged_at = loop {
            let now = sim.now();
            while let Some((at, _)) = next.peek() {
                if *at > now.as_nanos() {
                    break;
                }
                let Some((_, op)) = next.next() else { break };
                if let Op::Put(key, ids) = &op {
                    issued.entry(*key).or_default().extend(ids.iter().copied());
                }
                req += 1;
                let target = nodes[rng.below(nodes.len() as u64) as usize];
                sim.inject(
                    target,
                    KvsMsg::Request {
                        req,
                        ops: vec![op.clone()],
                    },
                )?;
                open.insert(req, (op, now));
            }
            for (_, msg) in sim.take_external() {
                let KvsMsg::Response { req, replies } = msg else {
                    continue;
                };
                let Some((op, _)) = open.remove(&req) else {
                    continue; // a duplicate or a retried request's second answer
                };
                match (&op, replies.into_iter().next().map(|(_, r)| r)) {
                    (Op::Put(key, ids), Some(Reply::Stored)) => {
                        acked.entry(*key).or_default().extend(ids.iter().copied());
                    }
                    (Op::Get(key), Some(Reply::Value(value))) => {
                        let known = issued.get(key).cloned().unwrap_or_default();
                        if let Some(v) = value
                            && v.iter().any(|id| !known.contains(id))
                        {
                            phantom_reads.push(*key);
                        }
                    }
                    _ => {
                        open.insert(req, (op, now));
                    }
                }
            }
            // Clients retry puts until acknowledged (merges are idempotent); a lost get is
            // simply abandoned.
            open.retain(|_, (op, _)| matches!(op, Op::Put(..)));
            let retry: Vec<u64> = open
                .iter()
                .filter(|(_, (_, sent))| now - *sent >= self.retry_after)
                .map(|(&r, _)| r)
                .collect();
            for r in retry {
                if let Some((op, sent)) = open.get_mut(&r) {
                    *sent = now;
                    let target = nodes[rng.below(nodes.len() as u64) as usize];
                    sim.inject(
                        target,
                        KvsMsg::Request {
                            req: r,
                            ops: vec![op.clone()],
                        },
                    )?;
                }
            }
            let done_issuing = next.peek().is_none() && open.is_empty();
            let healed = now >= self.chaos_until && nodes.iter().all(|&n| sim.is_up(n));
            if done_issuing
                && healed
                && nodes
                    .iter()
                    .all(|&n| sim.durable(n).is_some_and(|s| s.is_quiescent()))
            {
                break Some(now);
            }
            if now >= self.deadline {
                break None;
            }
            sim.run_for(step)?;
        };

        // Every node's hot table and every replica's value, compared.
        let mut divergences = Vec::new();
        let mut factors: BTreeMap<u64, u16> = BTreeMap::new();
        for &n in &nodes {
            if let Some(shard) = sim.durable(n) {
                for (k, rf) in shard.hot_keys() {
                    let f = factors.entry(*k).or_insert(rf);
                    *f = (*f).max(rf);
                }
            }
        }
        for (key, ids) in &issued {
            let rf = factors
                .get(key)
                .map_or(self.config.replication, |&f| usize::from(f));
            let want_at_least = acked.get(key).cloned().unwrap_or_default();
            let mut first: Option<BTreeSet<u64>> = None;
            for worker in placement.replicas(key, rf) {
                let held: BTreeSet<u64> = sim
                    .durable(nodes[worker])
                    .and_then(|s| s.peek(key))
                    .map(|e| e.value.iter().copied().collect())
                    .unwrap_or_default();
                if !want_at_least.is_subset(&held) {
                    let lost: Vec<_> = want_at_least.difference(&held).collect();
                    divergences.push(format!(
                        "key {key}: replica n{worker} lost acknowledged puts {lost:?}"
                    ));
                }
                if !held.is_subset(ids) {
                    divergences.push(format!("key {key}: replica n{worker} invented puts"));
                }
                match &first {
                    None => first = Some(held),
                    Some(f) if *f != held => divergences.push(format!(
                        "key {key}: replicas differ ({} vs {} puts at n{worker})",
                        f.len(),
                        held.len()
                    )),
                    Some(_) => {}
                }
            }
        }
        let promoted = factors.len();
        Ok(ConvergenceOutcome {
            seed: self.seed,
            converged_at,
            acked_puts: acked.values().map(BTreeSet::len).sum(),
            promoted,
            phantom_reads,
            divergences,
            faults,
            events: sim.events(),
            trace_tail: sim.trace_tail(),
        })
    }
}

/// What one convergence run found.
#[derive(Debug)]
pub struct ConvergenceOutcome {
    /// The run's seed.
    pub seed: u64,
    /// When every put was acknowledged and gossip went quiet (`None`: not by the deadline).
    pub converged_at: Option<Time>,
    /// Puts acknowledged to clients.
    pub acked_puts: usize,
    /// Keys whose replication factor was raised as hot.
    pub promoted: usize,
    /// Keys where a get returned a put id never issued for that key.
    pub phantom_reads: Vec<u64>,
    /// Replicas that differ, lost an acknowledged put or hold an invented one.
    pub divergences: Vec<String>,
    /// The faults the run suffered.
    pub faults: FaultScript,
    /// Events processed.
    pub events: u64,
    /// The last events, for reports.
    pub trace_tail: String,
}

impl ConvergenceOutcome {
    /// `Ok` if the run converged with no divergence and no phantom read; otherwise a report
    /// with the faults — what a failing seed prints.
    pub fn check(&self) -> Result<(), String> {
        if self.converged_at.is_none() {
            return Err(format!(
                "liveness: puts unacknowledged or gossip still busy at the deadline\nfaults:\n{}last events:\n{}",
                self.faults, self.trace_tail
            ));
        }
        if !self.divergences.is_empty() || !self.phantom_reads.is_empty() {
            return Err(format!(
                "not converged:\n{}\nphantom reads on keys {:?}\nfaults:\n{}",
                self.divergences.join("\n"),
                self.phantom_reads,
                self.faults
            ));
        }
        Ok(())
    }
}
