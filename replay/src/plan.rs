//! Where each replay worker starts: its share of the main loop, and the checkpointed
//! iteration it warms up from.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::checkpoint;
use crate::store::RecordIndex;

/// Splits `iterations` main-loop iterations into `workers` contiguous, balanced ranges
/// (the first `iterations % workers` ranges get one more).
///
/// ```
/// assert_eq!(stratus_replay::partition(10, 3), vec![0..4, 4..7, 7..10]);
/// ```
pub fn partition(iterations: u64, workers: usize) -> Vec<Range<u64>> {
    let workers = workers.max(1) as u64;
    let (base, extra) = (iterations / workers, iterations % workers);
    let mut start = 0;
    (0..workers)
        .map(|w| {
            let len = base + u64::from(w < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// One worker's share of a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerPlan {
    /// Main-loop iterations whose logs this worker produces.
    pub range: Range<u64>,
    /// Iteration the worker starts at: its skip blocks are restored from checkpoints there,
    /// and iterations `warm_start..range.start` run without logging to rebuild the state.
    pub warm_start: u64,
}

impl WorkerPlan {
    /// Iterations executed before the worker's own range.
    pub fn warmup_iterations(&self) -> u64 {
        self.range.start - self.warm_start
    }
}

/// Latest iteration `t < before` from which state can be rebuilt: every block invoked up to
/// `t` was invoked in `t` and its first invocation there has a readable checkpoint. Returns 0
/// (start from the program's initial state) when there is none, and the number of corrupt
/// or missing checkpoints passed over.
pub(crate) fn warm_start(index: &RecordIndex, before: u64) -> (u64, u64) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut candidates = Vec::new();
    for (&t, blocks) in index.iterations.range(0..before as i64) {
        seen.extend(blocks.keys().map(String::as_str));
        // Blocks invoked earlier but not in `t` would carry stale state.
        if seen.iter().all(|b| blocks.contains_key(*b)) {
            candidates.push((t, blocks));
        }
    }
    let mut skipped = 0;
    for (t, blocks) in candidates.into_iter().rev() {
        let ok = blocks.keys().all(|b| {
            index
                .checkpoints
                .get(&(b.clone(), t, 0))
                .is_some_and(|c| checkpoint::read_file(&c.file).is_ok())
        });
        if ok {
            return (t as u64, skipped);
        }
        skipped += 1;
    }
    (0, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_cover_without_overlap() {
        for n in 0..30u64 {
            for w in 1..7 {
                let p = partition(n, w);
                assert_eq!(p.len(), w);
                let mut next = 0;
                for r in &p {
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, n);
                let lens: Vec<u64> = p.iter().map(|r| r.end - r.start).collect();
                assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1);
            }
        }
    }
}
