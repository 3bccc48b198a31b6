//! A complete ABD experiment: replicas, clients, a faulty network, a checked history.

use std::time::Duration;

use super::client::{Client, ClientConfig};
use super::replica::Replica;
use super::{AbdNode, merged_history};
use crate::cost::CostModel;
use crate::error::SimError;
use crate::faults::{Chaos, FaultScript};
use crate::history::History;
use crate::linearizability::{
    RegisterInput, RegisterModel, RegisterOutput, Verdict, check_partitioned,
};
use crate::metrics::MetricsReport;
use crate::network::NetConfig;
use crate::node::NodeId;
use crate::sim::{RunOutcome, Sim, SimConfig};
use crate::time::Time;

/// One seeded ABD run: the deployment, the workload and the faults.
#[derive(Clone, Debug)]
pub struct AbdScenario {
    /// The seed for everything.
    pub seed: u64,
    /// Number of replicas (`2f + 1`).
    pub replicas: usize,
    /// Number of clients.
    pub clients: usize,
    /// Operations per client.
    pub ops_per_client: u64,
    /// Distinct registers.
    pub keys: u64,
    /// Fraction of reads.
    pub read_fraction: f64,
    /// `false` runs the broken variant (reads skip the write-back).
    pub write_back: bool,
    /// Network faults.
    pub net: NetConfig,
    /// Crash, partition and pause up to a minority of replicas until `chaos_until`.
    pub chaos: bool,
    /// When faults stop and everything heals.
    pub chaos_until: Time,
    /// Virtual CPU costs (free by default).
    pub cost: CostModel,
    /// Give up (liveness failure) if clients have not finished by then.
    pub deadline: Time,
}

impl AbdScenario {
    /// 5 replicas, 4 clients × 40 operations on 3 keys, a lossy, duplicating, reordering
    /// network and a minority of replicas crashing, cut off or paused for the first 150 ms.
    pub fn faulty(seed: u64) -> Self {
        AbdScenario {
            seed,
            replicas: 5,
            clients: 4,
            ops_per_client: 40,
            keys: 3,
            read_fraction: 0.6,
            write_back: true,
            net: NetConfig::lossy(),
            chaos: true,
            chaos_until: Time::from_millis(150),
            cost: CostModel::free(),
            deadline: Time::from_secs(60),
        }
    }

    /// The same scenario with the broken client (no write-back on reads).
    pub fn broken(mut self) -> Self {
        self.write_back = false;
        self
    }

    /// Builds the simulation without running it (for benchmarks and custom drivers).
    pub fn build(&self) -> Result<(Sim<AbdNode>, Vec<NodeId>, FaultScript), SimError> {
        if self.replicas == 0 || self.clients == 0 {
            return Err(SimError::NoNodes);
        }
        let config = SimConfig::new(self.seed)
            .net(self.net.clone())
            .cost(self.cost.clone());
        let mut sim = Sim::new(config)?;
        let replicas: Vec<NodeId> = (0..self.replicas)
            .map(|_| sim.add_node(|_| AbdNode::Replica(Replica)))
            .collect();
        let mut clients = Vec::with_capacity(self.clients);
        for _ in 0..self.clients {
            let config = ClientConfig {
                ops: self.ops_per_client,
                keys: self.keys,
                read_fraction: self.read_fraction,
                write_back: self.write_back,
                ..ClientConfig::new(replicas.clone())
            };
            clients.push(
                sim.add_node(move |_| AbdNode::Client(Box::new(Client::new(config.clone())))),
            );
        }
        let script = if self.chaos {
            let minority = (self.replicas - 1) / 2;
            sim.apply_chaos(&Chaos::new(replicas, minority, self.chaos_until))?
        } else {
            FaultScript::new()
        };
        Ok((sim, clients, script))
    }

    /// Runs the scenario to completion (or the deadline) and checks the history.
    pub fn run(&self) -> Result<AbdOutcome, SimError> {
        let (mut sim, clients, faults) = self.build()?;
        let outcome = sim.run_until_halted(&clients, self.deadline)?;
        let (history, completed) = merged_history(clients.iter().filter_map(|&c| sim.node(c)));
        let verdict =
            check_partitioned(&RegisterModel::<u64>::new(), &history, RegisterInput::key)?;
        Ok(AbdOutcome {
            seed: self.seed,
            all_done: outcome == RunOutcome::Done,
            completed,
            events: sim.events(),
            elapsed: sim.now() - Time::ZERO,
            trace_hash: sim.trace_hash(),
            trace_tail: sim.trace_tail(),
            metrics: sim.metrics_report(),
            faults,
            history,
            verdict,
        })
    }
}

/// What one ABD run produced.
#[derive(Debug)]
pub struct AbdOutcome {
    /// The run's seed.
    pub seed: u64,
    /// Every client finished its workload before the deadline (liveness).
    pub all_done: bool,
    /// Operations completed by all clients.
    pub completed: u64,
    /// Events the simulator processed.
    pub events: u64,
    /// Virtual time the run took.
    pub elapsed: Duration,
    /// The run's trace hash.
    pub trace_hash: u64,
    /// The last events, for reports.
    pub trace_tail: String,
    /// Per-node counters.
    pub metrics: MetricsReport,
    /// The faults the run suffered.
    pub faults: FaultScript,
    /// The clients' merged history.
    pub history: History<RegisterInput<u64>, RegisterOutput<u64>>,
    /// The linearizability checker's verdict on `history`.
    pub verdict: Verdict,
}

impl AbdOutcome {
    /// Completed operations per virtual second.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.completed as f64 / secs
        }
    }

    /// `Ok` if the history is linearizable and every client finished; otherwise a report
    /// with the verdict, the faults and the last events — what a failing seed prints.
    pub fn check(&self) -> Result<(), String> {
        if let Verdict::NotLinearizable(cex) = &self.verdict {
            return Err(format!(
                "history is not linearizable:\n{cex}\nfaults:\n{}last events:\n{}",
                self.faults, self.trace_tail
            ));
        }
        if !self.all_done {
            return Err(format!(
                "liveness: clients did not finish ({} ops done) after faults healed\nlast events:\n{}",
                self.completed, self.trace_tail
            ));
        }
        Ok(())
    }
}
