"""End-to-end: exactly Forecast's files, and never a silently wrong export (issue #11).

Column order and spellings of forecast types, the `timestamp` format, the metric rules of SPEC §6
through the CLI, value checks with file:line:column, option checks, and the publishing rules of
SPEC §2 (re-runs, --if-exists, the destination lock, concurrent runs). CSV and Parquet."""
import csv
import fcntl
import hashlib
import io
import json
import os
import re
import subprocess
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from exportcheck import FOLDERS, read_csv_text, read_parts

JOB = "Fidelity_Job"
TS = "2024-03-07T09:05:00Z"
FIXED = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time"


def export(cli, src, dest, *args, check=True, job=JOB, ts=TS):
    return cli.run("export", "--job-name", job, "--input", src, "--destination", dest, "--export-timestamp", ts,
                   "--quiet", *args, check=check)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def only_part(dest: Path, folder: str, ext="csv") -> Path:
    [p] = sorted((dest / folder).glob(f"*.{ext}"))
    return p


def csv_rows(path: Path):
    return list(csv.reader(io.StringIO(read_csv_text(path), newline="")))


# --- Forecast's layout -------------------------------------------------------------------------

# A real Forecast export's forecasted-values part starts like this (research/forecast-spec.md).
FORECAST_HEADER = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean,p65,p90"


def forecast_like_input(path: Path) -> Path:
    """Forecast types in another order and spelled as Forecast's API does (0.65), hourly rows."""
    lines = [FIXED + ",p90,0.65,mean"]
    for item in ("item_0", "item_1"):
        for h in range(15, 18):
            lines.append(f"{item},2017-06-19 {h}:00:00,{h}.5,2017-06-19 00:00:00,2017-06-21 23:00:00,"
                         f"{h + 2}.0,{h + 1}.25,{h}.75")
    return write(path, "\n".join(lines) + "\n")


def test_rebuilds_a_real_forecast_header_and_first_rows(cli, tmp_path):
    src = forecast_like_input(tmp_path / "in.csv")
    export(cli, src, tmp_path / "out")
    text = read_csv_text(only_part(tmp_path / "out", "forecasted-values")).split("\n")
    assert text[0] == FORECAST_HEADER
    assert text[1] == "item_0,2017-06-19T15:00:00.000Z,15.5,2017-06-19T00:00:00,2017-06-21T23:00:00,15.75,16.25,17.0"
    assert text[2] == "item_0,2017-06-19T16:00:00.000Z,16.5,2017-06-19T00:00:00,2017-06-21T23:00:00,16.75,17.25,18.0"
    metrics = read_csv_text(only_part(tmp_path / "out", "accuracy-metrics-values")).split("\n")
    assert metrics[0] == ("item_id,backtest_window,backtestwindow_start_time,backtestwindow_end_time,"
                          "wQL[0.65],wQL[0.9],Average wQL,RMSE,WAPE,MAPE,MASE")
    # Parquet: the same column order.
    export(cli, src, tmp_path / "pq", "--format", "parquet")
    table = pq.read_table(only_part(tmp_path / "pq", "forecasted-values", "parquet"))
    assert table.column_names == FORECAST_HEADER.split(",")
    assert table.column("mean").to_pylist()[:2] == [15.75, 16.75]
    assert table.column("p90").to_pylist()[:2] == [17.0, 18.0]
    manifest = json.loads((tmp_path / "pq" / "_manifest.json").read_text())
    assert manifest["forecast_types"] == ["mean", "p65", "p90"]


