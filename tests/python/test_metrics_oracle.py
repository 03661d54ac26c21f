"""Checks the metrics oracle against hand-computed values (pytest tests/python/test_metrics_oracle.py)."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics_oracle as oracle  # noqa: E402

HEADER = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time"


def write(path: Path, text: str) -> str:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return str(path)


def table(tmp_path: Path, text: str, history: str | None = None, frequency: str | None = None,
          wape_mode: str = "absolute") -> tuple[oracle.Forecasts, dict]:
    fc = oracle.Forecasts(write(tmp_path / "in.csv", text))
    h = oracle.History(write(tmp_path / "h.csv", history), fc.keys) if history else None
    rows = oracle.expected_rows(fc, h, frequency, wape_mode)
    names = fc.metric_names()
    n = len(fc.keys)
    by_row = {}
    for r in rows:
        by_row[(tuple(r[:n]), r[n], r[n + 1], r[n + 2])] = dict(zip(names, r[n + 3:]))
    return fc, by_row


def close(a, b) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


BASIC = f"""
{HEADER},mean,p10,p90
a,2024-01-11,10,2024-01-11,2024-01-13,12,8,13
a,2024-01-12 00:00:00,20,2024-01-11T00:00:00,2024-01-13,15,14,25
a,2024-01-13T00:00:00Z,0,2024-01-11,2024-01-13T00:00:00Z,1,0,2
"""


def test_every_metric_on_one_window(tmp_path):
    fc, rows = table(tmp_path, BASIC)
    assert fc.metric_names() == ["wQL[0.1]", "wQL[0.9]", "Average wQL", "RMSE", "WAPE", "MAPE", "MASE"]
    c = rows[(("a",), "Computed", "2024-01-11T00:00:00", "2024-01-13T00:00:00")]
    assert close(c["wQL[0.1]"], 1.6 / 30)  # under-forecast 2 + 6 → 2·0.1·8
    assert close(c["wQL[0.9]"], 2.0 / 30)  # over-forecast 3 + 5 + 2 → 2·0.1·10
    assert close(c["Average wQL"], 0.06)
    assert close(c["RMSE"], math.sqrt(10))  # errors −2, 5, −1
    assert close(c["WAPE"], 8)  # absolute error sum by default (SPEC section 6)
    assert close(c["MAPE"], 0.45 / 3)  # y = 0 adds nothing but counts
    assert c["MASE"] is None
    s = rows[(("a",), "Summary", "2024-01-11T00:00:00", "2024-01-13T00:00:00")]
    assert s == c


def test_normalized_wape(tmp_path):
    _, rows = table(tmp_path, BASIC, wape_mode="normalized")
    assert close(rows[(("a",), "Computed", "2024-01-11T00:00:00", "2024-01-13T00:00:00")]["WAPE"], 8 / 30)


def test_zero_actual_sum_and_no_nonzero_actual(tmp_path):
    _, rows = table(tmp_path, f"""
{HEADER},mean,p50
a,2024-01-01,0,2024-01-01,2024-01-02,1,0.5
a,2024-01-02,0,2024-01-01,2024-01-02,-2,0
""")
    c = rows[(("a",), "Computed", "2024-01-01T00:00:00", "2024-01-02T00:00:00")]
    assert close(c["wQL[0.5]"], 0.5)
    assert close(c["WAPE"], 3)
    assert close(c["RMSE"], math.sqrt(2.5))
    assert c["MAPE"] == 0.0  # all actuals zero: 0.0, as in real exports


def test_window_without_actuals_and_summary(tmp_path):
    _, rows = table(tmp_path, BASIC + """
