//! POSIX semantics of the handle, and bad input: errno-valued errors, no panics.

use stratus_fs::error::errno::*;
use stratus_fs::{
    BLOCK_SIZE, FileKind, Fs, FsError, LockKind, LockRequest, OpenFlags, SetTime, Timestamp, Txn,
    Whence,
};

fn errno<T: std::fmt::Debug>(r: Result<T, FsError>) -> i32 {
    r.expect_err("expected an error").errno()
}

fn run<T>(fs: &Fs, body: impl FnMut(&mut Txn) -> Result<T, FsError>) -> T {
    fs.invoke(body).expect("invocation").value
}

#[test]
fn write_read_seek_and_holes() {
    let fs = Fs::in_memory();
    run(&fs, |f| {
        let fd = f.open("/a", OpenFlags::RDWR | OpenFlags::CREAT, 0o644)?;
        assert_eq!(f.write(fd, b"hello")?, 5);
        // A write far past the end leaves a hole of zeros.
        let far = 3 * BLOCK_SIZE + 10;
        f.pwrite(fd, b"xyz", far)?;
        assert_eq!(f.fstat(fd)?.size, far + 3);
        let mut buf = vec![1u8; 8];
        assert_eq!(f.pread(fd, &mut buf, BLOCK_SIZE)?, 8);
        assert_eq!(buf, vec![0u8; 8]);
        assert_eq!(f.lseek(fd, 0, Whence::Set)?, 0);
        let mut head = [0u8; 5];
        f.read(fd, &mut head)?;
        assert_eq!(&head, b"hello");
        // Holes are found at block granularity.
        assert_eq!(f.lseek(fd, 0, Whence::Hole)?, BLOCK_SIZE);
        assert_eq!(f.lseek(fd, 6, Whence::Data)?, 6);
        assert_eq!(
            f.lseek(fd, BLOCK_SIZE as i64 + 1, Whence::Data)?,
            3 * BLOCK_SIZE
        );
        assert_eq!(f.lseek(fd, 0, Whence::End)?, far + 3);
        assert_eq!(errno(f.lseek(fd, -1, Whence::Set)), EINVAL);
        assert_eq!(errno(f.lseek(fd, (far + 3) as i64, Whence::Data)), ENXIO);
        Ok(())
    });
    // Committed, and visible to another executor with a cold cache.
    let other = fs.new_executor();
    let data = run(&other, |f| {
        let fd = f.open("/a", OpenFlags::RDONLY, 0)?;
        let mut b = [0u8; 5];
        f.read(fd, &mut b)?;
        Ok(b)
    });
    assert_eq!(&data, b"hello");
}

#[test]
fn truncate_shrinks_and_extends_with_zeros() {
    let fs = Fs::in_memory();
    run(&fs, |f| {
        let fd = f.create("/t", 0o644)?;
        f.write(fd, &vec![7u8; (BLOCK_SIZE * 2) as usize])?;
        f.ftruncate(fd, 10)?;
        f.ftruncate(fd, BLOCK_SIZE + 5)?;
        let mut b = vec![9u8; 20];
        f.close(fd)?;
        let fd = f.open("/t", OpenFlags::RDONLY, 0)?;
        assert_eq!(f.pread(fd, &mut b, 0)?, 20);
        assert_eq!(&b[..10], &[7u8; 10]);
        assert_eq!(&b[10..], &[0u8; 10]);
        assert_eq!(f.fstat(fd)?.size, BLOCK_SIZE + 5);
        Ok(())
    });
}

