//! The POSIX-style surface an invocation uses: paths, descriptors and their offsets.
//! Descriptors live in the transaction: they are closed when it commits or aborts.

use crate::error::{FsError, Result};
use crate::record::{FileKind, Ino, Inode, Timestamp};
use crate::txn::Txn;

/// Flags of [`Txn::open`], with Linux's numeric values so FUSE and C callers map 1:1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    /// Read only.
    pub const RDONLY: OpenFlags = OpenFlags(0);
    /// Write only.
    pub const WRONLY: OpenFlags = OpenFlags(0o1);
    /// Read and write.
    pub const RDWR: OpenFlags = OpenFlags(0o2);
    /// Create if missing.
    pub const CREAT: OpenFlags = OpenFlags(0o100);
    /// With `CREAT`: fail if it exists.
    pub const EXCL: OpenFlags = OpenFlags(0o200);
    /// Truncate to zero on open.
    pub const TRUNC: OpenFlags = OpenFlags(0o1000);
    /// Every write goes to the end.
    pub const APPEND: OpenFlags = OpenFlags(0o2000);
    /// Fail unless it is a directory.
    pub const DIRECTORY: OpenFlags = OpenFlags(0o200000);
    /// Fail with `ELOOP` if the last component is a symlink.
    pub const NOFOLLOW: OpenFlags = OpenFlags(0o400000);
    const ACCMODE: u32 = 0o3;
    /// Flags accepted and ignored (no meaning here): `O_NONBLOCK`, `O_SYNC`, `O_DSYNC`,
    /// `O_NOCTTY`, `O_CLOEXEC`, `O_LARGEFILE`, `O_NOATIME`, `O_DIRECT`.
    const IGNORED: u32 =
        0o4000 | 0o4010000 | 0o10000 | 0o400 | 0o2000000 | 0o100000 | 0o1000000 | 0o40000;

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }

    fn readable(self) -> bool {
        self.0 & Self::ACCMODE != Self::WRONLY.0
    }

    fn writable(self) -> bool {
        self.0 & Self::ACCMODE != Self::RDONLY.0
    }
}

impl std::ops::BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | rhs.0)
    }
}

/// A file descriptor of one transaction.
pub type Fd = i32;

/// Where [`Txn::lseek`] counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whence {
    /// From the start.
    Set,
    /// From the current offset.
    Cur,
    /// From the end.
    End,
    /// The next data at or after the offset.
    Data,
    /// The next hole at or after the offset (the end counts as one).
    Hole,
}

/// What `stat` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Inode number.
    pub ino: Ino,
    /// File type.
    pub kind: FileKind,
    /// Type and permission bits.
    pub mode: u32,
    /// Hard links.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// 512-byte blocks.
    pub blocks: u64,
    /// Device number of a device node.
    pub rdev: u32,
    /// Last access.
    pub atime: Timestamp,
    /// Last modification.
    pub mtime: Timestamp,
    /// Last status change.
    pub ctime: Timestamp,
}

impl From<&Inode> for Stat {
    fn from(i: &Inode) -> Stat {
        Stat {
            ino: i.ino,
            kind: i.kind,
            mode: i.mode(),
            nlink: i.nlink,
            uid: i.uid,
            gid: i.gid,
            size: i.size,
            blocks: i.blocks_512(),
            rdev: i.rdev,
            atime: i.atime,
            mtime: i.mtime,
            ctime: i.ctime,
        }
    }
}

/// A time argument of [`Txn::utimens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTime {
    /// Leave unchanged (`UTIME_OMIT`).
    Omit,
    /// The transaction's time (`UTIME_NOW`).
    Now,
    /// This time.
    At(Timestamp),
}

#[derive(Debug, Clone)]
pub(crate) struct OpenFile {
    pub(crate) ino: Ino,
    offset: u64,
    flags: OpenFlags,
}

/// Open descriptors of a transaction, numbered from 3 like a process's.
#[derive(Debug, Default)]
pub(crate) struct FdTable {
    files: Vec<Option<OpenFile>>,
}

const FIRST_FD: i32 = 3;

impl FdTable {
    fn insert(&mut self, f: OpenFile) -> Fd {
        let slot = match self.files.iter().position(Option::is_none) {
            Some(i) => {
                self.files[i] = Some(f);
                i
            }
            None => {
                self.files.push(Some(f));
                self.files.len() - 1
            }
        };
        slot as Fd + FIRST_FD
    }

    fn get(&self, fd: Fd) -> Result<&OpenFile> {
        usize::try_from(fd - FIRST_FD)
            .ok()
            .and_then(|i| self.files.get(i))
            .and_then(Option::as_ref)
            .ok_or(FsError::BadFd { fd })
    }

