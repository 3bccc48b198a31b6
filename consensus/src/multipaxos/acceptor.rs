//! The MultiPaxos acceptor: promises and votes, all on stable storage.

use std::collections::BTreeMap;

use stratus_sim::NodeId;

use super::ballot::Ballot;
use super::message::PaxosMsg;
use super::monitor::AuditEvent;
use super::node::Ctx;
use crate::command::{Batch, batch_digest};
use crate::state_machine::StateMachine;

/// An acceptor's durable state.
#[derive(Clone, Debug, PartialEq)]
pub struct AcceptorState<C> {
    /// The highest ballot promised.
    pub promised: Ballot,
    /// Slots below this were garbage-collected (chosen and in every replica's snapshot).
    pub watermark: u64,
    /// The latest vote in each slot at or above the watermark.
    pub votes: BTreeMap<u64, (Ballot, Batch<C>)>,
}

impl<C> Default for AcceptorState<C> {
    fn default() -> Self {
        AcceptorState {
            promised: Ballot::default(),
            watermark: 0,
            votes: BTreeMap::new(),
        }
    }
}

/// A MultiPaxos acceptor. It keeps nothing in memory: every promise and vote is persisted
/// before it is acknowledged, so a crash–restart forgets nothing.
#[derive(Debug, Default)]
pub struct Acceptor {
    audit: Option<Vec<AuditEvent>>,
}

impl Acceptor {
    /// An acceptor; `audit` records votes for the invariant monitor.
    pub fn new(audit: bool) -> Self {
        Acceptor {
            audit: audit.then(Vec::new),
        }
    }

    /// Takes the audit events recorded since the last call.
    pub fn take_audit(&mut self) -> Vec<AuditEvent> {
        self.audit.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn collect_garbage<S: StateMachine>(ctx: &mut Ctx<'_, S>, gc: u64) {
        if gc > ctx.durable().acceptor.watermark {
            ctx.persist(|d| {
                let st = &mut d.acceptor;
                st.watermark = gc;
                st.votes = st.votes.split_off(&gc);
            });
        }
    }

    pub(super) fn on_message<S: StateMachine>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: PaxosMsg<S::Command, S::Output>,
    ) {
        match msg {
            PaxosMsg::Phase1a { ballot, from: low } => {
                let promised = ctx.durable().acceptor.promised;
                if ballot < promised {
                    ctx.send(from, PaxosMsg::Nack { ballot: promised });
                    return;
                }
                if ballot > promised {
                    ctx.persist(|d| d.acceptor.promised = ballot);
                }
                let st = &ctx.durable().acceptor;
                let watermark = st.watermark;
                let votes = st
                    .votes
                    .range(low.max(watermark)..)
                    .map(|(&slot, (b, v))| (slot, *b, v.clone()))
                    .collect();
                ctx.send(
                    from,
                    PaxosMsg::Phase1b {
                        ballot,
                        watermark,
                        votes,
                    },
                );
            }
            PaxosMsg::Phase2a {
                ballot,
                slot,
                value,
                gc,
            } => {
                Self::collect_garbage(ctx, gc);
                let promised = ctx.durable().acceptor.promised;
                if ballot < promised {
                    ctx.send(from, PaxosMsg::Nack { ballot: promised });
                    return;
                }
                if let Some(audit) = &mut self.audit {
                    audit.push(AuditEvent::Voted {
                        acceptor: ctx.id(),
                        slot,
                        ballot,
                        digest: batch_digest(&value),
                    });
                }
                ctx.persist(|d| {
                    let st = &mut d.acceptor;
                    st.promised = ballot;
                    // Below the watermark the slot is chosen and everywhere executed; its vote
                    // is not needed again, so acknowledging without storing is safe.
                    if slot >= st.watermark {
                        st.votes.insert(slot, (ballot, value));
                    }
                });
                ctx.send(from, PaxosMsg::Phase2b { ballot, slot });
            }
            PaxosMsg::Heartbeat { gc, .. } => Self::collect_garbage(ctx, gc),
            _ => {}
        }
    }
}
