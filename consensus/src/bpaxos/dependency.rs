//! The dependency service: each node answers, for a new vertex, which vertices it has seen
//! whose commands conflict with the new one.

use std::collections::BTreeMap;

use stratus_sim::NodeId;

use super::message::BPaxosMsg;
use super::node::Ctx;
use super::vertex::VertexId;
use crate::state_machine::StateMachine;

/// A dependency node's durable state: every vertex it has answered for, with its command and
/// the answer given (so a retried request gets the same answer).
pub type DepState<C> = BTreeMap<VertexId, (C, Vec<VertexId>)>;

/// A dependency-service node.
///
/// Two conflicting commands' requests reach quorums of `f + 1` out of `2f + 1` nodes; the
/// quorums share a node, which saw one command first and reports it as a dependency of the
/// other. That is the whole argument for "conflicting vertices are ordered", so the state is
/// persisted before answering: a node that forgot what it saw would break it.
#[derive(Debug, Default)]
pub struct DepNode;

impl DepNode {
    pub(super) fn on_message<S: StateMachine>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: BPaxosMsg<S::Command, S::Output>,
    ) {
        let BPaxosMsg::DepRequest { vertex, command } = msg else {
            return;
        };
        let known = ctx.durable().deps.get(&vertex).map(|(_, d)| d.clone());
        let deps = match known {
            Some(deps) => deps,
            None => {
                // Linear in the vertices seen: this simple service keeps everything (no
                // garbage collection yet), which is fine for tests and bounded benchmarks.
                let deps: Vec<VertexId> = ctx
                    .durable()
                    .deps
                    .iter()
                    .filter(|(_, (op, _))| S::conflicts(op, &command.op))
                    .map(|(&v, _)| v)
                    .collect();
                let answer = deps.clone();
                ctx.persist(|d| {
                    d.deps.insert(vertex, (command.op, answer));
                });
                deps
            }
        };
        ctx.send(from, BPaxosMsg::DepReply { vertex, deps });
    }
}
