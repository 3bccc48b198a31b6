//! Fault injection: a storage wrapper whose calls fail at a seeded rate, and whose
//! multi-key writes can stop part-way (as a crashed function's would).

use parking_lot::Mutex;
use stratus_sim::SimRng;

use super::Storage;
use crate::error::StorageError;

/// How often calls fail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StorageFaults {
    /// Probability a call fails outright (before doing anything).
    pub fail: f64,
    /// Probability a multi-key write stops after a random prefix of its entries.
    pub partial_write: f64,
}

/// Wraps a storage and injects [`StorageFaults`] from a seed: the same seed fails the same
/// calls.
pub struct FaultyStorage<S> {
    inner: S,
    faults: StorageFaults,
    rng: Mutex<SimRng>,
    enabled: std::sync::atomic::AtomicBool,
}

impl<S> FaultyStorage<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, faults: StorageFaults, seed: u64) -> Self {
        FaultyStorage {
            inner,
            faults,
            rng: Mutex::new(SimRng::new(seed)),
            enabled: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Turns injection on or off (off: a healed storage, for checking at the end).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The wrapped storage.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn fails(&self) -> bool {
        self.enabled.load(std::sync::atomic::Ordering::SeqCst)
            && self.rng.lock().chance(self.faults.fail)
    }
}

fn injected() -> StorageError {
    StorageError::Unavailable("injected fault".into())
}

impl<S: Storage> Storage for FaultyStorage<S> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        if self.fails() {
            return Err(injected());
        }
        self.inner.get(key)
    }
    fn put_many(&self, mut entries: Vec<(String, Vec<u8>)>) -> Result<(), StorageError> {
        if self.fails() {
            return Err(injected());
        }
        let partial = self.enabled.load(std::sync::atomic::Ordering::SeqCst) && {
            let mut rng = self.rng.lock();
            if entries.len() > 1 && rng.chance(self.faults.partial_write) {
                let keep = rng.below(entries.len() as u64) as usize;
                entries.truncate(keep);
                true
            } else {
                false
            }
        };
        self.inner.put_many(entries)?;
        if partial { Err(injected()) } else { Ok(()) }
    }
    fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        if self.fails() {
            return Err(injected());
        }
        self.inner.delete(keys)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        if self.fails() {
            return Err(injected());
        }
        self.inner.list(prefix)
    }
    fn len(&self) -> Result<usize, StorageError> {
        self.inner.len()
    }
}
