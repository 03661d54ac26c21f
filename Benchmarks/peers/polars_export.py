#!/usr/bin/env python3
"""The whole backtest export job written with polars, as a peer for `backtest-export export`.

  polars_export.py INPUT.csv|INPUT.parquet DESTINATION [csv|parquet]

Reads the forecasted-values CSV, sorts it into the export's order (series, window start,
timestamp), computes per series and window wQL per quantile, Average wQL, RMSE, WAPE (the
SPEC's default for the rows: the absolute error sum) and MAPE (MASE needs a history: not
defined), plus one Summary row per series (mean of its Computed rows, earliest start, latest
end), and writes
DESTINATION/forecasted-values/bench_2024-03-07T09-05-00Z_part0.csv and
DESTINATION/accuracy-metrics-values/bench_2024-03-07T09-05-00Z_part0.csv with the SPEC's columns,
timestamps `yyyy-MM-ddTHH:mm:ssZ`, window times `yyyy-MM-ddTHH:mm:ss`, `not defined` for
missing metrics (with `parquet`: the same tables as snappy Parquet, times as timestamps, nulls
for missing metrics). Window times may have a trailing `Z` or not. Differences from backtest-export kept on purpose (they would only cost polars
time): numbers are Python's shortest repr (`1e-05` where Java writes `1.0E-5`), a single part
per table, no _CHECK / _manifest.json / _SUCCESS, no temporary-name-then-rename, a window with no
actual at all gets no row. POLARS_MAX_THREADS sets the threads.
"""
import os
import sys

import polars as pl

inp, dest = sys.argv[1], sys.argv[2]
fmt = sys.argv[3] if len(sys.argv) > 3 else "csv"
name = f"bench_2024-03-07T09-05-00Z_part0.{fmt}"
TS = "%Y-%m-%dT%H:%M:%S"

times = ["timestamp", "backtestwindow_start_time", "backtestwindow_end_time"]
if inp.endswith(".parquet"):
    # Parquet input (timestamps already typed): the times as naive milliseconds, as from CSV.
    df = pl.read_parquet(inp)
    df = df.with_columns([pl.col(c).dt.replace_time_zone(None).dt.cast_time_unit("ms") for c in times])
else:
    df = pl.read_csv(inp, schema_overrides={"item_id": pl.String})
    df = df.with_columns([pl.col(c).str.strip_chars_end("Z").str.to_datetime(TS, time_unit="ms") for c in times])
fcols = [c for c in df.columns if c == "mean" or (c[0] in "pP" and c[1:].isdigit())]
quantiles = [c for c in fcols if c != "mean"]
point = "mean" if "mean" in fcols else "p50"
df = df.sort(["item_id", "backtestwindow_start_time", "timestamp"])

y = pl.col("target_value")
yhat = pl.col(point)
err = y - yhat
key = ["item_id", "backtestwindow_start_time", "backtestwindow_end_time"]


def short(q):
    h = int(q[1:])
    return f"0.{h // 10}" if h % 10 == 0 else (f"0.0{h}" if h < 10 else f"0.{h}")


aggs = [y.abs().sum().alias("_sy"), err.abs().sum().alias("_ae"), (err * err).mean().sqrt().alias("RMSE"),
        (err / y).abs().filter(y != 0).mean().alias("MAPE")]
for q in quantiles:
    tau = int(q[1:]) / 100
    c = pl.col(q)
    aggs.append((2 * (tau * (y - c).clip(lower_bound=0) + (1 - tau) * (c - y).clip(lower_bound=0))).sum()
                .alias(f"_n{q}"))
w = (df.lazy().filter(y.is_not_null() & y.is_not_nan()).group_by(key).agg(aggs)
     .with_columns(
         [pl.when(pl.col("_sy") == 0).then(pl.col(f"_n{q}")).otherwise(pl.col(f"_n{q}") / pl.col("_sy"))
          .alias(f"wQL[{short(q)}]") for q in quantiles]
         + [pl.col("_ae").alias("WAPE")])
     )
wql = [f"wQL[{short(q)}]" for q in quantiles]
metric_cols = wql + (["Average wQL"] if wql else []) + ["RMSE", "WAPE", "MAPE", "MASE"]
if wql:
    w = w.with_columns(pl.mean_horizontal(wql).alias("Average wQL"))
w = w.with_columns(pl.lit(None, dtype=pl.Float64).alias("MASE"), pl.lit("Computed").alias("backtest_window"),
                   pl.lit(0).alias("_order"))
summary = (w.group_by("item_id")
           .agg([pl.col("backtestwindow_start_time").min(), pl.col("backtestwindow_end_time").max()]
                + [pl.col(c).mean() for c in metric_cols])
           .with_columns(pl.lit("Summary").alias("backtest_window"), pl.lit(1).alias("_order")))
cols = ["item_id", "backtest_window", "backtestwindow_start_time", "backtestwindow_end_time"] + metric_cols
metrics = (pl.concat([w.select(cols + ["_order"]), summary.select(cols + ["_order"])])
           .sort(["item_id", "_order", "backtestwindow_start_time", "backtestwindow_end_time"]))
if fmt == "csv":
    metrics = metrics.select([pl.col(c).dt.strftime(TS) if c.startswith("backtestwindow_") else pl.col(c)
                              for c in cols])
metrics = metrics.select(cols).collect()

for folder in ("forecasted-values", "accuracy-metrics-values"):
    os.makedirs(os.path.join(dest, folder), exist_ok=True)
if fmt == "parquet":
    df.write_parquet(os.path.join(dest, "forecasted-values", name), compression="snappy")
    metrics.write_parquet(os.path.join(dest, "accuracy-metrics-values", name), compression="snappy")
else:
    out = df.with_columns([pl.col(c).dt.strftime(TS) for c in times[1:]])
    out.write_csv(os.path.join(dest, "forecasted-values", name), datetime_format=TS + "Z")
    metrics.write_csv(os.path.join(dest, "accuracy-metrics-values", name), null_value="not defined")
