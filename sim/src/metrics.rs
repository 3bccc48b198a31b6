//! Per-node counters collected during a run.

use std::fmt;
use std::time::Duration;

use crate::node::NodeId;

/// What one node did and suffered during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeMetrics {
    /// Messages handed to the network by this node.
    pub sent: u64,
    /// Messages delivered to and handled by this node.
    pub received: u64,
    /// Timers that fired on this node.
    pub timers: u64,
    /// Messages from this node the network lost (random loss).
    pub dropped_loss: u64,
    /// Messages from this node dropped by a cut link.
    pub dropped_partition: u64,
    /// Messages for this node dropped because it was down when they arrived.
    pub dropped_down: u64,
    /// Extra copies of this node's messages the network delivered.
    pub duplicated: u64,
    /// Persist calls.
    pub persists: u64,
    /// Times this node crashed.
    pub crashes: u64,
    /// Virtual CPU time spent handling events.
    pub busy: Duration,
    /// Longest queue of waiting events seen.
    pub max_queue: usize,
    /// Sum of queue lengths seen on arrival (divide by arrivals for the mean).
    pub(crate) queue_sum: u64,
    /// Events that arrived (messages and timers).
    pub(crate) arrivals: u64,
}

impl NodeMetrics {
    /// Fraction of `elapsed` this node spent busy (0 with a free cost model).
    pub fn utilisation(&self, elapsed: Duration) -> f64 {
        if elapsed.is_zero() {
            0.0
        } else {
            self.busy.as_secs_f64() / elapsed.as_secs_f64()
        }
    }

    /// Mean queue length an arriving event found.
    pub fn mean_queue(&self) -> f64 {
        if self.arrivals == 0 {
            0.0
        } else {
            self.queue_sum as f64 / self.arrivals as f64
        }
    }
}

/// A table of every node's metrics over a run, for printing.
#[derive(Clone, Debug)]
pub struct MetricsReport {
    /// `(node, metrics)` in id order.
    pub nodes: Vec<(NodeId, NodeMetrics)>,
    /// Virtual time the run covered.
    pub elapsed: Duration,
}

impl fmt::Display for MetricsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5} {:>8} {:>8} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6}",
            "node", "sent", "recv", "lost", "cut", "dup", "crash", "util%", "maxq", "meanq"
        )?;
        for (id, m) in &self.nodes {
            writeln!(
                f,
                "{:>5} {:>8} {:>8} {:>7} {:>7} {:>7} {:>6} {:>6.1} {:>6} {:>6.2}",
                id.to_string(),
                m.sent,
                m.received,
                m.dropped_loss,
                m.dropped_partition + m.dropped_down,
                m.duplicated,
                m.crashes,
                100.0 * m.utilisation(self.elapsed),
                m.max_queue,
                m.mean_queue()
            )?;
        }
        Ok(())
    }
}
