//! MultiPaxos settings, the deployment layout and the deliberate bugs tests inject.

use std::collections::BTreeSet;
use std::time::Duration;

use stratus_sim::NodeId;

use crate::command::ClusterId;
use crate::error::ConsensusError;

/// Deliberate bugs, each breaking the property one invariant or checker guards; tests inject
/// them to prove the checks can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// A new leader ignores the votes phase 1 reports and reuses their slots: two values get
    /// chosen in one slot (guarded by the one-value-per-slot invariant).
    SkipPhase1Recovery,
    /// The leader tells replicas a value is chosen as soon as it proposes it: replicas execute
    /// values that were never chosen (guarded by the executed-logs invariant).
    ExecuteUnchosen,
    /// Replicas execute a retried request again instead of answering from the client table
    /// (guarded by the linearizability check).
    NoDedup,
    /// The leader never resends an unanswered phase 2a: one lost message stalls a slot
    /// forever (guarded by the liveness check).
    NoResend,
    /// Matchmaker MultiPaxos: an elected leader runs phase 1 against its own configuration
    /// only, not the earlier ones the matchmakers report (guarded by one value per slot).
    SkipPriorConfigs,
    /// Matchmaker MultiPaxos: retired configurations are garbage-collected at once, before the
    /// replicas persisted the slots they chose (guarded by one value per slot).
    EarlyConfigGc,
    /// Matchmaker MultiPaxos: new matchmakers are bootstrapped from the first stopped
    /// matchmaker's state instead of a quorum's (guarded by one value per slot).
    BootstrapFromOne,
}

/// MultiPaxos tuning. Durations are virtual under the simulator, real on threads.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiPaxosConfig {
    /// Failures tolerated: `2f + 1` acceptors, a quorum is `f + 1`.
    pub f: usize,
    /// Most commands in one slot.
    pub batch_max: usize,
    /// How long a leader waits for more commands before proposing a partial batch (zero:
    /// propose once the current burst of messages is handled).
    pub batch_delay: Duration,
    /// Leader heartbeat and housekeeping period.
    pub heartbeat: Duration,
    /// A follower leader campaigns after hearing nothing for this long (plus up to as much
    /// again, drawn at random, so leaders rarely duel).
    pub election_timeout: Duration,
    /// Unanswered phase 1a / 2a messages are resent to every acceptor after this long.
    pub resend: Duration,
    /// Replicas snapshot every this many slots and report it; the minimum over replicas is
    /// the watermark below which leaders and acceptors drop their logs.
    pub snapshot_every: u64,
    /// Most slots a leader sends in one answer to a replica's fetch.
    pub fetch_limit: usize,
    /// Send phase 2a to a quorum of acceptors only (resending to all on timeout).
    pub thrifty: bool,
    /// At most this many slots in flight (proposed, not yet known chosen); commands arriving
    /// meanwhile wait and go out as one batch when a slot is chosen. `None`: no limit, batches
    /// form only by `batch_delay`. A window is what makes batching adaptive on threads, where
    /// a zero-delay flush would otherwise propose every command alone.
    pub pipeline: Option<usize>,
    /// Record audit events for the invariant monitor (tests).
    pub audit: bool,
    /// A deliberate bug (tests only).
    pub bug: Option<Bug>,
}

impl MultiPaxosConfig {
    /// Defaults for `f` failures: batches up to 64, 5 ms heartbeats, 20 ms election timeout,
    /// 8 ms resend, snapshots every 16 slots, thrifty quorums.
    pub fn new(f: usize) -> Self {
        MultiPaxosConfig {
            f,
            batch_max: 64,
            batch_delay: Duration::ZERO,
            heartbeat: Duration::from_millis(5),
            election_timeout: Duration::from_millis(20),
            resend: Duration::from_millis(8),
            snapshot_every: 16,
            fetch_limit: 64,
            thrifty: true,
            pipeline: None,
            audit: false,
            bug: None,
        }
    }

    /// Acceptors in a quorum.
    pub fn quorum(&self) -> usize {
        self.f + 1
    }

    /// Rejects settings that would stall the protocol.
    pub fn validate(&self) -> Result<(), ConsensusError> {
        let bad = |what: &str| Err(ConsensusError::InvalidConfig(what.to_string()));
        if self.batch_max == 0 {
            return bad("batch_max must be at least 1");
        }
        if self.heartbeat.is_zero() || self.election_timeout.is_zero() || self.resend.is_zero() {
            return bad("heartbeat, election_timeout and resend must be positive");
        }
        if self.election_timeout <= self.heartbeat {
            return bad("election_timeout must exceed the heartbeat period");
        }
        if self.pipeline == Some(0) {
            return bad("a pipeline window must allow at least one slot");
        }
        if self.snapshot_every == 0 || self.fetch_limit == 0 {
            return bad("snapshot_every and fetch_limit must be at least 1");
        }
        Ok(())
    }
}

