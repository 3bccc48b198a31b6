//! The MultiPaxos replica: executes chosen slots in order, at most once per request, and
//! snapshots so the log can be garbage-collected.

use std::collections::BTreeMap;
use std::sync::Arc;

use stratus_sim::NodeId;

use super::ballot::Ballot;
use super::config::{Bug, Layout, MultiPaxosConfig};
use super::message::{PaxosMsg, PaxosTimer};
use super::monitor::AuditEvent;
use super::node::Ctx;
use crate::client_table::{ClientTable, Dedup};
use crate::command::{Batch, RequestId, batch_digest};
use crate::error::ConsensusError;
use crate::state_machine::StateMachine;

/// A replica's durable snapshot: the machine (as [`StateMachine::snapshot`] bytes) and the
/// client table after executing every slot below `slot`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaSnapshot<O> {
    /// Slots below this are reflected in the snapshot.
    pub slot: u64,
    /// The machine's snapshot bytes.
    pub machine: Vec<u8>,
    /// Last request and output per client.
    pub table: ClientTable<O>,
}

/// A MultiPaxos replica.
#[derive(Debug)]
pub struct Replica<S: StateMachine> {
    index: u32,
    config: Arc<MultiPaxosConfig>,
    layout: Arc<Layout>,
    machine: S,
    table: ClientTable<S::Output>,
    executed: u64,
    log: BTreeMap<u64, Batch<S::Command>>,
    leader: Ballot,
    leader_chosen_upto: u64,
    snapshot_slot: u64,
    audit: Option<Vec<AuditEvent>>,
    /// Set when this replica's own durable snapshot failed to decode: the replica then stops
    /// (fail-stop) instead of executing from a state it cannot trust.
    storage_error: Option<ConsensusError>,
}

impl<S: StateMachine> Replica<S> {
    /// Replica number `index` of `layout`.
    pub fn new(index: u32, config: Arc<MultiPaxosConfig>, layout: Arc<Layout>) -> Self {
        let audit = config.audit.then(Vec::new);
        Replica {
            index,
            config,
            layout,
            machine: S::default(),
            table: ClientTable::default(),
            executed: 0,
            log: BTreeMap::new(),
            leader: Ballot::default(),
            leader_chosen_upto: 0,
            snapshot_slot: 0,
            storage_error: None,
            audit,
        }
    }

    /// The replicated machine as executed so far.
    pub fn machine(&self) -> &S {
        &self.machine
    }

    /// Slots executed (the next slot to execute).
    pub fn executed(&self) -> u64 {
        self.executed
    }

    /// Chosen slots received but not yet executed (waiting for a hole to fill).
    pub fn buffered(&self) -> usize {
        self.log.len()
    }

    /// Restores the machine, client table and position from a snapshot; a snapshot whose
    /// machine bytes do not decode is [`ConsensusError::CorruptSnapshot`] and changes nothing.
    pub fn load_snapshot(
        &mut self,
        snap: &ReplicaSnapshot<S::Output>,
    ) -> Result<(), ConsensusError> {
        let machine = S::restore(&snap.machine)?;
        self.machine = machine;
        self.table = snap.table.clone();
        self.executed = snap.slot;
        self.snapshot_slot = snap.slot;
        Ok(())
    }

    /// Why this replica stopped, if its own durable snapshot was corrupt.
    pub fn storage_error(&self) -> Option<&ConsensusError> {
        self.storage_error.as_ref()
    }

    /// Takes the audit events recorded since the last call.
    pub fn take_audit(&mut self) -> Vec<AuditEvent> {
        self.audit.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, S>) {
        if let Some(snap) = &ctx.durable().replica {
            // The bytes were written by this replica's own `snapshot`; failing to read them
            // back means stable storage itself is corrupt. Executing from an empty machine
            // would diverge from the other replicas, so the replica stops (a crashed replica
            // is something the protocol tolerates) and reports why.
            let snap = snap.clone();
            if let Err(e) = self.load_snapshot(&snap) {
                self.storage_error = Some(e);
                return;
            }
        }
        ctx.set_timer(self.config.heartbeat, PaxosTimer::ReplicaTick);
    }

