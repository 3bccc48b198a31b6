"""Golden outputs for frame's tests, produced once by pandas and committed.

Run from the repository root (needs pandas; db-benchmark.sh's virtualenv has it):
    python frame/scripts/make_fixtures.py [../shared/data/flights.csv.gz]
Writes frame/tests/data/flights_sample.csv.gz (every 67th row of flights) and one CSV per
operation under frame/tests/fixtures/, computed on the sample; and, computed on the whole file,
small golden outputs (aggregates, heads, per-column summaries of large results) under
frame/tests/fixtures/full/. Tests compare against these without Python; the full-file ones run
when the full file is present.
"""
import sys

import pandas as pd

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/flights.csv.gz"
full = pd.read_csv(src)
sample = full.iloc[::67].reset_index(drop=True)
sample.to_csv("frame/tests/data/flights_sample.csv.gz", index=False)
df = pd.read_csv("frame/tests/data/flights_sample.csv.gz")
out = "frame/tests/fixtures/"


def save(name, frame, index=True):
    frame.to_csv(out + name + ".csv", index=index)


# The schema pandas infers.
save("dtypes", pd.DataFrame({"column": df.columns, "dtype": [str(t) for t in df.dtypes]}), index=False)
save("groupby_carrier", df.groupby("carrier").agg(
    dep_delay_mean=("dep_delay", "mean"), arr_delay_sum=("arr_delay", "sum"), distance_max=("distance", "max"),
    flight_count=("flight", "count"), tailnum_nunique=("tailnum", "nunique"), air_time_std=("air_time", "std"),
    dep_delay_median=("dep_delay", "median"), tailnum_first=("tailnum", "first"), tailnum_last=("tailnum", "last"),
    dest_min=("dest", "min"), rows=("year", "size"), arr_delay_var=("arr_delay", "var")))
save("groupby_origin_month", df.groupby(["origin", "month"]).agg(dep_delay=("dep_delay", "mean"), n=("dep_delay", "size")))
save("sort_delays", df.sort_values(["dep_delay", "arr_delay"], ascending=[False, True], na_position="first",
                                   kind="stable").head(60)[["carrier", "flight", "dep_delay", "arr_delay"]])
per_carrier = df.groupby("carrier", as_index=False).agg(carrier_mean_delay=("arr_delay", "mean"))
save("merge_left", df[["carrier", "flight", "arr_delay"]].head(300).merge(per_carrier, on="carrier", how="left"),
     index=False)
save("merge_outer", df[["carrier", "dest"]].head(40).drop_duplicates().merge(
    df[["dest", "origin"]].tail(40).drop_duplicates(), on="dest", how="outer"), index=False)
save("drop_duplicates", df.drop_duplicates(subset=["origin", "dest"])[["origin", "dest", "flight"]])
window = df[["dep_delay", "arr_delay", "distance"]].head(200)
save("rolling_mean", window.rolling(5).mean())
save("rolling_std_minp", window.rolling(4, min_periods=2).std())
save("expanding_max", window.expanding(3).max())
save("cumsum", window.cumsum())
save("shift_diff", pd.concat([window.shift(2).add_suffix("_shift"), window.diff(1).add_suffix("_diff")], axis=1))
jfk = df[(df["dep_delay"] > 60) & (df["origin"] == "JFK")]
save("filter", jfk[["carrier", "dep_delay", "dest"]])
save("transpose", df.groupby("origin")[["dep_delay", "arr_delay", "distance"]].mean().T)
save("concat", pd.concat([df[["carrier", "flight"]].head(5), df[["carrier", "tailnum"]].tail(5)]))
save("describe_like", df[["dep_delay", "arr_delay", "air_time", "distance"]].agg(["count", "mean", "std", "min", "max", "median"]))
print("wrote fixtures for", len(df), "sample rows")

# ---- The whole file: results are aggregates, heads or per-column summaries, so they stay small.
df = full
out = "frame/tests/fixtures/full/"


def summary(frame):
    """Per column: non-missing count, and the sum (numbers) or the distinct count (text)."""
    rows = []
    for c in frame.columns:
        col = frame[c]
        numeric = pd.api.types.is_numeric_dtype(col)
        rows.append({"column": c, "count": int(col.count()),
                     "sum": float(col.sum()) if numeric else None,
                     "nunique": None if numeric else int(col.nunique())})
    return pd.DataFrame(rows)


save("shape_dtypes", pd.DataFrame({"column": df.columns, "dtype": [str(t) for t in df.dtypes],
                                   "rows": len(df)}), index=False)
save("summary", summary(df), index=False)
save("groupby_carrier", df.groupby("carrier").agg(
    dep_delay_mean=("dep_delay", "mean"), arr_delay_sum=("arr_delay", "sum"), distance_max=("distance", "max"),
    flight_count=("flight", "count"), tailnum_nunique=("tailnum", "nunique"), air_time_std=("air_time", "std"),
    dep_delay_median=("dep_delay", "median"), tailnum_first=("tailnum", "first"), tailnum_last=("tailnum", "last"),
    dest_min=("dest", "min"), rows=("year", "size"), arr_delay_var=("arr_delay", "var")))
save("groupby_origin_month", df.groupby(["origin", "month"]).agg(
    dep_delay=("dep_delay", "mean"), n=("dep_delay", "size"), arr_delay_max=("arr_delay", "max")))
save("groupby_route", df.groupby(["origin", "dest"]).agg(
    flights=("flight", "size"), arr_delay=("arr_delay", "mean"), carriers=("carrier", "nunique"),
    distance=("distance", "first")))
# value_counts, with ties in count broken by label so the order is defined.
counts = df["dest"].value_counts().rename("count").reset_index()
save("value_counts_dest", counts.sort_values(["count", "dest"], ascending=[False, True], kind="stable"), index=False)
save("sort_head", df.sort_values(["dep_delay", "arr_delay"], ascending=[False, True], na_position="last",
                                 kind="stable").head(50)[["month", "day", "carrier", "flight", "dep_delay", "arr_delay"]])
save("drop_duplicates_routes", df.drop_duplicates(subset=["origin", "dest"])[["origin", "dest", "carrier", "flight"]])
routes = df.groupby(["origin", "dest"], as_index=False).agg(route_arr_delay=("arr_delay", "mean"))
save("merge_left_summary", summary(df[["origin", "dest", "carrier", "arr_delay"]].merge(
    routes, on=["origin", "dest"], how="left")), index=False)
big = df.groupby("carrier", as_index=False).agg(n=("flight", "size"))
big = big[big["n"] > 20000]
save("merge_inner_summary", summary(df[["carrier", "tailnum", "distance"]].merge(big, on="carrier", how="inner")),
     index=False)
jfk = df[df["origin"] == "JFK"][["dest", "carrier"]].drop_duplicates()
ewr = df[df["origin"] == "EWR"][["dest", "tailnum"]].drop_duplicates(subset=["dest"])
save("merge_outer_summary", summary(jfk.merge(ewr, on="dest", how="outer")), index=False)
late = df[(df["dep_delay"] > 60) & (df["origin"] == "JFK")]
save("filter_groupby", late.groupby("carrier").agg(n=("dep_delay", "size"), dep_delay=("dep_delay", "mean")))
save("describe_like", df[["dep_delay", "arr_delay", "air_time", "distance"]].agg(
    ["count", "mean", "std", "min", "max", "median"]))
print("wrote full-file fixtures for", len(df), "rows")
