//! The BPaxos acceptor: one Paxos instance per vertex, all state on stable storage.

use std::collections::BTreeMap;

use stratus_sim::NodeId;

use super::message::BPaxosMsg;
use super::monitor::BpAuditEvent;
use super::node::Ctx;
use super::vertex::{VertexId, VertexValue};
use crate::multipaxos::Ballot;
use crate::state_machine::StateMachine;

/// An acceptor's state for one vertex.
#[derive(Clone, Debug, PartialEq)]
pub struct VertexVote<C> {
    /// Highest ballot promised.
    pub promised: Ballot,
    /// Latest vote.
    pub vote: Option<(Ballot, VertexValue<C>)>,
}

impl<C> Default for VertexVote<C> {
    fn default() -> Self {
        VertexVote {
            promised: Ballot::default(),
            vote: None,
        }
    }
}

/// Durable acceptor state: per vertex.
pub type BpAcceptorState<C> = BTreeMap<VertexId, VertexVote<C>>;

/// A BPaxos acceptor (a member of one acceptor group).
#[derive(Debug)]
pub struct BpAcceptor<S: StateMachine> {
    audit: Option<Vec<BpAuditEvent<S::Command>>>,
}

impl<S: StateMachine> BpAcceptor<S> {
    /// An acceptor; `audit` records votes for the monitor.
    pub fn new(audit: bool) -> Self {
        BpAcceptor {
            audit: audit.then(Vec::new),
        }
    }

    /// Takes the audit events recorded since the last call.
    pub fn take_audit(&mut self) -> Vec<BpAuditEvent<S::Command>> {
        self.audit.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(super) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: BPaxosMsg<S::Command, S::Output>,
    ) {
        match msg {
            BPaxosMsg::Phase1a { vertex, ballot } => {
                let promised = ctx
                    .durable()
                    .acceptor
                    .get(&vertex)
                    .map(|s| s.promised)
                    .unwrap_or_default();
                if ballot < promised {
                    ctx.send(
                        from,
                        BPaxosMsg::Nack {
                            vertex,
                            ballot: promised,
                        },
                    );
                    return;
                }
                ctx.persist(|d| d.acceptor.entry(vertex).or_default().promised = ballot);
                let vote = ctx.durable().acceptor[&vertex].vote.clone();
                ctx.send(
                    from,
                    BPaxosMsg::Phase1b {
                        vertex,
                        ballot,
                        vote,
                    },
                );
            }
            BPaxosMsg::Phase2a {
                vertex,
                ballot,
                value,
            } => {
                let promised = ctx
                    .durable()
                    .acceptor
                    .get(&vertex)
                    .map(|s| s.promised)
                    .unwrap_or_default();
                if ballot < promised {
                    ctx.send(
                        from,
                        BPaxosMsg::Nack {
                            vertex,
                            ballot: promised,
                        },
                    );
                    return;
                }
                if let Some(audit) = &mut self.audit {
                    audit.push(BpAuditEvent::Voted {
                        acceptor: ctx.id(),
                        vertex,
                        ballot,
                        value: value.clone(),
                    });
                }
                ctx.persist(|d| {
                    let st = d.acceptor.entry(vertex).or_default();
                    st.promised = ballot;
                    st.vote = Some((ballot, value));
                });
                ctx.send(from, BPaxosMsg::Phase2b { vertex, ballot });
            }
            _ => {}
        }
    }
}
