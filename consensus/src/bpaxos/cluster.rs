//! Deploying BPaxos on the simulator or on threads.

use std::marker::PhantomData;
use std::sync::Arc;

use stratus_sim::history::History;
use stratus_sim::{LiveCluster, NodeId, Sim, SimConfig};

use super::acceptor::BpAcceptor;
use super::config::{BPaxosConfig, BPaxosLayout};
use super::dependency::DepNode;
use super::leader::BpLeader;
use super::node::BPaxosNode;
use super::replica::BpReplica;
use crate::client::LoadClient;
use crate::command::ClusterId;
use crate::error::ConsensusError;
use crate::handle::Client;
use crate::state_machine::StateMachine;

/// Builds a BPaxos deployment of `S`.
#[derive(Clone, Debug)]
pub struct BPaxos<S: StateMachine> {
    config: BPaxosConfig,
    cluster: ClusterId,
    leaders: usize,
    groups: usize,
    replicas: usize,
    _machine: PhantomData<fn() -> S>,
}

impl<S: StateMachine> BPaxos<S> {
    /// Tolerating `f` failures: `f + 1` leaders, `2f + 1` dependency nodes, one group of
    /// `2f + 1` acceptors, `f + 1` replicas.
    pub fn new(f: usize) -> Self {
        BPaxos {
            config: BPaxosConfig::new(f),
            cluster: 0,
            leaders: f + 1,
            groups: 1,
            replicas: f + 1,
            _machine: PhantomData,
        }
    }

    /// Replaces the settings.
    pub fn config(mut self, config: BPaxosConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the number of leaders (each with a proposer).
    pub fn leaders(mut self, n: usize) -> Self {
        self.leaders = n;
        self
    }

    /// Sets the number of acceptor groups (each `2f + 1`).
    pub fn acceptor_groups(mut self, n: usize) -> Self {
        self.groups = n;
        self
    }

    /// Sets the number of replicas.
    pub fn replicas(mut self, n: usize) -> Self {
        self.replicas = n;
        self
    }

    /// Sets the cluster id.
    pub fn cluster_id(mut self, id: ClusterId) -> Self {
        self.cluster = id;
        self
    }

    /// The validated layout.
    pub fn build_layout(&self) -> Result<BPaxosLayout, ConsensusError> {
        self.config.validate()?;
        let n = 2 * self.config.f + 1;
        let layout =
            BPaxosLayout::dense(self.cluster, self.leaders, n, self.groups, n, self.replicas);
        layout.validate(self.config.f)?;
        Ok(layout)
    }

    /// The role nodes in id order, with their layout.
    pub fn nodes(&self) -> Result<(BPaxosLayout, Vec<BPaxosNode<S>>), ConsensusError> {
        let layout = self.build_layout()?;
        let config = Arc::new(self.config.clone());
        let shared = Arc::new(layout.clone());
        let mut nodes = Vec::with_capacity(layout.len());
        for i in 0..layout.leaders.len() {
            let leader = BpLeader::new(i as u32, Arc::clone(&config), Arc::clone(&shared));
            nodes.push(BPaxosNode::Leader(Box::new(leader)));
        }
        let everything = self.config.bug == Some(super::config::Bug::DependOnEverything);
        nodes.extend(
            layout
                .deps
                .iter()
                .map(|_| BPaxosNode::Dep(DepNode::new(everything))),
        );
        for _ in layout.acceptor_groups.iter().flatten() {
            nodes.push(BPaxosNode::Acceptor(BpAcceptor::new(config.audit)));
        }
        for i in 0..layout.replicas.len() {
            let replica = BpReplica::new(i as u32, Arc::clone(&config), Arc::clone(&shared));
            nodes.push(BPaxosNode::Replica(Box::new(replica)));
        }
        Ok((layout, nodes))
    }

    /// The deployment on the simulator, clients after the roles.
    pub fn simulate(
        &self,
        sim: SimConfig,
        clients: Vec<LoadClient<S>>,
    ) -> Result<BPaxosSim<S>, ConsensusError> {
        let (layout, nodes) = self.nodes()?;
        let mut sim = Sim::new(sim)?;
        for _ in 0..nodes.len() {
            let this = self.clone();
            sim.add_node(move |id| {
                let (_, mut fresh) = this.nodes().expect("validated above");
                fresh.swap_remove(id.index())
            });
        }
        let mut ids = Vec::new();
        for client in clients {
            let mut client = Some(client);
            ids.push(sim.add_node(move |_| {
                BPaxosNode::Client(Box::new(client.take().expect("clients do not restart")))
            }));
        }
        Ok(BPaxosSim {
            sim,
            layout,
            clients: ids,
        })
    }

    /// The deployment on threads, clients after the roles.
    pub fn live(
        &self,
        seed: u64,
        clients: Vec<LoadClient<S>>,
    ) -> Result<BPaxosLive<S>, ConsensusError> {
        let (layout, mut nodes) = self.nodes()?;
        let first = nodes.len() as u32;
        let clients_ids = (first..first + clients.len() as u32).map(NodeId).collect();
        nodes.extend(clients.into_iter().map(|c| BPaxosNode::Client(Box::new(c))));
        Ok(BPaxosLive {
            cluster: LiveCluster::start(seed, nodes)?,
            layout,
            clients: clients_ids,
            next_client: 0,
        })
    }
}

/// A BPaxos deployment on threads.
pub struct BPaxosLive<S: StateMachine> {
    /// The running nodes.
    pub cluster: LiveCluster<BPaxosNode<S>>,
    /// Which node plays which role.
    pub layout: BPaxosLayout,
    /// The client nodes.
    pub clients: Vec<NodeId>,
    next_client: u64,
}

impl<S: StateMachine> BPaxosLive<S> {
    /// A host-side client with a fresh client id, sending to the leaders in turn.
    pub fn client(&mut self) -> Client<'_, BPaxosNode<S>, S> {
        self.next_client += 1;
        Client::new(
            &self.cluster,
            &self.layout.leaders,
            self.layout.cluster,
            (1 << 63) | self.next_client,
        )
    }
}

/// A BPaxos deployment on the simulator.
pub struct BPaxosSim<S: StateMachine> {
    /// The simulation.
    pub sim: Sim<BPaxosNode<S>>,
    /// Which node plays which role.
    pub layout: BPaxosLayout,
    /// The client nodes.
    pub clients: Vec<NodeId>,
}

impl<S: StateMachine> BPaxosSim<S> {
    /// Whether every client node has finished.
    pub fn clients_done(&self) -> bool {
        self.clients.iter().all(|&c| self.sim.is_halted(c))
    }

    /// The clients' histories merged, and how many commands completed.
    pub fn history(&self) -> (History<S::Command, S::Output>, u64) {
        crate::client::merged_history(
            self.clients
                .iter()
                .filter_map(|&c| self.sim.node(c))
                .filter_map(BPaxosNode::as_client),
        )
    }
}
