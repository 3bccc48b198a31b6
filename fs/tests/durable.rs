//! The redb backend: restart keeps every committed invocation; a process killed mid-stream
//! exposes no uncommitted write; a corrupt file is a typed error.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use stratus_fs::{Fs, FsError, OpenFlags, RedbStore, Txn};

const CHILD_ENV: &str = "STRATUS_FS_CRASH_CHILD";

fn write_file(t: &mut Txn, path: &str, data: &[u8]) -> Result<(), FsError> {
    let fd = t.create(path, 0o644)?;
    t.write(fd, data)?;
    Ok(())
}

fn read_file(t: &mut Txn, path: &str) -> Result<Vec<u8>, FsError> {
    let fd = t.open(path, OpenFlags::RDONLY, 0)?;
    let size = t.fstat(fd)?.size as usize;
    let mut b = vec![0u8; size];
    t.read(fd, &mut b)?;
    Ok(b)
}

fn content(i: u64) -> Vec<u8> {
    format!("commit {i} ")
        .repeat(1 + (i as usize % 7) * 1000)
        .into_bytes()
}

#[test]
fn restart_keeps_committed_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fs.redb");
    {
        let fs = Fs::open_redb(&path).expect("open");
        fs.invoke(|t| {
            t.mkdir("/dir", 0o755)?;
            write_file(t, "/dir/a", &content(3))?;
            t.symlink("/dir/a", "/link")
        })
        .expect("commit");
        // Explicitly aborted, and left unfinished: neither may survive.
        let mut aborted = fs.begin();
        write_file(&mut aborted, "/aborted", b"x").expect("write");
        aborted.abort().expect("abort");
        let mut pending = fs.begin();
        write_file(&mut pending, "/pending", b"x").expect("write");
        drop(pending);
    }
    let fs = Fs::open_redb(&path).expect("reopen");
    fs.invoke(|t| {
        assert_eq!(read_file(t, "/link")?, content(3));
        assert!(!t.exists("/aborted")?);
        assert!(!t.exists("/pending")?);
        // New inode numbers do not collide with the ones used before the restart.
        write_file(t, "/dir/b", b"b")?;
        assert_ne!(t.stat("/dir/b")?.ino, t.stat("/dir/a")?.ino);
        Ok(())
    })
    .expect("check");
}

/// The child side of the crash test: commits invocations forever, printing each number
/// after its commit returned. Only runs when the parent sets the variable.
#[test]
#[ignore = "run by crash_loses_no_committed_data_and_exposes_nothing_uncommitted"]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let fs = Fs::open_redb(&path).expect("open");
    let mut out = std::io::stdout();
    for i in 1.. {
        fs.invoke(|t| {
            write_file(t, &format!("/f{i}"), &content(i))?;
            write_file(t, "/last", &i.to_le_bytes())
        })
        .expect("commit");
        writeln!(out, "committed {i}").expect("stdout");
        out.flush().expect("flush");
    }
}

#[test]
fn crash_loses_no_committed_data_and_exposes_nothing_uncommitted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.redb");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("piped");
    let mut acknowledged = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(n) = line.strip_prefix("committed ") {
            acknowledged = n.parse().expect("number");
            if acknowledged >= 25 {
                break;
            }
        }
    }
    // SIGKILL: no destructor, no flush; whatever commit was in flight is cut.
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(acknowledged >= 25, "child stopped early at {acknowledged}");

    let fs = Fs::open_redb(&path).expect("reopen after crash");
    fs.invoke(|t| {
        let last = u64::from_le_bytes(read_file(t, "/last")?.try_into().expect("8 bytes"));
        assert!(
            last >= acknowledged,
            "acknowledged {acknowledged}, recovered {last}"
        );
        for i in 1..=last {
            assert_eq!(read_file(t, &format!("/f{i}"))?, content(i), "file {i}");
        }
        // Nothing past the last commit: /f{last+1} was written in the same transaction as
        // /last, so it exists only if that transaction committed.
        assert!(!t.exists(&format!("/f{}", last + 1))?);
        Ok(())
    })
    .expect("recovered state");
}

#[test]
fn a_corrupt_store_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("garbage.redb");
    std::fs::write(&path, vec![0xA5u8; 64 * 1024]).expect("write garbage");
    let e = RedbStore::open(&path).expect_err("garbage is not a store");
    assert!(matches!(e, FsError::Corrupt { .. }), "{e:?}");
    assert_eq!(e.errno(), stratus_fs::error::errno::EIO);
    // The garbage file is left as it was: nothing overwritten.
    assert_eq!(std::fs::read(&path).expect("read"), vec![0xA5u8; 64 * 1024]);
    // A truncated real store is refused as well, or opens: never a panic.
    let good = dir.path().join("good.redb");
    Fs::open_redb(&good).expect("create");
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(&good, &bytes[..bytes.len() / 3]).expect("truncate");
    if let Ok(fs) = Fs::open_redb(&good) {
        let _ = fs.invoke(|t| t.exists("/"));
    }
}

#[test]
fn orphans_left_by_a_dead_mount_are_swept_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orphans.redb");
    let ino = {
        let fs = Fs::open_redb(&path).expect("open");
        let ino = fs
            .invoke(|t| {
                write_file(t, "/held", b"data of an open, unlinked file")?;
                Ok(t.stat("/held")?.ino)
            })
            .expect("create")
            .value;
        // A mount holds the file open while it is unlinked, then dies without releasing it.
        fs.invoke(|t| {
            t.set_pinned(std::sync::Arc::new(move |i| i == ino));
            t.unlink("/held")
        })
        .expect("unlink");
        let nlink = fs
            .invoke(|t| Ok(t.getattr(ino)?.nlink))
            .expect("orphan")
            .value;
        assert_eq!(nlink, 0, "kept while open");
        ino
    };
    let fs = Fs::open_redb(&path).expect("reopen");
    let gone = fs
        .invoke(|t| Ok(t.getattr(ino).is_err()))
        .expect("check")
        .value;
    assert!(gone, "the orphan is freed when the store is reopened");
    assert_eq!(fs.sweep_orphans().expect("sweep"), 0);
}
