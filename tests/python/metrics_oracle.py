#!/usr/bin/env python3
"""Independent oracle for the accuracy-metrics-values table (SPEC section 6).

Written from the SPEC with numpy/pandas, not from the Swift code: it reads the backtest input
CSV (SPEC section 7 layout), computes every metric row itself and compares them, row for row,
with the CSV parts an export wrote.

    metrics_oracle.py --input forecasts.csv [--history history.csv] [--frequency D]
                      [--wape-mode absolute|normalized] [--dimensions a,b]
                      --check EXPORT_DIR [--emit OUT.csv]

Rules taken from SPEC section 6 (and the choices the engine documents for what the SPEC leaves open):
- A point counts when target_value is present and not NaN. For each metric it also needs that
  metric's forecast (its quantile for wQL, y-hat for the others) present and not NaN; otherwise the
  point is left out of that metric only. y-hat is `mean`, else `p50`; with neither, RMSE, WAPE,
  MAPE and MASE are not defined. A metric with no usable point is not defined; a window with no
  actual has every metric not defined.
- Forecast types (SPEC sections 3, 7): `mean`, `p10`/`P10`, or the quantile as Forecast's API spells
  it (`0.1`, `0.10`); a quantile outside (0, 1) or with more than two decimals is an input error.
  wQL columns follow the quantiles ascending (SPEC section 4: mean first, quantiles ascending).
- Average wQL is the mean of the row's defined wQL values.
- WAPE: sum|y - y-hat| by default (what Forecast's item-level files contain); `normalized`:
  sum|y - y-hat| / sum|y|, the numerator alone where sum|y| is 0.
- MAPE: (1/n) * sum over points with y != 0 of |(y - y-hat)/y|, n = every point with an actual (and
  y-hat); all actuals zero gives 0.0.
- MASE: a zero scale gives 0.0; no history or no pair: not defined.
- MASE scale: mean |y_t - y_(t-m)| over history pairs exactly m periods apart (M and Y by calendar,
  day clamped to the month's end) whose later point is before the window start. History rows with a
  missing/NaN target are dropped; duplicate timestamps keep the last row. Without --frequency the
  frequency is inferred per history series from its smallest positive gap, and the finest one wins.
- Summary: per metric the mean of the defined Computed values; earliest start, latest end.
- Rows: series byte-wise (item_id, then dimensions), Computed by (start, end), then Summary.

Exit status: 0 when everything matches, 1 on any mismatch, 2 on bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

NOT_DEFINED = "not defined"
FIXED_COLUMNS = ["item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time"]
# A name shaped like a forecast type: mean, p/P and a number, or a bare decimal number.
PERCENT_RE = re.compile(r"^[pP][+-]?(\d+\.?\d*|\.\d+)$")
DECIMAL_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
REL_TOL = 1e-9
ABS_TOL = 1e-12

# Frequency -> (seasonal lag m, offset of one period).
FREQUENCIES = {
    "Y": (1, pd.DateOffset(years=1)),
    "M": (12, pd.DateOffset(months=1)),
    "W": (52, pd.Timedelta(weeks=1)),
    "D": (7, pd.Timedelta(days=1)),
    "H": (24, pd.Timedelta(hours=1)),
    "30min": (2, pd.Timedelta(minutes=30)),
    "15min": (4, pd.Timedelta(minutes=15)),
    "10min": (6, pd.Timedelta(minutes=10)),
    "5min": (12, pd.Timedelta(minutes=5)),
    "1min": (60, pd.Timedelta(minutes=1)),
}


class OracleError(Exception):
    """Bad usage or input; exit status 2."""


def normalize_frequency(text: str) -> str:
    t = text.strip()
    aliases = {"1Y": "Y", "y": "Y", "1M": "M", "1W": "W", "w": "W", "1D": "D", "d": "D", "1H": "H", "h": "H",
               "1h": "H", "min": "1min", "T": "1min"}
    t = aliases.get(t, t)
    if t not in FREQUENCIES:
        raise OracleError(f"unknown frequency {text!r}; use one of {', '.join(FREQUENCIES)}")
    return t


def lag_times(times: pd.Series, freq: str) -> pd.Series:
    """Each instant minus m periods."""
    m, step = FREQUENCIES[freq]
    if freq == "M":
        return times - pd.DateOffset(months=12)
    if freq == "Y":
        return times - pd.DateOffset(years=1)
    return times - m * step


def parse_times(values: pd.Series, what: str) -> pd.Series:
    text = values.astype(str).str.strip().str.replace("Z", "", regex=False)
    try:
        return pd.to_datetime(text, format="ISO8601").astype("datetime64[ms]")
    except (ValueError, TypeError) as error:
        raise OracleError(f"{what}: unparseable timestamp ({error})") from None


def parse_numbers(values: pd.Series, what: str) -> np.ndarray:
    text = values.astype(str).str.strip()
    out = pd.to_numeric(text.where(text != "", "nan"), errors="coerce")
    bad = out.isna() & ~text.str.lower().isin(["", "nan"])
    if bad.any():
        raise OracleError(f"{what}: not a number: {text[bad].iloc[0]!r}")
    return out.to_numpy(dtype=float)


def forecast_type(column: str) -> str | None:
    """The output name (`mean`, `p10`) of an input column, None when it is not a forecast type;
    OracleError for a quantile outside (0, 1) or finer than two decimals (SPEC section 3)."""
    from decimal import Decimal
    if column == "mean":
        return "mean"
    if PERCENT_RE.match(column):
        hundredths = Decimal(column[1:])
    elif DECIMAL_RE.match(column):
        hundredths = Decimal(column) * 100
    else:
        return None
    if hundredths != hundredths.to_integral_value():
        raise OracleError(f"forecast type {column}: more than two decimals")
    if not 1 <= hundredths <= 99:
        raise OracleError(f"forecast type {column}: outside (0, 1)")
    return f"p{int(hundredths)}"


def quantile_label(name: str) -> float | None:
    """tau of an output name (`p10` -> 0.1), None for mean."""
    return None if name == "mean" else int(name[1:]) / 100


class Forecasts:
    """The backtest input: keys, windows, actuals and forecast columns."""

    def __init__(self, path: str, dimensions: list[str] | None = None):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in FIXED_COLUMNS if c not in frame.columns]
        if missing:
            raise OracleError(f"{path}: missing column(s) {missing}")
        names = {c: forecast_type(c) for c in frame.columns if c not in FIXED_COLUMNS}
        columns = {name: c for c, name in names.items() if name is not None}  # output name -> input column
        if not columns:
            raise OracleError(f"{path}: no forecast type columns")
        frame = frame.rename(columns={c: n for n, c in columns.items()})
        # Output order: mean first, then quantiles ascending.
        self.types = sorted(columns, key=lambda n: -1.0 if n == "mean" else quantile_label(n))
        if dimensions is None:
            self.dimensions = [c for c, n in names.items() if n is None]
        else:
            self.dimensions = list(dimensions)
        self.keys = ["item_id"] + self.dimensions
        self.levels = {c: quantile_label(c) for c in self.types}
        self.quantiles = [c for c in self.types if self.levels[c] is not None]
        if "mean" in self.types:
            self.point = "mean"
        else:
            self.point = next((c for c in self.types if self.levels[c] == 0.5), None)
        data = frame[self.keys].copy()
        data["_start"] = parse_times(frame["backtestwindow_start_time"], path)
        data["_end"] = parse_times(frame["backtestwindow_end_time"], path)
        data["_y"] = parse_numbers(frame["target_value"], f"{path} target_value")
        for c in self.types:
            data["_f_" + c] = parse_numbers(frame[c], f"{path} {c}")
        self.data = data

    def metric_names(self) -> list[str]:
        names = [f"wQL[{self.levels[c]!r}]" for c in self.quantiles]
        if self.quantiles:
            names.append("Average wQL")
        return names + ["RMSE", "WAPE", "MAPE", "MASE"]

    def header(self) -> list[str]:
        return self.keys + ["backtest_window", "backtestwindow_start_time", "backtestwindow_end_time"] + \
            self.metric_names()


class History:
    """Per series: sorted times and values, and the seasonal pairs for MASE."""

    def __init__(self, path: str, keys: list[str]):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for c in keys + ["timestamp", "target_value"]:
            if c not in frame.columns:
                raise OracleError(f"{path}: missing column {c}")
        data = frame[keys].copy()
        data["_t"] = parse_times(frame["timestamp"], path)
        data["_v"] = parse_numbers(frame["target_value"], f"{path} target_value")
        data = data[~np.isnan(data["_v"].to_numpy())]
        data = data.drop_duplicates(subset=keys + ["_t"], keep="last")
        self.keys = keys
        self.data = data.sort_values(keys + ["_t"]).reset_index(drop=True)

    def infer_frequency(self) -> str | None:
        best = None
        order = ["1min", "5min", "10min", "15min", "30min", "H", "D", "W", "M", "Y"]
        for _, frame in self.data.groupby(self.keys, sort=False):
            f = infer_series_frequency(frame["_t"])
            if f is not None and (best is None or order.index(f) < order.index(best)):
                best = f
        return best

    def window_scales(self, windows: pd.DataFrame, freq: str) -> np.ndarray:
        """MASE scale per row of `windows` (key columns and _start); NaN where there is no pair."""
        h = self.data
        lagged = h[self.keys].copy()
        lagged["_t"] = h["_t"]
        lagged["_lag"] = lag_times(h["_t"], freq).astype("datetime64[ms]")
        lagged["_v"] = h["_v"]
        earlier = h.rename(columns={"_t": "_lag", "_v": "_w"})
        pairs = lagged.merge(earlier, on=self.keys + ["_lag"], how="inner")
        if pairs.empty:
            return np.full(len(windows), np.nan)
        pairs["_d"] = np.abs(pairs["_v"] - pairs["_w"])
        pairs = pairs.sort_values("_t")
        pairs["_cs"] = pairs.groupby(self.keys, sort=False)["_d"].cumsum()
        pairs["_cc"] = pairs.groupby(self.keys, sort=False).cumcount() + 1
        left = windows[self.keys + ["_start"]].copy()
        left["_row"] = np.arange(len(left))
        left = left.sort_values("_start")
        # Last pair strictly before the window start (allow_exact_matches=False).
        joined = pd.merge_asof(left, pairs[self.keys + ["_t", "_cs", "_cc"]], left_on="_start", right_on="_t",
                               by=self.keys, direction="backward", allow_exact_matches=False)
        out = np.full(len(windows), np.nan)
        out[joined["_row"].to_numpy()] = (joined["_cs"] / joined["_cc"]).to_numpy()
        return out


def infer_series_frequency(times: pd.Series) -> str | None:
    t = times.drop_duplicates().sort_values().reset_index(drop=True)
    if len(t) < 2:
        return None
    gaps = t.diff().iloc[1:]
    i = int(np.argmin(gaps.to_numpy()))
    gap = gaps.iloc[i]
    earlier, later = t.iloc[i], t.iloc[i + 1]
    for name in ["1min", "5min", "10min", "15min", "30min", "H", "D", "W"]:
        if gap == FREQUENCIES[name][1]:
            return name
    one_day = pd.Timedelta(days=1)
    if 28 * one_day <= gap <= 31 * one_day and (
            earlier + pd.DateOffset(months=1) == later or later - pd.DateOffset(months=1) == earlier):
        return "M"
    if 365 * one_day <= gap <= 366 * one_day and (
            earlier + pd.DateOffset(years=1) == later or later - pd.DateOffset(years=1) == earlier):
        return "Y"
    return None


def window_sums(fc: Forecasts) -> pd.DataFrame:
    """Per (series, window): the sums every metric is a function of."""
    d = fc.data
    y = d["_y"].to_numpy()
    has = ~np.isnan(y)
    cols = {"_n": has.astype(int)}
    for j, c in enumerate(fc.quantiles):
        tau = fc.levels[c]
        q = d["_f_" + c].to_numpy()
        ok = has & ~np.isnan(q)
        with np.errstate(invalid="ignore"):
            loss = 2 * (tau * np.maximum(y - q, 0) + (1 - tau) * np.maximum(q - y, 0))
        cols[f"_ql{j}"] = np.where(ok, loss, 0.0)
        cols[f"_qy{j}"] = np.where(ok, np.abs(y), 0.0)
        cols[f"_qn{j}"] = ok.astype(int)
    if fc.point is not None:
        f = d["_f_" + fc.point].to_numpy()
        ok = has & ~np.isnan(f)
        with np.errstate(invalid="ignore", divide="ignore"):
            e = y - f
            ape = np.abs(e / y)
        cols["_pn"] = ok.astype(int)
        cols["_se"] = np.where(ok, e * e, 0.0)
        cols["_ae"] = np.where(ok, np.abs(e), 0.0)
        cols["_ay"] = np.where(ok, np.abs(y), 0.0)
        nz = ok & (y != 0)
        cols["_ape"] = np.where(nz, ape, 0.0)  # a zero actual adds 0 but counts in _pn
    sums = pd.DataFrame(cols, index=d.index)
    for k in fc.keys + ["_start", "_end"]:
        sums[k] = d[k]
    return sums.groupby(fc.keys + ["_start", "_end"], sort=False).sum().reset_index()


def window_text(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def metric_columns(sums: pd.DataFrame, fc: Forecasts, wape_mode: str, scales: np.ndarray) -> np.ndarray:
    """Computed metric values, one row per window, one column per metric name; NaN = not defined
    (a real NaN result cannot arise here: NaN actuals and forecasts are excluded)."""
    names = fc.metric_names()
    out = np.full((len(sums), len(names)), np.nan)
    has = sums["_n"].to_numpy() > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, _ in enumerate(fc.quantiles):
            num, den, cnt = (sums[f"_q{x}{j}"].to_numpy() for x in ("l", "y", "n"))
            out[:, j] = np.where(has & (cnt > 0), np.where(den == 0, num, num / den), np.nan)
        if fc.quantiles:
            q = out[:, :len(fc.quantiles)]
            defined = ~np.isnan(q)
            total = np.where(defined, q, 0).sum(axis=1)
            out[:, len(fc.quantiles)] = np.where(defined.any(axis=1), total / np.maximum(defined.sum(axis=1), 1),
                                                 np.nan)
        if fc.point is not None:
            base = len(names) - 4
            n = sums["_pn"].to_numpy()
            ok = has & (n > 0)
            se, ae, ay = sums["_se"].to_numpy(), sums["_ae"].to_numpy(), sums["_ay"].to_numpy()
            out[:, base] = np.where(ok, np.sqrt(se / n), np.nan)
            wape = ae if wape_mode == "absolute" else np.where(ay == 0, ae, ae / ay)
            out[:, base + 1] = np.where(ok, wape, np.nan)
            out[:, base + 2] = np.where(ok, sums["_ape"].to_numpy() / np.maximum(n, 1), np.nan)
            mase = np.where(scales == 0, 0.0, ae / np.maximum(n, 1) / np.where(scales == 0, 1, scales))
            out[:, base + 3] = np.where(ok & ~np.isnan(scales), mase, np.nan)
    return out


def expected_rows(fc: Forecasts, history: History | None, frequency: str | None,
                  wape_mode: str = "absolute") -> list[list]:
    """Every expected row: key values, label, start text, end text, then metric values (None = not defined)."""
    sums = window_sums(fc)
    if history is not None and frequency is None:
        frequency = history.infer_frequency()
    if history is not None and frequency is not None:
        scales = history.window_scales(sums, frequency)
    else:
        scales = np.full(len(sums), np.nan)
    names = fc.metric_names()
    values = metric_columns(sums, fc, wape_mode, scales)
    computed = sums[fc.keys + ["_start", "_end"]].copy()
    computed["_kind"] = 0
    for j, name in enumerate(names):
        computed[name] = values[:, j]
    grouped = computed.groupby(fc.keys, sort=False)
    summary = grouped.agg(_start=("_start", "min"), _end=("_end", "max"))
    for name in names:
        summary[name] = grouped[name].mean()  # skips NaN: the mean of the defined values
    summary = summary.reset_index()
    summary["_kind"] = 1
    table = pd.concat([computed, summary], ignore_index=True)
    sort_keys = []
    for k in fc.keys:
        table["_b_" + k] = table[k].map(lambda v: str(v).encode("utf-8"))
        sort_keys.append("_b_" + k)
    table = table.sort_values(sort_keys + ["_kind", "_start", "_end"], kind="stable")
    rows = []
    at = {c: i for i, c in enumerate(table.columns)}
    for r in table.itertuples(index=False, name=None):
        row = [str(r[at[k]]) for k in fc.keys]
        row += ["Summary" if r[at["_kind"]] == 1 else "Computed", window_text(r[at["_start"]]),
                window_text(r[at["_end"]])]
        row += [None if np.isnan(r[at[n]]) else float(r[at[n]]) for n in names]
        rows.append(row)
    return rows


def part_number(path: Path) -> int:
    match = re.search(r"_part(\d+)\.csv(\.gz)?$", path.name)
    return int(match.group(1)) if match else -1


def read_export(export_dir: str) -> tuple[list[list[str]], list[list[str]]]:
    """(headers per part, all data rows) of accuracy-metrics-values, parts in part-number order."""
    folder = Path(export_dir) / "accuracy-metrics-values"
    parts = sorted([p for p in folder.glob("*.csv")] + [p for p in folder.glob("*.csv.gz")],
                   key=lambda p: (part_number(p), p.name))
    if not parts:
        raise OracleError(f"{folder}: no CSV parts")
    headers, rows = [], []
    for p in parts:
        opener = gzip.open if p.name.endswith(".gz") else open
        with opener(p, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise OracleError(f"{p}: empty part (no header)")
            headers.append(header)
            rows.extend(reader)
    return headers, rows


def numbers_match(expected: float, actual: float) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return expected == actual
    return abs(expected - actual) <= max(REL_TOL * max(abs(expected), abs(actual)), ABS_TOL)


def compare(fc: Forecasts, expected: list[list], headers: list[list[str]], actual: list[list[str]]) -> list[str]:
    problems = []
    want_header = fc.header()
    for i, h in enumerate(headers):
        if h != want_header:
            problems.append(f"part {i}: header {h} != expected {want_header}")
    n_key = len(fc.keys)
    names = fc.metric_names()
    if len(actual) != len(expected):
        problems.append(f"row count: export has {len(actual)}, expected {len(expected)}")
    for i, (e, a) in enumerate(zip(expected, actual)):
        where = f"row {i + 1}: series {e[:n_key]} {e[n_key]} {e[n_key + 1]}..{e[n_key + 2]}"
        if len(a) != len(want_header):
            problems.append(f"{where}: {len(a)} fields, expected {len(want_header)}")
            continue
        if [str(v) for v in e[:n_key + 3]] != a[:n_key + 3]:
            problems.append(f"{where}: export row is {a[:n_key + 3]}")
            continue
        for j, name in enumerate(names):
            ev, av = e[n_key + 3 + j], a[n_key + 3 + j]
            if ev is None:
                if av != NOT_DEFINED:
                    problems.append(f"{where}: {name} should be '{NOT_DEFINED}', export has {av!r}")
                continue
            if av == NOT_DEFINED:
                problems.append(f"{where}: {name} expected {ev!r}, export has '{NOT_DEFINED}'")
                continue
            try:
                got = float(av)
            except ValueError:
                problems.append(f"{where}: {name} is not a number: {av!r}")
                continue
            if not numbers_match(ev, got):
                problems.append(f"{where}: {name} expected {ev!r}, export has {av}")
    return problems


def write_table(path: str, header: list[str], rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([NOT_DEFINED if v is None else (repr(v) if isinstance(v, float) else v) for v in row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="backtest forecasts CSV (forecasted-values layout)")
    parser.add_argument("--history", help="target time series CSV for MASE")
    parser.add_argument("--frequency", help="Y, M, W, D, H, 30min, 15min, 10min, 5min, 1min")
    parser.add_argument("--wape-mode", choices=["absolute", "normalized"], default="absolute")
    parser.add_argument("--dimensions", help="the dimension columns, comma-separated (default: every other column)")
    parser.add_argument("--check", metavar="EXPORT_DIR", help="export folder to verify")
    parser.add_argument("--emit", metavar="OUT_CSV", help="write the expected table here")
    args = parser.parse_args(argv)
    if not args.check and not args.emit:
        parser.error("give --check EXPORT_DIR and/or --emit OUT.csv")
    try:
        dims = None if args.dimensions is None else [d for d in args.dimensions.split(",") if d]
        fc = Forecasts(args.input, dims)
        history = History(args.history, fc.keys) if args.history else None
        frequency = normalize_frequency(args.frequency) if args.frequency else None
        expected = expected_rows(fc, history, frequency, args.wape_mode)
        if args.emit:
            write_table(args.emit, fc.header(), expected)
            print(f"wrote {len(expected)} expected rows to {args.emit}")
        if not args.check:
            return 0
        headers, actual = read_export(args.check)
    except OracleError as error:
        print(f"metrics_oracle: {error}", file=sys.stderr)
        return 2
    problems = compare(fc, expected, headers, actual)
    defined = sum(v is not None for row in expected for v in row[len(fc.keys) + 3:])
    if problems:
        for p in problems[:50]:
            print("MISMATCH " + p)
        if len(problems) > 50:
            print(f"... and {len(problems) - 50} more")
        print(f"FAIL: {len(problems)} mismatch(es) in {len(expected)} expected rows ({len(headers)} part(s))")
        return 1
    print(f"OK: {len(expected)} rows, {defined} defined metric values match "
          f"({len(headers)} part(s), {len(fc.keys)} key column(s), {len(fc.metric_names())} metrics)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
