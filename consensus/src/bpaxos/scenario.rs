//! One seeded BPaxos run under faults, invariants checked at every step.

use std::time::Duration;

use stratus_sim::history::History;
use stratus_sim::linearizability::{Verdict, check_partitioned};
use stratus_sim::{Chaos, CostModel, FaultScript, NetConfig, NodeId, SimConfig, Time};

use super::cluster::BPaxos;
use super::config::{BPaxosConfig, Bug};
use super::monitor::{BpMonitor, BpViolation};
use crate::error::ConsensusError;
use crate::kv::{KvCommand, KvOutput, KvStore};
use crate::kv_model::KvKeyModel;
use crate::scenario_setup::{kv_clients, leader_crash};

/// A seeded BPaxos experiment on the replicated KV store.
#[derive(Clone, Debug)]
pub struct BPaxosScenario {
    /// The seed.
    pub seed: u64,
    /// Protocol settings (`audit` is forced on).
    pub config: BPaxosConfig,
    /// Leaders.
    pub leaders: usize,
    /// Acceptor groups.
    pub groups: usize,
    /// Replicas.
    pub replicas: usize,
    /// Client nodes (one session each).
    pub clients: usize,
    /// Commands per client.
    pub ops_per_client: u64,
    /// Distinct keys (few keys: many conflicts, many cycles).
    pub keys: u64,
    /// Network faults.
    pub net: NetConfig,
    /// Chaos over the protocol nodes until `chaos_until`.
    pub chaos: bool,
    /// Crash the first leader once and restart it.
    pub crash_leader: bool,
    /// When faults stop.
    pub chaos_until: Time,
    /// Virtual CPU costs.
    pub cost: CostModel,
    /// Liveness bound.
    pub deadline: Time,
}

impl BPaxosScenario {
    /// f = 1: 2 leaders, 3 dependency nodes, 3 acceptors, 2 replicas; 3 clients × 20 commands
    /// on 2 keys; the lossy network; chaos for 150 ms; the first leader crashed once.
    pub fn faulty(seed: u64) -> Self {
        BPaxosScenario {
            seed,
            config: BPaxosConfig::new(1),
            leaders: 2,
            groups: 1,
            replicas: 2,
            clients: 3,
            ops_per_client: 20,
            keys: 2,
            net: NetConfig::lossy(),
            chaos: true,
            crash_leader: true,
            chaos_until: Time::from_millis(150),
            cost: CostModel::free(),
            deadline: Time::from_secs(2),
        }
    }

    /// The same scenario with a deliberate bug.
    pub fn with_bug(mut self, bug: Bug) -> Self {
        self.config.bug = Some(bug);
        self
    }

    /// Runs it.
    pub fn run(&self) -> Result<BPaxosOutcome, ConsensusError> {
        let mut config = self.config.clone();
        config.audit = true;
        let builder = BPaxos::<KvStore>::new(config.f)
            .config(config.clone())
            .leaders(self.leaders)
            .acceptor_groups(self.groups)
            .replicas(self.replicas);
        let layout = builder.build_layout()?;
        let clients = kv_clients(
            self.clients,
            self.ops_per_client,
            self.keys,
            layout.cluster,
            &layout.leaders,
        );
        let sim_config = SimConfig::new(self.seed)
            .net(self.net.clone())
            .cost(self.cost.clone());
        let mut dep = builder.simulate(sim_config, clients)?;
        let protocol: Vec<NodeId> = layout.all().copied().collect();
        let mut faults = FaultScript::new();
        if self.chaos {
            let chaos = Chaos::new(protocol.clone(), 2, self.chaos_until);
            faults.events.extend(dep.sim.apply_chaos(&chaos)?.events);
        }
        if self.crash_leader {
            let script = leader_crash(self.seed, self.chaos_until, layout.leaders[0]);
            dep.sim.apply_script(&script)?;
            faults.events.extend(script.events);
        }
        let mut monitor = BpMonitor::<KvStore>::new(config.quorum());
        let mut violation = None;
        'run: while !dep.clients_done() && dep.sim.now() <= self.deadline {
            if !dep.sim.step() {
                break;
            }
            for &id in &protocol {
                let Some(node) = dep.sim.node_mut(id) else {
                    continue;
                };
                for event in node.take_audit() {
                    if let Err(v) = monitor.observe(event) {
                        violation = Some((dep.sim.now(), v));
                        break 'run;
                    }
                }
            }
        }
        let all_done = dep.clients_done();
        let (history, completed) = dep.history();
        let verdict = check_partitioned(&KvKeyModel, &history, KvCommand::key)
            .map_err(stratus_sim::SimError::from)?;
        Ok(BPaxosOutcome {
            seed: self.seed,
            all_done,
            completed,
            events: dep.sim.events(),
            elapsed: dep.sim.now() - Time::ZERO,
            trace_hash: dep.sim.trace_hash(),
            trace_tail: dep.sim.trace_tail(),
            faults,
            history,
            verdict,
            violation,
            chosen: monitor.chosen(),
        })
    }
}

/// What one BPaxos run produced.
#[derive(Debug)]
pub struct BPaxosOutcome {
    /// The seed.
    pub seed: u64,
    /// Every client finished (liveness after healing).
    pub all_done: bool,
    /// Commands completed.
    pub completed: u64,
    /// Simulator events.
    pub events: u64,
    /// Virtual time taken.
    pub elapsed: Duration,
    /// Trace hash.
    pub trace_hash: u64,
    /// Last events.
    pub trace_tail: String,
    /// Faults suffered.
    pub faults: FaultScript,
    /// Merged client history.
    pub history: History<KvCommand, KvOutput>,
    /// Linearizability verdict.
    pub verdict: Verdict,
    /// First invariant violation.
    pub violation: Option<(Time, BpViolation)>,
    /// Vertices seen chosen.
    pub chosen: usize,
}

impl BPaxosOutcome {
    /// `Ok` if safe, linearizable and live; otherwise the report a failing seed prints.
    pub fn check(&self) -> Result<(), String> {
        if let Some((at, v)) = &self.violation {
            return Err(format!(
                "invariant violated at {at}: {v}\nfaults:\n{}last events:\n{}",
                self.faults, self.trace_tail
            ));
        }
        if let Verdict::NotLinearizable(cex) = &self.verdict {
            return Err(format!(
                "history is not linearizable:\n{cex}\nfaults:\n{}last events:\n{}",
                self.faults, self.trace_tail
            ));
        }
        if !self.all_done {
            return Err(format!(
                "liveness: clients did not finish ({} commands done)\nfaults:\n{}last events:\n{}",
                self.completed, self.faults, self.trace_tail
            ));
        }
        Ok(())
    }
}