    fn get_mut(&mut self, fd: Fd) -> Result<&mut OpenFile> {
        usize::try_from(fd - FIRST_FD)
            .ok()
            .and_then(|i| self.files.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(FsError::BadFd { fd })
    }

    fn remove(&mut self, fd: Fd) -> Result<OpenFile> {
        usize::try_from(fd - FIRST_FD)
            .ok()
            .and_then(|i| self.files.get_mut(i))
            .and_then(Option::take)
            .ok_or(FsError::BadFd { fd })
    }

    pub(crate) fn refers_to(&self, ino: Ino) -> bool {
        self.files.iter().flatten().any(|f| f.ino == ino)
    }

    pub(crate) fn open_fds(&self) -> Vec<Fd> {
        (0..self.files.len())
            .filter(|i| self.files[*i].is_some())
            .map(|i| i as Fd + FIRST_FD)
            .collect()
    }
}

fn bytes(path: &str) -> &[u8] {
    path.as_bytes()
}

impl Txn {
    /// Opens (and with `CREAT` creates, with permission bits `mode`) the file at `path`.
    pub fn open(&mut self, path: &str, flags: OpenFlags, mode: u32) -> Result<Fd> {
        self.live()?;
        let known = OpenFlags::ACCMODE
            | OpenFlags::CREAT.0
            | OpenFlags::EXCL.0
            | OpenFlags::TRUNC.0
            | OpenFlags::APPEND.0
            | OpenFlags::DIRECTORY.0
            | OpenFlags::NOFOLLOW.0
            | OpenFlags::IGNORED;
        if flags.0 & !known != 0 || flags.0 & OpenFlags::ACCMODE == OpenFlags::ACCMODE {
            return Err(FsError::invalid(format!("open flags {:#o}", flags.0)));
        }
        if flags.contains(OpenFlags::CREAT) && flags.contains(OpenFlags::DIRECTORY) {
            return Err(FsError::invalid("O_CREAT with O_DIRECTORY"));
        }
        let path_b = bytes(path);
        let ino = if flags.contains(OpenFlags::CREAT) {
            let (dir, name) = self.resolve_parent(path_b)?;
            let existing = self.lookup(dir, &name)?;
            match existing {
                Some(_) if flags.contains(OpenFlags::EXCL) => {
                    return Err(FsError::Exists { path: path.into() });
                }
                Some(_) => self.resolve(path_b, !flags.contains(OpenFlags::NOFOLLOW))?,
                None if path_b.ends_with(b"/") => {
                    return Err(FsError::IsDir { path: path.into() });
                }
                None => self.mknod_at(dir, &name, FileKind::File, mode, 0, b"")?.ino,
            }
        } else {
            self.resolve(path_b, !flags.contains(OpenFlags::NOFOLLOW))?
        };
        let inode = self.getattr(ino)?;
        match inode.kind {
            FileKind::Symlink => return Err(FsError::Loop { path: path.into() }),
            FileKind::Dir if flags.writable() || flags.contains(OpenFlags::TRUNC) => {
                return Err(FsError::IsDir { path: path.into() });
            }
            FileKind::Dir => {}
            _ if flags.contains(OpenFlags::DIRECTORY) => {
                return Err(FsError::NotDir { path: path.into() });
            }
            _ => {}
        }
        if flags.contains(OpenFlags::TRUNC) && inode.kind == FileKind::File && flags.writable() {
            self.set_size(ino, 0)?;
        }
        Ok(self.fds.insert(OpenFile {
            ino,
            offset: 0,
            flags,
        }))
    }

    /// Creates or truncates `path` for writing (`open(O_WRONLY|O_CREAT|O_TRUNC)`).
    pub fn create(&mut self, path: &str, mode: u32) -> Result<Fd> {
        self.open(
            path,
            OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::TRUNC,
            mode,
        )
    }

    /// Closes `fd`, releasing the byte-range and flock locks taken through it.
    pub fn close(&mut self, fd: Fd) -> Result<()> {
        self.live()?;
        let f = self.fds.remove(fd)?;
        self.release_locks(f.ino)?;
        if !self.is_open(f.ino) {
            // The last descriptor of an unlinked file frees it.
            self.purge_orphan(f.ino)?;
        }
        Ok(())
    }

    pub(crate) fn close_all(&mut self) -> Result<()> {
        for fd in self.fds.open_fds() {
            self.close(fd)?;
        }
        Ok(())
    }

    /// The inode behind `fd`.
    pub fn fd_ino(&self, fd: Fd) -> Result<Ino> {
        self.live()?;
        Ok(self.fds.get(fd)?.ino)
    }

    /// Reads at the descriptor's offset and advances it.
    pub fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize> {
        self.live()?;
        let f = self.fds.get(fd)?.clone();
        if !f.flags.readable() {
            return Err(FsError::BadFd { fd });
        }
        let n = self.read_at(f.ino, f.offset, buf)?;
        self.fds.get_mut(fd)?.offset += n as u64;
        Ok(n)
    }

