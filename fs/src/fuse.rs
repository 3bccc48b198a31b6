//! A FUSE mount (crate `fuser`, pure-Rust mount: no libfuse). Every request is its own
//! invocation: it runs as one transaction through [`Fs::invoke`], so concurrent requests
//! from unmodified programs are serializable and retried on conflict.
//!
//! Attributes and entries are returned with a zero time-to-live by default: other executors
//! may change the store at any time, so the kernel must ask again rather than trust a stale
//! copy (the same rule the executor cache follows). When the mount is the store's only
//! writer, [`FaasFuse::with_ttl`] lets the kernel cache them (much fewer round trips).
//! Permission checks are left to the kernel (`default_permissions`).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags,
    Generation, INodeNo, KernelConfig, LockOwner, MountOption, OpenFlags as FuseOpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyLock, ReplyLseek, ReplyOpen, ReplyStatfs, ReplyWrite, Request, SessionACL, TimeOrNow,
    WriteFlags,
};

use crate::error::FsError;
use crate::fs::Fs;
use crate::handle::SetTime;
use crate::locks::LockRequest;
use crate::record::{FileKind, Inode, LockKind, MAX_FILE_SIZE, Timestamp};
use crate::txn::{Pinned, Txn};
use parking_lot::Mutex;

const F_RDLCK: i32 = libc::F_RDLCK;
const F_WRLCK: i32 = libc::F_WRLCK;
const F_UNLCK: i32 = libc::F_UNLCK;

/// The FUSE adapter: one [`Fs`] executor serving the kernel's requests.
pub struct FaasFuse {
    fs: Fs,
    ttl: Duration,
    /// Open handles per inode: local to this mount, not transactional (the kernel's view).
    open: Arc<Mutex<HashMap<u64, u32>>>,
}

