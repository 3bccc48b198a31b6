//! The host-side client handle: proposes commands to a cluster running on threads and waits
//! for their outputs, retrying under the same request id through leader changes.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use stratus_sim::{LiveCluster, NodeId};

use crate::client::ClientHost;
use crate::command::{ClientId, ClusterId, Command, RequestId};
use crate::error::ConsensusError;
use crate::state_machine::StateMachine;

/// What a protocol tells a host-side client.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer<O> {
    /// The output of request `id`.
    Output {
        /// The request answered.
        id: RequestId,
        /// Its output.
        output: O,
        /// Index of the entry point the replier believes leads, if the protocol has one.
        leader: Option<u32>,
    },
    /// Request `id` named a cluster this deployment does not serve.
    Rejected {
        /// The refused request.
        id: RequestId,
        /// The cluster that refused it.
        serving: ClusterId,
    },
}

/// A protocol whose node type a host-side [`Client`] can talk to.
pub trait HostProtocol<S: StateMachine>: ClientHost<S> {
    /// The answer inside a message sent to [`NodeId::EXTERNAL`], if it is one.
    fn answer(msg: Self::Msg) -> Option<Answer<S::Output>>;
}

/// A host-side client of a threaded deployment (MultiPaxos, Matchmaker MultiPaxos or BPaxos):
/// proposes commands and waits for their outputs, resending under the same request id — so
/// the command executes at most once — to the next entry point when one stays silent.
///
/// Deployments hand these out from `client(&mut self)`, so two clients never read the one
/// channel replies arrive on at the same time.
pub struct Client<'a, N: HostProtocol<S>, S: StateMachine> {
    cluster: &'a LiveCluster<N>,
    targets: &'a [NodeId],
    cluster_id: ClusterId,
    id: ClientId,
    seq: u64,
    guess: usize,
    retry_after: Duration,
    max_attempts: u32,
    _machine: PhantomData<fn() -> S>,
}

impl<'a, N: HostProtocol<S>, S: StateMachine> Client<'a, N, S> {
    /// A client with id `id` sending to `targets` (the entry points) of cluster `cluster_id`.
    pub fn new(
        cluster: &'a LiveCluster<N>,
        targets: &'a [NodeId],
        cluster_id: ClusterId,
        id: ClientId,
    ) -> Self {
        Client {
            cluster,
            targets,
            cluster_id,
            id,
            seq: 0,
            guess: 0,
            retry_after: Duration::from_millis(50),
            max_attempts: 40,
            _machine: PhantomData,
        }
    }

    /// This client's id.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// Sets how long to wait before retrying and how many attempts to make in all.
    pub fn patience(mut self, retry_after: Duration, max_attempts: u32) -> Self {
        self.retry_after = retry_after;
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Proposes `op` to the deployment's cluster and returns its output.
    pub fn propose(&mut self, op: S::Command) -> Result<S::Output, ConsensusError> {
        self.propose_to(self.cluster_id, op)
    }

    /// Proposes `op` naming cluster `cluster`; a cluster this deployment does not serve is
    /// refused with [`ConsensusError::UnknownCluster`].
    pub fn propose_to(
        &mut self,
        cluster: ClusterId,
        op: S::Command,
    ) -> Result<S::Output, ConsensusError> {
        if self.targets.is_empty() {
            return Err(ConsensusError::EmptyRole {
                role: "entry points",
            });
        }
        self.seq += 1;
        let id = RequestId {
            client: self.id,
            seq: self.seq,
        };
        let command = Command {
            id,
            reply_to: NodeId::EXTERNAL,
            op,
        };
        for _attempt in 0..self.max_attempts {
            let target = self.targets[self.guess % self.targets.len()];
            self.cluster
                .send(target, N::request(cluster, command.clone()))?;
            let deadline = Instant::now() + self.retry_after;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let Some((_, msg)) = self.cluster.recv_timeout(left) else {
                    break;
                };
                match N::answer(msg) {
                    Some(Answer::Output {
                        id: got,
                        output,
                        leader,
                    }) if got == id => {
                        if let Some(l) = leader {
                            self.guess = l as usize;
                        }
                        return Ok(output);
                    }
                    Some(Answer::Rejected { id: got, serving }) if got == id => {
                        return Err(ConsensusError::UnknownCluster {
                            requested: cluster,
                            serving,
                        });
                    }
                    // Duplicate answers to earlier requests.
                    _ => {}
                }
            }
            self.guess = (self.guess + 1) % self.targets.len();
        }
        Err(ConsensusError::Timeout {
            attempts: self.max_attempts,
        })
    }
}
