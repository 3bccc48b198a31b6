//! What the store holds: keys for inodes, directory entries, file blocks and lock tables,
//! and the values stored under them.

use serde::{Deserialize, Serialize};

use crate::error::{FsError, Result};

/// Inode number. The root directory is [`ROOT_INO`].
pub type Ino = u64;

/// The root directory's inode number (what FUSE expects too).
pub const ROOT_INO: Ino = 1;

/// Size of one file block. Files are sparse: a block never written is absent and reads as
/// zeros; a stored block may be shorter than this (its tail reads as zeros).
pub const BLOCK_SIZE: u64 = 64 * 1024;

/// The largest file size accepted (2^46 bytes, as ext4-sized files; keeps block indexes and
/// offsets far from overflow).
pub const MAX_FILE_SIZE: u64 = 1 << 46;

/// A key in the versioned store. The derived order groups a directory's entries and a
/// file's blocks together, which is what the range scans rely on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Key {
    /// The inode record.
    Inode(Ino),
    /// One directory entry: (directory, name).
    Entry(Ino, Vec<u8>),
    /// One file block: (file, block index).
    Block(Ino, u64),
    /// The advisory locks held on a file.
    Locks(Ino),
}

const TAG_INODE: u8 = 1;
const TAG_ENTRY: u8 = 2;
const TAG_BLOCK: u8 = 3;
const TAG_LOCKS: u8 = 4;

impl Key {
    /// Order-preserving byte encoding (tag, big-endian numbers, raw name), used as the redb
    /// key so that a directory's entries or a file's blocks form one contiguous range.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        match self {
            Key::Inode(i) => {
                out.push(TAG_INODE);
                out.extend_from_slice(&i.to_be_bytes());
            }
            Key::Entry(d, name) => {
                out.push(TAG_ENTRY);
                out.extend_from_slice(&d.to_be_bytes());
                out.extend_from_slice(name);
            }
            Key::Block(i, b) => {
                out.push(TAG_BLOCK);
                out.extend_from_slice(&i.to_be_bytes());
                out.extend_from_slice(&b.to_be_bytes());
            }
            Key::Locks(i) => {
                out.push(TAG_LOCKS);
                out.extend_from_slice(&i.to_be_bytes());
            }
        }
        out
    }

    /// Inverse of [`Key::encode`]; bytes that are not a key are [`FsError::Corrupt`].
    pub fn decode(bytes: &[u8]) -> Result<Key> {
        let corrupt = || FsError::Corrupt {
            detail: format!("undecodable key of {} bytes", bytes.len()),
        };
        let num = |at: usize| -> Result<u64> {
            let b: [u8; 8] = bytes
                .get(at..at + 8)
                .ok_or_else(corrupt)?
                .try_into()
                .map_err(|_| corrupt())?;
            Ok(u64::from_be_bytes(b))
        };
        match bytes.first() {
            Some(&TAG_INODE) if bytes.len() == 9 => Ok(Key::Inode(num(1)?)),
            Some(&TAG_ENTRY) if bytes.len() > 9 => Ok(Key::Entry(num(1)?, bytes[9..].to_vec())),
            Some(&TAG_BLOCK) if bytes.len() == 17 => Ok(Key::Block(num(1)?, num(9)?)),
            Some(&TAG_LOCKS) if bytes.len() == 9 => Ok(Key::Locks(num(1)?)),
            _ => Err(corrupt()),
        }
    }
}

/// A range of keys a transaction can scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// All inodes (used to sweep orphans when a durable store is opened).
    Inodes,
    /// All entries of a directory.
    Entries(Ino),
    /// All blocks of a file.
    Blocks(Ino),
}

impl Scan {
    /// Whether `key` lies in this range.
    pub fn contains(&self, key: &Key) -> bool {
        match (self, key) {
            (Scan::Inodes, Key::Inode(_)) => true,
            (Scan::Entries(d), Key::Entry(k, _)) => d == k,
            (Scan::Blocks(i), Key::Block(k, _)) => i == k,
            _ => false,
        }
    }

