//! The empty machine: commands that do nothing, for measuring the protocol alone.

use crate::error::ConsensusError;
use crate::state_machine::StateMachine;

/// A state machine whose commands do nothing but count: what benchmarks replicate when they
/// measure the protocol rather than the application (openraft's `benchmarks/minimal` does the
/// same).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Nop {
    applied: u64,
}

impl Nop {
    /// Commands applied so far.
    pub fn applied(&self) -> u64 {
        self.applied
    }
}

impl StateMachine for Nop {
    type Command = ();
    type Output = ();

    fn apply(&mut self, _: &()) {
        self.applied += 1;
    }

    fn conflicts(_: &(), _: &()) -> bool {
        false
    }

    fn conflict_class(_: &()) -> Option<u64> {
        None
    }

    fn snapshot(&self) -> Vec<u8> {
        self.applied.to_le_bytes().to_vec()
    }

    fn restore(bytes: &[u8]) -> Result<Self, ConsensusError> {
        let raw: [u8; 8] = bytes.try_into().map_err(|_| {
            ConsensusError::CorruptSnapshot(format!("{} bytes, want 8", bytes.len()))
        })?;
        Ok(Nop {
            applied: u64::from_le_bytes(raw),
        })
    }
}