    /// Writes at the descriptor's offset (the end with `APPEND`) and advances it.
    pub fn write(&mut self, fd: Fd, data: &[u8]) -> Result<usize> {
        self.live()?;
        let f = self.fds.get(fd)?.clone();
        if !f.flags.writable() {
            return Err(FsError::BadFd { fd });
        }
        let at = if f.flags.contains(OpenFlags::APPEND) {
            self.getattr(f.ino)?.size
        } else {
            f.offset
        };
        let n = self.write_at(f.ino, at, data)?;
        self.fds.get_mut(fd)?.offset = at + n as u64;
        Ok(n)
    }

    /// Reads at `offset` without moving the descriptor's offset.
    pub fn pread(&mut self, fd: Fd, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.live()?;
        let f = self.fds.get(fd)?.clone();
        if !f.flags.readable() {
            return Err(FsError::BadFd { fd });
        }
        self.read_at(f.ino, offset, buf)
    }

    /// Writes at `offset` without moving the descriptor's offset.
    pub fn pwrite(&mut self, fd: Fd, data: &[u8], offset: u64) -> Result<usize> {
        self.live()?;
        let f = self.fds.get(fd)?.clone();
        if !f.flags.writable() {
            return Err(FsError::BadFd { fd });
        }
        self.write_at(f.ino, offset, data)
    }

    /// Moves the descriptor's offset; past the end is allowed (a later write leaves a hole).
    pub fn lseek(&mut self, fd: Fd, offset: i64, whence: Whence) -> Result<u64> {
        self.live()?;
        let f = self.fds.get(fd)?.clone();
        let base = match whence {
            Whence::Set => 0,
            Whence::Cur => f.offset,
            Whence::End => self.getattr(f.ino)?.size,
            Whence::Data | Whence::Hole => {
                let from = u64::try_from(offset)
                    .map_err(|_| FsError::invalid("negative offset for SEEK_DATA/HOLE"))?;
                let at = self.seek_data_or_hole(f.ino, from, whence == Whence::Data)?;
                self.fds.get_mut(fd)?.offset = at;
                return Ok(at);
            }
        };
        let new = base
            .checked_add_signed(offset)
            .ok_or_else(|| FsError::invalid("seek before the start or past 2^64"))?;
        if i64::try_from(new).is_err() {
            return Err(FsError::invalid("offset past i64::MAX"));
        }
        self.fds.get_mut(fd)?.offset = new;
        Ok(new)
    }

    /// Durability point of POSIX; here data is durable when the transaction commits, so
    /// this only checks the descriptor.
    pub fn fsync(&mut self, fd: Fd) -> Result<()> {
        self.live()?;
        self.fds.get(fd).map(|_| ())
    }

    /// Sets the size of the file open for writing on `fd`.
    pub fn ftruncate(&mut self, fd: Fd, len: u64) -> Result<()> {
        self.live()?;
        let f = self.fds.get(fd)?.clone();
        if !f.flags.writable() {
            return Err(FsError::invalid("descriptor not open for writing"));
        }
        self.set_size(f.ino, len)
    }

    /// Sets the size of the file at `path`.
    pub fn truncate(&mut self, path: &str, len: u64) -> Result<()> {
        let ino = self.resolve(bytes(path), true)?;
        self.set_size(ino, len)
    }

    /// `stat`: follows a final symlink.
    pub fn stat(&mut self, path: &str) -> Result<Stat> {
        let ino = self.resolve(bytes(path), true)?;
        Ok(Stat::from(&self.getattr(ino)?))
    }

    /// `lstat`: reports a final symlink itself.
    pub fn lstat(&mut self, path: &str) -> Result<Stat> {
        let ino = self.resolve(bytes(path), false)?;
        Ok(Stat::from(&self.getattr(ino)?))
    }

    /// `fstat` of an open descriptor.
    pub fn fstat(&mut self, fd: Fd) -> Result<Stat> {
        let ino = self.fd_ino(fd)?;
        Ok(Stat::from(&self.getattr(ino)?))
    }