a,2024-01-21,,2024-01-21,2024-01-22,1,1,1
a,2024-01-22,NaN,2024-01-21,2024-01-22,1,1,1
a,2024-01-31,4,2024-01-31,2024-02-01,2,4,4
a,2024-02-01,0,2024-01-31,2024-02-01,1,0,0
""")
    keys = list(rows)
    assert [k[1:] for k in keys] == [
        ("Computed", "2024-01-11T00:00:00", "2024-01-13T00:00:00"),
        ("Computed", "2024-01-21T00:00:00", "2024-01-22T00:00:00"),
        ("Computed", "2024-01-31T00:00:00", "2024-02-01T00:00:00"),
        ("Summary", "2024-01-11T00:00:00", "2024-02-01T00:00:00"),
    ]
    assert all(v is None for v in rows[keys[1]].values())
    w3 = rows[keys[2]]
    assert close(w3["RMSE"], math.sqrt(2.5))
    assert close(w3["MAPE"], 0.25)
    s = rows[keys[3]]
    assert close(s["RMSE"], (math.sqrt(10) + math.sqrt(2.5)) / 2)
    assert close(s["Average wQL"], 0.03)
    assert s["MASE"] is None


def test_negative_forecasts_and_p50_as_point_forecast(tmp_path):
    fc, rows = table(tmp_path, f"""
{HEADER},p90,p50
a,2024-01-01,10,2024-01-01,2024-01-02,14,8
a,2024-01-02,10,2024-01-01,2024-01-02,12,13
b,2024-01-01,5,2024-01-01,2024-01-01,-5,-5
""")
    assert fc.point == "p50"
    a = rows[(("a",), "Computed", "2024-01-01T00:00:00", "2024-01-02T00:00:00")]
    assert close(a["RMSE"], math.sqrt(6.5))
    assert close(a["WAPE"], 5)
    assert close(a["wQL[0.9]"], 1.2 / 20)
    assert close(a["wQL[0.5]"], 0.25)
    b = rows[(("b",), "Computed", "2024-01-01T00:00:00", "2024-01-01T00:00:00")]
    assert close(b["RMSE"], 10)
    assert close(b["WAPE"], 10)
    assert close(b["MAPE"], 2)
    assert close(b["wQL[0.5]"], 2)


def test_mean_only_and_quantiles_only(tmp_path):
    fc, _ = table(tmp_path, f"{HEADER},mean\na,2024-01-01,4,2024-01-01,2024-01-01,3")
    assert fc.metric_names() == ["RMSE", "WAPE", "MAPE", "MASE"]
    fc, rows = table(tmp_path, f"{HEADER},p10,p90\na,2024-01-01,4,2024-01-01,2024-01-01,3,")
    c = next(iter(rows.values()))
    assert close(c["wQL[0.1]"], 0.05)
    assert c["wQL[0.9]"] is None  # its only forecast is missing
    assert close(c["Average wQL"], 0.05)
    assert c["RMSE"] is None and c["MASE"] is None


HISTORY_VALUES = [1, 3, 2, None, 4, 6, 8, 2, 2, 9, 5, 4, 10, 7, 100, 3]


def history_csv(values, item="a") -> str:
    lines = ["item_id,timestamp,target_value"]
    for day, v in enumerate(values):
        lines.append(f"{item},2024-01-{day + 1:02d},{'' if v is None else v}")
    return "\n".join(lines)


MASE_INPUT = f"""
{HEADER},mean
a,2024-01-15,10,2024-01-15,2024-01-16,12
a,2024-01-16,20,2024-01-15,2024-01-16,15
a,2024-01-17,4,2024-01-17,2024-01-17,5
"""


@pytest.mark.parametrize("frequency", ["D", None])
def test_mase_daily_history(tmp_path, frequency):
    _, rows = table(tmp_path, MASE_INPUT, history=history_csv(HISTORY_VALUES), frequency=frequency)
    keys = list(rows)
    # Window 1: pairs t−7 for t = day 7…13 except day 10 (day 3 missing): 14 / 6 → 3.5 / (14/6).
    assert close(rows[keys[0]]["MASE"], 1.5)
    # Window 2 adds |100 − 2| and |3 − 2|: 113 / 8.
    assert close(rows[keys[1]]["MASE"], 8 / 113)
    assert close(rows[keys[2]]["MASE"], (1.5 + 8 / 113) / 2)


def test_mase_zero_scale_no_pairs_no_series(tmp_path):
    _, rows = table(tmp_path, MASE_INPUT, history=history_csv([5] * 14), frequency="D")
    assert all(r["MASE"] == 0.0 for r in rows.values())  # zero scale: 0.0 (SPEC section 6)
    assert all(r["RMSE"] is not None for r in rows.values())
    _, rows = table(tmp_path, MASE_INPUT, history=history_csv([1, 2, 3, 4, 5, 6]), frequency="D")
    assert all(r["MASE"] is None for r in rows.values())
    _, rows = table(tmp_path, MASE_INPUT, history=history_csv(HISTORY_VALUES, item="other"), frequency="D")
    assert all(r["MASE"] is None for r in rows.values())


def test_frequency_inference():
    import pandas as pd
    month_ends = pd.Series(pd.to_datetime(["2023-01-31", "2023-02-28", "2023-03-31"]))
    assert oracle.infer_series_frequency(month_ends) == "M"
    assert oracle.infer_series_frequency(pd.Series(pd.to_datetime(["2023-01-01", "2023-01-03"]))) is None
    assert oracle.infer_series_frequency(pd.Series(pd.to_datetime(["2023-01-01", "2023-01-08"]))) == "W"
    assert oracle.normalize_frequency("1D") == "D"


def test_series_order_is_bytewise_with_dimensions(tmp_path):
    fc, rows = table(tmp_path, """
