//! What the invocations of one executor share: the store, the executor cache and a pool of
//! reserved inode numbers.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::cache::ExecutorCache;
use crate::error::Result;
use crate::record::Ino;
use crate::store::Store;

/// Inode numbers reserved from the store at a time.
const INO_BATCH: u64 = 1024;

pub(crate) struct Executor {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) cache: ExecutorCache,
    inos: Mutex<(Ino, Ino)>,
}

impl Executor {
    pub(crate) fn new(store: Arc<dyn Store>, cache_bytes: usize) -> Self {
        Executor {
            store,
            cache: ExecutorCache::new(cache_bytes),
            inos: Mutex::new((0, 0)),
        }
    }

    pub(crate) fn allocate_ino(&self) -> Result<Ino> {
        let mut pool = self.inos.lock();
        if pool.0 == pool.1 {
            let first = self.store.allocate_inos(INO_BATCH)?;
            *pool = (first, first + INO_BATCH);
        }
        let ino = pool.0;
        pool.0 += 1;
        Ok(ino)
    }
}
