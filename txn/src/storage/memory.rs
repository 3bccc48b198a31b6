//! In-memory storage: a B-tree map behind a read-write lock.

use std::collections::BTreeMap;

use parking_lot::RwLock;

use super::Storage;
use crate::error::StorageError;

/// An in-memory [`Storage`].
#[derive(Debug, Default)]
pub struct MemStorage {
    map: RwLock<BTreeMap<String, Vec<u8>>>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Storage for MemStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.map.read().get(key).cloned())
    }
    fn put_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), StorageError> {
        let mut map = self.map.write();
        for (k, v) in entries {
            map.insert(k, v);
        }
        Ok(())
    }
    fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        let mut map = self.map.write();
        for k in keys {
            map.remove(k);
        }
        Ok(())
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .map
            .read()
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
    fn len(&self) -> Result<usize, StorageError> {
        Ok(self.map.read().len())
    }
}
