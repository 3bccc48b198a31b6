//! Unmodified `std::fs` calls through the FUSE mount. Only with `--features fuse`; skips
//! (with a message) without `/dev/fuse` or without root.
#![cfg(feature = "fuse")]

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;

use stratus_fs::{Fs, OpenFlags};

fn can_mount() -> bool {
    if !std::path::Path::new("/dev/fuse").exists() {
        eprintln!("skipping FUSE test: /dev/fuse is absent");
        return false;
    }
    // The owner of /proc/self is the effective user id.
    if std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1)
        != 0
    {
        eprintln!("skipping FUSE test: mounting without fusermount needs root");
        return false;
    }
    true
}

#[test]
fn programs_see_a_posix_file_system_and_each_request_commits() {
    if !can_mount() {
        return;
    }
    let dir = tempfile::tempdir().expect("mountpoint");
    let mnt = dir.path();
    let fs = Fs::in_memory();
    let session = stratus_fs::fuse::spawn_mount(fs.new_executor(), mnt).expect("mount");

    std::fs::create_dir(mnt.join("d")).expect("mkdir");
    std::fs::write(mnt.join("d/a"), b"hello fuse").expect("write");
    assert_eq!(std::fs::read(mnt.join("d/a")).expect("read"), b"hello fuse");
    std::fs::write(mnt.join("d/b"), b"old").expect("write");
    std::fs::rename(mnt.join("d/a"), mnt.join("d/b")).expect("rename replaces");
    assert_eq!(std::fs::read(mnt.join("d/b")).expect("read"), b"hello fuse");
    std::fs::hard_link(mnt.join("d/b"), mnt.join("c")).expect("link");
    assert_eq!(std::fs::metadata(mnt.join("c")).expect("stat").nlink(), 2);
    std::os::unix::fs::symlink("d/b", mnt.join("s")).expect("symlink");
    assert_eq!(
        std::fs::read_link(mnt.join("s"))
            .expect("readlink")
            .to_str(),
        Some("d/b")
    );
    let mut names: Vec<String> = std::fs::read_dir(mnt)
        .expect("readdir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["c", "d", "s"]);

    // An open file survives its unlink until closed.
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(mnt.join("tmp"))
        .expect("open");
    f.write_all(b"still here").expect("write");
    std::fs::remove_file(mnt.join("tmp")).expect("unlink");
    f.seek(SeekFrom::Start(0)).expect("seek");
    let mut back = String::new();
    f.read_to_string(&mut back).expect("read unlinked");
    assert_eq!(back, "still here");
    drop(f);

    // What the mount committed is visible to another executor of the same store.
    let seen = fs
        .invoke(|t| {
            let fd = t.open("/c", OpenFlags::RDONLY, 0)?;
            let mut b = vec![0u8; 64];
            let n = t.read(fd, &mut b)?;
            b.truncate(n);
            Ok((b, t.exists("/tmp")?))
        })
        .expect("invoke")
        .value;
    assert_eq!(seen, (b"hello fuse".to_vec(), false));
    session.umount_and_join().expect("unmount");
}
