#![doc = include_str!("../README.md")]

mod cache;
mod data;
mod durable;
pub mod error;
mod executor;
mod fs;
mod handle;
mod locks;
mod memory;
mod namespace;
pub mod record;
pub mod store;
mod txn;

#[cfg(feature = "fuse")]
pub mod fuse;

pub use cache::{CacheStats, ExecutorCache};
pub use durable::RedbStore;
pub use error::{FsError, Result};
pub use fs::{DEFAULT_CACHE_BYTES, Fs, Invocation, InvokeStats, RetryPolicy};
pub use handle::{Fd, OpenFlags, SetTime, Stat, Whence};
pub use locks::LockRequest;
pub use memory::MemoryStore;
pub use namespace::{DirEntry, LINK_MAX, NAME_MAX, PATH_MAX, SYMLINK_MAX};
pub use record::{BLOCK_SIZE, FileKind, Ino, LockKind, ROOT_INO, Timestamp};
pub use store::{Store, Version};
pub use txn::{Pinned, Txn};
