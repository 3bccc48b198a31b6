//! The storage AFT runs over: a plain key-value store, no transactions required.

mod faulty;
mod kvs;
mod memory;
mod redb_store;

pub use faulty::{FaultyStorage, StorageFaults};
pub use kvs::KvsStorage;
pub use memory::MemStorage;
pub use redb_store::RedbStorage;

use crate::error::StorageError;

/// A key-value store as AFT needs it: single-key reads, multi-key writes (not atomic: a
/// failure may leave some of them done), deletes and prefix listing. Every call may fail.
pub trait Storage: Send + Sync {
    /// The value of `key`.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Writes every entry; on error, any subset may have been written.
    fn put_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), StorageError>;
    /// Deletes the keys (absent keys are fine).
    fn delete(&self, keys: &[String]) -> Result<(), StorageError>;
    /// Every key starting with `prefix`, in order.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError>;
    /// Number of keys stored (for growth measurements).
    fn len(&self) -> Result<usize, StorageError>;
    /// Whether nothing is stored.
    fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.len()? == 0)
    }
}

impl<S: Storage + ?Sized> Storage for std::sync::Arc<S> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(key)
    }
    fn put_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), StorageError> {
        (**self).put_many(entries)
    }
    fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        (**self).delete(keys)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        (**self).list(prefix)
    }
    fn len(&self) -> Result<usize, StorageError> {
        (**self).len()
    }
}
