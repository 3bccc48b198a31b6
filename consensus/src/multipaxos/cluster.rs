//! Deploying MultiPaxos: a builder that validates the layout and places the roles on the
//! simulator or on threads, and the host-side [`Client`] handle for the threaded deployment.

use std::marker::PhantomData;
use std::sync::Arc;

use stratus_sim::history::History;
use stratus_sim::{LiveCluster, NodeId, Sim, SimConfig};

use super::acceptor::Acceptor;
use super::config::{Layout, MultiPaxosConfig};
use super::leader::Leader;
use super::matchmaker::Matchmaker;
use super::node::MultiPaxosNode;
use super::replica::Replica;
use crate::client::LoadClient;
use crate::command::ClusterId;
use crate::error::ConsensusError;
use crate::handle::Client;
use crate::state_machine::StateMachine;

/// Builds a MultiPaxos deployment of `S`.
///
/// ```
/// use stratus_consensus::{KvCommand, KvOutput, KvStore};
/// use stratus_consensus::multipaxos::MultiPaxos;
///
/// let mut cluster = MultiPaxos::<KvStore>::new(1).live(7, Vec::new())?;
/// let mut client = cluster.client();
/// let put = KvCommand::Put { key: 1, value: "x".into() };
/// assert_eq!(client.propose(put)?, KvOutput::Ok);
/// assert_eq!(client.propose(KvCommand::Get { key: 1 })?, KvOutput::Value(Some("x".into())));
/// cluster.shutdown()?;
/// # Ok::<(), stratus_consensus::ConsensusError>(())
/// ```
#[derive(Clone, Debug)]
pub struct MultiPaxos<S: StateMachine> {
    config: MultiPaxosConfig,
    cluster: ClusterId,
    leaders: usize,
    acceptors: usize,
    replicas: usize,
    matchmakers: usize,
    layout: Option<Layout>,
    _machine: PhantomData<fn() -> S>,
}

impl<S: StateMachine> MultiPaxos<S> {
    /// Tolerating `f` failures: `f + 1` leaders, `2f + 1` acceptors, `f + 1` replicas,
    /// default settings, cluster id 0.
    pub fn new(f: usize) -> Self {
        MultiPaxos {
            config: MultiPaxosConfig::new(f),
            cluster: 0,
            leaders: f + 1,
            acceptors: 2 * f + 1,
            replicas: f + 1,
            matchmakers: 0,
            layout: None,
            _machine: PhantomData,
        }
    }

    /// Replaces the settings (its `f` replaces the one given to `new`).
    pub fn config(mut self, config: MultiPaxosConfig) -> Self {
        self.config = config;
        self
    }

    /// The settings as they stand.
    pub fn settings(&self) -> &MultiPaxosConfig {
        &self.config
    }

    /// Sets the cluster id requests must name.
    pub fn cluster_id(mut self, id: ClusterId) -> Self {
        self.cluster = id;
        self
    }

    /// Sets the number of leaders.
    pub fn leaders(mut self, n: usize) -> Self {
        self.leaders = n;
        self
    }

    /// Sets the number of acceptors (at least `2f + 1`).
    pub fn acceptors(mut self, n: usize) -> Self {
        self.acceptors = n;
        self
    }

    /// Sets the number of replicas.
    pub fn replicas(mut self, n: usize) -> Self {
        self.replicas = n;
        self
    }

    /// Matchmaker MultiPaxos: `n` matchmakers (`2f + 1`); the acceptors become a pool from
    /// which each ballot's configuration is drawn. Zero (the default) is classic MultiPaxos.
    pub fn matchmakers(mut self, n: usize) -> Self {
        self.matchmakers = n;
        self
    }