    /// The first key of the range and the first key past it.
    pub fn bounds(&self) -> (Key, Key) {
        match *self {
            Scan::Inodes => (Key::Inode(0), Key::Entry(0, Vec::new())),
            Scan::Entries(d) => (Key::Entry(d, Vec::new()), Key::Entry(d + 1, Vec::new())),
            Scan::Blocks(i) => (Key::Block(i, 0), Key::Block(i + 1, 0)),
        }
    }
}

/// The type of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A named pipe (created through `mknod`/`mkfifo`; holds no data here).
    Fifo,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
    /// A socket node.
    Socket,
}

impl FileKind {
    /// The `S_IFMT` bits of this kind.
    pub fn mode_bits(self) -> u32 {
        match self {
            FileKind::File => 0o100000,
            FileKind::Dir => 0o040000,
            FileKind::Symlink => 0o120000,
            FileKind::Fifo => 0o010000,
            FileKind::CharDevice => 0o020000,
            FileKind::BlockDevice => 0o060000,
            FileKind::Socket => 0o140000,
        }
    }
}

/// A point in time as seconds and nanoseconds since the Unix epoch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp {
    /// Seconds since the epoch (may be negative).
    pub secs: i64,
    /// Nanoseconds, below 1e9.
    pub nanos: u32,
}

/// An inode: what `stat` reports, plus the symlink target and a directory's parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inode {
    /// Inode number.
    pub ino: Ino,
    /// File type.
    pub kind: FileKind,
    /// Permission bits including set-id and sticky bits (no type bits).
    pub perm: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Hard links (a directory counts its `.` and its subdirectories' `..`).
    pub nlink: u32,
    /// Size in bytes (a symlink's target length; a directory's entry count).
    pub size: u64,
    /// Device number of a device node.
    pub rdev: u32,
    /// Last access.
    pub atime: Timestamp,
    /// Last data modification.
    pub mtime: Timestamp,
    /// Last status change.
    pub ctime: Timestamp,
    /// A directory's parent (the root is its own parent); 0 for other kinds.
    pub parent: Ino,
    /// A symlink's target.
    pub target: Vec<u8>,
}

impl Inode {
    /// The full `st_mode` (type and permission bits).
    pub fn mode(&self) -> u32 {
        self.kind.mode_bits() | (self.perm & 0o7777)
    }

    /// Blocks of 512 bytes reported by `stat` (data blocks actually stored are not tracked
    /// here; the size rounded up is what du-like tools expect on a non-sparse file).
    pub fn blocks_512(&self) -> u64 {
        self.size.div_ceil(512)
    }
}

/// A directory entry's value: the inode it names and its kind (so `readdir` need not read
/// every inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryValue {
    /// The named inode.
    pub ino: Ino,
    /// Its kind.
    pub kind: FileKind,
}

/// Lock kind of a byte-range lock or flock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LockKind {
    /// Shared (read) lock.
    Shared,
    /// Exclusive (write) lock.
    Exclusive,
}

/// One held lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLock {
    /// Who holds it (a process, a FUSE lock owner, an invocation).
    pub owner: u64,
    /// Shared or exclusive.
    pub kind: LockKind,
    /// First byte covered.
    pub start: u64,
    /// One past the last byte covered (`u64::MAX` for "to end of file").
    pub end: u64,
    /// Whether this is a whole-file `flock` lock (a separate namespace from fcntl locks).
    pub flock: bool,
}

/// A value in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    /// Under [`Key::Inode`].
    Inode(Inode),
    /// Under [`Key::Entry`].
    Entry(EntryValue),
    /// Under [`Key::Block`]: the block's bytes (at most [`BLOCK_SIZE`]).
    Block(Vec<u8>),
    /// Under [`Key::Locks`].
    Locks(Vec<HeldLock>),
}
