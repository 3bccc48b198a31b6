#!/usr/bin/env bash
# Per-syscall-group pass/skip/fail counts of a pjdfstest log, as a Markdown table.
# Usage: groups.sh pjdfstest.log
set -euo pipefail
awk '
  /^[a-z_]+::[^ ]* +(ok|FAILED|skipped)/ {
    split($1, p, "::"); g = p[1]; seen[g] = 1
    if ($2 == "ok") ok[g]++
    else if ($2 == "FAILED") bad[g]++
    else skip[g]++
  }
  END {
    for (g in seen) printf "| %s | %d | %d | %d |\n", g, ok[g], skip[g], bad[g]
  }' "$1" | sort > /tmp/groups.$$
echo "| group | passed | skipped | failed |"
echo "|---|---|---|---|"
cat /tmp/groups.$$
awk -F'|' '{ o += $3; s += $4; f += $5 } END { printf "| **total** | **%d** | **%d** | **%d** |\n", o, s, f }' /tmp/groups.$$
rm -f /tmp/groups.$$
