//! The run's trace: a running hash of every event and a ring of the most recent ones.

use std::collections::VecDeque;
use std::fmt;

use crate::node::NodeId;
use crate::time::Time;

/// What happened at one step, kept for the failure report.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceEvent {
    /// A message was handled by `to`.
    Deliver {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Message kind.
        kind: &'static str,
        /// `Debug` of the message, when the run records message detail.
        detail: Option<String>,
    },
    /// A timer fired.
    Timer {
        /// Node whose timer it was.
        node: NodeId,
        /// `Debug` of the payload, when recording detail.
        detail: Option<String>,
    },
    /// A node started or restarted.
    Start(NodeId),
    /// A fault was applied.
    Fault(String),
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEvent::Deliver {
                from,
                to,
                kind,
                detail,
            } => {
                write!(f, "{from} -> {to} {kind}")?;
                if let Some(d) = detail {
                    write!(f, " {d}")?;
                }
                Ok(())
            }
            TraceEvent::Timer { node, detail } => {
                write!(f, "{node} timer")?;
                if let Some(d) = detail {
                    write!(f, " {d}")?;
                }
                Ok(())
            }
            TraceEvent::Start(n) => write!(f, "{n} start"),
            TraceEvent::Fault(s) => write!(f, "fault: {s}"),
        }
    }
}

/// FNV-1a-style mixing: cheap enough to run on every event at millions of events per second,
/// and (unlike `std`'s `DefaultHasher`) its output is fixed by this code, not the toolchain.
#[derive(Clone, Debug)]
pub(crate) struct TraceHasher {
    state: u64,
}

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher {
            state: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl TraceHasher {
    pub(crate) fn word(&mut self, x: u64) {
        self.state = (self.state ^ x).wrapping_mul(0x0000_0100_0000_01b3);
        self.state ^= self.state >> 29;
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(buf) ^ (chunk.len() as u64) << 56);
        }
    }

    pub(crate) fn finish(&self) -> u64 {
        self.state
    }
}

/// The most recent events, printed when a seed fails.
#[derive(Clone, Debug)]
pub(crate) struct TraceRing {
    capacity: usize,
    events: VecDeque<(Time, TraceEvent)>,
}

impl TraceRing {
    pub(crate) fn new(capacity: usize) -> Self {
        TraceRing {
            capacity,
            events: VecDeque::with_capacity(capacity),
        }
    }

    pub(crate) fn push(&mut self, at: Time, event: TraceEvent) {
        if self.capacity == 0 {
            return;
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back((at, event));
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (t, e) in &self.events {
            out.push_str(&format!("  {t:>12}  {e}\n"));
        }
        out
    }
}