    /// Whether `path` exists (following symlinks).
    pub fn exists(&mut self, path: &str) -> Result<bool> {
        match self.resolve(bytes(path), true) {
            Ok(_) => Ok(true),
            Err(FsError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates a directory.
    pub fn mkdir(&mut self, path: &str, mode: u32) -> Result<()> {
        self.live()?;
        let (dir, name) = self.resolve_parent(bytes(path)).map_err(|e| match e {
            FsError::NotPermitted { .. } => FsError::Exists { path: path.into() },
            e => e,
        })?;
        self.mknod_at(dir, &name, FileKind::Dir, mode, 0, b"")
            .map(|_| ())
    }

    /// Removes an empty directory.
    pub fn rmdir(&mut self, path: &str) -> Result<()> {
        self.live()?;
        let (dir, name) = self.resolve_parent(bytes(path)).map_err(|e| match e {
            FsError::NotPermitted { .. } => FsError::invalid("cannot remove the root"),
            e => e,
        })?;
        self.remove_at(dir, &name, true)
    }

    /// Removes a non-directory name.
    pub fn unlink(&mut self, path: &str) -> Result<()> {
        self.live()?;
        if path.ends_with('/') {
            let ino = self.resolve(bytes(path), true)?;
            return Err(if self.getattr(ino)?.kind == FileKind::Dir {
                FsError::IsDir { path: path.into() }
            } else {
                FsError::NotDir { path: path.into() }
            });
        }
        let (dir, name) = self.resolve_parent(bytes(path))?;
        self.remove_at(dir, &name, false)
    }

    /// Atomically renames `from` to `to`, replacing `to` if it exists and is compatible.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        self.live()?;
        let (sdir, sname) = self.resolve_parent(bytes(from))?;
        let (ddir, dname) = self.resolve_parent(bytes(to))?;
        self.rename_at(sdir, &sname, ddir, &dname, false)
    }

    /// Adds the hard link `to` for the existing `from` (not followed if a symlink).
    pub fn link(&mut self, from: &str, to: &str) -> Result<()> {
        self.live()?;
        let ino = self.resolve(bytes(from), false)?;
        let (dir, name) = self.resolve_parent(bytes(to))?;
        self.link_at(ino, dir, &name).map(|_| ())
    }

    /// Creates the symbolic link `path` pointing at `target`.
    pub fn symlink(&mut self, target: &str, path: &str) -> Result<()> {
        self.live()?;
        let (dir, name) = self.resolve_parent(bytes(path))?;
        self.mknod_at(dir, &name, FileKind::Symlink, 0o777, 0, bytes(target))
            .map(|_| ())
    }

    /// The target of the symbolic link `path`.
    pub fn readlink(&mut self, path: &str) -> Result<String> {
        let ino = self.resolve(bytes(path), false)?;
        let inode = self.getattr(ino)?;
        if inode.kind != FileKind::Symlink {
            return Err(FsError::invalid("not a symbolic link"));
        }
        Ok(String::from_utf8_lossy(&inode.target).into_owned())
    }

    /// The entries of the directory at `path`, in name order, without `.` and `..`.
    pub fn readdir(&mut self, path: &str) -> Result<Vec<crate::DirEntry>> {
        let ino = self.resolve(bytes(path), true)?;
        self.list_dir(ino)
    }

    /// Sets the permission bits (`mode & 0o7777`).
    pub fn chmod(&mut self, path: &str, mode: u32) -> Result<()> {
        let ino = self.resolve(bytes(path), true)?;
        let mut inode = self.getattr(ino)?;
        inode.perm = mode & 0o7777;
        inode.ctime = self.now;
        self.put_inode(inode);
        Ok(())
    }

    /// Sets owner and group (`None` leaves one unchanged).
    pub fn chown(&mut self, path: &str, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        let ino = self.resolve(bytes(path), true)?;
        let mut inode = self.getattr(ino)?;
        inode.uid = uid.unwrap_or(inode.uid);
        inode.gid = gid.unwrap_or(inode.gid);
        inode.ctime = self.now;
        self.put_inode(inode);
        Ok(())
    }

    /// Sets access and modification times (`utimensat`, following symlinks).
    pub fn utimens(&mut self, path: &str, atime: SetTime, mtime: SetTime) -> Result<()> {
        let ino = self.resolve(bytes(path), true)?;
        self.set_times(ino, atime, mtime)
    }

    /// Sets access and modification times of inode `ino`.
    pub fn set_times(&mut self, ino: Ino, atime: SetTime, mtime: SetTime) -> Result<()> {
        self.live()?;
        let mut inode = self.getattr(ino)?;
        let pick = |t: SetTime, old: Timestamp, now: Timestamp| match t {
            SetTime::Omit => old,
            SetTime::Now => now,
            SetTime::At(ts) => ts,
        };
        for t in [atime, mtime] {
            if let SetTime::At(ts) = t
                && ts.nanos >= 1_000_000_000
            {
                return Err(FsError::invalid("nanoseconds out of range"));
            }
        }
        inode.atime = pick(atime, inode.atime, self.now);
        inode.mtime = pick(mtime, inode.mtime, self.now);
        if atime != SetTime::Omit || mtime != SetTime::Omit {
            inode.ctime = self.now;
        }
        self.put_inode(inode);
        Ok(())
    }
}