/// Which node plays which role, and the cluster's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The cluster's id; requests naming another are refused.
    pub cluster: ClusterId,
    /// Leaders (proposers), in index order; ballots name them by index.
    pub leaders: Vec<NodeId>,
    /// Acceptors (`2f + 1` or more).
    pub acceptors: Vec<NodeId>,
    /// Replicas executing the log (`f + 1` suffice for durability of outputs).
    pub replicas: Vec<NodeId>,
    /// Matchmakers (at least `2f + 1`), or none for classic MultiPaxos. With matchmakers,
    /// `acceptors` is a pool and each ballot uses a configuration of `2f + 1` of them
    /// (initially the first `2f + 1`); likewise the matchmakers are a pool, of which the first
    /// `2f + 1` serve until a leader replaces them.
    pub matchmakers: Vec<NodeId>,
}

impl Layout {
    /// Leaders, acceptors and replicas on consecutive ids from 0.
    pub fn dense(cluster: ClusterId, leaders: usize, acceptors: usize, replicas: usize) -> Self {
        let mut next = 0u32;
        let mut take = |n: usize| {
            let ids: Vec<NodeId> = (next..next + n as u32).map(NodeId).collect();
            next += n as u32;
            ids
        };
        Layout {
            cluster,
            leaders: take(leaders),
            acceptors: take(acceptors),
            replicas: take(replicas),
            matchmakers: Vec::new(),
        }
    }

    /// Like [`Layout::dense`], with `matchmakers` matchmakers after the replicas.
    pub fn dense_with_matchmakers(
        cluster: ClusterId,
        leaders: usize,
        acceptors: usize,
        replicas: usize,
        matchmakers: usize,
    ) -> Self {
        let mut layout = Self::dense(cluster, leaders, acceptors, replicas);
        let first = (leaders + acceptors + replicas) as u32;
        layout.matchmakers = (first..first + matchmakers as u32).map(NodeId).collect();
        layout
    }

    /// Checks the layout can tolerate `f` failures and names every node once.
    pub fn validate(&self, f: usize) -> Result<(), ConsensusError> {
        if self.leaders.is_empty() {
            return Err(ConsensusError::EmptyRole { role: "leaders" });
        }
        if self.replicas.is_empty() {
            return Err(ConsensusError::EmptyRole { role: "replicas" });
        }
        let needed = 2 * f + 1;
        if self.acceptors.len() < needed {
            return Err(ConsensusError::TooFewAcceptors {
                f,
                acceptors: self.acceptors.len(),
                needed,
            });
        }
        if !self.matchmakers.is_empty() && self.matchmakers.len() < needed {
            return Err(ConsensusError::TooFewMatchmakers {
                f,
                matchmakers: self.matchmakers.len(),
                needed,
            });
        }
        let mut seen = BTreeSet::new();
        for &id in self.all() {
            if id == NodeId::EXTERNAL || !seen.insert(id) {
                return Err(ConsensusError::DuplicateNode(id));
            }
        }
        Ok(())
    }

    /// Every node of the layout: leaders, acceptors, replicas, then matchmakers.
    pub fn all(&self) -> impl Iterator<Item = &NodeId> {
        self.leaders
            .iter()
            .chain(&self.acceptors)
            .chain(&self.replicas)
            .chain(&self.matchmakers)
    }

    /// Number of nodes in the layout.
    pub fn len(&self) -> usize {
        self.leaders.len() + self.acceptors.len() + self.replicas.len() + self.matchmakers.len()
    }

    /// Whether the layout has no node at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_layouts_are_typed_errors() {
        let ok = Layout::dense(1, 2, 3, 2);
        assert_eq!(ok.validate(1), Ok(()));
        assert_eq!(
            ok.validate(2),
            Err(ConsensusError::TooFewAcceptors {
                f: 2,
                acceptors: 3,
                needed: 5
            })
        );
        let mut dup = ok.clone();
        dup.replicas[0] = dup.acceptors[1];
        assert_eq!(
            dup.validate(1),
            Err(ConsensusError::DuplicateNode(NodeId(3)))
        );
        let mut empty = ok.clone();
        empty.leaders.clear();
        assert_eq!(
            empty.validate(1),
            Err(ConsensusError::EmptyRole { role: "leaders" })
        );
        assert_eq!(
            Layout::dense(1, 1, 0, 1).validate(0),
            Err(ConsensusError::TooFewAcceptors {
                f: 0,
                acceptors: 0,
                needed: 1
            })
        );
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        assert!(MultiPaxosConfig::new(1).validate().is_ok());
        let mut c = MultiPaxosConfig::new(1);
        c.batch_max = 0;
        assert!(matches!(
            c.validate(),
            Err(ConsensusError::InvalidConfig(_))
        ));
        let mut c = MultiPaxosConfig::new(1);
        c.election_timeout = c.heartbeat;
        assert!(matches!(
            c.validate(),
            Err(ConsensusError::InvalidConfig(_))
        ));
    }
}
