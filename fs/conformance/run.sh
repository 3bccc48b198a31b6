#!/usr/bin/env bash
# Conformance and application workload through the FUSE mount, beside tmpfs.
# Needs root, /dev/fuse, pjdfstest 0.2.2 (`cargo install pjdfstest --version 0.2.2`), the
# users `tests` and `nobody`, sqlite3 and git. Usage: fs/conformance/run.sh [out-dir]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-/tmp/faasfs-conformance}
mkdir -p "$out" /mnt/faasfs /mnt/pjd-tmpfs
[ -e /dev/fuse ] || { echo "no /dev/fuse: skipping"; exit 0; }
cargo build --release -p stratus-fs --features fuse --example faasfs_mount
bin=${CARGO_TARGET_DIR:-$here/../../target}/release/examples/faasfs_mount
mountpoint -q /mnt/pjd-tmpfs || mount -t tmpfs tmpfs /mnt/pjd-tmpfs

serve() { # $1: extra args (store file or nothing)
  "$bin" /mnt/faasfs "$@" 2>>"$out/mount.log" &
  for _ in $(seq 50); do mountpoint -q /mnt/faasfs && return; sleep 0.1; done
  echo "mount failed"; exit 1
}
unserve() { umount /mnt/faasfs; wait; }

(cd /mnt/pjd-tmpfs && pjdfstest -c "$here/pjdfstest.toml" -p /mnt/pjd-tmpfs > "$out/pjd-tmpfs.log" 2>&1 || true)
serve
(cd /mnt/faasfs && pjdfstest -c "$here/pjdfstest.toml" -p /mnt/faasfs > "$out/pjd-faasfs.log" 2>&1 || true)
unserve
"$here/groups.sh" "$out/pjd-tmpfs.log" > "$out/groups-tmpfs.md"
"$here/groups.sh" "$out/pjd-faasfs.log" > "$out/groups-faasfs.md"

# Each workload three times on a fresh file system; the README reports the fastest run.
for run in 1 2 3; do
  rm -rf /mnt/pjd-tmpfs/work && mkdir /mnt/pjd-tmpfs/work
  "$here/workload.sh" /mnt/pjd-tmpfs/work > "$out/work-tmpfs-$run.txt"
  serve
  "$here/workload.sh" /mnt/faasfs > "$out/work-faasfs-memory-$run.txt"
  unserve
  rm -f "$out/store.redb"
  serve "$out/store.redb"
  "$here/workload.sh" /mnt/faasfs > "$out/work-faasfs-redb-$run.txt"
  unserve
done
# The mount as the store's only writer may let the kernel cache metadata for a second.
export FAASFS_TTL_MS=1000
serve
(cd /mnt/faasfs && pjdfstest -c "$here/pjdfstest.toml" -p /mnt/faasfs > "$out/pjd-faasfs-ttl.log" 2>&1 || true)
unserve
"$here/groups.sh" "$out/pjd-faasfs-ttl.log" > "$out/groups-faasfs-ttl.md"
for run in 1 2 3; do
  serve
  "$here/workload.sh" /mnt/faasfs > "$out/work-faasfs-memory-ttl-$run.txt"
  unserve
  rm -f "$out/store.redb"
  serve "$out/store.redb"
  "$here/workload.sh" /mnt/faasfs > "$out/work-faasfs-redb-ttl-$run.txt"
  unserve
done
unset FAASFS_TTL_MS
grep -H Summary "$out"/pjd-*.log
cat "$out"/work-*.txt