def test_timestamps_keep_milliseconds_and_windows_and_manifest_print_as_csv(cli, tmp_path):
    src = write(tmp_path / "in.csv", FIXED + ",mean\n"
                "a,2024-01-01T10:00:00.250Z,1,2024-01-01,2024-01-02T00:00:00Z,2\n")
    result = export(cli, src, tmp_path / "out", "--json")
    rows = csv_rows(only_part(tmp_path / "out", "forecasted-values"))
    assert rows[1][1:5] == ["2024-01-01T10:00:00.250Z", "1.0", "2024-01-01T00:00:00", "2024-01-02T00:00:00"]
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    window = manifest["predictor_metrics"]["windows"][0]
    assert (window["start"], window["end"]) == ("2024-01-01T00:00:00", "2024-01-02T00:00:00")
    data = json.loads(result.stdout)["data"]
    assert data["predictor_metrics"]["windows"][0]["start"] == "2024-01-01T00:00:00"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_forecast_type_spellings_map_to_output_names(cli, tmp_path, fmt):
    src = write(tmp_path / "in.csv", FIXED + ",0.9,P10,mean,0.50\n"
                "a,2024-01-01,10,2024-01-01,2024-01-01,13,8,11,10\n")
    result = export(cli, src, tmp_path / "out", "--format", fmt, "--json")
    schema = json.loads(result.stdout)["data"]["schema"]
    assert schema["forecast_types"] == ["mean", "p10", "p50", "p90"]
    ext = "parquet" if fmt == "parquet" else "csv"
    part = only_part(tmp_path / "out", "forecasted-values", ext)
    if fmt == "csv":
        header, values = csv_rows(part)[:2]
        assert header[5:] == ["mean", "p10", "p50", "p90"]
        assert values[5:] == ["11.0", "8.0", "10.0", "13.0"]
    else:
        table = pq.read_table(part)
        assert table.column_names[5:] == ["mean", "p10", "p50", "p90"]
        assert [table.column(n)[0].as_py() for n in table.column_names[5:]] == [11.0, 8.0, 10.0, 13.0]


@pytest.mark.parametrize("name", ["p50.5", "p-5", "0.005", "p100", "1.5"])
def test_a_bad_quantile_is_an_input_error_with_its_column(cli, tmp_path, name):
    src = write(tmp_path / "in.csv", FIXED + f",mean,{name}\na,2024-01-01,1,2024-01-01,2024-01-01,1,1\n")
    result = export(cli, src, tmp_path / "out", "--json", check=False)
    assert result.returncode == 2
    err = json.loads(result.stdout)["error"]
    assert err["code"] == "INPUT_ERROR"
    assert f"{src}:1:7" in err["message"] and name in err["message"]
    assert not (tmp_path / "out" / "forecasted-values").exists()


# --- Schema: --dimensions and header rules -----------------------------------------------------

def test_declared_dimensions_and_the_schema_in_summary_and_json(cli, tmp_path):
    src = write(tmp_path / "in.csv", "region,item_id,timestamp,target_value,backtestwindow_start_time,"
                "backtestwindow_end_time,store,mean\n"
                "eu,a,2024-01-01,1,2024-01-01,2024-01-01,s1,2\n")
    result = export(cli, src, tmp_path / "out", "--dimensions", "store,region", "--json")
    schema = json.loads(result.stdout)["data"]["schema"]
    assert schema == {"dimensions": ["store", "region"], "dimensions_source": "declared", "forecast_types": ["mean"]}
    rows = csv_rows(only_part(tmp_path / "out", "forecasted-values"))
    assert rows[0][:3] == ["item_id", "store", "region"] and rows[1][:3] == ["a", "s1", "eu"]
    # Without --dimensions: detected, in file order, and printed in the text summary.
    plain = cli.run("export", "--job-name", JOB, "--input", src, "--destination", tmp_path / "o2",
                    "--export-timestamp", TS)
    assert "schema: dimensions region, store (detected); forecast types mean" in plain.stderr
    # A column that is not declared is an error naming it; so is a declared one that is missing.
    bad = export(cli, src, tmp_path / "o3", "--dimensions", "store", "--json", check=False)
    assert bad.returncode == 2 and f"{src}:1:1" in json.loads(bad.stdout)["error"]["message"]
    missing = export(cli, src, tmp_path / "o4", "--dimensions", "store,region,channel", "--json", check=False)
    assert missing.returncode == 2 and "'channel'" in json.loads(missing.stdout)["error"]["message"]


@pytest.mark.parametrize("header,column,rule", [
    (FIXED + ", mean", 6, "leading or trailing spaces"),
    (FIXED + ",mean,store ", 7, "leading or trailing spaces"),
    (FIXED + ",mean,", 7, "Empty column name"),
    (FIXED + ",mean,mean", 7, "Duplicate column name"),
    (FIXED + ",p10,0.1", 7, "appears twice"),
])
def test_header_name_errors_name_the_column(cli, tmp_path, header, column, rule):
    fields = header.count(",") + 1
    src = write(tmp_path / "in.csv", header + "\n" + ",".join(["1"] * fields) + "\n")
    result = export(cli, src, tmp_path / "out", check=False)
    assert result.returncode == 2
    assert f"{src}:1:{column}" in result.stderr and rule in result.stderr, result.stderr


