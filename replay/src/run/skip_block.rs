//! Skip blocks: executed and checkpointed in record; restored, re-executed or verified in
//! replay.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{BlockRt, Mode, Phase, Run, check_name};
use crate::checkpoint;
use crate::config::Probe;
use crate::error::{ReplayError, Result};
use crate::policy::CheckpointPolicy;
use crate::writer::Msg;

impl Run {
    /// A skip block: `body` may change only `state` (plus logs), so its effect can be
    /// checkpointed during record and restored during replay instead of executing.
    ///
    /// Determinism rules (see the crate docs): the body must be a deterministic function of
    /// `state`, the arguments and the loop position — keep RNGs *inside* `state`, iterate maps
    /// in a fixed order (`BTreeMap`), and keep state that carries across main-loop iterations
    /// in skip-block states. Replay verifies re-executed blocks against checkpoints
    /// ([`ReplayError::Divergence`]).
    pub fn skip_block<S, F>(&self, name: &str, state: &mut S, body: F) -> Result<()>
    where
        S: Serialize + DeserializeOwned + Clone + Send + 'static,
        F: FnOnce(&mut S) -> Result<()>,
    {
        check_name(name)?;
        let (t, occ, phase, first_seen) = {
            let mut st = self.st.borrow_mut();
            if st.in_block.is_some() {
                return Err(ReplayError::Usage(format!(
                    "skip block {name:?} is nested inside another skip block"
                )));
            }
            let occ = st.occurrences.entry(name.to_string()).or_insert(0);
            let o = *occ;
            *occ += 1;
            let first = !st.blocks.contains_key(name);
            if first {
                let valid = !st.skipped_any;
                st.blocks.insert(
                    name.to_string(),
                    BlockRt {
                        valid,
                        ..BlockRt::default()
                    },
                );
            }
            let phase = if st.main >= 0 {
                st.phase.unwrap_or(Phase::Active)
            } else if self.active(&st) {
                Phase::Active
            } else {
                Phase::Warmup
            };
            (st.main, o, phase, first)
        };
        let type_name = std::any::type_name::<S>();
        if first_seen {
            match &self.index {
                Some(index) => match index.blocks.get(name) {
                    Some((ty, _)) if ty == type_name => {}
                    Some((ty, _)) => {
                        return Err(ReplayError::StructureMismatch(format!(
                            "skip block {name:?} holds {type_name}, the record holds {ty}"
                        )));
                    }
                    None if self.mode == Mode::Replay => {
                        return Err(ReplayError::StructureMismatch(format!(
                            "skip block {name:?} is not in the record"
                        )));
                    }
                    None => self.send(Msg::Block {
                        name: name.to_string(),
                        state_type: type_name.to_string(),
                    }),
                },
                None => self.send(Msg::Block {
                    name: name.to_string(),
                    state_type: type_name.to_string(),
                }),
            }
        }
        match (self.mode, phase) {
            (Mode::Record, Phase::Active) => self.record_block(name, t, occ, state, body),
            (_, Phase::Warmup) => {
                if self.restore(name, t, occ, state)? {
                    return Ok(());
                }
                self.execute(name, t, occ, state, body, false)
            }
            (Mode::Replay, _) => self.replay_block(name, t, occ, state, body),
            (Mode::Record, _) => Err(ReplayError::Usage(format!(
                "skip block {name:?} outside an executed iteration"
            ))),
        }
    }

    fn record_block<S, F>(&self, name: &str, t: i64, occ: u32, state: &mut S, body: F) -> Result<()>
    where
        S: Serialize + DeserializeOwned + Clone + Send + 'static,
        F: FnOnce(&mut S) -> Result<()>,
    {
        let took = self.run_body(name, state, body)?;
        let write = self
            .writer
            .borrow()
            .shared
            .write_time
            .lock()
            .get(name)
            .copied();
        let mut st = self.st.borrow_mut();
        let rt = st.blocks.get_mut(name).expect("registered above");
        rt.valid = true;
        // A smoothed body time keeps one slow iteration from changing the period.
        let body_avg = match rt.body {
            Some(b) => (b * 3 + took) / 4,
            None => took,
        };
        rt.body = Some(body_avg);
        let since = rt.since_last.map(|k| k + 1);
        if let Some(w) = write {
            rt.period = Some(match self.policy {
                CheckpointPolicy::Adaptive => crate::policy::adaptive_period(body_avg, w),
                CheckpointPolicy::Every(n) => n.max(1),
                CheckpointPolicy::Never => 0,
            });
        }
        if self.policy.due(since, body_avg, write) {
            rt.since_last = Some(0);
            drop(st);
            let start = Instant::now();
            let snapshot = Box::new(state.clone());
            self.writer.borrow().send_checkpoint(Msg::Checkpoint {
                block: name.to_string(),
                main: t,
                occurrence: occ,
                snapshot,
            });
            self.st.borrow_mut().stats.snapshot_time += start.elapsed();
        } else {
            rt.since_last = since;
        }
        Ok(())
    }