#[test]
fn open_flags() {
    let fs = Fs::in_memory();
    run(&fs, |f| {
        assert_eq!(errno(f.open("/x", OpenFlags::RDONLY, 0)), ENOENT);
        let fd0 = f.open("/x", OpenFlags::WRONLY | OpenFlags::CREAT, 0o600)?;
        f.close(fd0)?;
        let excl = OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::EXCL;
        assert_eq!(errno(f.open("/x", excl, 0o600)), EEXIST);
        let fd = f.open("/x", OpenFlags::WRONLY | OpenFlags::APPEND, 0)?;
        f.write(fd, b"ab")?;
        f.lseek(fd, 0, Whence::Set)?;
        f.write(fd, b"cd")?;
        assert_eq!(f.fstat(fd)?.size, 4);
        let fd = f.open("/x", OpenFlags::WRONLY | OpenFlags::TRUNC, 0)?;
        assert_eq!(f.fstat(fd)?.size, 0);
        f.mkdir("/d", 0o755)?;
        assert_eq!(errno(f.open("/d", OpenFlags::WRONLY, 0)), EISDIR);
        assert_eq!(errno(f.open("/x", OpenFlags::DIRECTORY, 0)), ENOTDIR);
        let fd0 = f.open("/d", OpenFlags::DIRECTORY, 0)?;
        f.close(fd0)?;
        // Wrong flags: both access modes, unknown bits, O_CREAT|O_DIRECTORY.
        assert_eq!(errno(f.open("/x", OpenFlags(3), 0)), EINVAL);
        assert_eq!(errno(f.open("/x", OpenFlags(0o10000000000), 0)), EINVAL);
        let cd = OpenFlags::CREAT | OpenFlags::DIRECTORY;
        assert_eq!(errno(f.open("/y", cd, 0)), EINVAL);
        f.symlink("/x", "/lx")?;
        assert_eq!(errno(f.open("/lx", OpenFlags::NOFOLLOW, 0)), ELOOP);
        Ok(())
    });
}

#[test]
fn namespace_operations() {
    let fs = Fs::in_memory();
    run(&fs, |f| {
        f.mkdir("/d", 0o755)?;
        f.mkdir("/d/e", 0o700)?;
        assert_eq!(f.stat("/d")?.nlink, 3);
        assert_eq!(errno(f.mkdir("/d", 0o755)), EEXIST);
        assert_eq!(errno(f.mkdir("/nope/x", 0o755)), ENOENT);
        assert_eq!(errno(f.rmdir("/d")), ENOTEMPTY);
        let fd0 = f.create("/d/e/f", 0o644)?;
        f.close(fd0)?;
        assert_eq!(errno(f.mkdir("/d/e/f/g", 0o755)), ENOTDIR);
        assert_eq!(errno(f.rmdir("/d/e/f")), ENOTDIR);
        assert_eq!(errno(f.unlink("/d/e")), EISDIR);
        // Hard links count.
        f.link("/d/e/f", "/d/g")?;
        assert_eq!(f.stat("/d/g")?.nlink, 2);
        assert_eq!(errno(f.link("/d", "/d2")), EPERM);
        f.unlink("/d/e/f")?;
        assert_eq!(f.stat("/d/g")?.nlink, 1);
        // Symlinks, readlink, loops.
        f.symlink("/d", "/s")?;
        assert_eq!(f.readlink("/s")?, "/d");
        assert_eq!(f.stat("/s/g")?.kind, FileKind::File);
        assert_eq!(f.lstat("/s")?.kind, FileKind::Symlink);
        f.symlink("/l2", "/l1")?;
        f.symlink("/l1", "/l2")?;
        assert_eq!(errno(f.stat("/l1")), ELOOP);
        assert_eq!(errno(f.readlink("/d")), EINVAL);
        let names: Vec<String> = f.readdir("/d")?.iter().map(|e| e.name_lossy()).collect();
        assert_eq!(names, ["e", "g"]);
        // chmod, chown, utimens.
        f.chmod("/d/g", 0o4751)?;
        assert_eq!(f.stat("/d/g")?.mode, 0o104751);
        f.chown("/d/g", Some(7), None)?;
        assert_eq!(f.stat("/d/g")?.uid, 7);
        let t = Timestamp {
            secs: 1_000,
            nanos: 5,
        };
        f.utimens("/d/g", SetTime::At(t), SetTime::Omit)?;
        assert_eq!(f.stat("/d/g")?.atime, t);
        let bad = Timestamp {
            secs: 0,
            nanos: 2_000_000_000,
        };
        assert_eq!(
            errno(f.utimens("/d/g", SetTime::At(bad), SetTime::Omit)),
            EINVAL
        );
        Ok(())
    });
}