    /// Uses an explicit layout instead of counts (ids must be `0..n` for the drivers here;
    /// a host with its own transport may use any ids).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = Some(layout);
        self
    }

    /// The validated layout.
    pub fn build_layout(&self) -> Result<Layout, ConsensusError> {
        self.config.validate()?;
        let layout = self.layout.clone().unwrap_or_else(|| {
            Layout::dense_with_matchmakers(
                self.cluster,
                self.leaders,
                self.acceptors,
                self.replicas,
                self.matchmakers,
            )
        });
        layout.validate(self.config.f)?;
        Ok(layout)
    }

    /// The role nodes, in id order (`nodes[i]` has id `NodeId(i)`), with their layout.
    pub fn nodes(&self) -> Result<(Layout, Vec<MultiPaxosNode<S>>), ConsensusError> {
        let layout = self.build_layout()?;
        let n = layout.len();
        let mut slots: Vec<Option<MultiPaxosNode<S>>> = (0..n).map(|_| None).collect();
        let config = Arc::new(self.config.clone());
        let shared = Arc::new(layout.clone());
        let mut place = |id: NodeId, node| {
            let slot = slots
                .get_mut(id.index())
                .ok_or(ConsensusError::UnknownNode(id))?;
            *slot = Some(node);
            Ok::<(), ConsensusError>(())
        };
        for (i, &id) in layout.leaders.iter().enumerate() {
            let leader = Leader::new(i as u32, Arc::clone(&config), Arc::clone(&shared));
            place(id, MultiPaxosNode::Leader(Box::new(leader)))?;
        }
        for &id in &layout.acceptors {
            place(id, MultiPaxosNode::Acceptor(Acceptor::new(config.audit)))?;
        }
        for (i, &id) in layout.replicas.iter().enumerate() {
            let replica = Replica::new(i as u32, Arc::clone(&config), Arc::clone(&shared));
            place(id, MultiPaxosNode::Replica(Box::new(replica)))?;
        }
        let initial = 2 * self.config.f + 1;
        for (i, &id) in layout.matchmakers.iter().enumerate() {
            place(id, MultiPaxosNode::Matchmaker(Matchmaker::new(i < initial)))?;
        }
        let nodes = slots.into_iter().flatten().collect();
        Ok((layout, nodes))
    }

    /// The deployment on the simulator, with `clients` added after the roles. Nodes are
    /// rebuilt from the same settings after a crash (durable state is kept by the simulator).
    pub fn simulate(
        &self,
        sim: SimConfig,
        clients: Vec<LoadClient<S>>,
    ) -> Result<SimDeployment<S>, ConsensusError> {
        let layout = self.build_layout()?;
        let (_, nodes) = self.nodes()?;
        let mut sim = Sim::new(sim)?;
        for (i, _) in nodes.into_iter().enumerate() {
            let this = self.clone();
            sim.add_node(move |id| {
                let (_, mut fresh) = this.nodes().expect("validated above");
                debug_assert_eq!(id.index(), i);
                fresh.swap_remove(id.index())
            });
        }
        let mut client_ids = Vec::new();
        for client in clients {
            // Clients are not crashed by the scenarios here; the factory runs once.
            let mut client = Some(client);
            client_ids.push(sim.add_node(move |_| {
                MultiPaxosNode::Client(Box::new(client.take().expect("clients do not restart")))
            }));
        }
        Ok(SimDeployment {
            sim,
            layout,
            clients: client_ids,
        })
    }

    /// The deployment on OS threads, one per node, with `clients` after the roles.
    pub fn live(
        &self,
        seed: u64,
        clients: Vec<LoadClient<S>>,
    ) -> Result<LiveDeployment<S>, ConsensusError> {
        let (layout, mut nodes) = self.nodes()?;
        let first_client = nodes.len() as u32;
        let client_ids = (first_client..first_client + clients.len() as u32)
            .map(NodeId)
            .collect();
        nodes.extend(
            clients
                .into_iter()
                .map(|c| MultiPaxosNode::Client(Box::new(c))),
        );
        let cluster = LiveCluster::start(seed, nodes)?;
        Ok(LiveDeployment {
            cluster,
            layout,
            clients: client_ids,
            next_client: 0,
        })
    }
}

/// A MultiPaxos deployment on the simulator.
pub struct SimDeployment<S: StateMachine> {
    /// The simulation (drive it, inject faults, inspect nodes).
    pub sim: Sim<MultiPaxosNode<S>>,
    /// Which node plays which role.
    pub layout: Layout,
    /// The client nodes.
    pub clients: Vec<NodeId>,
}

impl<S: StateMachine> SimDeployment<S> {
    /// Whether every client node has finished its workload.
    pub fn clients_done(&self) -> bool {
        self.clients.iter().all(|&c| self.sim.is_halted(c))
    }

    /// The clients' histories merged, and how many commands completed.
    pub fn history(&self) -> (History<S::Command, S::Output>, u64) {
        crate::client::merged_history(
            self.clients
                .iter()
                .filter_map(|&c| self.sim.node(c))
                .filter_map(MultiPaxosNode::as_client),
        )
    }
}

/// A MultiPaxos deployment on threads.
pub struct LiveDeployment<S: StateMachine> {
    cluster: LiveCluster<MultiPaxosNode<S>>,
    layout: Layout,
    clients: Vec<NodeId>,
    next_client: u64,
}

impl<S: StateMachine> LiveDeployment<S> {
    /// Which node plays which role.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The client nodes started with the deployment.
    pub fn client_nodes(&self) -> &[NodeId] {
        &self.clients
    }

    /// The underlying thread cluster.
    pub fn cluster(&self) -> &LiveCluster<MultiPaxosNode<S>> {
        &self.cluster
    }

    /// A host-side client with a fresh client id. It borrows the deployment mutably, so
    /// replies (which arrive on one channel) are never read by two clients at once.
    pub fn client(&mut self) -> Client<'_, MultiPaxosNode<S>, S> {
        self.next_client += 1;
        Client::new(
            &self.cluster,
            &self.layout.leaders,
            self.layout.cluster,
            (1 << 63) | self.next_client,
        )
    }

    /// Stops every thread and returns the nodes' final state.
    pub fn shutdown(self) -> Result<stratus_sim::LiveReport<MultiPaxosNode<S>>, ConsensusError> {
        Ok(self.cluster.shutdown()?)
    }
}
