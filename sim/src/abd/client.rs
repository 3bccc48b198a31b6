//! The ABD client: runs a random workload of reads and writes, one at a time, and records
//! every invocation and return in a history for the linearizability checker.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::AbdNode;
use super::message::{AbdMsg, AbdTimer, Tag};
use crate::context::Context;
use crate::history::{History, OpId};
use crate::linearizability::{RegisterInput, RegisterOutput};
use crate::node::NodeId;

/// What a client does.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// The replicas (all of them; a majority must answer each phase).
    pub replicas: Vec<NodeId>,
    /// Operations to perform before halting.
    pub ops: u64,
    /// Keys are drawn uniformly from `0..keys`.
    pub keys: u64,
    /// Fraction of operations that are reads.
    pub read_fraction: f64,
    /// Whether reads write back what they return. `false` is the *broken* variant.
    pub write_back: bool,
    /// How long to wait for answers before resending to silent replicas.
    pub retry_after: Duration,
    /// Pause between operations is uniform in `0..=think`.
    pub think: Duration,
}

impl ClientConfig {
    /// A correct client over `replicas`: 50 operations on 4 keys, 50% reads.
    pub fn new(replicas: Vec<NodeId>) -> Self {
        ClientConfig {
            replicas,
            ops: 50,
            keys: 4,
            read_fraction: 0.5,
            write_back: true,
            retry_after: Duration::from_millis(3),
            think: Duration::from_micros(500),
        }
    }
}

#[derive(Debug)]
enum Phase {
    Query {
        replies: BTreeMap<NodeId, (Tag, Option<u64>)>,
    },
    Store {
        tag: Tag,
        value: Option<u64>,
        acks: BTreeSet<NodeId>,
    },
}

#[derive(Debug)]
struct InFlight {
    op: OpId,
    key: u64,
    /// `Some(v)` for a write of `v`, `None` for a read.
    write: Option<u64>,
    phase_id: u64,
    phase: Phase,
}

/// An ABD client (one operation outstanding at a time, like a real sequential client).
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    history: History<RegisterInput<u64>, RegisterOutput<u64>>,
    current: Option<InFlight>,
    next_phase: u64,
    started: u64,
    completed: u64,
}

impl Client {
    /// A client that will run `config`'s workload.
    pub fn new(config: ClientConfig) -> Self {
        Client {
            config,
            history: History::new(),
            current: None,
            next_phase: 0,
            started: 0,
            completed: 0,
        }
    }

    /// Everything this client invoked and saw returned so far.
    pub fn history(&self) -> &History<RegisterInput<u64>, RegisterOutput<u64>> {
        &self.history
    }

    /// Operations completed.
    pub fn completed(&self) -> u64 {
        self.completed
    }

    fn majority(&self) -> usize {
        self.config.replicas.len() / 2 + 1
    }

    pub(crate) fn on_start(&mut self, ctx: &mut Context<'_, AbdNode>) {
        // Clients are not crashed by our scenarios; a restart simply abandons the operation
        // in flight (it stays pending in the history, which the checker allows).
        self.current = None;
        self.next_op(ctx);
    }

    fn next_op(&mut self, ctx: &mut Context<'_, AbdNode>) {
        if self.started >= self.config.ops {
            ctx.halt();
            return;
        }
        self.started += 1;
        let key = ctx.rng().below(self.config.keys.max(1));
        let is_read = ctx.rng().chance(self.config.read_fraction);
        let at = ctx.stamp();
        let (input, write) = if is_read {
            (RegisterInput::Read { key }, None)
        } else {
            // Unique per client and operation, so the checker can tell writes apart.
            let value = (u64::from(ctx.id().0) << 32) | self.started;
            (RegisterInput::Write { key, value }, Some(value))
        };
        let op = self.history.invoke(u64::from(ctx.id().0), input, at);
        let phase_id = self.fresh_phase();
        self.current = Some(InFlight {
            op,
            key,
            write,
            phase_id,
            phase: Phase::Query {
                replies: BTreeMap::new(),
            },
        });
        self.send_phase(ctx);
    }