#[test]
fn rename_replaces_atomically_and_refuses_cycles() {
    let fs = Fs::in_memory();
    run(&fs, |f| {
        let fd = f.create("/old", 0o644)?;
        f.write(fd, b"new contents")?;
        let fd = f.create("/cur", 0o644)?;
        f.write(fd, b"old")?;
        f.mkdir("/a", 0o755)?;
        f.mkdir("/a/b", 0o755)?;
        f.mkdir("/empty", 0o755)?;
        Ok(())
    });
    run(&fs, |f| f.rename("/old", "/cur"));
    run(&fs, |f| {
        assert_eq!(errno(f.stat("/old")), ENOENT);
        assert_eq!(f.stat("/cur")?.size, 12);
        assert_eq!(errno(f.rename("/a", "/a/b/c")), EINVAL);
        assert_eq!(errno(f.rename("/a", "/cur")), ENOTDIR);
        assert_eq!(errno(f.rename("/cur", "/a")), EISDIR);
        assert_eq!(errno(f.rename("/empty", "/a")), ENOTEMPTY);
        // A directory replaces an empty one and takes its subtree along.
        f.rename("/a", "/empty")?;
        assert_eq!(f.stat("/empty/b")?.kind, FileKind::Dir);
        assert_eq!(f.stat("/")?.nlink, 3);
        f.mkdir("/z", 0o755)?;
        f.rename("/empty/b", "/z/b")?;
        assert_eq!(f.stat("/empty")?.nlink, 2);
        assert_eq!(f.stat("/z")?.nlink, 3);
        // Renaming onto itself is a no-op.
        f.rename("/cur", "/cur")?;
        assert_eq!(f.stat("/cur")?.size, 12);
        Ok(())
    });
}

#[test]
fn bad_input_gives_typed_errors() {
    let fs = Fs::in_memory();
    run(&fs, |f| {
        assert_eq!(errno(f.stat("/a\0b")), EINVAL);
        assert_eq!(errno(f.mkdir("/bad\0", 0o755)), EINVAL);
        let long_name = format!("/{}", "n".repeat(256));
        assert_eq!(errno(f.create(&long_name, 0o644)), ENAMETOOLONG);
        let ok_name = format!("/{}", "n".repeat(255));
        let fd0 = f.create(&ok_name, 0o644)?;
        f.close(fd0)?;
        let long_path = "/d".repeat(2100);
        assert_eq!(errno(f.stat(&long_path)), ENAMETOOLONG);
        assert_eq!(errno(f.stat("")), ENOENT);
        // Bad descriptors, wrong access modes, closed descriptors.
        let mut buf = [0u8; 4];
        assert_eq!(errno(f.read(99, &mut buf)), EBADF);
        assert_eq!(errno(f.read(-1, &mut buf)), EBADF);
        assert_eq!(errno(f.close(3)), EBADF);
        let fd = f.open(&ok_name, OpenFlags::RDONLY, 0)?;
        assert_eq!(errno(f.write(fd, b"x")), EBADF);
        assert_eq!(errno(f.ftruncate(fd, 0)), EINVAL);
        f.close(fd)?;
        assert_eq!(errno(f.read(fd, &mut buf)), EBADF);
        assert_eq!(errno(f.close(fd)), EBADF);
        let fd = f.open(&ok_name, OpenFlags::WRONLY, 0)?;
        assert_eq!(errno(f.read(fd, &mut buf)), EBADF);
        assert_eq!(errno(f.pwrite(fd, b"x", u64::MAX - 1)), EFBIG);
        assert_eq!(errno(f.rmdir("/")), EINVAL);
        assert_eq!(errno(f.mkdir("/", 0o755)), EEXIST);
        Ok(())
    });
    // A finished transaction refuses everything.
    let mut t = fs.begin();
    t.mkdir("/m", 0o755).expect("mkdir");
    fs.commit(&mut t).expect("commit");
    assert_eq!(errno(t.mkdir("/n", 0o755)), EINVAL);
    assert_eq!(errno(t.commit()), EINVAL);
    assert_eq!(errno(t.abort()), EINVAL);
}

#[test]
fn explicit_abort_leaves_nothing() {
    let fs = Fs::in_memory();
    let mut t = fs.begin();
    t.mkdir("/gone", 0o755).expect("mkdir");
    t.abort().expect("abort");
    let exists = run(&fs, |f| f.exists("/gone"));
    assert!(!exists);
}

