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
//! `fusermount`) and `/dev/fuse`.

use std::path::PathBuf;

use stratus_fs::Fs;

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
    let stats = fs.clone();
    stratus_fs::fuse::mount(fs, &mountpoint)?;
    eprintln!("faasfs: unmounted; {:?}", stats.stats());
    Ok(())
}
