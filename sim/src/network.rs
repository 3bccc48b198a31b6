//! The network model: latency, loss, duplication, reordering and link cuts.

use std::time::Duration;

use crate::error::{SimError, check_probability};
use crate::node::NodeId;
use crate::rng::SimRng;

/// How long a message spends in flight.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    /// Always the same delay (no reordering from latency alone).
    Fixed(Duration),
    /// Uniform between `min` and `max` inclusive.
    Uniform {
        /// Shortest delay.
        min: Duration,
        /// Longest delay.
        max: Duration,
    },
    /// `min` plus an exponential tail with mean `mean_extra`, capped at `max`: most messages
    /// are quick, a few straggle — the shape of real datacentre RTTs.
    Exponential {
        /// Propagation floor.
        min: Duration,
        /// Mean of the exponential part.
        mean_extra: Duration,
        /// Upper cap on the total.
        max: Duration,
    },
}

impl Latency {
    fn validate(&self) -> Result<(), SimError> {
        match self {
            Latency::Fixed(_) => Ok(()),
            Latency::Uniform { min, max } if min > max => Err(SimError::InvalidLatency(format!(
                "uniform min {min:?} exceeds max {max:?}"
            ))),
            Latency::Exponential { min, max, .. } if min > max => Err(SimError::InvalidLatency(
                format!("exponential min {min:?} exceeds max {max:?}"),
            )),
            _ => Ok(()),
        }
    }

    /// Draws one delay.
    pub fn sample(&self, rng: &mut SimRng) -> Duration {
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform { min, max } => {
                let lo = min.as_nanos() as u64;
                let hi = max.as_nanos() as u64;
                Duration::from_nanos(rng.range_inclusive(lo, hi))
            }
            Latency::Exponential {
                min,
                mean_extra,
                max,
            } => {
                // Inverse-transform sampling; 1 - u is in (0, 1] so ln never sees 0.
                let u = 1.0 - rng.next_f64();
                let extra = -u.ln() * mean_extra.as_nanos() as f64;
                let total = min.as_nanos() as f64 + extra;
                Duration::from_nanos(total.min(max.as_nanos() as f64) as u64)
            }
        }
    }
}

/// The network's behaviour, applied to every message independently.
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    /// Delay distribution.
    pub latency: Latency,
    /// Probability a message is lost.
    pub loss: f64,
    /// Probability a message is delivered twice (the copy with its own delay).
    pub duplication: f64,
    /// Probability a message is held back by an extra uniform delay of up to `reorder_delay`,
    /// letting later messages overtake it.
    pub reorder: f64,
    /// The largest extra delay a reordered message gets.
    pub reorder_delay: Duration,
}

impl Default for NetConfig {
    /// A healthy LAN: 50–500 µs, no faults.
    fn default() -> Self {
        NetConfig {
            latency: Latency::Uniform {
                min: Duration::from_micros(50),
                max: Duration::from_micros(500),
            },
            loss: 0.0,
            duplication: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(5),
        }
    }
}

impl NetConfig {
    /// A hostile network: the default latencies with 5% loss, 5% duplication and 10%
    /// reordering by up to 5 ms.
    pub fn lossy() -> Self {
        NetConfig {
            loss: 0.05,
            duplication: 0.05,
            reorder: 0.10,
            ..NetConfig::default()
        }
    }

    /// Checks every probability and the latency distribution.
    pub fn validate(&self) -> Result<(), SimError> {
        check_probability("loss", self.loss)?;
        check_probability("duplication", self.duplication)?;
        check_probability("reorder", self.reorder)?;
        self.latency.validate()
    }
}

/// Which directed links are cut. Stored as a dense matrix: lookups happen on every message.
#[derive(Clone, Debug, Default)]
pub(crate) struct Links {
    n: usize,
    blocked: Vec<bool>,
    any_blocked: bool,
}

impl Links {
    pub(crate) fn grow(&mut self, n: usize) {
        if n <= self.n {
            return;
        }
        let mut blocked = vec![false; n * n];
        for a in 0..self.n {
            for b in 0..self.n {
                blocked[a * n + b] = self.blocked[a * self.n + b];
            }
        }
        self.n = n;
        self.blocked = blocked;
    }

    pub(crate) fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        if !self.any_blocked {
            return false;
        }
        let (a, b) = (from.index(), to.index());
        a < self.n && b < self.n && self.blocked[a * self.n + b]
    }

    pub(crate) fn set(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        let (a, b) = (from.index(), to.index());
        if a < self.n && b < self.n {
            self.blocked[a * self.n + b] = blocked;
        }
        self.any_blocked = self.blocked.iter().any(|&x| x);
    }

    /// Cuts every link between nodes in different groups; nodes in no group are cut off from
    /// everyone else.
    pub(crate) fn partition(&mut self, groups: &[Vec<NodeId>]) {
        let mut group_of = vec![usize::MAX; self.n];
        for (g, members) in groups.iter().enumerate() {
            for m in members {
                if let Some(slot) = group_of.get_mut(m.index()) {
                    *slot = g;
                }
            }
        }
        for a in 0..self.n {
            for b in 0..self.n {
                let same = a == b || (group_of[a] == group_of[b] && group_of[a] != usize::MAX);
                self.blocked[a * self.n + b] = !same;
            }
        }
        self.any_blocked = self.blocked.iter().any(|&x| x);
    }

    pub(crate) fn heal(&mut self) {
        self.blocked.iter_mut().for_each(|x| *x = false);
        self.any_blocked = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_bad_probabilities_and_bounds() {
        let bad = NetConfig {
            loss: 1.5,
            ..NetConfig::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(SimError::InvalidProbability { name: "loss", .. })
        ));
        let nan = NetConfig {
            duplication: f64::NAN,
            ..NetConfig::default()
        };
        assert!(nan.validate().is_err());
        let inverted = NetConfig {
            latency: Latency::Uniform {
                min: Duration::from_millis(2),
                max: Duration::from_millis(1),
            },
            ..NetConfig::default()
        };
        assert!(matches!(
            inverted.validate(),
            Err(SimError::InvalidLatency(_))
        ));
        assert!(NetConfig::lossy().validate().is_ok());
    }

    #[test]
    fn latency_samples_stay_in_bounds() {
        let mut rng = SimRng::new(5);
        let exp = Latency::Exponential {
            min: Duration::from_micros(100),
            mean_extra: Duration::from_micros(200),
            max: Duration::from_millis(2),
        };
        for _ in 0..10_000 {
            let d = exp.sample(&mut rng);
            assert!(d >= Duration::from_micros(100) && d <= Duration::from_millis(2));
        }
    }

    #[test]
    fn partitions_cut_across_groups_only() {
        let mut links = Links::default();
        links.grow(4);
        links.partition(&[vec![NodeId(0), NodeId(1)], vec![NodeId(2)]]);
        assert!(!links.is_blocked(NodeId(0), NodeId(1)));
        assert!(links.is_blocked(NodeId(0), NodeId(2)));
        assert!(
            links.is_blocked(NodeId(3), NodeId(0)),
            "ungrouped node is isolated"
        );
        assert!(!links.is_blocked(NodeId(3), NodeId(3)));
        links.heal();
        assert!(!links.is_blocked(NodeId(0), NodeId(2)));
        links.set(NodeId(1), NodeId(2), true);
        assert!(links.is_blocked(NodeId(1), NodeId(2)));
        assert!(!links.is_blocked(NodeId(2), NodeId(1)), "one-way cut");
    }
}
