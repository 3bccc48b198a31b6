#!/usr/bin/env bash
# PostgreSQL's row estimates for a workload written by the `cardest` example (`eval --sql`).
#
#   cardest/scripts/postgres.sh DATA.csv[.gz] WORKLOAD.tsv
#
# Starts a throwaway PostgreSQL cluster in a temporary directory, loads the CSV into table `t`
# (numeric columns as double precision, others as text; empty cells and NA are NULL),
# runs ANALYZE (default statistics target), reads "Plan Rows" from EXPLAIN (FORMAT JSON) for
# every query and prints q-error quantiles (all queries, and those with more than one true row).
set -euo pipefail
csv=$1
workload=$2
dir=$(mktemp -d)
# PostgreSQL refuses to run as root: then the server runs as the `postgres` user.
as_pg=()
if [[ $EUID -eq 0 ]]; then
  as_pg=(runuser -u postgres --)
  chown postgres "$dir"
fi
trap '"${as_pg[@]}" pg_ctl -D "$dir/db" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
cat_csv() { if [[ $csv == *.gz ]]; then zcat "$csv"; else cat "$csv"; fi; }

# C collation: strings compare bytewise, as in the crate.
"${as_pg[@]}" initdb -D "$dir/db" -A trust -U postgres --no-locale -E UTF8 >/dev/null
"${as_pg[@]}" pg_ctl -D "$dir/db" -o "-k $dir -c listen_addresses=''" -l "$dir/log" -w start >/dev/null
psql_() { psql -h "$dir" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }

# Column types: numeric when every non-null cell parses as a number (the crate's rule).
header=$( (cat_csv || true) | head -1)  # zcat dies of SIGPIPE here
types=$(cat_csv | tail -n +2 | awk -F, -v n="$(awk -F, '{print NF; exit}' <<<"$header")" '
  { for (i = 1; i <= n; i++) if ($i != "" && $i != "NA" && $i !~ /^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/) text[i] = 1 }
  END { for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? "," : ""), (text[i] ? "text" : "double precision") }')
IFS=, read -ra names <<<"$header"
IFS=, read -ra tys <<<"$types"
cols=""
for i in "${!names[@]}"; do cols+="${cols:+, }\"${names[$i]}\" ${tys[$i]}"; done
psql_ -c "CREATE TABLE t ($cols)"
cat_csv | sed -E ':a;s/(^|,)NA(,|$)/\1\2/;ta' | psql_ -c "COPY t FROM STDIN WITH (FORMAT csv, HEADER true, NULL '')"
psql_ -c "ANALYZE t"

# One session for the whole workload; a marker line after each plan separates them, and the
# first "Plan Rows" of a plan is its top node's estimate.
cut -f2- "$workload" | sed 's/^/EXPLAIN (FORMAT JSON) /; s/$/; SELECT '"'"'--end--'"'"';/' | psql_ |
  awk '/"Plan Rows"/ && !seen { gsub(/[^0-9.e+]/, "", $0); est = $0; seen = 1 } /^--end--$/ { print est; seen = 0 }' \
  >"$dir/est"
cut -f1 "$workload" | paste -d' ' - "$dir/est" | awk '
  function q(e, t) { if (e < 1) e = 1; if (t < 1) t = 1; return e > t ? e / t : t / e }
  { all[++n] = q($2, $1); if ($1 > 1) multi[++m] = q($2, $1) }
  function report(name, a, k,   i, j, x) {
    for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    printf "%s (%d queries): median %.2f, 95th %.2f, 99th %.2f, max %.2f\n", name, k,
      a[int(0.5 * k + 0.999999)], a[int(0.95 * k + 0.999999)], a[int(0.99 * k + 0.999999)], a[k]
  }
  END { report("PostgreSQL, all", all, n); report("PostgreSQL, >1 true row", multi, m) }'
