#!/usr/bin/env bash
# A real program's workload in directory $1: sqlite3 inserts and a git init/add/commit.
# Prints "name seconds" lines. Used by run.sh on tmpfs and on the FaaSFS mount.
set -euo pipefail
dir=$1
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$(echo "$e - $s" | bc)"; }

sqlite_autocommit() {
  sqlite3 "$dir/auto.db" 'create table t(k integer primary key, v text);'
  for i in $(seq 1 200); do echo "insert into t(v) values ('row $i');"; done | sqlite3 "$dir/auto.db"
}
sqlite_bulk() {
  { echo 'create table t(k integer primary key, v text); begin;'
    for i in $(seq 1 20000); do echo "insert into t(v) values ('row $i $i $i');"; done
    echo 'commit; select count(*) from t;'; } | sqlite3 "$dir/bulk.db"
}
git_repo() {
  mkdir -p "$dir/repo/src"
  for i in $(seq 1 300); do printf 'fn f%d() -> u32 { %d }\n' "$i" "$i" > "$dir/repo/src/f$i.rs"; done
  cd "$dir/repo" && git init -q && git add -A \
    && git -c user.name=bench -c user.email=bench@example.invalid commit -qm init \
    && git status --short | wc -l
}
echo "sqlite3: 200 autocommit inserts $(t sqlite_autocommit)"
echo "sqlite3: 20000 inserts in one transaction $(t sqlite_bulk)"
echo "git: init + add 300 files + commit $(t git_repo)"
# The results must be right, not only fast.
[ "$(sqlite3 "$dir/auto.db" 'select count(*) from t;')" = 200 ] || { echo "auto.db wrong"; exit 1; }
[ "$(sqlite3 "$dir/bulk.db" 'pragma integrity_check; select count(*) from t;' | tr '\n' ' ')" = "ok 20000 " ] \
  || { echo "bulk.db wrong"; exit 1; }
(cd "$dir/repo" && git fsck --no-progress && [ "$(git ls-files | wc -l)" = 300 ] && [ -z "$(git status --porcelain)" ]) \
  || { echo "git repo wrong"; exit 1; }
echo "checks: sqlite counts and integrity, git fsck and clean status: ok"
