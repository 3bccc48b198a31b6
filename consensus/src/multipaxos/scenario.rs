//! One seeded MultiPaxos run under faults, checked at every step: the model for the sweeps.

use std::time::Duration;

use stratus_sim::history::History;
use stratus_sim::linearizability::{Verdict, check_partitioned};
use stratus_sim::{
    Chaos, CostModel, FaultScript, MetricsReport, NetConfig, NodeId, SimConfig, SimRng, Time,
};

use super::cluster::MultiPaxos;
use super::config::{Bug, MultiPaxosConfig};
use super::message::PaxosMsg;
use super::monitor::{Monitor, Violation};
use crate::error::ConsensusError;
use crate::kv::{KvCommand, KvOutput, KvStore};
use crate::kv_model::KvKeyModel;
use crate::scenario_setup::{kv_clients, leader_crash};

/// A seeded MultiPaxos experiment on the replicated KV store.
#[derive(Clone, Debug)]
pub struct PaxosScenario {
    /// The seed for everything.
    pub seed: u64,
    /// Protocol settings (`audit` is forced on).
    pub config: MultiPaxosConfig,
    /// Leaders.
    pub leaders: usize,
    /// Replicas.
    pub replicas: usize,
    /// Acceptors (with matchmakers: the pool configurations are drawn from).
    pub acceptors: usize,
    /// Matchmakers (0: classic MultiPaxos).
    pub matchmakers: usize,
    /// Acceptor reconfigurations requested at seeded instants during the run (each a random
    /// `2f + 1` of the pool, sent to every leader; only with matchmakers).
    pub reconfigurations: u32,
    /// Replacements of the matchmakers (each a random `2f + 1` of the matchmaker pool)
    /// requested at seeded instants during the run.
    pub matchmaker_reconfigurations: u32,
    /// Client nodes (one session each).
    pub clients: usize,
    /// Commands per client.
    pub ops_per_client: u64,
    /// Distinct keys.
    pub keys: u64,
    /// Network faults.
    pub net: NetConfig,
    /// Crash, partition, cut and pause protocol nodes until `chaos_until`.
    pub chaos: bool,
    /// Also crash the first leader once, at a time drawn from the seed, and restart it.
    pub crash_leader: bool,
    /// When faults stop and everything heals.
    pub chaos_until: Time,
    /// Virtual CPU costs.
    pub cost: CostModel,
    /// Liveness bound: clients must be done by then.
    pub deadline: Time,
}

impl PaxosScenario {
    /// f = 1 (2 leaders, 3 acceptors, 2 replicas), 3 clients × 20 commands on 3 keys, 5% loss,
    /// 5% duplication, 10% reordering, chaos over up to 2 protocol nodes at a time for
    /// 150 ms, and the initial leader crashed once.
    pub fn faulty(seed: u64) -> Self {
        PaxosScenario {
            seed,
            config: MultiPaxosConfig::new(1),
            leaders: 2,
            replicas: 2,
            acceptors: 3,
            matchmakers: 0,
            reconfigurations: 0,
            matchmaker_reconfigurations: 0,
            clients: 3,
            ops_per_client: 20,
            keys: 3,
            net: NetConfig::lossy(),
            chaos: true,
            crash_leader: true,
            chaos_until: Time::from_millis(150),
            cost: CostModel::free(),
            deadline: Time::from_secs(10),
        }
    }

    /// Matchmaker MultiPaxos under the same faults: 2 leaders, a pool of 6 acceptors, a pool
    /// of 5 matchmakers (3 serving), 2 replicas; 4 acceptor reconfigurations and 2
    /// replacements of the matchmakers in the middle of the run.
    pub fn matchmaker(seed: u64) -> Self {
        PaxosScenario {
            acceptors: 6,
            matchmakers: 5,
            reconfigurations: 4,
            matchmaker_reconfigurations: 2,
            ..Self::faulty(seed)
        }
    }

    /// The same scenario with a deliberate bug.
    pub fn with_bug(mut self, bug: Bug) -> Self {
        self.config.bug = Some(bug);
        self
    }