def test_field_count_errors_name_the_column(cli, tmp_path):
    src = write(tmp_path / "in.csv", FIXED + ",mean\na,2024-01-01,1,2024-01-01\n")
    result = export(cli, src, tmp_path / "out", check=False)
    assert result.returncode == 2
    assert f"{src}:2:5 (column 'backtestwindow_end_time')" in result.stderr, result.stderr


# --- Value checks ------------------------------------------------------------------------------

GOOD_ROW = "a,2024-01-02,1,2024-01-01,2024-01-05,2"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("row,column,rule", [
    ("a,2024-01-09,1,2024-01-01,2024-01-05,2", 2, "outside its row's backtest window"),
    ("a,2023-12-31T23:59:59,1,2024-01-01,2024-01-05,2", 2, "outside its row's backtest window"),
    ("a,2024-01-02,1,2024-01-05,2024-01-01,2", 5, "is before backtestwindow_start_time"),
    ("a,0999-01-02,1,2024-01-01,2024-01-05,2", 2, "out of range 1000...9999"),
    ("a,2024-01-02,1e400,2024-01-01,2024-01-05,2", 3, "overflows to infinity"),
    ("a,2024-01-02,1,2024-01-01,2024-01-05,-1e999", 6, "overflows to infinity"),
])
def test_bad_values_are_rejected_with_file_line_column_and_rule(cli, tmp_path, fmt, row, column, rule):
    rows = "".join(GOOD_ROW.replace("a,", f"s{i},") + "\n" for i in range(300))
    src = write(tmp_path / "in.csv", FIXED + ",mean\n" + rows + row + "\n")
    dest = tmp_path / "out"
    result = export(cli, src, dest, "--format", fmt, "--max-part-rows", "10", check=False)
    assert result.returncode == 2, result.stderr
    assert f"{src}:302:{column}" in result.stderr and rule in result.stderr, result.stderr
    assert not (dest / "_SUCCESS").exists()
    for folder in FOLDERS:
        assert not (dest / folder).exists() or not [p for p in (dest / folder).iterdir()]


def test_infinity_and_nan_literals_stay_accepted(cli, tmp_path):
    src = write(tmp_path / "in.csv", FIXED + ",mean,p50\n"
                "a,2024-01-02,Infinity,2024-01-01,2024-01-05,-Infinity,NaN\n")
    export(cli, src, tmp_path / "out")
    rows = csv_rows(only_part(tmp_path / "out", "forecasted-values"))
    assert rows[1][2] == "Infinity" and rows[1][5:] == ["-Infinity", "NaN"]


@pytest.mark.parametrize("option,value", [
    ("--max-part-rows", "0"), ("--max-part-rows", "-5"), ("--max-part-bytes", "0"), ("--max-part-bytes", "-1"),
    ("--max-part-bytes", "-1MiB"), ("--memory-limit", "0"), ("--memory-limit", "-64KiB"), ("--if-exists", "maybe"),
])
def test_bad_options_name_the_option(cli, tmp_path, option, value):
    src = write(tmp_path / "in.csv", FIXED + ",mean\n" + GOOD_ROW + "\n")
    result = export(cli, src, tmp_path / "out", option, value, "--json", check=False)
    assert result.returncode == 2
    err = json.loads(result.stdout)["error"]
    assert err["code"] == "VALIDATION_ERROR" and option in err["message"] and "Missing value" not in err["message"]
    assert not (tmp_path / "out").exists()


def test_an_empty_destination_is_a_validation_error(cli, tmp_path):
    src = write(tmp_path / "in.csv", FIXED + ",mean\n" + GOOD_ROW + "\n")
    result = cli.run("export", "--job-name", JOB, "--input", src, "--destination", "", "--json", check=False,
                     env={**os.environ})
    assert result.returncode == 2
    assert "--destination" in json.loads(result.stdout)["error"]["message"]


