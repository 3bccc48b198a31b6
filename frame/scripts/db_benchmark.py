"""The db-benchmark questions for pandas or polars; prints JSON lines like the Rust example.

Usage: db_benchmark.py ENGINE groupby FILE RUNS | join DIR N RUNS | flights FILE RUNS
Mirrors duckdblabs/db-benchmark's groupby-pandas.py / groupby-polars.py (same questions,
same checksums), timing the best of RUNS.
"""
import gc
import json
import resource
import sys
import time

ENGINE, TASK = sys.argv[1], sys.argv[2]
if ENGINE == "pandas":
    import pandas as pd
else:
    import polars as pl


def report(task, question, secs, rows, chk):
    print(json.dumps({"engine": ENGINE, "task": task, "question": question, "seconds": round(secs, 4),
                      "rows": rows, "chk": [float(c) for c in chk]}), flush=True)


def best(runs, f):
    # Each run's result is freed before the next starts, as db-benchmark's scripts do
    # (`del ans; gc.collect()`).
    out, t = None, float("inf")
    for _ in range(runs):
        out = None
        gc.collect()
        start = time.perf_counter()
        out = f()
        t = min(t, time.perf_counter() - start)
    return t, out


def checksum(df, cols):
    if ENGINE == "pandas":
        return [df[c].sum() for c in cols]
    return [df[c].sum() for c in cols]


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def groupby_pandas(path, runs):
    task = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    start = time.perf_counter()
    x = pd.read_csv(path, dtype={"id1": "category", "id2": "category", "id3": "category",
                                 "id4": "Int32", "id5": "Int32", "id6": "Int32",
                                 "v1": "Int32", "v2": "Int32", "v3": "float64"})
    report(task, "load", time.perf_counter() - start, len(x), [])
    kw = dict(as_index=False, sort=False, observed=True, dropna=False)
    qs = [
        ("q1", ["v1"], lambda: x.groupby("id1", **kw).agg({"v1": "sum"})),
        ("q2", ["v1"], lambda: x.groupby(["id1", "id2"], **kw).agg({"v1": "sum"})),
        ("q3", ["v1", "v3"], lambda: x.groupby("id3", **kw).agg({"v1": "sum", "v3": "mean"})),
        ("q4", ["v1", "v2", "v3"], lambda: x.groupby("id4", **kw).agg({"v1": "mean", "v2": "mean", "v3": "mean"})),
        ("q5", ["v1", "v2", "v3"], lambda: x.groupby("id6", **kw).agg({"v1": "sum", "v2": "sum", "v3": "sum"})),
        ("q6", ["v3_median", "v3_std"], lambda: x.groupby(["id4", "id5"], **kw).agg(
            v3_median=("v3", "median"), v3_std=("v3", "std"))),
        ("q7", ["range_v1_v2"], lambda: x.groupby("id3", **kw).agg({"v1": "max", "v2": "min"}).assign(
            range_v1_v2=lambda t: t["v1"] - t["v2"])[["id3", "range_v1_v2"]]),
        ("q8", ["v3"], lambda: x[~x["v3"].isna()][["id6", "v3"]].sort_values("v3", ascending=False).groupby(
            "id6", as_index=False, sort=False, observed=True, dropna=False).head(2)),
        ("q9", ["r2"], lambda: x[["id2", "id4", "v1", "v2"]].groupby(["id2", "id4"], as_index=False, sort=False,
                                                                        observed=True, dropna=False).apply(
            lambda t: pd.Series({"r2": t.corr(numeric_only=True)["v1"]["v2"] ** 2}), include_groups=False)),
        ("q10", ["v3", "count"], lambda: x.groupby(["id1", "id2", "id3", "id4", "id5", "id6"], **kw).agg(
            v3=("v3", "sum"), count=("v1", "size"))),
    ]
    for name, cols, q in qs:
        secs, out = best(runs, q)
        report(task, name, secs, len(out), checksum(out, cols))
    report(task, "peak_rss_mib", peak_rss_mib(), 0, [])