    /// Runs the scenario, checking the invariants after every simulator step, then the
    /// clients' history for linearizability.
    pub fn run(&self) -> Result<PaxosOutcome, ConsensusError> {
        let mut config = self.config.clone();
        config.audit = true;
        let builder = MultiPaxos::<KvStore>::new(config.f)
            .config(config.clone())
            .leaders(self.leaders)
            .acceptors(self.acceptors)
            .matchmakers(self.matchmakers)
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
        let mut plan_rng = SimRng::new(self.seed).fork(0xc0f1);
        let mut draw = |pool: &[NodeId], matchmakers: bool| {
            let end = self.chaos_until.as_nanos() + 50_000_000;
            let at = Time::from_nanos(plan_rng.range_inclusive(5_000_000, end));
            let mut pool = pool.to_vec();
            plan_rng.shuffle(&mut pool);
            pool.truncate(2 * config.f + 1);
            pool.sort();
            let msg = if matchmakers {
                PaxosMsg::ReconfigureMatchmakers { matchmakers: pool }
            } else {
                PaxosMsg::Reconfigure { acceptors: pool }
            };
            (at, msg)
        };
        let mut reconfigs: Vec<(Time, PaxosMsg<KvCommand, KvOutput>)> = Vec::new();
        for _ in 0..self.reconfigurations {
            reconfigs.push(draw(&layout.acceptors, false));
        }
        for _ in 0..self.matchmaker_reconfigurations {
            reconfigs.push(draw(&layout.matchmakers, true));
        }
        reconfigs.sort_by_key(|(at, _)| *at);
        let mut next_reconfig = 0;
        let mut monitor = Monitor::new(config.quorum());
        let mut violation = None;
        'run: while !dep.clients_done() && dep.sim.now() <= self.deadline {
            while let Some((at, msg)) = reconfigs.get(next_reconfig) {
                if *at > dep.sim.now() {
                    break;
                }
                for &leader in &layout.leaders {
                    dep.sim.inject(leader, msg.clone())?;
                }
                next_reconfig += 1;
            }
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
        let max_leader_log = layout
            .leaders
            .iter()
            .filter_map(|&l| dep.sim.node(l).and_then(|n| n.as_leader()))
            .map(|l| l.log_len())
            .max()
            .unwrap_or(0);
        let matchmaker_reconfigurations: Vec<Duration> = layout
            .leaders
            .iter()
            .filter_map(|&l| dep.sim.node(l).and_then(|n| n.as_leader()))
            .flat_map(|l| l.matchmaker_reconfigurations().to_vec())
            .collect();
        let reconfigurations: Vec<Duration> = layout
            .leaders
            .iter()
            .filter_map(|&l| dep.sim.node(l).and_then(|n| n.as_leader()))
            .flat_map(|l| l.reconfigurations().to_vec())
            .collect();
        let max_acceptor_votes = layout
            .acceptors
            .iter()
            .filter_map(|&a| dep.sim.durable(a))
            .map(|d| d.acceptor.votes.len())
            .max()
            .unwrap_or(0);
        Ok(PaxosOutcome {
            seed: self.seed,
            all_done,
            completed,
            events: dep.sim.events(),
            elapsed: dep.sim.now() - Time::ZERO,
            trace_hash: dep.sim.trace_hash(),
            trace_tail: dep.sim.trace_tail(),
            metrics: dep.sim.metrics_report(),
            faults,
            history,
            verdict,
            violation,
            audited: monitor.events(),
            chosen_slots: monitor.chosen_slots(),
            max_leader_log,
            max_acceptor_votes,
            reconfigurations,
            matchmaker_reconfigurations,
        })
    }
}

/// What one MultiPaxos run produced.
#[derive(Debug)]
pub struct PaxosOutcome {
    /// The run's seed.
    pub seed: u64,
    /// Every client finished before the deadline (liveness after faults heal).
    pub all_done: bool,
    /// Commands completed.
    pub completed: u64,
    /// Simulator events processed.
    pub events: u64,
    /// Virtual time the run took.
    pub elapsed: Duration,
    /// Trace hash (same seed, same hash).
    pub trace_hash: u64,
    /// The last events, for reports.
    pub trace_tail: String,
    /// Per-node counters.
    pub metrics: MetricsReport,
    /// The faults suffered.
    pub faults: FaultScript,
    /// The clients' merged history.
    pub history: History<KvCommand, KvOutput>,
    /// The linearizability verdict.
    pub verdict: Verdict,
    /// The first invariant violation and when it happened.
    pub violation: Option<(Time, Violation)>,
    /// Audit events the monitor checked.
    pub audited: u64,
    /// Slots the monitor saw chosen.
    pub chosen_slots: usize,
    /// Largest in-memory leader log at the end (bounded by garbage collection).
    pub max_leader_log: usize,
    /// Largest number of votes an acceptor stores at the end.
    pub max_acceptor_votes: usize,
    /// Reconfigurations completed by leaders still up at the end (crashed leaders forget
    /// theirs), with how long each took.
    pub reconfigurations: Vec<Duration>,
    /// Replacements of the matchmakers completed by leaders still up at the end.
    pub matchmaker_reconfigurations: Vec<Duration>,
}

impl PaxosOutcome {
    /// `Ok` if no invariant broke, the history is linearizable and every client finished;
    /// otherwise what a failing seed prints.
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
                "liveness: clients did not finish ({} commands done) after faults healed\nfaults:\n{}last events:\n{}",
                self.completed, self.faults, self.trace_tail
            ));
        }
        Ok(())
    }
}
