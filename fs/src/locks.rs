//! Advisory locks: fcntl-style byte ranges and whole-file flock. The lock table of a file is
//! one key, so acquiring a lock reads it (and validates it at commit: two invocations that
//! both saw the lock free cannot both commit) and writes it.

use crate::error::{FsError, Result};
use crate::handle::Fd;
use crate::record::{HeldLock, Ino, Key, LockKind, Value};
use crate::txn::Txn;

/// A lock request of [`Txn::setlk`] / [`Txn::set_lock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockRequest {
    /// Take (or convert to) this kind of lock.
    Lock(LockKind),
    /// Release.
    Unlock,
}

impl Txn {
    fn locks(&mut self, ino: Ino) -> Result<Vec<HeldLock>> {
        match self.get(&Key::Locks(ino))?.as_deref() {
            Some(Value::Locks(l)) => Ok(l.clone()),
            None => Ok(Vec::new()),
            Some(_) => Err(FsError::Corrupt {
                detail: format!("lock key of inode {ino} holds another value"),
            }),
        }
    }

    fn put_locks(&mut self, ino: Ino, locks: Vec<HeldLock>) {
        if locks.is_empty() {
            self.delete(Key::Locks(ino));
        } else {
            self.put(Key::Locks(ino), Value::Locks(locks));
        }
    }

    /// The first lock of another owner that conflicts with taking `kind` on
    /// `[start, end)` (fcntl `F_GETLK`; flock locks when `flock`).
    pub fn test_lock(
        &mut self,
        ino: Ino,
        owner: u64,
        kind: LockKind,
        start: u64,
        end: u64,
        flock: bool,
    ) -> Result<Option<HeldLock>> {
        self.live()?;
        Ok(self.locks(ino)?.into_iter().find(|l| {
            l.owner != owner
                && l.flock == flock
                && l.start < end
                && start < l.end
                && (kind == LockKind::Exclusive || l.kind == LockKind::Exclusive)
        }))
    }

    /// Takes or releases a lock on `[start, end)` of `ino` for `owner` without waiting:
    /// [`FsError::WouldBlock`] if another owner holds a conflicting one. Taking a lock over
    /// ranges the owner already holds replaces them (POSIX conversion and merging).
    pub fn set_lock(
        &mut self,
        ino: Ino,
        owner: u64,
        req: LockRequest,
        start: u64,
        end: u64,
        flock: bool,
    ) -> Result<()> {
        self.live()?;
        if start >= end {
            return Err(FsError::invalid("empty lock range"));
        }
        if let LockRequest::Lock(kind) = req
            && self
                .test_lock(ino, owner, kind, start, end, flock)?
                .is_some()
        {
            return Err(FsError::WouldBlock);
        }
        let mut kept = Vec::new();
        for l in self.locks(ino)? {
            if l.owner != owner || l.flock != flock || l.end <= start || end <= l.start {
                kept.push(l);
                continue;
            }
            // Keep the parts of an own lock outside the new range.
            if l.start < start {
                kept.push(HeldLock {
                    end: start,
                    ..l.clone()
                });
            }
            if end < l.end {
                kept.push(HeldLock { start: end, ..l });
            }
        }
        if let LockRequest::Lock(kind) = req {
            kept.push(HeldLock {
                owner,
                kind,
                start,
                end,
                flock,
            });
        }
        self.put_locks(ino, kept);
        Ok(())
    }

    /// Releases every lock `owner` holds on `ino` (what closing a descriptor does).
    pub fn release_owner_locks(&mut self, ino: Ino, owner: u64) -> Result<()> {
        self.live()?;
        let locks = self.locks(ino)?;
        if locks.iter().any(|l| l.owner == owner) {
            self.put_locks(
                ino,
                locks.into_iter().filter(|l| l.owner != owner).collect(),
            );
        }
        Ok(())
    }

    pub(crate) fn release_locks(&mut self, ino: Ino) -> Result<()> {
        if self.inode(ino)?.is_none() {
            return Ok(());
        }
        let owner = self.owner;
        self.release_owner_locks(ino, owner)
    }

    /// fcntl `F_SETLK` on an open descriptor: `len == 0` means "to the end of the file".
    pub fn setlk(&mut self, fd: Fd, req: LockRequest, start: u64, len: u64) -> Result<()> {
        let ino = self.fd_ino(fd)?;
        let end = if len == 0 {
            u64::MAX
        } else {
            start
                .checked_add(len)
                .ok_or_else(|| FsError::invalid("lock range overflows"))?
        };
        let owner = self.owner;
        self.set_lock(ino, owner, req, start, end, false)
    }

    /// `flock(LOCK_SH | LOCK_EX | LOCK_UN, LOCK_NB)` on an open descriptor.
    pub fn flock(&mut self, fd: Fd, req: LockRequest) -> Result<()> {
        let ino = self.fd_ino(fd)?;
        let owner = self.owner;
        self.set_lock(ino, owner, req, 0, u64::MAX, true)
    }
}
