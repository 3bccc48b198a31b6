//! The context a node acts through while it handles one event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::node::{Node, NodeId, TimerId};
use crate::rng::SimRng;
use crate::time::Time;

/// One effect a node asked for while handling an event; the driver carries it out afterwards.
#[derive(Debug)]
pub(crate) enum Effect<M, T> {
    Send {
        to: NodeId,
        msg: M,
    },
    SetTimer {
        id: TimerId,
        delay: Duration,
        payload: T,
    },
    CancelTimer {
        id: TimerId,
    },
}

/// Where history stamps come from: one counter for the whole run, so stamps from different
/// nodes are totally ordered in the order their events were handled.
pub(crate) enum Stamps<'a> {
    Sim(&'a mut u64),
    Live(&'a AtomicU64),
}

/// Everything a node may use to affect the world while it handles one event.
///
/// Time and randomness come only from here: the simulator hands out virtual time and a seeded
/// stream, the live driver the wall clock and a per-node seeded stream.
pub struct Context<'a, N: Node> {
    pub(crate) id: NodeId,
    pub(crate) now: Time,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) durable: &'a mut N::Durable,
    pub(crate) effects: &'a mut Vec<Effect<N::Msg, N::Timer>>,
    pub(crate) next_timer: &'a mut u64,
    pub(crate) stamps: Stamps<'a>,
    pub(crate) persists: u32,
    pub(crate) halted: &'a mut bool,
}

impl<N: Node> Context<'_, N> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The current time (virtual under simulation).
    pub fn now(&self) -> Time {
        self.now
    }

    /// This node's random stream, seeded from the run's seed.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// Sends `msg` to `to`. The network may delay, drop, duplicate or reorder it.
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }

    /// Sends a clone of `msg` to each of `targets`.
    pub fn broadcast<'n>(&mut self, targets: impl IntoIterator<Item = &'n NodeId>, msg: &N::Msg) {
        for &to in targets {
            self.send(to, msg.clone());
        }
    }

    /// Arms a timer that fires after `delay` with `payload`, unless cancelled or the node
    /// crashes first.
    pub fn set_timer(&mut self, delay: Duration, payload: N::Timer) -> TimerId {
        let id = TimerId(*self.next_timer);
        *self.next_timer += 1;
        self.effects.push(Effect::SetTimer { id, delay, payload });
        id
    }

    /// Cancels a timer; cancelling one that already fired is a no-op.
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.effects.push(Effect::CancelTimer { id });
    }

    /// This node's durable state, as last persisted.
    pub fn durable(&self) -> &N::Durable {
        self.durable
    }

    /// Changes durable state. The change is on stable storage when this returns (the cost
    /// model may charge for it); it survives crashes, unlike fields of the node itself.
    pub fn persist(&mut self, change: impl FnOnce(&mut N::Durable)) {
        change(self.durable);
        self.persists += 1;
    }

    /// A stamp from a counter shared by the whole run, strictly increasing in the order events
    /// are handled. Clients use it to time invocations and returns in a [`crate::history::History`].
    pub fn stamp(&mut self) -> u64 {
        match &mut self.stamps {
            Stamps::Sim(counter) => {
                **counter += 1;
                **counter
            }
            Stamps::Live(counter) => counter.fetch_add(1, Ordering::SeqCst) + 1,
        }
    }

    /// Marks this node as done; drivers can run until a set of nodes has halted. A halted
    /// node still receives messages and timers.
    pub fn halt(&mut self) {
        *self.halted = true;
    }
}
