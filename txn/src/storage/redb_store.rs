//! Durable storage on redb: every write commits with `Durability::Immediate`.

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTableMetadata, TableDefinition};

use super::Storage;
use crate::error::StorageError;

const TABLE: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("aft");

fn unavailable(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(e.to_string())
}

/// A durable [`Storage`] in one redb file.
pub struct RedbStorage {
    db: Database,
}

impl std::fmt::Debug for RedbStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedbStorage")
    }
}

impl RedbStorage {
    /// Opens (or creates) the file at `path`. A file that is not a redb database is
    /// [`StorageError::Corrupt`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        let path = path.as_ref();
        let db = Database::create(path).map_err(|e| StorageError::Corrupt {
            key: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(TABLE).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(RedbStorage { db })
    }
}

impl Storage for RedbStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(TABLE).map_err(unavailable)?;
        Ok(table
            .get(key)
            .map_err(unavailable)?
            .map(|v| v.value().to_vec()))
    }
    fn put_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), StorageError> {
        let mut txn = self.db.begin_write().map_err(unavailable)?;
        txn.set_durability(Durability::Immediate)
            .map_err(unavailable)?;
        {
            let mut table = txn.open_table(TABLE).map_err(unavailable)?;
            for (k, v) in &entries {
                table
                    .insert(k.as_str(), v.as_slice())
                    .map_err(unavailable)?;
            }
        }
        txn.commit().map_err(unavailable)
    }
    fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        let mut txn = self.db.begin_write().map_err(unavailable)?;
        txn.set_durability(Durability::Immediate)
            .map_err(unavailable)?;
        {
            let mut table = txn.open_table(TABLE).map_err(unavailable)?;
            for k in keys {
                table.remove(k.as_str()).map_err(unavailable)?;
            }
        }
        txn.commit().map_err(unavailable)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(TABLE).map_err(unavailable)?;
        let mut keys = Vec::new();
        for row in table.range(prefix..).map_err(unavailable)? {
            let (k, _) = row.map_err(unavailable)?;
            let k = k.value();
            if !k.starts_with(prefix) {
                break;
            }
            keys.push(k.to_string());
        }
        Ok(keys)
    }
    fn len(&self) -> Result<usize, StorageError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(TABLE).map_err(unavailable)?;
        Ok(table.len().map_err(unavailable)? as usize)
    }
}