    pub(super) fn on_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        let behind = self.leader_chosen_upto > self.executed || !self.log.is_empty();
        if behind {
            self.fetch(ctx);
        }
        let msg = PaxosMsg::Persisted {
            replica: self.index,
            slot: self.snapshot_slot,
        };
        ctx.broadcast(&self.layout.leaders, &msg);
        ctx.set_timer(self.config.heartbeat, PaxosTimer::ReplicaTick);
    }

    fn fetch(&mut self, ctx: &mut Ctx<'_, S>) {
        let msg = PaxosMsg::Fetch {
            from: self.executed,
        };
        match self.layout.leaders.get(self.leader.leader as usize) {
            Some(&l) if self.leader.is_some() => ctx.send(l, msg),
            _ => ctx.broadcast(&self.layout.leaders, &msg),
        }
    }

    pub(super) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        _from: NodeId,
        msg: PaxosMsg<S::Command, S::Output>,
    ) {
        if self.storage_error.is_some() {
            return; // stopped: see `storage_error`
        }
        match msg {
            PaxosMsg::Chosen { entries } => {
                let catch_up = entries.len() > 1;
                for (slot, value) in entries {
                    if slot >= self.executed {
                        self.log.entry(slot).or_insert(value);
                    }
                }
                self.execute_ready(ctx);
                // A full fetch answer suggests more is missing: keep pulling without waiting
                // for the next tick.
                if catch_up && self.leader_chosen_upto > self.executed {
                    self.fetch(ctx);
                }
            }
            PaxosMsg::Heartbeat {
                ballot,
                chosen_upto,
                ..
            } => {
                if ballot > self.leader {
                    self.leader = ballot;
                    self.leader_chosen_upto = chosen_upto;
                } else if ballot == self.leader {
                    self.leader_chosen_upto = self.leader_chosen_upto.max(chosen_upto);
                }
            }
            _ => {}
        }
    }

    fn execute_ready(&mut self, ctx: &mut Ctx<'_, S>) {
        while let Some(batch) = self.log.remove(&self.executed) {
            if let Some(audit) = &mut self.audit {
                audit.push(AuditEvent::Executed {
                    replica: ctx.id(),
                    slot: self.executed,
                    digest: batch_digest(&batch),
                });
            }
            // One replica per slot answers fresh commands (rotating), so clients are not
            // flooded with copies; every replica answers a retry, so one replica being down
            // costs a client one retry, not its liveness.
            let designated =
                self.executed % self.layout.replicas.len() as u64 == u64::from(self.index);
            // Answers for one slot, grouped by client node: one message per node.
            let mut answers: BTreeMap<NodeId, Vec<(RequestId, S::Output)>> = BTreeMap::new();
            for command in batch {
                let output = match self.table.check(command.id) {
                    Dedup::Fresh => None,
                    Dedup::Repeat(_) if self.config.bug == Some(Bug::NoDedup) => None,
                    Dedup::Repeat(out) => Some(out.clone()),
                    Dedup::Stale => continue,
                };
                let retry = output.is_some();
                let output = output.unwrap_or_else(|| {
                    let out = self.machine.apply(&command.op);
                    self.table.record(command.id, out.clone());
                    out
                });
                if !designated && !retry {
                    continue;
                }
                answers
                    .entry(command.reply_to)
                    .or_default()
                    .push((command.id, output));
            }
            let leader = self.leader.leader;
            for (to, mut replies) in answers {
                // Host-side clients (and single answers) get the plain form.
                let msg = if replies.len() == 1 || to == NodeId::EXTERNAL {
                    for (id, output) in replies.drain(1..) {
                        ctx.send(to, PaxosMsg::Reply { id, output, leader });
                    }
                    let (id, output) = replies.pop().expect("one reply");
                    PaxosMsg::Reply { id, output, leader }
                } else {
                    PaxosMsg::Replies { replies, leader }
                };
                ctx.send(to, msg);
            }
            self.executed += 1;
            if self.executed - self.snapshot_slot >= self.config.snapshot_every {
                self.snapshot(ctx);
            }
        }
    }

    fn snapshot(&mut self, ctx: &mut Ctx<'_, S>) {
        let snap = ReplicaSnapshot {
            slot: self.executed,
            machine: self.machine.snapshot(),
            table: self.table.clone(),
        };
        ctx.persist(|d| d.replica = Some(snap));
        self.snapshot_slot = self.executed;
        let msg = PaxosMsg::Persisted {
            replica: self.index,
            slot: self.snapshot_slot,
        };
        ctx.broadcast(&self.layout.leaders, &msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::KvStore;
    use crate::multipaxos::MultiPaxos;

    #[test]
    fn a_corrupt_snapshot_is_a_typed_error_and_changes_nothing() {
        let layout = MultiPaxos::<KvStore>::new(1).build_layout().unwrap();
        let config = Arc::new(MultiPaxosConfig::new(1));
        let mut replica = Replica::<KvStore>::new(0, config, Arc::new(layout));
        let corrupt = ReplicaSnapshot {
            slot: 40,
            machine: vec![0xff; 7],
            table: ClientTable::default(),
        };
        assert!(matches!(
            replica.load_snapshot(&corrupt),
            Err(ConsensusError::CorruptSnapshot(_))
        ));
        assert_eq!(replica.executed(), 0);
        let good = ReplicaSnapshot {
            slot: 40,
            machine: KvStore::default().snapshot(),
            table: ClientTable::default(),
        };
        replica.load_snapshot(&good).unwrap();
        assert_eq!(replica.executed(), 40);
    }
}
