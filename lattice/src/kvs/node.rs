//! The shard as a [`stratus_sim::Node`]: the KVS on the deterministic simulator.

use std::time::Duration;

use stratus_sim::{Context, Message, Node, NodeId, TimerId};

use super::gossip::PeerMsg;
use super::op::{Handled, Op, Reply};
use super::shard::{KvsKey, ShardParams, ShardState};
use super::value::KvsValue;

/// Messages of the simulated store.
#[derive(Debug)]
pub enum KvsMsg<K, V> {
    /// Operations from a client ([`NodeId::EXTERNAL`] or a client node).
    Request {
        /// The client's request id, echoed in every response.
        req: u64,
        /// The operations.
        ops: Vec<Op<K, V>>,
    },
    /// An operation passed on to its key's primary by a node that is not a replica.
    Forwarded {
        /// The client to answer.
        origin: NodeId,
        /// The client's request id.
        req: u64,
        /// Position of the operation in the request.
        index: u32,
        /// The operation.
        op: Op<K, V>,
    },
    /// Replies to (some of) a request's operations, by position.
    Response {
        /// The request id.
        req: u64,
        /// `(position, reply)` pairs.
        replies: Vec<(u32, Reply<V>)>,
    },
    /// Gossip between shards.
    Peer(PeerMsg<K, V>),
}

impl<K: Clone, V: Clone> Clone for KvsMsg<K, V> {
    fn clone(&self) -> Self {
        match self {
            KvsMsg::Request { req, ops } => KvsMsg::Request {
                req: *req,
                ops: ops.clone(),
            },
            KvsMsg::Forwarded {
                origin,
                req,
                index,
                op,
            } => KvsMsg::Forwarded {
                origin: *origin,
                req: *req,
                index: *index,
                op: op.clone(),
            },
            KvsMsg::Response { req, replies } => KvsMsg::Response {
                req: *req,
                replies: replies.clone(),
            },
            KvsMsg::Peer(m) => KvsMsg::Peer(m.clone()),
        }
    }
}

impl<K, V> Message for KvsMsg<K, V>
where
    K: Clone + std::fmt::Debug + Send + Sync + 'static,
    V: Clone + std::fmt::Debug + Send + Sync + 'static,
{
    fn kind(&self) -> &'static str {
        match self {
            KvsMsg::Request { .. } => "request",
            KvsMsg::Forwarded { .. } => "forwarded",
            KvsMsg::Response { .. } => "response",
            KvsMsg::Peer(PeerMsg::Gossip(_)) => "gossip",
            KvsMsg::Peer(PeerMsg::Ack { .. }) => "ack",
        }
    }

    fn units(&self) -> u64 {
        match self {
            KvsMsg::Request { ops, .. } => ops.len() as u64,
            KvsMsg::Response { replies, .. } => replies.len() as u64,
            KvsMsg::Forwarded { .. } => 1,
            KvsMsg::Peer(m) => m.entries() as u64,
        }
    }
}

/// One KVS worker on the simulator. Its whole shard lives in durable state — the sim's model
/// of the redb tier — so a crash loses timers and in-flight messages, never acknowledged data.
pub struct KvsNode<K, V> {
    params: ShardParams,
    gossip_interval: Duration,
    _types: std::marker::PhantomData<fn() -> (K, V)>,
}

impl<K, V> KvsNode<K, V> {
    /// A node with these shard parameters, gossiping every `gossip_interval`.
    pub fn new(params: ShardParams, gossip_interval: Duration) -> Self {
        KvsNode {
            params,
            gossip_interval,
            _types: std::marker::PhantomData,
        }
    }

    /// The node's shard parameters.
    pub fn params(&self) -> &ShardParams {
        &self.params
    }
}

type Outbox<K, V> = Vec<(usize, PeerMsg<K, V>)>;

impl<K, V> KvsNode<K, V>
where
    K: KvsKey + std::fmt::Debug,
    V: KvsValue + std::fmt::Debug,
{
    fn send_peers(ctx: &mut Context<'_, Self>, out: Outbox<K, V>) {
        for (to, msg) in out {
            ctx.send(NodeId(to as u32), KvsMsg::Peer(msg));
        }
    }
}

impl<K, V> Node for KvsNode<K, V>
where
    K: KvsKey + std::fmt::Debug,
    V: KvsValue + std::fmt::Debug,
{
    type Msg = KvsMsg<K, V>;
    type Timer = ();
    type Durable = ShardState<K, V>;

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.set_timer(self.gossip_interval, ());
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Self::Msg) {
        let p = &self.params;
        let mut out = Vec::new();
        match msg {
            KvsMsg::Request { req, ops } => {
                let mut replies = Vec::new();
                let mut forwards = Vec::new();
                ctx.persist(|shard| {
                    for (index, op) in ops.into_iter().enumerate() {
                        match shard.handle(p, op) {
                            Handled::Done(reply) => replies.push((index as u32, reply)),
                            Handled::Forward { to, op } => forwards.push((to, index as u32, op)),
                        }
                    }
                    if shard.take_urgent() {
                        shard.flush(p, &mut out);
                    }
                });
                if !replies.is_empty() {
                    ctx.send(from, KvsMsg::Response { req, replies });
                }
                for (to, index, op) in forwards {
                    let msg = KvsMsg::Forwarded {
                        origin: from,
                        req,
                        index,
                        op,
                    };
                    ctx.send(NodeId(to as u32), msg);
                }
            }
            KvsMsg::Forwarded {
                origin,
                req,
                index,
                op,
            } => {
                let mut handled = None;
                ctx.persist(|shard| {
                    handled = Some(shard.handle(p, op));
                    if shard.take_urgent() {
                        shard.flush(p, &mut out);
                    }
                });
                match handled {
                    Some(Handled::Done(reply)) => {
                        let replies = vec![(index, reply)];
                        ctx.send(origin, KvsMsg::Response { req, replies });
                    }
                    // The primary always serves; a forward can only come from a stale view
                    // elsewhere, so pass it on once more rather than drop it.
                    Some(Handled::Forward { to, op }) => {
                        let msg = KvsMsg::Forwarded {
                            origin,
                            req,
                            index,
                            op,
                        };
                        ctx.send(NodeId(to as u32), msg);
                    }
                    None => {}
                }
            }
            KvsMsg::Response { .. } => {}
            KvsMsg::Peer(peer) => {
                ctx.persist(|shard| shard.on_peer(p, from.index(), peer, &mut out));
            }
        }
        Self::send_peers(ctx, out);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _timer: TimerId, _payload: ()) {
        let p = &self.params;
        let mut out = Vec::new();
        ctx.persist(|shard| shard.tick(p, &mut out));
        Self::send_peers(ctx, out);
        ctx.set_timer(self.gossip_interval, ());
    }
}
