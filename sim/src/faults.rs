//! Faults: what can go wrong, scripted by hand or drawn from the seed.

use std::fmt;
use std::time::Duration;

use crate::error::SimError;
use crate::node::NodeId;
use crate::rng::SimRng;
use crate::time::Time;

/// One fault (or repair) applied to the simulated world at an instant.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The node stops; its volatile state, queued work and timers are lost, its durable state
    /// is kept. Messages arriving while it is down are dropped.
    Crash(NodeId),
    /// A crashed node comes back: rebuilt by its factory, durable state restored, `on_start`
    /// called. Restarting a running node is a no-op.
    Restart(NodeId),
    /// Splits the nodes into groups that can only talk within themselves; nodes in no group
    /// are isolated. Replaces any earlier cuts.
    Partition(Vec<Vec<NodeId>>),
    /// Cuts the one-way link `from → to` (asymmetric partitions).
    Block {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// Restores the one-way link `from → to`.
    Unblock {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// Restores every link.
    Heal,
    /// Freezes the node (a GC pause, a stalled VM): its incoming work queues and is handled
    /// after the pause; nothing is lost.
    Pause {
        /// The frozen node.
        node: NodeId,
        /// How long it stays frozen.
        duration: Duration,
    },
}

impl Fault {
    /// Every node this fault names, for validation.
    pub fn nodes(&self) -> Vec<NodeId> {
        match self {
            Fault::Crash(n) | Fault::Restart(n) | Fault::Pause { node: n, .. } => vec![*n],
            Fault::Block { from, to } | Fault::Unblock { from, to } => vec![*from, *to],
            Fault::Partition(groups) => groups.iter().flatten().copied().collect(),
            Fault::Heal => Vec::new(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash(n) => write!(f, "crash {n}"),
            Fault::Restart(n) => write!(f, "restart {n}"),
            Fault::Partition(groups) => write!(f, "partition {groups:?}"),
            Fault::Block { from, to } => write!(f, "block {from}->{to}"),
            Fault::Unblock { from, to } => write!(f, "unblock {from}->{to}"),
            Fault::Heal => write!(f, "heal"),
            Fault::Pause { node, duration } => write!(f, "pause {node} for {duration:?}"),
        }
    }
}

/// A list of faults at instants: the whole fault schedule of a run, printable and replayable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultScript {
    /// `(when, what)`, in any order; the simulator orders them by time.
    pub events: Vec<(Time, Fault)>,
}

impl FaultScript {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a fault at `at` (builder style).
    pub fn at(mut self, at: Time, fault: Fault) -> Self {
        self.events.push((at, fault));
        self
    }

    /// Checks that every named node exists among `nodes`.
    pub fn validate(&self, nodes: usize) -> Result<(), SimError> {
        for (_, fault) in &self.events {
            for node in fault.nodes() {
                if node.index() >= nodes {
                    return Err(SimError::UnknownNode { node, nodes });
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for FaultScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut events: Vec<_> = self.events.iter().collect();
        events.sort_by_key(|(t, _)| *t);
        for (t, fault) in events {
            writeln!(f, "  {t:>10}  {fault}")?;
        }
        Ok(())
    }
}

/// Faults drawn from the seed: crashes of up to `max_down` of `crashable` nodes at a time,
/// partitions, one-way cuts and pauses, all before `until`; after it the world heals and
/// every crashed node restarts, so liveness can be checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Chaos {
    /// Nodes that may crash, be paused or be cut off.
    pub crashable: Vec<NodeId>,
    /// How many of them may be down at once (e.g. a minority).
    pub max_down: usize,
    /// Mean time between fault draws.
    pub mean_interval: Duration,
    /// How long a fault (crash, partition, pause) lasts at most.
    pub max_fault_duration: Duration,
    /// Relative weights of crash, partition, one-way cut, pause.
    pub weights: [u32; 4],
    /// After this instant no new faults start and everything is repaired.
    pub until: Time,
}

impl Chaos {
    /// A default mix over `crashable` nodes with at most `max_down` down at once, active
    /// until `until`.
    pub fn new(crashable: Vec<NodeId>, max_down: usize, until: Time) -> Self {
        Chaos {
            crashable,
            max_down,
            mean_interval: Duration::from_millis(20),
            max_fault_duration: Duration::from_millis(40),
            weights: [3, 2, 1, 2],
            until,
        }
    }

    /// Draws a concrete script from `rng`, validated against a run of `nodes` nodes.
    ///
    /// Partitions always keep a majority of `crashable` nodes connected only if `max_down`
    /// is a minority; they isolate a random subset of at most `max_down` nodes.
    pub fn script(&self, rng: &mut SimRng, nodes: usize) -> Result<FaultScript, SimError> {
        if self.max_down > self.crashable.len() {
            return Err(SimError::InvalidFaultPlan(format!(
                "max_down {} exceeds the {} crashable nodes",
                self.max_down,
                self.crashable.len()
            )));
        }
        if self.weights.iter().all(|&w| w == 0) {
            return Err(SimError::InvalidFaultPlan(
                "all fault weights are zero".into(),
            ));
        }
        let mut script = FaultScript::new();
        for &n in &self.crashable {
            if n.index() >= nodes {
                return Err(SimError::UnknownNode { node: n, nodes });
            }
        }
        if self.crashable.is_empty() || self.max_down == 0 {
            return Ok(script);
        }
        // `down_until[i]` is when crashable node i is repaired; at most `max_down` may be
        // impaired (crashed or cut off) at once, so a majority stays usable.
        let mut down_until = vec![Time::ZERO; self.crashable.len()];
        let mean = self.mean_interval.as_nanos().max(1) as f64;
        let mut t = Time::ZERO;
        let total_weight: u32 = self.weights.iter().sum();
        let max_len = self.max_fault_duration.as_nanos() as u64;
        loop {
            let gap = -(1.0 - rng.next_f64()).ln() * mean;
            t += Duration::from_nanos(gap as u64);
            if t >= self.until {
                break;
            }
            let free: Vec<usize> = (0..self.crashable.len())
                .filter(|&i| down_until[i] <= t)
                .collect();
            let impaired = self.crashable.len() - free.len();
            if impaired >= self.max_down || free.is_empty() {
                continue;
            }
            let len = Duration::from_nanos(rng.range_inclusive(max_len / 4, max_len.max(1)));
            let end = (t + len).min(self.until);
            let mut pick = rng.below(u64::from(total_weight)) as u32;
            let mut kind = 0;
            while pick >= self.weights[kind] {
                pick -= self.weights[kind];
                kind += 1;
            }
            let victim_slot = free[rng.below(free.len() as u64) as usize];
            let victim = self.crashable[victim_slot];
            match kind {
                0 => {
                    script.events.push((t, Fault::Crash(victim)));
                    script.events.push((end, Fault::Restart(victim)));
                    down_until[victim_slot] = end;
                }
                1 => {
                    // Isolate a random subset no larger than the remaining budget.
                    let budget = self.max_down - impaired;
                    let mut candidates = free.clone();
                    rng.shuffle(&mut candidates);
                    let k = 1 + rng.below(budget as u64) as usize;
                    let cut: Vec<usize> = candidates.into_iter().take(k).collect();
                    let cut_ids: Vec<NodeId> = cut.iter().map(|&i| self.crashable[i]).collect();
                    let rest: Vec<NodeId> = (0..nodes as u32)
                        .map(NodeId)
                        .filter(|n| !cut_ids.contains(n))
                        .collect();
                    script
                        .events
                        .push((t, Fault::Partition(vec![rest, cut_ids])));
                    script.events.push((end, Fault::Heal));
                    for i in cut {
                        down_until[i] = end;
                    }
                    // A heal repairs every cut at once: nothing else may be cut meanwhile.
                    for slot in down_until.iter_mut() {
                        *slot = (*slot).max(end);
                    }
                }
                2 => {
                    let others: Vec<NodeId> = (0..nodes as u32)
                        .map(NodeId)
                        .filter(|&n| n != victim)
                        .collect();
                    if let Some(&peer) = rng.choose(&others) {
                        script.events.push((
                            t,
                            Fault::Block {
                                from: victim,
                                to: peer,
                            },
                        ));
                        script.events.push((
                            end,
                            Fault::Unblock {
                                from: victim,
                                to: peer,
                            },
                        ));
                        down_until[victim_slot] = end;
                    }
                }
                _ => {
                    script.events.push((
                        t,
                        Fault::Pause {
                            node: victim,
                            duration: len,
                        },
                    ));
                    down_until[victim_slot] = t + len;
                }
            }
        }
        // Repair everything at the end so the run can quiesce.
        script.events.push((self.until, Fault::Heal));
        for &n in &self.crashable {
            script.events.push((self.until, Fault::Restart(n)));
        }
        script.validate(nodes)?;
        Ok(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u32) -> Vec<NodeId> {
        (0..n).map(NodeId).collect()
    }

    #[test]
    fn script_validation_names_unknown_nodes() {
        let script = FaultScript::new().at(Time::from_millis(1), Fault::Crash(NodeId(7)));
        assert_eq!(
            script.validate(3),
            Err(SimError::UnknownNode {
                node: NodeId(7),
                nodes: 3
            })
        );
    }

    #[test]
    fn chaos_is_deterministic_and_respects_max_down() {
        let chaos = Chaos::new(ids(5), 2, Time::from_secs(2));
        let a = chaos.script(&mut SimRng::new(11), 7).unwrap();
        let b = chaos.script(&mut SimRng::new(11), 7).unwrap();
        assert_eq!(a, b);
        assert!(a.events.len() > 10, "expected faults, got {a}");
        // Replay crash/restart to check at most two are down at once.
        let mut events = a.events.clone();
        events.sort_by_key(|(t, _)| *t);
        let mut down = std::collections::BTreeSet::new();
        for (_, f) in &events {
            match f {
                Fault::Crash(n) => {
                    down.insert(*n);
                }
                Fault::Restart(n) => {
                    down.remove(n);
                }
                _ => {}
            }
            assert!(down.len() <= 2);
        }
        assert!(down.is_empty(), "everything restarts at the end");
    }

    #[test]
    fn chaos_rejects_impossible_plans() {
        let chaos = Chaos::new(ids(2), 3, Time::from_secs(1));
        assert!(matches!(
            chaos.script(&mut SimRng::new(1), 2),
            Err(SimError::InvalidFaultPlan(_))
        ));
        let chaos = Chaos::new(vec![NodeId(9)], 1, Time::from_secs(1));
        assert!(matches!(
            chaos.script(&mut SimRng::new(1), 2),
            Err(SimError::UnknownNode { .. })
        ));
    }
}
