//! When to checkpoint a skip block: Flor's adaptive period, or a fixed one.

use std::time::Duration;

/// How often a skip block's state is checkpointed during record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CheckpointPolicy {
    /// Flor's rule: measure the block's body time and the background write time; with
    /// `ratio = body / write`, checkpoint every invocation when `ratio >= 15`, otherwise every
    /// `floor(100 / ratio)` invocations. The first invocation is always checkpointed (it is
    /// also how the write time gets measured).
    #[default]
    Adaptive,
    /// Checkpoint the first invocation and then every `n`-th (`n >= 1`; 0 is treated as 1).
    Every(u64),
    /// Never checkpoint: replay re-executes everything (useful as a baseline).
    Never,
}

/// Flor's adaptive period (in invocations) for a block whose body takes `body` and whose
/// checkpoint takes `write` to serialize, compress and write.
///
/// ```
/// use std::time::Duration;
/// use stratus_replay::adaptive_period;
/// let ms = Duration::from_millis;
/// assert_eq!(adaptive_period(ms(150), ms(10)), 1); // ratio 15: every iteration
/// assert_eq!(adaptive_period(ms(50), ms(10)), 20); // ratio 5: every 100/5
/// assert_eq!(adaptive_period(ms(10), ms(10)), 100);
/// ```
pub fn adaptive_period(body: Duration, write: Duration) -> u64 {
    if write.is_zero() {
        return 1;
    }
    let ratio = body.as_secs_f64() / write.as_secs_f64();
    if ratio >= 15.0 {
        1
    } else {
        // `as` saturates: a zero-time body gives an effectively infinite period.
        ((100.0 / ratio).floor() as u64).max(1)
    }
}

impl CheckpointPolicy {
    /// Whether to checkpoint now, given how many invocations passed since the last checkpoint
    /// (`None`: never checkpointed) and the measured times (`write` is `None` until the
    /// background writer reported its first write).
    pub(crate) fn due(
        self,
        since_last: Option<u64>,
        body: Duration,
        write: Option<Duration>,
    ) -> bool {
        match (self, since_last) {
            (CheckpointPolicy::Never, _) => false,
            (_, None) => true,
            (CheckpointPolicy::Every(n), Some(k)) => k >= n.max(1),
            (CheckpointPolicy::Adaptive, Some(k)) => match write {
                Some(w) => k >= adaptive_period(body, w),
                None => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_matches_flor() {
        let ms = Duration::from_millis;
        assert_eq!(adaptive_period(ms(1000), ms(1)), 1);
        assert_eq!(adaptive_period(ms(14), ms(1)), 7);
        assert_eq!(adaptive_period(ms(1), ms(1)), 100);
        assert_eq!(adaptive_period(ms(1), ms(10)), 1000);
        assert_eq!(adaptive_period(Duration::ZERO, ms(1)), u64::MAX);
    }

    #[test]
    fn policies() {
        let ms = Duration::from_millis;
        assert!(CheckpointPolicy::Every(3).due(None, ms(1), None));
        assert!(!CheckpointPolicy::Every(3).due(Some(2), ms(1), None));
        assert!(CheckpointPolicy::Every(3).due(Some(3), ms(1), None));
        assert!(!CheckpointPolicy::Never.due(None, ms(1), None));
        assert!(!CheckpointPolicy::Adaptive.due(Some(5), ms(1), None));
        assert!(CheckpointPolicy::Adaptive.due(Some(1), ms(20), Some(ms(1))));
        assert!(!CheckpointPolicy::Adaptive.due(Some(1), ms(2), Some(ms(1))));
    }
}
