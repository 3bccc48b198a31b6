//! The matchmaker (Matchmaker MultiPaxos): remembers which acceptor configuration each ballot
//! uses, so a leader entering a ballot learns which earlier configurations its phase 1 must
//! reach.

use std::collections::BTreeMap;

use stratus_sim::NodeId;

use super::ballot::Ballot;
use super::message::PaxosMsg;
use super::node::Ctx;
use crate::state_machine::StateMachine;

/// A matchmaker's durable state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchmakerState {
    /// Configuration per ballot, for ballots not yet garbage-collected.
    pub configs: BTreeMap<Ballot, Vec<NodeId>>,
    /// Configurations of ballots below this were garbage-collected.
    pub gc_below: Ballot,
    /// The replicas' persisted watermark at the last garbage collection.
    pub watermark: u64,
}

/// A matchmaker. Stateless in memory: everything is persisted before it is answered, since a
/// matchmaker that forgot a configuration would let a later leader skip the acceptors that
/// may hold chosen values.
#[derive(Debug, Default)]
pub struct Matchmaker;

impl Matchmaker {
    pub(super) fn on_message<S: StateMachine>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        from: NodeId,
        msg: PaxosMsg<S::Command, S::Output>,
    ) {
        match msg {
            PaxosMsg::MatchRequest { ballot, config } => {
                let st = &ctx.durable().matchmaker;
                let highest = st.configs.keys().next_back().copied().unwrap_or_default();
                let known = st.configs.get(&ballot).cloned();
                if known.as_ref().is_some_and(|c| *c != config) {
                    // One configuration per ballot, ever; a different one is a stale request.
                    ctx.send(from, PaxosMsg::Nack { ballot: highest });
                    return;
                }
                if known.is_none() {
                    if ballot < highest.max(st.gc_below) {
                        ctx.send(
                            from,
                            PaxosMsg::Nack {
                                ballot: highest.max(st.gc_below),
                            },
                        );
                        return;
                    }
                    ctx.persist(|d| {
                        d.matchmaker.configs.insert(ballot, config);
                    });
                }
                let st = &ctx.durable().matchmaker;
                let prior = st
                    .configs
                    .range(..ballot)
                    .map(|(b, c)| (*b, c.clone()))
                    .collect();
                let watermark = st.watermark;
                ctx.send(
                    from,
                    PaxosMsg::MatchReply {
                        ballot,
                        prior,
                        watermark,
                    },
                );
            }
            PaxosMsg::GarbageCollect { below, watermark } => {
                let st = &ctx.durable().matchmaker;
                if below > st.gc_below || watermark > st.watermark {
                    ctx.persist(|d| {
                        let st = &mut d.matchmaker;
                        st.configs = st.configs.split_off(&below);
                        st.gc_below = st.gc_below.max(below);
                        st.watermark = st.watermark.max(watermark);
                    });
                }
            }
            _ => {}
        }
    }
}