    fn fresh_phase(&mut self) -> u64 {
        self.next_phase += 1;
        self.next_phase
    }

    /// Sends the current phase's request to every replica that has not answered it yet, and
    /// arms the retry timer: messages may be lost, so silence is answered by resending.
    fn send_phase(&mut self, ctx: &mut Context<'_, AbdNode>) {
        let Some(cur) = &self.current else { return };
        for &r in &self.config.replicas {
            let msg = match &cur.phase {
                Phase::Query { replies } if !replies.contains_key(&r) => AbdMsg::Query {
                    phase: cur.phase_id,
                    key: cur.key,
                },
                Phase::Store { tag, value, acks } if !acks.contains(&r) => AbdMsg::Store {
                    phase: cur.phase_id,
                    key: cur.key,
                    tag: *tag,
                    value: *value,
                },
                _ => continue,
            };
            ctx.send(r, msg);
        }
        let phase = cur.phase_id;
        ctx.set_timer(self.config.retry_after, AbdTimer::Retry { phase });
    }

    pub(crate) fn on_timer(&mut self, ctx: &mut Context<'_, AbdNode>, timer: AbdTimer) {
        match timer {
            AbdTimer::Retry { phase } => {
                if self.current.as_ref().is_some_and(|c| c.phase_id == phase) {
                    self.send_phase(ctx);
                }
            }
            AbdTimer::NextOp => self.next_op(ctx),
        }
    }

    pub(crate) fn on_message(&mut self, ctx: &mut Context<'_, AbdNode>, from: NodeId, msg: AbdMsg) {
        let majority = self.majority();
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        match (msg, &mut cur.phase) {
            (
                AbdMsg::QueryReply {
                    phase, tag, value, ..
                },
                Phase::Query { replies },
            ) if phase == cur.phase_id => {
                replies.insert(from, (tag, value));
                if replies.len() < majority {
                    return;
                }
                let (max_tag, max_value) = replies
                    .values()
                    .copied()
                    .max_by_key(|(t, _)| *t)
                    .unwrap_or_default();
                match cur.write {
                    Some(v) => {
                        let tag = Tag {
                            ts: max_tag.ts + 1,
                            writer: ctx.id().0,
                        };
                        self.enter_store(ctx, tag, Some(v));
                    }
                    None if self.config.write_back && max_tag > Tag::default() => {
                        self.enter_store(ctx, max_tag, max_value);
                    }
                    None => self.finish(ctx, RegisterOutput::Read(max_value)),
                }
            }
            (AbdMsg::StoreAck { phase }, Phase::Store { acks, value, .. })
                if phase == cur.phase_id =>
            {
                acks.insert(from);
                if acks.len() < majority {
                    return;
                }
                let output = match cur.write {
                    Some(_) => RegisterOutput::WriteOk,
                    None => RegisterOutput::Read(*value),
                };
                self.finish(ctx, output);
            }
            // Replies to earlier phases, duplicates, or requests meant for replicas.
            _ => {}
        }
    }

    fn enter_store(&mut self, ctx: &mut Context<'_, AbdNode>, tag: Tag, value: Option<u64>) {
        let phase_id = self.fresh_phase();
        if let Some(cur) = self.current.as_mut() {
            cur.phase_id = phase_id;
            cur.phase = Phase::Store {
                tag,
                value,
                acks: BTreeSet::new(),
            };
        }
        self.send_phase(ctx);
    }

    fn finish(&mut self, ctx: &mut Context<'_, AbdNode>, output: RegisterOutput<u64>) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let at = ctx.stamp();
        self.history.complete(cur.op, output, at);
        self.completed += 1;
        let think = self.config.think.as_nanos() as u64;
        let pause = Duration::from_nanos(ctx.rng().range_inclusive(0, think));
        ctx.set_timer(pause, AbdTimer::NextOp);
    }
}
