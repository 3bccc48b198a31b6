//! Mounts a FaaSFS file system so unmodified programs can use it; each FUSE request runs as
//! one transaction.
//!
//! ```sh
//! cargo run --release -p stratus-fs --features fuse --example faasfs_mount -- /mnt/faasfs [store.redb]
//! # ... use /mnt/faasfs ..., then from another shell:
//! umount /mnt/faasfs
//! ```
//!
//! Without a store path the file system lives in memory. Mounting needs root (or
//! `fusermount`) and `/dev/fuse`. `FAASFS_TTL_MS=n` lets the kernel cache attributes and
//! entries for n ms (sound while this mount is the store's only writer; default 0).

use std::path::PathBuf;
use std::time::Duration;

use stratus_fs::Fs;
use stratus_fs::fuse::FaasFuse;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let Some(mountpoint) = args.next().map(PathBuf::from) else {
        eprintln!("usage: faasfs_mount MOUNTPOINT [STORE.redb]");
        std::process::exit(2);
    };
    let fs = match args.next() {
        Some(store) => Fs::open_redb(PathBuf::from(store))?,
        None => Fs::in_memory(),
    };
    eprintln!(
        "faasfs: serving {} until it is unmounted",
        mountpoint.display()
    );
    let ttl_ms: u64 = match std::env::var("FAASFS_TTL_MS") {
        Ok(v) => v.parse()?,
        Err(_) => 0,
    };
    let stats = fs.clone();
    FaasFuse::new(fs)
        .with_ttl(Duration::from_millis(ttl_ms))
        .mount(&mountpoint)?;
    eprintln!("faasfs: unmounted; {:?}", stats.stats());
    Ok(())
}