#[test]
fn an_invocation_error_rolls_back_and_is_returned() {
    let fs = Fs::in_memory();
    let r = fs.invoke(|f| {
        f.mkdir("/half", 0o755)?;
        f.rmdir("/missing")
    });
    assert_eq!(errno(r), ENOENT);
    assert!(!run(&fs, |f| f.exists("/half")));
    assert_eq!(fs.stats().failed, 1);
}

#[test]
fn locks_conflict_across_owners_and_are_validated_at_commit() {
    let fs = Fs::in_memory();
    let ino = run(&fs, |f| {
        let fd = f.create("/l", 0o644)?;
        f.fd_ino(fd)
    });
    // A lock held by owner 1 (as a FUSE process would hold it across requests).
    run(&fs, |f| {
        f.set_lock(ino, 1, LockRequest::Lock(LockKind::Shared), 0, 100, false)
    });
    run(&fs, |f| {
        f.set_lock(ino, 2, LockRequest::Lock(LockKind::Shared), 50, 60, false)?;
        let e = f.set_lock(
            ino,
            3,
            LockRequest::Lock(LockKind::Exclusive),
            90,
            200,
            false,
        );
        assert_eq!(errno(e), EAGAIN);
        // flock is a separate namespace.
        f.set_lock(
            ino,
            3,
            LockRequest::Lock(LockKind::Exclusive),
            0,
            u64::MAX,
            true,
        )
    });
    // Two transactions both see a range free and take it: only one commits.
    let mut a = fs.begin();
    let mut b = fs.new_executor().begin();
    for (t, owner) in [(&mut a, 10), (&mut b, 11)] {
        t.set_lock(
            ino,
            owner,
            LockRequest::Lock(LockKind::Exclusive),
            500,
            600,
            false,
        )
        .expect("free when seen");
    }
    a.commit().expect("first commits");
    assert_eq!(errno(b.commit()), EAGAIN);
    // Through descriptors: closing releases.
    run(&fs, |f| {
        let fd = f.open("/l", OpenFlags::RDWR, 0)?;
        f.setlk(fd, LockRequest::Lock(LockKind::Exclusive), 1000, 10)?;
        assert!(
            f.test_lock(ino, 99, LockKind::Shared, 1000, 1001, false)?
                .is_some()
        );
        f.close(fd)?;
        assert!(
            f.test_lock(ino, 99, LockKind::Shared, 1000, 1001, false)?
                .is_none()
        );
        Ok(())
    });
}

#[test]
fn the_executor_cache_is_validated_not_trusted() {
    let fs = Fs::in_memory();
    let other = fs.new_executor();
    run(&fs, |f| {
        let fd = f.create("/v", 0o644)?;
        f.write(fd, b"one")
    });
    // Warm `fs`'s cache, then change the file through another executor.
    let read = |fs: &Fs| {
        fs.invoke(|f| {
            let fd = f.open("/v", OpenFlags::RDONLY, 0)?;
            let mut b = [0u8; 3];
            f.read(fd, &mut b)?;
            Ok(b)
        })
        .expect("read")
    };
    assert_eq!(&read(&fs).value, b"one");
    run(&other, |f| {
        let fd = f.open("/v", OpenFlags::WRONLY, 0)?;
        f.write(fd, b"two")
    });
    let again = read(&fs);
    assert_eq!(&again.value, b"two");
    assert_eq!(
        again.retries, 1,
        "the stale cached read must be caught at commit"
    );
    assert!(fs.cache_stats().refreshed > 0);
}

#[test]
fn a_lookup_does_not_conflict_with_creating_a_sibling() {
    let fs = Fs::in_memory();
    run(&fs, |f| {
        f.mkdir("/d", 0o755)?;
        let fd = f.create("/d/a", 0o644)?;
        f.write(fd, b"a")
    });
    let mut reader = fs.begin();
    let fd = reader.open("/d/a", OpenFlags::RDONLY, 0).expect("open");
    let mut b = [0u8; 1];
    reader.read(fd, &mut b).expect("read");
    run(&fs.new_executor(), |f| {
        let fd = f.create("/d/b", 0o644)?;
        f.close(fd)
    });
    reader
        .commit()
        .expect("a sibling's creation is no conflict");
    // But removing the name read is one.
    let mut reader = fs.begin();
    reader.stat("/d/a").expect("stat");
    run(&fs.new_executor(), |f| f.unlink("/d/a"));
    assert_eq!(errno(reader.commit()), EAGAIN);
}
