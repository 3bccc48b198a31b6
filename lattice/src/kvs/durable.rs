//! The durable tier: one redb file per worker, written through before a put is acknowledged.

use std::fmt::Display;
use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::config::KvsConfig;
use super::error::KvsError;
use super::shard::Entry;

/// Key bytes (postcard) to `(replication factor, value)` (postcard).
const DATA: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("data");
/// Facts about the directory's store: its layout.
const META: TableDefinition<'_, &str, &str> = TableDefinition::new("meta");

fn durable_err(e: impl Display) -> KvsError {
    KvsError::Durable(e.to_string())
}

/// The shape keys were placed with, and the types they were written as. Reopening with
/// another shape would misplace keys; with other types, records could decode as garbage
/// (postcard is not self-describing). Type names come from `std::any::type_name`, so a
/// compiler that spells a type differently refuses the directory rather than misread it.
fn layout<K, V>(config: &KvsConfig) -> String {
    format!(
        "workers={} virtual_nodes={} replication={} key={} value={}",
        config.workers,
        config.virtual_nodes,
        config.replication,
        std::any::type_name::<K>(),
        std::any::type_name::<V>()
    )
}

/// Decodes one record, requiring every byte to be used.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(format!("{} trailing bytes", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// One worker's redb file.
pub(crate) struct ShardFile {
    db: Database,
}

/// What a shard file held at open: `(key, value, replication factor)` triples.
pub(crate) type Loaded<K, V> = Vec<(K, V, u16)>;

impl ShardFile {
    /// Opens (or creates) worker `worker`'s file under `dir` and reads everything in it.
    pub(crate) fn open<K: DeserializeOwned, V: DeserializeOwned>(
        dir: &Path,
        worker: usize,
        config: &KvsConfig,
    ) -> Result<(Self, Loaded<K, V>), KvsError> {
        std::fs::create_dir_all(dir).map_err(durable_err)?;
        let path = dir.join(format!("shard-{worker:04}.redb"));
        let file = path.display().to_string();
        let db = Database::create(&path).map_err(|e| KvsError::Corrupt {
            file: file.clone(),
            detail: e.to_string(),
        })?;
        let configured = layout::<K, V>(config);
        {
            let txn = db.begin_write().map_err(durable_err)?;
            {
                let mut meta = txn.open_table(META).map_err(durable_err)?;
                let stored = meta
                    .get("layout")
                    .map_err(durable_err)?
                    .map(|g| g.value().to_string());
                match stored {
                    Some(stored) if stored != configured => {
                        return Err(KvsError::LayoutMismatch { stored, configured });
                    }
                    Some(_) => {}
                    None => {
                        meta.insert("layout", configured.as_str())
                            .map_err(durable_err)?;
                    }
                }
                txn.open_table(DATA).map_err(durable_err)?;
            }
            txn.commit().map_err(durable_err)?;
        }
        let mut loaded = Vec::new();
        let read = db.begin_read().map_err(durable_err)?;
        let table = read.open_table(DATA).map_err(durable_err)?;
        for row in table.iter().map_err(durable_err)? {
            let (k, v) = row.map_err(durable_err)?;
            let corrupt = |what: &str, e: String| KvsError::Corrupt {
                file: file.clone(),
                detail: format!("{what}: {e}"),
            };
            let key: K = decode(k.value()).map_err(|e| corrupt("key", e))?;
            let (rf, value): (u16, V) = decode(v.value()).map_err(|e| corrupt("value", e))?;
            loaded.push((key, value, rf));
        }
        Ok((ShardFile { db }, loaded))
    }

    /// Writes the given entries in one transaction with `Durability::Immediate`: when this
    /// returns `Ok`, they survive a crash.
    pub(crate) fn write<'a, K: Serialize + 'a, V: Serialize + 'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a K, &'a Entry<V>)>,
    ) -> Result<(), KvsError> {
        let mut txn = self.db.begin_write().map_err(durable_err)?;
        txn.set_durability(Durability::Immediate)
            .map_err(durable_err)?;
        {
            let mut table = txn.open_table(DATA).map_err(durable_err)?;
            for (key, entry) in entries {
                let k = postcard::to_stdvec(key).map_err(durable_err)?;
                let v = postcard::to_stdvec(&(entry.rf, &entry.value)).map_err(durable_err)?;
                table
                    .insert(k.as_slice(), v.as_slice())
                    .map_err(durable_err)?;
            }
        }
        txn.commit().map_err(durable_err)
    }
}
