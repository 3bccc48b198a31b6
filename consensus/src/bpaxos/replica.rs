//! The BPaxos replica: keeps the committed dependency graph and executes it component by
//! component; recovers dependencies that stay missing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use stratus_sim::{NodeId, Time};

use super::config::{BPaxosConfig, BPaxosLayout, Bug};
use super::graph::plan;
use super::message::{BPaxosMsg, BPaxosTimer};
use super::monitor::BpAuditEvent;
use super::node::Ctx;
use super::vertex::{VertexId, VertexValue};
use crate::client_table::{ClientTable, Dedup};
use crate::state_machine::StateMachine;

/// A BPaxos replica.
///
/// Committed vertices are persisted; a restarted replica re-executes them from scratch, which
/// reproduces the same state because conflicting commands always execute in the graph's
/// order. (Snapshots and garbage collection of the graph are not implemented for BPaxos.)
#[derive(Debug)]
pub struct BpReplica<S: StateMachine> {
    index: u32,
    config: Arc<BPaxosConfig>,
    layout: Arc<BPaxosLayout>,
    machine: S,
    table: ClientTable<S::Output>,
    committed: BTreeMap<VertexId, VertexValue<S::Command>>,
    arrival: BTreeMap<VertexId, u64>,
    pending: BTreeSet<VertexId>,
    executed: BTreeSet<VertexId>,
    missing: BTreeMap<VertexId, (Time, u32)>,
    audit: Option<Vec<BpAuditEvent<S::Command>>>,
}

impl<S: StateMachine> BpReplica<S> {
    /// Replica number `index`.
    pub fn new(index: u32, config: Arc<BPaxosConfig>, layout: Arc<BPaxosLayout>) -> Self {
        let audit = config.audit.then(Vec::new);
        BpReplica {
            index,
            config,
            layout,
            machine: S::default(),
            table: ClientTable::default(),
            committed: BTreeMap::new(),
            arrival: BTreeMap::new(),
            pending: BTreeSet::new(),
            executed: BTreeSet::new(),
            missing: BTreeMap::new(),
            audit,
        }
    }

    /// The machine as executed so far.
    pub fn machine(&self) -> &S {
        &self.machine
    }

    /// Vertices executed.
    pub fn executed(&self) -> usize {
        self.executed.len()
    }

    /// Takes the audit events recorded since the last call.
    pub fn take_audit(&mut self) -> Vec<BpAuditEvent<S::Command>> {
        self.audit.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, S>) {
        if let Some(audit) = &mut self.audit {
            audit.push(BpAuditEvent::Restarted { replica: ctx.id() });
        }
        let committed = ctx.durable().committed.clone();
        for (vertex, value) in committed {
            self.add(vertex, value);
        }
        self.execute(ctx);
        ctx.set_timer(self.config.tick, BPaxosTimer::ReplicaTick);
    }

    fn add(&mut self, vertex: VertexId, value: VertexValue<S::Command>) {
        let n = self.arrival.len() as u64;
        self.arrival.insert(vertex, n);
        self.committed.insert(vertex, value);
        self.pending.insert(vertex);
        self.missing.remove(&vertex);
    }

    pub(super) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        _from: NodeId,
        msg: BPaxosMsg<S::Command, S::Output>,
    ) {
        if let BPaxosMsg::Commit { vertex, value } = msg {
            if self.committed.contains_key(&vertex) {
                return;
            }
            let durable = value.clone();
            ctx.persist(|d| {
                d.committed.insert(vertex, durable);
            });
            self.add(vertex, value);
            self.execute(ctx);
        }
    }

    pub(super) fn on_tick(&mut self, ctx: &mut Ctx<'_, S>) {
        if self.config.bug != Some(Bug::NoRecovery) {
            let now = ctx.now();
            let leaders = self.layout.leaders.len() as u32;
            for (&vertex, (since, attempts)) in self.missing.iter_mut() {
                if now.since(*since) < self.config.recover_after {
                    continue;
                }
                // Ask the vertex's own leader first, then the others in turn (it may be down).
                let target = (vertex.leader + *attempts) % leaders.max(1);
                *since = now;
                *attempts += 1;
                ctx.send(
                    self.layout.leaders[target as usize],
                    BPaxosMsg::Recover { vertex },
                );
            }
        }
        ctx.set_timer(self.config.tick, BPaxosTimer::ReplicaTick);
    }

    fn execute(&mut self, ctx: &mut Ctx<'_, S>) {
        let committed = &self.committed;
        let executed = &self.executed;
        let p = plan(
            &self.pending,
            |v| committed[&v].deps.as_slice(),
            |v| executed.contains(&v),
        );
        let now = ctx.now();
        self.missing.retain(|v, _| p.missing.contains(v));
        for v in p.missing {
            self.missing.entry(v).or_insert((now, 0));
        }
        for mut component in p.components {
            if self.config.bug == Some(Bug::UnsortedComponents) {
                component.sort_by_key(|v| self.arrival[v]);
            }
            for vertex in component {
                self.run(ctx, vertex);
            }
        }
    }

    fn run(&mut self, ctx: &mut Ctx<'_, S>, vertex: VertexId) {
        self.pending.remove(&vertex);
        self.executed.insert(vertex);
        let value = &self.committed[&vertex];
        if let Some(audit) = &mut self.audit {
            audit.push(BpAuditEvent::Executed {
                replica: ctx.id(),
                vertex,
                digest: value.digest(),
            });
        }
        let Some(command) = &value.command else {
            return;
        };
        // As in MultiPaxos: one replica (rotating by vertex) answers fresh commands, all
        // answer retries.
        let designated = vertex.seq % self.layout.replicas.len() as u64 == u64::from(self.index);
        let output = match self.table.check(command.id) {
            Dedup::Fresh => {
                let out = self.machine.apply(&command.op);
                self.table.record(command.id, out.clone());
                if !designated {
                    return;
                }
                out
            }
            Dedup::Repeat(out) => out.clone(),
            Dedup::Stale => return,
        };
        ctx.send(
            command.reply_to,
            BPaxosMsg::Reply {
                id: command.id,
                output,
            },
        );
    }
}
