//! The ABD replica: answers queries, adopts newer tags, persists before acknowledging.

use std::collections::BTreeMap;

use super::AbdNode;
use super::message::{AbdMsg, Tag};
use crate::context::Context;
use crate::node::NodeId;

/// A replica's durable registers: key → (tag, value). A `BTreeMap` keeps iteration order
/// deterministic.
pub type ReplicaStore = BTreeMap<u64, (Tag, Option<u64>)>;

/// An ABD replica. It has no volatile state: everything lives in [`ReplicaStore`].
#[derive(Debug, Default)]
pub struct Replica;

impl Replica {
    pub(crate) fn on_message(&mut self, ctx: &mut Context<'_, AbdNode>, from: NodeId, msg: AbdMsg) {
        match msg {
            AbdMsg::Query { phase, key } => {
                let (tag, value) = ctx.durable().get(&key).copied().unwrap_or_default();
                ctx.send(
                    from,
                    AbdMsg::QueryReply {
                        phase,
                        key,
                        tag,
                        value,
                    },
                );
            }
            AbdMsg::Store {
                phase,
                key,
                tag,
                value,
            } => {
                let current = ctx.durable().get(&key).map(|(t, _)| *t).unwrap_or_default();
                if tag > current {
                    // Durable before the ack: a majority of acks must survive crashes.
                    ctx.persist(|store| {
                        store.insert(key, (tag, value));
                    });
                }
                ctx.send(from, AbdMsg::StoreAck { phase });
            }
            AbdMsg::QueryReply { .. } | AbdMsg::StoreAck { .. } => {}
        }
    }
}