# --- Metrics rules through the CLI -------------------------------------------------------------

def metric_rows(dest: Path):
    rows = csv_rows(only_part(dest, "accuracy-metrics-values"))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_wape_mape_and_mase_follow_spec_6(cli, tmp_path, fmt):
    src = write(tmp_path / "in.csv", FIXED + ",mean\n"
                # a: y 10, 0 ; y-hat 12, 1 -> |e| 2, 1; MAPE (0.2 + 0) / 2
                "a,2024-01-15,10,2024-01-15,2024-01-16,12\n"
                "a,2024-01-16,0,2024-01-15,2024-01-16,1\n"
                # z: every actual zero -> MAPE 0.0; its history is flat -> MASE 0.0
                "z,2024-01-15,0,2024-01-15,2024-01-16,3\n"
                "z,2024-01-16,0,2024-01-15,2024-01-16,0\n")
    hist = tmp_path / "h.csv"
    lines = ["item_id,timestamp,target_value"]
    for d in range(1, 15):
        lines += [f"a,2024-01-{d:02d},{d}", f"z,2024-01-{d:02d},5"]
    write(hist, "\n".join(lines) + "\n")
    export(cli, src, tmp_path / "abs", "--history", hist, "--frequency", "D")
    export(cli, src, tmp_path / "norm", "--history", hist, "--frequency", "D", "--wape-mode", "normalized")
    a, z = [r for r in metric_rows(tmp_path / "abs") if r["backtest_window"] == "Computed"]
    assert float(a["WAPE"]) == 3.0 and float(a["MAPE"]) == 0.1
    assert float(a["MASE"]) == pytest.approx(1.5 / 7)  # scale: |y_t - y_(t-7)| = 7
    assert z["MAPE"] == "0.0" and z["MASE"] == "0.0" and float(z["WAPE"]) == 3.0
    a2, z2 = [r for r in metric_rows(tmp_path / "norm") if r["backtest_window"] == "Computed"]
    assert float(a2["WAPE"]) == 0.3 and float(z2["WAPE"]) == 3.0
    # Predictor-level WAPE stays normalized whatever the mode: pooled |e| 6 over pooled |y| 10.
    for out in ("abs", "norm"):
        pooled = json.loads((tmp_path / out / "_manifest.json").read_text())["predictor_metrics"]
        assert pooled["windows"][0]["metrics"]["WAPE"] == pytest.approx(0.6)
    if fmt == "parquet":
        export(cli, src, tmp_path / "pq", "--history", hist, "--frequency", "D", "--format", "parquet")
        t = pq.read_table(only_part(tmp_path / "pq", "accuracy-metrics-values", "parquet")).to_pylist()
        assert [r["WAPE"] for r in t if r["backtest_window"] == "Computed"] == [3.0, 3.0]
        assert [r["MASE"] for r in t if r["backtest_window"] == "Computed"][1] == 0.0


# --- Publishing --------------------------------------------------------------------------------

def sample(cli, path, *args):
    cli.run("sample", "--output", path, *args)
    return path


def manifest_parts(dest: Path):
    manifest = json.loads((dest / "_manifest.json").read_text())
    return {p["key"]: p for t in manifest["tables"].values() for p in t["parts"]}


def folder_parts(dest: Path):
    return {f"{folder}/{p.name}" for folder in FOLDERS if (dest / folder).exists()
            for p in (dest / folder).iterdir() if not p.name.startswith(".")}


def assert_consistent(dest: Path):
    """When _SUCCESS exists: the folders hold exactly the manifest's parts, each with its bytes."""
    if not (dest / "_SUCCESS").exists():
        return False
    listed = manifest_parts(dest)
    assert folder_parts(dest) == set(listed)
    for key, entry in listed.items():
        assert hashlib.sha256((dest / key).read_bytes()).hexdigest() == entry["sha256"], key
    return True


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_rerun_leaves_exactly_the_manifests_parts(cli, tmp_path, fmt):
    big = sample(cli, tmp_path / "big.csv", "--items", 200, "--windows", 2)
    small = sample(cli, tmp_path / "small.csv", "--items", 15, "--windows", 2)
    dest = tmp_path / "out"
    export(cli, big, dest, "--format", fmt, "--max-part-bytes", "8KiB")
    first = folder_parts(dest)
    assert len(first) > 10 and assert_consistent(dest)
    export(cli, small, dest, "--format", fmt, "--max-part-bytes", "20KiB")
    assert assert_consistent(dest)
    assert len(folder_parts(dest)) < len(first)