item_id,region,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean
\u00e9,x,2024-01-01,1,2024-01-01,2024-01-01,1
b,x,2024-01-01,1,2024-01-01,2024-01-01,1
a,y,2024-01-01,1,2024-01-01,2024-01-01,1
a,x,2024-01-01,1,2024-01-01,2024-01-01,1
B,x,2024-01-01,1,2024-01-01,2024-01-01,1
""")
    assert fc.keys == ["item_id", "region"]
    order = [k[0] for k in rows if k[1] == "Computed"]
    assert order == [("B", "x"), ("a", "x"), ("a", "y"), ("b", "x"), ("\u00e9", "x")]


def export_dir(tmp_path: Path, fc, rows, split: int) -> Path:
    """Writes `rows` as an export would (Java-style 'not defined'), in two parts."""
    folder = tmp_path / "export" / "accuracy-metrics-values"
    folder.mkdir(parents=True)
    for part, chunk in enumerate([rows[:split], rows[split:]]):
        with open(folder / f"job_2024-01-01T00-00-00Z_part{part}.csv", "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(fc.header())
            for r in chunk:
                writer.writerow(["not defined" if v is None else v for v in r])
    return tmp_path / "export"


def test_check_accepts_a_matching_export_and_names_mismatches(tmp_path, capsys):
    text = BASIC + "a,2024-01-21,,2024-01-21,2024-01-22,1,1,1\nb,2024-01-11,3,2024-01-11,2024-01-11,2,2,4\n"
    src = write(tmp_path / "in.csv", text)
    fc = oracle.Forecasts(src)
    rows = oracle.expected_rows(fc, None, None, "absolute")
    # Values rounded to 12 significant digits still match (relative 1e-9).
    rounded = [[float(f"{v:.12g}") if isinstance(v, float) else v for v in r] for r in rows]
    ok = export_dir(tmp_path / "ok", fc, rounded, split=3)
    assert oracle.main(["--input", src, "--check", str(ok)]) == 0
    assert "OK: 5 rows" in capsys.readouterr().out

    wrong = [list(r) for r in rows]
    wrong[0][fc.header().index("RMSE")] *= 1 + 1e-6
    bad = export_dir(tmp_path / "bad", fc, wrong, split=2)
    assert oracle.main(["--input", src, "--check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "['a'] Computed 2024-01-11T00:00:00..2024-01-13T00:00:00: RMSE expected" in out

    swapped = [list(r) for r in rows]
    swapped[1][fc.header().index("WAPE")] = 1.0  # window without actuals
    bad2 = export_dir(tmp_path / "bad2", fc, swapped, split=2)
    assert oracle.main(["--input", src, "--check", str(bad2)]) == 1
    assert "WAPE should be 'not defined'" in capsys.readouterr().out

    missing = export_dir(tmp_path / "missing", fc, rows[:-1], split=2)
    assert oracle.main(["--input", src, "--check", str(missing)]) == 1
    assert "row count" in capsys.readouterr().out

    out_csv = tmp_path / "expected.csv"
    assert oracle.main(["--input", src, "--emit", str(out_csv)]) == 0
    lines = out_csv.read_text().splitlines()
    assert lines[0] == ("item_id,backtest_window,backtestwindow_start_time,backtestwindow_end_time,"
                        "wQL[0.1],wQL[0.9],Average wQL,RMSE,WAPE,MAPE,MASE")
    assert len(lines) == 6 and "not defined" in lines[2]


def test_mase_monthly_history_steps_by_calendar(tmp_path):
    import calendar
    lines = ["item_id,timestamp,target_value"]
    values = []
    for i in range(24):
        year, month = 2022 + i // 12, i % 12 + 1
        v = i * i % 7
        values.append(v)
        lines.append(f"a,{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d},{v}")
    scale = sum(abs(values[i] - values[i - 12]) for i in range(12, 24)) / 12
    _, rows = table(tmp_path, f"{HEADER},mean\na,2024-01-31,10,2024-01-31,2024-01-31,7", history="\n".join(lines))
    assert close(next(iter(rows.values()))["MASE"], 3 / scale)


def test_forecast_type_spellings_and_output_order(tmp_path):
    fc, rows = table(tmp_path, f"""
{HEADER},0.9,mean,P10,0.50
a,2024-01-01,10,2024-01-01,2024-01-02,14,12,8,13
a,2024-01-02,10,2024-01-01,2024-01-02,12,9,9,8
""")
    assert fc.types == ["mean", "p10", "p50", "p90"]
    assert fc.metric_names() == ["wQL[0.1]", "wQL[0.5]", "wQL[0.9]", "Average wQL", "RMSE", "WAPE", "MAPE", "MASE"]
    c = next(iter(rows.values()))
    assert close(c["RMSE"], math.sqrt((4 + 1) / 2))  # y-hat is mean, not p50


@pytest.mark.parametrize("name", ["p50.5", "p-5", "0.005", "p0", "p100", "1.5"])
def test_invalid_quantile_is_an_input_error(tmp_path, name):
    with pytest.raises(oracle.OracleError):
        table(tmp_path, f"{HEADER},{name}\na,2024-01-01,1,2024-01-01,2024-01-01,1")
