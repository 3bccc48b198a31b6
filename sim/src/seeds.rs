//! Seed sweeps: run a simulation test over many seeds, replay exactly one.
//!
//! `STRATUS_SEEDS=N` runs seeds `0..N` instead of the test's default count;
//! `STRATUS_SEED=s` runs only seed `s` (what a failure report tells you to do).

use std::fmt;

/// The environment variable that sets how many seeds a sweep runs.
pub const SEEDS_VAR: &str = "STRATUS_SEEDS";
/// The environment variable that replays one seed.
pub const SEED_VAR: &str = "STRATUS_SEED";

/// One seed's failure: the seed and what the test said (typically the checker's verdict and
/// [`crate::Sim::trace_tail`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedFailure {
    /// The seed that failed.
    pub seed: u64,
    /// The test's explanation.
    pub message: String,
}

impl fmt::Display for SeedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {seed} failed:\n{msg}\nreplay with: {SEED_VAR}={seed} cargo test <this test>",
            seed = self.seed,
            msg = self.message
        )
    }
}

/// Which seeds a sweep runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedPlan {
    /// Exactly this seed (replay).
    One(u64),
    /// Seeds `0..n`.
    Range(u64),
}

impl SeedPlan {
    /// The plan the environment asks for, or `0..default_count`. An unparsable variable
    /// is an error rather than a silent fallback: a replay that quietly ran other seeds would
    /// mislead.
    pub fn from_env(default_count: u64) -> Result<Self, String> {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(seed) = read(SEED_VAR) {
            return seed
                .trim()
                .parse()
                .map(SeedPlan::One)
                .map_err(|e| format!("{SEED_VAR}={seed:?} is not a u64: {e}"));
        }
        if let Some(count) = read(SEEDS_VAR) {
            return count
                .trim()
                .parse()
                .map(SeedPlan::Range)
                .map_err(|e| format!("{SEEDS_VAR}={count:?} is not a u64: {e}"));
        }
        Ok(SeedPlan::Range(default_count))
    }

    /// The seeds, in order.
    pub fn seeds(&self) -> Box<dyn Iterator<Item = u64>> {
        match *self {
            SeedPlan::One(s) => Box::new(std::iter::once(s)),
            SeedPlan::Range(n) => Box::new(0..n),
        }
    }
}

/// Runs `test` on every seed of the environment's plan (default `0..default_count`) and
/// returns how many ran, or the first failure.
pub fn try_sweep(
    default_count: u64,
    mut test: impl FnMut(u64) -> Result<(), String>,
) -> Result<u64, SeedFailure> {
    let plan =
        SeedPlan::from_env(default_count).map_err(|message| SeedFailure { seed: 0, message })?;
    let mut ran = 0;
    for seed in plan.seeds() {
        test(seed).map_err(|message| SeedFailure { seed, message })?;
        ran += 1;
    }
    Ok(ran)
}

/// Like [`try_sweep`], but panics with the failing seed, its message and the replay command:
/// the form for `#[test]` functions.
pub fn sweep(default_count: u64, test: impl FnMut(u64) -> Result<(), String>) -> u64 {
    match try_sweep(default_count, test) {
        Ok(ran) => ran,
        Err(failure) => panic!("{failure}"),
    }
}

/// Runs seeds until `test` fails and returns that failure, or `None` if every seed passed.
/// For tests that prove a checker catches a known-broken protocol.
pub fn find_failure(
    default_count: u64,
    test: impl FnMut(u64) -> Result<(), String>,
) -> Option<SeedFailure> {
    try_sweep(default_count, test).err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reports_its_seed_and_how_to_replay() {
        // Environment variables are process-global; these tests only read the default plan
        // when neither variable is set, which is the case under `cargo test`.
        if std::env::var(SEED_VAR).is_ok() || std::env::var(SEEDS_VAR).is_ok() {
            return;
        }
        let failure = find_failure(100, |s| if s == 17 { Err("boom".into()) } else { Ok(()) })
            .expect("seed 17 fails");
        assert_eq!(failure.seed, 17);
        let text = failure.to_string();
        assert!(text.contains("STRATUS_SEED=17"), "{text}");
        assert!(text.contains("boom"));
        assert_eq!(try_sweep(10, |_| Ok(())), Ok(10));
    }

    #[test]
    fn plans_enumerate_their_seeds() {
        assert_eq!(SeedPlan::One(5).seeds().collect::<Vec<_>>(), vec![5]);
        assert_eq!(
            SeedPlan::Range(3).seeds().collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }
}