    fn run_body<S, F: FnOnce(&mut S) -> Result<()>>(
        &self,
        name: &str,
        state: &mut S,
        body: F,
    ) -> Result<Duration> {
        {
            let mut st = self.st.borrow_mut();
            st.in_block = Some(name.to_string());
            st.stats.executed += 1;
        }
        let start = Instant::now();
        let result = body(state);
        let took = start.elapsed();
        self.st.borrow_mut().in_block = None;
        result.map(|()| took)
    }

    /// Restores `state` from the checkpoint of this invocation if one exists and is intact.
    fn restore<S: DeserializeOwned>(
        &self,
        name: &str,
        t: i64,
        occ: u32,
        state: &mut S,
    ) -> Result<bool> {
        let Some(entry) = self
            .index
            .as_ref()
            .and_then(|i| i.checkpoints.get(&(name.to_string(), t, occ)))
        else {
            return Ok(false);
        };
        let raw = match checkpoint::read_file(&entry.file) {
            Ok(raw) => raw,
            Err(_) => {
                // Fall back to executing from the (valid) previous state.
                self.st.borrow_mut().stats.fallbacks += 1;
                return Ok(false);
            }
        };
        *state = postcard::from_bytes(&raw).map_err(|e| ReplayError::State {
            block: name.to_string(),
            action: "deserialized",
            reason: format!("{e} (did the state type change since the record?)"),
        })?;
        let mut st = self.st.borrow_mut();
        st.stats.restored += 1;
        st.blocks.get_mut(name).expect("registered").valid = true;
        Ok(true)
    }

    fn execute<S, F>(
        &self,
        name: &str,
        t: i64,
        occ: u32,
        state: &mut S,
        body: F,
        discover: bool,
    ) -> Result<()>
    where
        S: Serialize + DeserializeOwned,
        F: FnOnce(&mut S) -> Result<()>,
    {
        {
            let mut st = self.st.borrow_mut();
            let rt = st.blocks.get_mut(name).expect("registered");
            if !rt.valid {
                return Err(ReplayError::StructureMismatch(format!(
                    "skip block {name:?} at iteration {t}: no checkpoint to start from and no \
                     valid earlier state (the record has fewer checkpoints than this program needs)"
                )));
            }
            rt.seen.clear();
        }
        self.run_body(name, state, body)?;
        if self.replay_cfg.verify && self.mode == Mode::Replay {
            self.verify(name, t, occ, state)?;
        }
        if discover {
            let mut st = self.st.borrow_mut();
            let recorded = self
                .index
                .as_ref()
                .and_then(|i| i.blocks.get(name))
                .map(|(_, names)| names.clone())
                .unwrap_or_default();
            let rt = st.blocks.get_mut(name).expect("registered");
            rt.probed = Some(rt.seen.iter().any(|n| !recorded.contains(n)));
        }
        Ok(())
    }

    fn verify<S: Serialize>(&self, name: &str, t: i64, occ: u32, state: &S) -> Result<()> {
        let Some(entry) = self
            .index
            .as_ref()
            .and_then(|i| i.checkpoints.get(&(name.to_string(), t, occ)))
        else {
            return Ok(());
        };
        let Ok(recorded) = checkpoint::read_file(&entry.file) else {
            return Ok(());
        };
        let now = postcard::to_stdvec(state).map_err(|e| ReplayError::State {
            block: name.to_string(),
            action: "serialized",
            reason: e.to_string(),
        })?;
        if now != recorded {
            return Err(ReplayError::Divergence {
                block: name.to_string(),
                iteration: t,
            });
        }
        Ok(())
    }

    fn replay_block<S, F>(&self, name: &str, t: i64, occ: u32, state: &mut S, body: F) -> Result<()>
    where
        S: Serialize + DeserializeOwned + Clone + Send + 'static,
        F: FnOnce(&mut S) -> Result<()>,
    {
        let (probed, discover) = match &self.replay_cfg.probe {
            Probe::Everything => (true, false),
            Probe::Nothing => (false, false),
            Probe::Blocks(set) => (set.contains(name), false),
            Probe::Discover => {
                let p = self.st.borrow().blocks.get(name).and_then(|b| b.probed);
                match p {
                    Some(p) => (p, false),
                    None => (true, true),
                }
            }
        };
        if !probed && self.restore(name, t, occ, state)? {
            return Ok(());
        }
        self.execute(name, t, occ, state, body, discover)
    }
}