impl std::fmt::Debug for FaasFuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaasFuse")
            .field("fs", &self.fs)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl FaasFuse {
    /// Serves `fs` (its executor cache is shared by all requests).
    pub fn new(fs: Fs) -> Self {
        FaasFuse {
            fs,
            ttl: Duration::ZERO,
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Lets the kernel cache attributes and entries for `ttl`. Only sound when no other
    /// executor writes the store while mounted (the kernel would serve stale metadata).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Mounts at `mountpoint` and serves requests until it is unmounted (`umount`).
    ///
    /// # Errors
    /// When the mount fails (no `/dev/fuse`, not root and no `fusermount`).
    pub fn mount(self, mountpoint: &Path) -> io::Result<()> {
        fuser::mount(self, mountpoint, &FaasFuse::config())
    }

    /// Mounts at `mountpoint` on background threads; dropping the session (or
    /// `umount_and_join`) unmounts.
    ///
    /// # Errors
    /// When the mount fails.
    pub fn spawn(self, mountpoint: &Path) -> io::Result<BackgroundSession> {
        fuser::spawn_mount(self, mountpoint, &FaasFuse::config())
    }

    fn opened(&self, ino: u64) {
        *self.open.lock().entry(ino).or_insert(0) += 1;
    }

    /// The mount configuration used by [`mount`] and [`spawn_mount`]: kernel permission
    /// checks, access for every user (conformance suites switch users), four request
    /// threads (a blocking lock request must not stall its own unlock), and no
    /// auto-unmount (which would need `fusermount`).
    pub fn config() -> Config {
        let mut c = Config::default();
        c.mount_options = vec![
            MountOption::FSName("faasfs".into()),
            MountOption::Subtype("faasfs".into()),
            MountOption::DefaultPermissions,
            MountOption::RW,
            MountOption::Suid,
            MountOption::Dev,
        ];
        c.acl = SessionACL::All;
        c.n_threads = Some(4);
        c
    }

    fn run<T>(
        &self,
        req: &Request,
        body: impl FnMut(&mut Txn) -> Result<T, FsError>,
    ) -> Result<T, Errno> {
        let (uid, gid) = (req.uid(), req.gid());
        let mut body = body;
        let open = self.open.clone();
        let pinned: Pinned = Arc::new(move |ino| open.lock().get(&ino).is_some_and(|n| *n > 0));
        self.fs
            .invoke(|t| {
                t.set_credentials(uid, gid);
                t.set_pinned(pinned.clone());
                body(t)
            })
            .map(|i| i.value)
            .map_err(|e| Errno::from_i32(e.errno()))
    }
}

/// Mounts `fs` at `mountpoint` and serves requests until it is unmounted (`umount`).
///
/// # Errors
/// When the mount fails (no `/dev/fuse`, not root and no `fusermount`).
pub fn mount(fs: Fs, mountpoint: &Path) -> io::Result<()> {
    FaasFuse::new(fs).mount(mountpoint)
}

/// Mounts `fs` at `mountpoint` on background threads; dropping the session (or
/// `umount_and_join`) unmounts.
///
/// # Errors
/// When the mount fails.
pub fn spawn_mount(fs: Fs, mountpoint: &Path) -> io::Result<BackgroundSession> {
    FaasFuse::new(fs).spawn(mountpoint)
}

fn to_system(t: Timestamp) -> SystemTime {
    if t.secs >= 0 {
        UNIX_EPOCH + Duration::new(t.secs as u64, t.nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(t.secs.unsigned_abs())
            + Duration::from_nanos(u64::from(t.nanos))
    }
}

fn from_system(t: SystemTime) -> Timestamp {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp {
            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: d.subsec_nanos(),
        },
        Err(e) => {
            let d = e.duration();
            let secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() == 0 {
                Timestamp { secs, nanos: 0 }
            } else {
                Timestamp {
                    secs: secs - 1,
                    nanos: 1_000_000_000 - d.subsec_nanos(),
                }
            }
        }
    }
}

fn file_type(k: FileKind) -> FileType {
    match k {
        FileKind::File => FileType::RegularFile,
        FileKind::Dir => FileType::Directory,
        FileKind::Symlink => FileType::Symlink,
        FileKind::Fifo => FileType::NamedPipe,
        FileKind::CharDevice => FileType::CharDevice,
        FileKind::BlockDevice => FileType::BlockDevice,
        FileKind::Socket => FileType::Socket,
    }
}

fn kind_of_mode(mode: u32) -> Option<FileKind> {
    match mode & libc::S_IFMT {
        libc::S_IFREG | 0 => Some(FileKind::File),
        libc::S_IFDIR => Some(FileKind::Dir),
        libc::S_IFLNK => Some(FileKind::Symlink),
        libc::S_IFIFO => Some(FileKind::Fifo),
        libc::S_IFCHR => Some(FileKind::CharDevice),
        libc::S_IFBLK => Some(FileKind::BlockDevice),
        libc::S_IFSOCK => Some(FileKind::Socket),
        _ => None,
    }
}

fn attr(i: &Inode) -> FileAttr {
    FileAttr {
        ino: INodeNo(i.ino),
        size: i.size,
        blocks: i.blocks_512(),
        atime: to_system(i.atime),
        mtime: to_system(i.mtime),
        ctime: to_system(i.ctime),
        crtime: to_system(i.ctime),
        kind: file_type(i.kind),
        perm: (i.perm & 0o7777) as u16,
        nlink: i.nlink,
        uid: i.uid,
        gid: i.gid,
        rdev: i.rdev,
        blksize: 4096,
        flags: 0,
    }
}

fn set_time(t: Option<TimeOrNow>) -> SetTime {
    match t {
        None => SetTime::Omit,
        Some(TimeOrNow::Now) => SetTime::Now,
        Some(TimeOrNow::SpecificTime(s)) => SetTime::At(from_system(s)),
    }
}

fn lock_end(end: u64) -> u64 {
    // FUSE ranges are inclusive and "to end of file" is OFFSET_MAX; ours are exclusive.
    if end >= i64::MAX as u64 {
        u64::MAX
    } else {
        end + 1
    }
}

impl Filesystem for FaasFuse {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> io::Result<()> {
        // Byte-range locks go through the lock table (validated at commit); without the
        // capability the kernel would keep them locally.
        let _ = config.add_capabilities(fuser::InitFlags::FUSE_POSIX_LOCKS);
        Ok(())
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.run(req, |t| {
            let e = t
                .lookup(parent.0, name.as_bytes())?
                .ok_or(FsError::NotFound {
                    path: name.to_string_lossy().into_owned(),
                })?;
            t.getattr(e.ino)
        }) {
            Ok(i) => reply.entry(&self.ttl, &attr(&i), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.run(req, |t| t.getattr(ino.0)) {
            Ok(i) => reply.attr(&self.ttl, &attr(&i)),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self.run(req, |t| {
            if let Some(size) = size {
                t.set_size(ino.0, size)?;
            }
            if atime.is_some() || mtime.is_some() {
                t.set_times(ino.0, set_time(atime), set_time(mtime))?;
            }
            let mut i = t.getattr(ino.0)?;
            if let Some(m) = mode {
                i.perm = m & 0o7777;
            }
            i.uid = uid.unwrap_or(i.uid);
            i.gid = gid.unwrap_or(i.gid);
            i.ctime = ctime.map_or(t.now(), from_system);
            t.put_inode(i.clone());
            Ok(i)
        }) {
            Ok(i) => reply.attr(&self.ttl, &attr(&i)),
            Err(e) => reply.error(e),
        }
    }

    fn readlink(&self, req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.run(req, |t| {
            let i = t.getattr(ino.0)?;
            if i.kind != FileKind::Symlink {
                return Err(FsError::invalid("not a symbolic link"));
            }
            Ok(i.target)
        }) {
            Ok(target) => reply.data(&target),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        let Some(kind) = kind_of_mode(mode) else {
            reply.error(Errno::from_i32(libc::EINVAL));
            return;
        };
        match self.run(req, |t| {
            t.mknod_at(parent.0, name.as_bytes(), kind, mode, rdev, b"")
        }) {
            Ok(i) => reply.entry(&self.ttl, &attr(&i), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        match self.run(req, |t| {
            t.mknod_at(parent.0, name.as_bytes(), FileKind::Dir, mode, 0, b"")
        }) {
            Ok(i) => reply.entry(&self.ttl, &attr(&i), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.run(req, |t| t.remove_at(parent.0, name.as_bytes(), false)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.run(req, |t| t.remove_at(parent.0, name.as_bytes(), true)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let target = target.as_os_str().as_bytes();
        match self.run(req, |t| {
            t.mknod_at(
                parent.0,
                link_name.as_bytes(),
                FileKind::Symlink,
                0o777,
                0,
                target,
            )
        }) {
            Ok(i) => reply.entry(&self.ttl, &attr(&i), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
            reply.error(Errno::from_i32(libc::EINVAL));
            return;
        }
        let noreplace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        match self.run(req, |t| {
            t.rename_at(
                parent.0,
                name.as_bytes(),
                newparent.0,
                newname.as_bytes(),
                noreplace,
            )
        }) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn link(
        &self,
        req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        match self.run(req, |t| t.link_at(ino.0, newparent.0, newname.as_bytes())) {
            Ok(i) => reply.entry(&self.ttl, &attr(&i), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, req: &Request, ino: INodeNo, _flags: FuseOpenFlags, reply: ReplyOpen) {
        match self.run(req, |t| t.getattr(ino.0)) {
            Ok(_) => {
                self.opened(ino.0);
                reply.opened(FileHandle(0), FopenFlags::empty());
            }
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: FuseOpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.run(req, |t| {
            let mut buf = vec![0u8; size as usize];
            let n = t.read_at(ino.0, offset, &mut buf)?;
            buf.truncate(n);
            Ok(buf)
        }) {
            Ok(data) => reply.data(&data),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: FuseOpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.run(req, |t| t.write_at(ino.0, offset, data)) {
            Ok(n) => reply.written(n as u32),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close() releases the process's POSIX locks on the file.
        match self.run(req, |t| match t.inode(ino.0)? {
            Some(_) => t.release_owner_locks(ino.0, lock_owner.0),
            None => Ok(()),
        }) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn release(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _flags: FuseOpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let last = {
            let mut open = self.open.lock();
            let n = open.entry(ino.0).or_insert(1);
            *n = n.saturating_sub(1);
            let last = *n == 0;
            if last {
                open.remove(&ino.0);
            }
            last
        };
        if last {
            // An unlinked file's data lives until its last handle closes.
            if let Err(e) = self.run(req, |t| t.purge_orphan(ino.0)) {
                return reply.error(e);
            }
        }
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        // Every request already committed (durably, on redb) before it was answered.
        reply.ok();
    }

    fn readdir(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        match self.run(req, |t| {
            let parent = t.lookup(ino.0, b"..")?.map_or(ino.0, |e| e.ino);
            let mut all = vec![
                (ino.0, FileKind::Dir, b".".to_vec()),
                (parent, FileKind::Dir, b"..".to_vec()),
            ];
            all.extend(
                t.list_dir(ino.0)?
                    .into_iter()
                    .map(|e| (e.ino, e.kind, e.name)),
            );
            Ok(all)
        }) {
            Ok(all) => {
                for (i, (ino, kind, name)) in all.iter().enumerate().skip(offset as usize) {
                    if reply.add(
                        INodeNo(*ino),
                        (i + 1) as u64,
                        file_type(*kind),
                        OsStr::from_bytes(name),
                    ) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // No quota: report a large, mostly free device.
        reply.statfs(1 << 32, 1 << 31, 1 << 31, 1 << 32, 1 << 31, 4096, 255, 4096);
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let Some(kind) = kind_of_mode(mode) else {
            reply.error(Errno::from_i32(libc::EINVAL));
            return;
        };
        match self.run(req, |t| match t.lookup(parent.0, name.as_bytes())? {
            Some(_) if flags & libc::O_EXCL != 0 => Err(FsError::Exists {
                path: name.to_string_lossy().into_owned(),
            }),
            Some(e) => {
                if flags & libc::O_TRUNC != 0 {
                    t.set_size(e.ino, 0)?;
                }
                t.getattr(e.ino)
            }
            None => t.mknod_at(parent.0, name.as_bytes(), kind, mode, 0, b""),
        }) {
            Ok(i) => {
                self.opened(i.ino);
                reply.created(
                    &self.ttl,
                    &attr(&i),
                    Generation(0),
                    FileHandle(0),
                    FopenFlags::empty(),
                );
            }
            Err(e) => reply.error(e),
        }
    }

    fn getlk(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        lock_owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        _pid: u32,
        reply: ReplyLock,
    ) {
        let kind = if typ == F_WRLCK {
            LockKind::Exclusive
        } else {
            LockKind::Shared
        };
        match self.run(req, |t| {
            t.test_lock(ino.0, lock_owner.0, kind, start, lock_end(end), false)
        }) {
            Ok(Some(l)) => {
                let typ = if l.kind == LockKind::Exclusive {
                    F_WRLCK
                } else {
                    F_RDLCK
                };
                let end = if l.end == u64::MAX {
                    i64::MAX as u64
                } else {
                    l.end - 1
                };
                reply.locked(l.start, end, typ, 0);
            }
            Ok(None) => reply.locked(0, 0, F_UNLCK, 0),
            Err(e) => reply.error(e),
        }
    }

    fn setlk(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        lock_owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        _pid: u32,
        sleep: bool,
        reply: ReplyEmpty,
    ) {
        let request = match typ {
            F_RDLCK => LockRequest::Lock(LockKind::Shared),
            F_WRLCK => LockRequest::Lock(LockKind::Exclusive),
            F_UNLCK => LockRequest::Unlock,
            _ => {
                reply.error(Errno::from_i32(libc::EINVAL));
                return;
            }
        };
        let end = lock_end(end);
        let mut waited = Duration::ZERO;
        loop {
            match self.run(req, |t| {
                t.set_lock(ino.0, lock_owner.0, request, start, end, false)
            }) {
                Ok(()) => return reply.ok(),
                // F_SETLKW: poll; another request thread serves the holder's unlock.
                Err(e) if sleep && e.code() == libc::EAGAIN && waited < Duration::from_secs(30) => {
                    std::thread::sleep(Duration::from_millis(1));
                    waited += Duration::from_millis(1);
                }
                Err(e) if sleep && e.code() == libc::EAGAIN => {
                    return reply.error(Errno::from_i32(libc::EDEADLK));
                }
                Err(e) => return reply.error(e),
            }
        }
    }

    fn fallocate(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        if mode != 0 {
            reply.error(Errno::from_i32(libc::EOPNOTSUPP));
            return;
        }
        match self.run(req, |t| {
            let end = offset
                .checked_add(length)
                .filter(|e| *e <= MAX_FILE_SIZE)
                .ok_or(FsError::TooLarge)?;
            if end > t.getattr(ino.0)?.size {
                t.set_size(ino.0, end)?;
            }
            Ok(())
        }) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn lseek(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: i64,
        whence: i32,
        reply: ReplyLseek,
    ) {
        let data = match whence {
            libc::SEEK_DATA => true,
            libc::SEEK_HOLE => false,
            _ => {
                reply.error(Errno::from_i32(libc::EINVAL));
                return;
            }
        };
        match self.run(req, |t| {
            let from = u64::try_from(offset).map_err(|_| FsError::NoData { offset: 0 })?;
            t.seek_data_or_hole(ino.0, from, data)
        }) {
            Ok(at) => reply.offset(at as i64),
            Err(e) => reply.error(e),
        }
    }
}