def test_if_exists_error_overwrite_append(cli, tmp_path):
    src = sample(cli, tmp_path / "in.csv", "--items", 10)
    dest = tmp_path / "out"
    export(cli, src, dest)
    before = {p: (dest / p).read_bytes() for p in folder_parts(dest) | {"_SUCCESS", "_manifest.json"}}
    other = "2024-04-01T00:00:00Z"
    refused = export(cli, src, dest, "--json", ts=other, check=False)
    assert refused.returncode == 2
    err = json.loads(refused.stdout)["error"]
    assert err["code"] == "ALREADY_EXISTS" and "--if-exists" in err["message"]
    assert {p: (dest / p).read_bytes() for p in before} == before and folder_parts(dest) == set(before) - {
        "_SUCCESS", "_manifest.json"}
    # append keeps the first export's parts next to the new ones, as Forecast does.
    export(cli, src, dest, "--if-exists", "append", ts=other)
    assert folder_parts(dest) == set(manifest_parts(dest)) | (set(before) - {"_SUCCESS", "_manifest.json"})
    # overwrite removes every other export's parts first.
    export(cli, src, dest, "--if-exists", "overwrite", job="Third_Job")
    assert assert_consistent(dest)
    assert all("Third_Job" in p for p in folder_parts(dest))
    # A re-run of the same job and timestamp is not another export: the default lets it through.
    export(cli, src, dest, job="Third_Job")
    assert assert_consistent(dest)


def test_a_held_lock_fails_with_the_holders_name(cli, tmp_path):
    src = sample(cli, tmp_path / "in.csv", "--items", 5)
    dest = tmp_path / "out"
    dest.mkdir()
    with open(dest / "_LOCK", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("export job Someone (pid 4242)")
        lock.flush()
        result = export(cli, src, dest, "--json", check=False)
        assert result.returncode == 1
        err = json.loads(result.stdout)["error"]
        assert err["code"] == "SINK_ERROR" and "locked by another export: export job Someone (pid 4242)" in err["message"]
        assert not (dest / "forecasted-values").exists() and not (dest / "_CHECK").exists()
    export(cli, src, dest)
    assert assert_consistent(dest) and not (dest / "_LOCK").exists()


@pytest.mark.parametrize("same_timestamp", [True, False])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_two_runs_at_once_give_one_complete_export_or_a_lock_error(cli, tmp_path, same_timestamp, fmt):
    good = sample(cli, tmp_path / "good.csv", "--items", 400, "--windows", 3)
    failing = tmp_path / "failing.csv"
    text = sample(cli, tmp_path / "tmp.csv", "--items", 400, "--windows", 3).read_text()
    failing.write_text(text + text.splitlines()[-1].rsplit(",", 1)[0] + ",not-a-number\n")  # fails at its last row
    for attempt in range(3):
        dest = tmp_path / f"out{attempt}"
        results = {}

        def run(name, src, ts):
            results[name] = export(cli, src, dest, "--format", fmt, "--max-part-bytes", "16KiB",
                                   "--if-exists", "overwrite", "--json", ts=ts, check=False)

        threads = [
            threading.Thread(target=run, args=("good", good, TS)),
            threading.Thread(target=run, args=("failing", failing, TS if same_timestamp else "2024-05-05T00:00:00Z")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results["failing"].returncode != 0
        failing_error = json.loads(results["failing"].stdout)["error"]["message"]
        assert "locked by another export" in failing_error or "not-a-number" in failing_error, failing_error
        good_result = results["good"]
        if good_result.returncode == 0:
            assert assert_consistent(dest)
            assert all(TS.replace(":", "-") in p for p in folder_parts(dest))
        else:
            assert "locked by another export" in json.loads(good_result.stdout)["error"]["message"]
            assert not (dest / "_SUCCESS").exists()
        assert not (dest / "_LOCK").exists()
