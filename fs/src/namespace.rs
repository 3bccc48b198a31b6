//! Directories and names: lookups, creation, removal, hard links, atomic rename, and path
//! resolution with symbolic links. Every change to a directory's entries also rewrites the
//! directory's inode (size, times, link count), so validating that inode at commit covers
//! the whole directory, phantoms included.

use crate::error::{FsError, Result};
use crate::record::{EntryValue, FileKind, Ino, Inode, Key, ROOT_INO, Scan, Value};
use crate::txn::Txn;

/// Longest name of one path component, in bytes.
pub const NAME_MAX: usize = 255;
/// Longest path, in bytes.
pub const PATH_MAX: usize = 4096;
/// Symbolic links followed while resolving one path before `ELOOP`.
pub const SYMLINK_MAX: usize = 40;
/// Most hard links to one inode.
pub const LINK_MAX: u32 = 65_000;

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name.
    pub name: Vec<u8>,
    /// The inode it names.
    pub ino: Ino,
    /// Its type.
    pub kind: FileKind,
}

impl DirEntry {
    /// The name as UTF-8 (lossy), for display.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

fn show(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// Rejects names no directory can hold: empty, over [`NAME_MAX`], or with `/` or NUL.
pub(crate) fn check_name(name: &[u8]) -> Result<()> {
    if name.is_empty() {
        return Err(FsError::NotFound {
            path: String::new(),
        });
    }
    if name.contains(&0) {
        return Err(FsError::NulInPath);
    }
    if name.len() > NAME_MAX {
        return Err(FsError::NameTooLong { len: name.len() });
    }
    if name.contains(&b'/') {
        return Err(FsError::invalid("a name cannot contain '/'"));
    }
    Ok(())
}

/// Rejects paths the kernel would: NUL bytes, over [`PATH_MAX`], a component over
/// [`NAME_MAX`], empty.
pub(crate) fn check_path(path: &[u8]) -> Result<()> {
    if path.contains(&0) {
        return Err(FsError::NulInPath);
    }
    if path.len() >= PATH_MAX {
        return Err(FsError::NameTooLong { len: path.len() });
    }
    if path.is_empty() {
        return Err(FsError::NotFound {
            path: String::new(),
        });
    }
    if let Some(c) = path.split(|b| *b == b'/').find(|c| c.len() > NAME_MAX) {
        return Err(FsError::NameTooLong { len: c.len() });
    }
    Ok(())
}

impl Txn {
    /// The inode `ino`, or `ENOENT`.
    pub fn getattr(&mut self, ino: Ino) -> Result<Inode> {
        self.live()?;
        self.inode(ino)?.ok_or_else(|| FsError::NotFound {
            path: format!("inode {ino}"),
        })
    }

    /// Checks that `ino` is a directory without entering its inode into the read set.
    fn dir_kind(&mut self, ino: Ino) -> Result<()> {
        match self.peek(&Key::Inode(ino))?.as_deref() {
            Some(Value::Inode(i)) if i.kind == FileKind::Dir => Ok(()),
            Some(Value::Inode(_)) => Err(FsError::NotDir {
                path: format!("inode {ino}"),
            }),
            None => Err(FsError::NotFound {
                path: format!("inode {ino}"),
            }),
            Some(_) => Err(FsError::Corrupt {
                detail: format!("inode key {ino} holds another value"),
            }),
        }
    }

    fn dir_inode(&mut self, ino: Ino) -> Result<Inode> {
        let inode = self.getattr(ino)?;
        if inode.kind != FileKind::Dir {
            return Err(FsError::NotDir {
                path: format!("inode {ino}"),
            });
        }
        Ok(inode)
    }

    /// The entry `name` of directory `dir` (`.` and `..` included), or `None`.
    ///
    /// Only the entry enters the read set, not the directory's inode: that `dir` is a
    /// directory never changes (inode numbers are not reused), and if it was removed
    /// meanwhile it was empty, so the entry read is what validation must check. Lookups thus
    /// do not conflict with creations of other names in the same directory.
    pub fn lookup(&mut self, dir: Ino, name: &[u8]) -> Result<Option<EntryValue>> {
        self.live()?;
        match name {
            b"." => {
                self.dir_kind(dir)?;
                Ok(Some(EntryValue {
                    ino: dir,
                    kind: FileKind::Dir,
                }))
            }
            b".." => Ok(Some(EntryValue {
                // The parent changes when the directory is renamed: a validated read.
                ino: self.dir_inode(dir)?.parent,
                kind: FileKind::Dir,
            })),
            _ => {
                self.dir_kind(dir)?;
                check_name(name)?;
                match self.get(&Key::Entry(dir, name.to_vec()))?.as_deref() {
                    Some(Value::Entry(e)) => Ok(Some(*e)),
                    None => Ok(None),
                    Some(_) => Err(FsError::Corrupt {
                        detail: format!("entry {} holds another value", show(name)),
                    }),
                }
            }
        }
    }

    /// Adjusts a directory after an entry change: size (entry count), link count (for
    /// subdirectories' `..`), and times.
    fn touch_dir(&mut self, dir: Ino, entries: i64, links: i64) -> Result<()> {
        let mut d = self.dir_inode(dir)?;
        d.size = d.size.saturating_add_signed(entries);
        d.nlink = (i64::from(d.nlink) + links).clamp(0, i64::from(u32::MAX)) as u32;
        d.mtime = self.now;
        d.ctime = self.now;
        self.put_inode(d);
        Ok(())
    }

    /// Creates `name` in `dir`: a file, directory, symlink (`target`) or special node.
    /// `EEXIST` if the name is taken.
    pub fn mknod_at(
        &mut self,
        dir: Ino,
        name: &[u8],
        kind: FileKind,
        perm: u32,
        rdev: u32,
        target: &[u8],
    ) -> Result<Inode> {
        self.live()?;
        if name == b"." || name == b".." {
            return Err(FsError::Exists { path: show(name) });
        }
        check_name(name)?;
        let parent = self.dir_inode(dir)?;
        if self.lookup(dir, name)?.is_some() {
            return Err(FsError::Exists { path: show(name) });
        }
        if kind == FileKind::Dir && parent.nlink >= LINK_MAX {
            return Err(FsError::TooManyLinks);
        }
        if kind == FileKind::Symlink && (target.is_empty() || target.len() >= PATH_MAX) {
            return Err(if target.is_empty() {
                FsError::NotFound {
                    path: String::new(),
                }
            } else {
                FsError::NameTooLong { len: target.len() }
            });
        }
        if target.contains(&0) {
            return Err(FsError::NulInPath);
        }
        let ino = self.allocate_ino()?;
        // New files get the parent's group when it is set-group-ID (BSD semantics).
        let gid = if parent.perm & 0o2000 != 0 {
            parent.gid
        } else {
            self.gid
        };
        let mut perm = perm & 0o7777;
        if kind == FileKind::Dir && parent.perm & 0o2000 != 0 {
            perm |= 0o2000;
        }
        let inode = Inode {
            ino,
            kind,
            perm,
            uid: self.uid,
            gid,
            nlink: if kind == FileKind::Dir { 2 } else { 1 },
            size: if kind == FileKind::Symlink {
                target.len() as u64
            } else {
                0
            },
            rdev,
            atime: self.now,
            mtime: self.now,
            ctime: self.now,
            parent: if kind == FileKind::Dir { dir } else { 0 },
            target: target.to_vec(),
        };
        self.put_inode(inode.clone());
        self.put(
            Key::Entry(dir, name.to_vec()),
            Value::Entry(EntryValue { ino, kind }),
        );
        self.touch_dir(dir, 1, i64::from(kind == FileKind::Dir))?;
        Ok(inode)
    }

    /// Drops one link to `ino`; frees the inode, its blocks and its locks at zero.
    fn drop_link(&mut self, ino: Ino) -> Result<()> {
        let mut inode = self.getattr(ino)?;
        inode.nlink = if inode.kind == FileKind::Dir {
            0
        } else {
            inode.nlink.saturating_sub(1)
        };
        inode.ctime = self.now;
        if inode.nlink > 0 || self.is_open(ino) {
            self.put_inode(inode);
            return Ok(());
        }
        self.free_inode(ino)
    }

    fn free_inode(&mut self, ino: Ino) -> Result<()> {
        for (k, _) in self.scan(Scan::Blocks(ino))? {
            self.delete(k);
        }
        self.delete(Key::Locks(ino));
        self.delete(Key::Inode(ino));
        Ok(())
    }

    /// Frees `ino` if it is an orphan (no name left; kept while it was open).
    pub fn purge_orphan(&mut self, ino: Ino) -> Result<()> {
        self.live()?;
        match self.inode(ino)? {
            Some(i) if i.nlink == 0 => self.free_inode(ino),
            _ => Ok(()),
        }
    }

    /// Removes `name` from `dir`: a directory (`rmdir`, must be empty) when `want_dir`,
    /// anything else (`unlink`) otherwise.
    pub fn remove_at(&mut self, dir: Ino, name: &[u8], want_dir: bool) -> Result<()> {
        self.live()?;
        match name {
            b"." => return Err(FsError::invalid("cannot remove '.'")),
            b".." => {
                return Err(if want_dir {
                    FsError::NotEmpty { path: "..".into() }
                } else {
                    FsError::IsDir { path: "..".into() }
                });
            }
            _ => {}
        }
        let entry = self
            .lookup(dir, name)?
            .ok_or_else(|| FsError::NotFound { path: show(name) })?;
        let target = self.getattr(entry.ino)?;
        match (want_dir, target.kind == FileKind::Dir) {
            (true, false) => return Err(FsError::NotDir { path: show(name) }),
            (false, true) => return Err(FsError::IsDir { path: show(name) }),
            (true, true) if target.size > 0 => {
                return Err(FsError::NotEmpty { path: show(name) });
            }
            _ => {}
        }
        self.delete(Key::Entry(dir, name.to_vec()));
        self.drop_link(entry.ino)?;
        self.touch_dir(dir, -1, -i64::from(want_dir))
    }

    /// Adds the name `name` in `dir` for the existing non-directory `ino`.
    pub fn link_at(&mut self, ino: Ino, dir: Ino, name: &[u8]) -> Result<Inode> {
        self.live()?;
        let mut inode = self.getattr(ino)?;
        if inode.kind == FileKind::Dir {
            return Err(FsError::NotPermitted {
                reason: "hard link to a directory".into(),
            });
        }
        if inode.nlink >= LINK_MAX {
            return Err(FsError::TooManyLinks);
        }
        if name == b"." || name == b".." {
            return Err(FsError::Exists { path: show(name) });
        }
        check_name(name)?;
        if self.lookup(dir, name)?.is_some() {
            return Err(FsError::Exists { path: show(name) });
        }
        inode.nlink += 1;
        inode.ctime = self.now;
        self.put_inode(inode.clone());
        self.put(
            Key::Entry(dir, name.to_vec()),
            Value::Entry(EntryValue {
                ino,
                kind: inode.kind,
            }),
        );
        self.touch_dir(dir, 1, 0)?;
        Ok(inode)
    }

    /// Atomically renames `sdir/sname` to `ddir/dname`, replacing a compatible target (an
    /// empty directory by a directory, a non-directory by a non-directory). With
    /// `noreplace`, an existing target is `EEXIST`.
    pub fn rename_at(
        &mut self,
        sdir: Ino,
        sname: &[u8],
        ddir: Ino,
        dname: &[u8],
        noreplace: bool,
    ) -> Result<()> {
        self.live()?;
        for n in [sname, dname] {
            if n == b"." || n == b".." {
                return Err(FsError::invalid("cannot rename '.' or '..'"));
            }
            check_name(n)?;
        }
        let src = self
            .lookup(sdir, sname)?
            .ok_or_else(|| FsError::NotFound { path: show(sname) })?;
        self.dir_inode(ddir)?;
        let dst = self.lookup(ddir, dname)?;
        if let Some(d) = dst {
            if d.ino == src.ino {
                return Ok(());
            }
            if noreplace {
                return Err(FsError::Exists { path: show(dname) });
            }
        }
        let src_is_dir = src.kind == FileKind::Dir;
        if src_is_dir {
            // A directory cannot move below itself.
            let mut at = ddir;
            loop {
                if at == src.ino {
                    return Err(FsError::invalid("rename of a directory into itself"));
                }
                if at == ROOT_INO {
                    break;
                }
                at = self.dir_inode(at)?.parent;
            }
        }
        if let Some(d) = dst {
            let target = self.getattr(d.ino)?;
            match (src_is_dir, target.kind == FileKind::Dir) {
                (true, false) => return Err(FsError::NotDir { path: show(dname) }),
                (false, true) => return Err(FsError::IsDir { path: show(dname) }),
                (true, true) if target.size > 0 => {
                    return Err(FsError::NotEmpty { path: show(dname) });
                }
                _ => {}
            }
            self.drop_link(d.ino)?;
            self.touch_dir(ddir, -1, -i64::from(src_is_dir))?;
        }
        self.delete(Key::Entry(sdir, sname.to_vec()));
        self.put(Key::Entry(ddir, dname.to_vec()), Value::Entry(src));
        let moved_dir = i64::from(src_is_dir && sdir != ddir);
        self.touch_dir(sdir, -1, -moved_dir)?;
        self.touch_dir(ddir, 1, moved_dir)?;
        let mut inode = self.getattr(src.ino)?;
        inode.ctime = self.now;
        if src_is_dir {
            inode.parent = ddir;
        }
        self.put_inode(inode);
        Ok(())
    }

    /// The entries of directory `dir`, in name order, without `.` and `..`.
    pub fn list_dir(&mut self, dir: Ino) -> Result<Vec<DirEntry>> {
        self.live()?;
        // Read (and so validate) the directory inode before scanning: see the module note.
        self.dir_inode(dir)?;
        let mut out = Vec::new();
        for (k, v) in self.scan(Scan::Entries(dir))? {
            if let (Key::Entry(_, name), Value::Entry(e)) = (k, &*v) {
                out.push(DirEntry {
                    name,
                    ino: e.ino,
                    kind: e.kind,
                });
            }
        }
        Ok(out)
    }

    /// Resolves `path` (absolute, or relative to the root) to an inode, following symbolic
    /// links in every component and, when `follow_last`, in the last one. A trailing `/`
    /// requires a directory.
    pub fn resolve(&mut self, path: &[u8], follow_last: bool) -> Result<Ino> {
        self.live()?;
        check_path(path)?;
        let must_be_dir = path.ends_with(b"/") && path.iter().any(|b| *b != b'/');
        let follow_last = follow_last || must_be_dir;
        let mut pending: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
        let mut cur = ROOT_INO;
        let mut hops = 0;
        while let Some(comp) = pending.pop() {
            let last = pending.is_empty();
            let entry = self
                .lookup(cur, &comp)
                .map_err(|e| match e {
                    FsError::NotDir { .. } => FsError::NotDir { path: show(path) },
                    other => other,
                })?
                .ok_or_else(|| FsError::NotFound { path: show(path) })?;
            if entry.kind == FileKind::Symlink && (!last || follow_last) {
                hops += 1;
                if hops > SYMLINK_MAX {
                    return Err(FsError::Loop { path: show(path) });
                }
                let target = self.getattr(entry.ino)?.target;
                if target.starts_with(b"/") {
                    cur = ROOT_INO;
                }
                pending.extend(components(&target).rev().map(<[u8]>::to_vec));
                continue;
            }
            cur = entry.ino;
        }
        if must_be_dir && self.getattr(cur)?.kind != FileKind::Dir {
            return Err(FsError::NotDir { path: show(path) });
        }
        Ok(cur)
    }

    /// Splits `path` into its resolved parent directory and final name.
    pub(crate) fn resolve_parent(&mut self, path: &[u8]) -> Result<(Ino, Vec<u8>)> {
        check_path(path)?;
        let trimmed = trim_trailing_slashes(path);
        let (dir, name) = match trimmed.iter().rposition(|b| *b == b'/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => (&b""[..], trimmed),
        };
        if name.is_empty() {
            // The root itself: it has no parent entry to change.
            return Err(FsError::NotPermitted {
                reason: "operation on the root directory".into(),
            });
        }
        let dir = if dir.is_empty() {
            ROOT_INO
        } else {
            self.resolve(dir, true)?
        };
        self.dir_kind(dir).map_err(|e| match e {
            FsError::NotDir { .. } => FsError::NotDir { path: show(path) },
            e => e,
        })?;
        Ok((dir, name.to_vec()))
    }
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|b| *b == b'/').filter(|c| !c.is_empty())
}
