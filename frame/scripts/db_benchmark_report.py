"""Prints the comparison table from db-benchmark.sh's JSON lines (standard library only)."""
import json
import sys
from collections import OrderedDict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
engines = ["stratus", "pandas", "polars"]
by = OrderedDict()
for r in rows:
    by.setdefault((r["task"], r["question"]), {})[r["engine"]] = r


def agree(entries):
    chks = [e["chk"] for e in entries.values() if e["chk"]]
    if len(chks) < 2:
        return "-"
    ref = chks[0]
    for c in chks[1:]:
        if len(c) != len(ref) or any(abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b)) for a, b in zip(ref, c)):
            return "DIFFER " + json.dumps({k: v["chk"] for k, v in entries.items()})
    return "ok"


print("| task | question | stratus s | pandas s | polars s | pandas / stratus | polars / stratus | checksums |")
print("|---|---|---|---|---|---|---|---|")
totals = OrderedDict()
for (task, q), entries in by.items():
    if q == "peak_rss_mib":
        continue
    secs = {e: entries[e]["seconds"] for e in engines if e in entries}
    if q.startswith("q"):
        for e, s in secs.items():
            totals.setdefault(task, {}).setdefault(e, 0.0)
            totals[task][e] += s
    cells = [f"{secs[e]:.3f}" if e in secs else "-" for e in engines]
    ratio = lambda e: f"{secs[e] / secs['stratus']:.2f}x" if e in secs and "stratus" in secs and secs["stratus"] > 0 else "-"
    print(f"| {task} | {q} | {' | '.join(cells)} | {ratio('pandas')} | {ratio('polars')} | {agree(entries) if q.startswith('q') or q == 'groupby' else ''} |")
for task, secs in totals.items():
    cells = [f"**{secs[e]:.3f}**" if e in secs else "-" for e in engines]
    ratio = lambda e: f"{secs[e] / secs['stratus']:.2f}x" if e in secs and secs.get("stratus") else "-"
    print(f"| {task} | **total** | {' | '.join(cells)} | {ratio('pandas')} | {ratio('polars')} | |")
for (task, q), entries in by.items():
    if q == "peak_rss_mib":
        print(f"| {task} | peak RSS MiB | " + " | ".join(f"{entries[e]['seconds']:.0f}" if e in entries else "-" for e in engines) + " | | | |")