def groupby_polars(path, runs):
    task = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    start = time.perf_counter()
    x = pl.read_csv(path, schema_overrides={"id1": pl.Categorical, "id2": pl.Categorical, "id3": pl.Categorical,
                                            "id4": pl.Int32, "id5": pl.Int32, "id6": pl.Int32,
                                            "v1": pl.Int32, "v2": pl.Int32, "v3": pl.Float64})
    report(task, "load", time.perf_counter() - start, x.height, [])
    qs = [
        ("q1", ["v1"], lambda: x.group_by("id1").agg(pl.sum("v1"))),
        ("q2", ["v1"], lambda: x.group_by("id1", "id2").agg(pl.sum("v1"))),
        ("q3", ["v1", "v3"], lambda: x.group_by("id3").agg(pl.sum("v1"), pl.mean("v3"))),
        ("q4", ["v1", "v2", "v3"], lambda: x.group_by("id4").agg(pl.mean("v1"), pl.mean("v2"), pl.mean("v3"))),
        ("q5", ["v1", "v2", "v3"], lambda: x.group_by("id6").agg(pl.sum("v1"), pl.sum("v2"), pl.sum("v3"))),
        ("q6", ["v3_median", "v3_std"], lambda: x.group_by("id4", "id5").agg(
            pl.median("v3").alias("v3_median"), pl.std("v3").alias("v3_std"))),
        ("q7", ["range_v1_v2"], lambda: x.group_by("id3").agg(
            (pl.max("v1") - pl.min("v2")).alias("range_v1_v2"))),
        ("q8", ["v3"], lambda: x.drop_nulls("v3").group_by("id6").agg(
            pl.col("v3").top_k(2).alias("largest2_v3")).explode("largest2_v3").rename({"largest2_v3": "v3"})),
        ("q9", ["r2"], lambda: x.group_by("id2", "id4").agg((pl.corr("v1", "v2") ** 2).alias("r2"))),
        ("q10", ["v3", "count"], lambda: x.group_by("id1", "id2", "id3", "id4", "id5", "id6").agg(
            pl.sum("v3").alias("v3"), pl.len().alias("count"))),
    ]
    for name, cols, q in qs:
        secs, out = best(runs, q)
        report(task, name, secs, out.height, checksum(out, cols))
    report(task, "peak_rss_mib", peak_rss_mib(), 0, [])


def pretty(n):
    e = len(str(n)) - 1
    return f"1e{e}" if 10 ** e == n else str(n)


def join(directory, n, runs):
    f = lambda k: f"{directory}/J1_{pretty(n)}_{k}_0_0.csv"
    task = f"J1_{pretty(n)}"
    start = time.perf_counter()
    read = pd.read_csv if ENGINE == "pandas" else pl.read_csv
    x, small, medium, big = read(f("NA")), read(f(pretty(n // 10**6))), read(f(pretty(n // 1000))), read(f(pretty(n)))
    report(task, "load", time.perf_counter() - start, len(x), [])
    qs = [("q1", small, "id1", "inner"), ("q2", medium, "id2", "inner"), ("q3", medium, "id2", "left"),
          ("q4", medium, "id5", "inner"), ("q5", big, "id3", "inner")]
    for name, right, key, how in qs:
        if ENGINE == "pandas":
            secs, out = best(runs, lambda: x.merge(right, how=how, on=key))
        else:
            secs, out = best(runs, lambda: x.join(right, how=how, on=key))
        report(task, name, secs, len(out), checksum(out, ["v1", "v2"]))
    report(task, "peak_rss_mib", peak_rss_mib(), 0, [])


def flights(path, runs):
    if ENGINE == "pandas":
        secs, df = best(runs, lambda: pd.read_csv(path))
        report("flights", "load", secs, len(df), [])
        secs, out = best(runs, lambda: df.groupby(["carrier", "origin"], as_index=False).agg(
            dep_delay=("dep_delay", "mean"), arr_delay=("arr_delay", "mean"), n=("flight", "count")))
    else:
        secs, df = best(runs, lambda: pl.read_csv(path, infer_schema_length=10000, null_values=["NA", ""]))
        report("flights", "load", secs, df.height, [])
        secs, out = best(runs, lambda: df.group_by("carrier", "origin").agg(
            pl.mean("dep_delay"), pl.mean("arr_delay"), pl.count("flight").alias("n")))
    report("flights", "groupby", secs, len(out), checksum(out, ["dep_delay", "arr_delay", "n"]))


if TASK == "groupby":
    (groupby_pandas if ENGINE == "pandas" else groupby_polars)(sys.argv[3], int(sys.argv[4]))
elif TASK == "join":
    join(sys.argv[3], int(float(sys.argv[4])), int(sys.argv[5]))
elif TASK == "flights":
    flights(sys.argv[3], int(sys.argv[4]))
