//! The cost model: virtual CPU time each handled event takes.

use std::collections::HashMap;
use std::time::Duration;

/// How much virtual CPU time a node spends on each event.
///
/// A node handles one event at a time; while it is busy, arriving messages and timers queue.
/// With non-zero costs, queues, bottlenecks and throughput ceilings appear in virtual time,
/// deterministically — how a protocol's scaling is measured on a small machine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostModel {
    /// Cost of a message whose kind has no entry in `per_kind`.
    pub default_message: Duration,
    /// Cost per message kind ([`crate::Message::kind`]).
    pub per_kind: HashMap<&'static str, Duration>,
    /// Extra cost per unit of work a message carries ([`crate::Message::units`]), per kind:
    /// batched messages cost `per_kind + per_unit × units`.
    pub per_unit: HashMap<&'static str, Duration>,
    /// Cost of handling a timer.
    pub timer: Duration,
    /// Extra cost of each [`crate::Context::persist`] call (an fsync).
    pub persist: Duration,
}

impl CostModel {
    /// Free processing: nodes are never busy and nothing queues. The default.
    pub fn free() -> Self {
        Self::default()
    }

    /// Every message costs `per_message`; timers and persists are free.
    pub fn uniform(per_message: Duration) -> Self {
        CostModel {
            default_message: per_message,
            ..Self::default()
        }
    }

    /// Sets the cost of one message kind (builder style).
    pub fn with_kind(mut self, kind: &'static str, cost: Duration) -> Self {
        self.per_kind.insert(kind, cost);
        self
    }

    /// Sets the extra cost per unit of work of one message kind (builder style).
    pub fn with_unit(mut self, kind: &'static str, cost: Duration) -> Self {
        self.per_unit.insert(kind, cost);
        self
    }

    /// Sets the cost of each persist (builder style).
    pub fn with_persist(mut self, cost: Duration) -> Self {
        self.persist = cost;
        self
    }

    pub(crate) fn message(&self, kind: &'static str, units: u64) -> Duration {
        let base = if self.per_kind.is_empty() {
            self.default_message
        } else {
            self.per_kind
                .get(kind)
                .copied()
                .unwrap_or(self.default_message)
        };
        match self.per_unit.get(kind) {
            // Saturate rather than overflow on absurd unit counts.
            Some(per) => base + per.saturating_mul(u32::try_from(units).unwrap_or(u32::MAX)),
            None => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_unit_costs_scale_with_the_batch() {
        let us = Duration::from_micros;
        let model = CostModel::uniform(us(10))
            .with_kind("batch", us(5))
            .with_unit("batch", us(2));
        assert_eq!(model.message("batch", 0), us(5));
        assert_eq!(model.message("batch", 100), us(205));
        assert_eq!(model.message("other", 100), us(10));
    }
}
