//! The dependency service: each node answers, for a new vertex, which vertices it has seen
//! whose commands conflict with the new one.

use std::collections::BTreeMap;

use stratus_sim::NodeId;

use super::message::BPaxosMsg;
use super::node::Ctx;
use super::vertex::VertexId;
use crate::state_machine::StateMachine;

/// A dependency node's durable state: every vertex it has answered for, with the answer given
/// (so a retried request gets the same answer), and the commands seen, indexed by
/// [`StateMachine::conflict_class`].
#[derive(Clone, Debug, PartialEq)]
pub struct DepState<C> {
    /// Answers given, per vertex.
    pub answers: BTreeMap<VertexId, Vec<VertexId>>,
    /// Commands seen, per conflict class.
    pub classes: BTreeMap<u64, Vec<(VertexId, C)>>,
}

impl<C> Default for DepState<C> {
    fn default() -> Self {
        DepState {
            answers: BTreeMap::new(),
            classes: BTreeMap::new(),
        }
    }
}

/// A dependency-service node.
///
/// Two conflicting commands' requests reach quorums of `f + 1` out of `2f + 1` nodes; the
/// quorums share a node, which saw one command first and reports it as a dependency of the
/// other. That is the whole argument for "conflicting vertices are ordered", so the state is
/// persisted before answering: a node that forgot what it saw would break it.
#[derive(Debug, Default)]
pub struct DepNode {
    /// The `DependOnEverything` bug: answer with every vertex seen.
    everything: bool,
}

impl DepNode {
    /// A dependency node; `depend_on_everything` injects the bug of that name.
    pub fn new(depend_on_everything: bool) -> Self {
        DepNode {
            everything: depend_on_everything,
        }
    }

    pub(super) fn on_message<S: StateMachine>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: BPaxosMsg<S::Command, S::Output>,
    ) {
        let BPaxosMsg::DepRequest { vertex, command } = msg else {
            return;
        };
        let known = ctx.durable().deps.answers.get(&vertex).cloned();
        let deps = match known {
            Some(deps) => deps,
            None => {
                // Linear in the earlier commands of the same class: this simple service keeps
                // everything (no garbage collection yet).
                let class = S::conflict_class(&command.op);
                let deps: Vec<VertexId> = if self.everything {
                    ctx.durable().deps.answers.keys().copied().collect()
                } else {
                    class
                        .and_then(|c| ctx.durable().deps.classes.get(&c))
                        .into_iter()
                        .flatten()
                        .filter(|(_, op)| S::conflicts(op, &command.op))
                        .map(|(v, _)| *v)
                        .collect()
                };
                let answer = deps.clone();
                ctx.persist(|d| {
                    d.deps.answers.insert(vertex, answer);
                    if let Some(c) = class {
                        d.deps
                            .classes
                            .entry(c)
                            .or_default()
                            .push((vertex, command.op));
                    }
                });
                deps
            }
        };
        ctx.send(from, BPaxosMsg::DepReply { vertex, deps });
    }
}
