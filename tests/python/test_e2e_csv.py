"""End-to-end: `sample` → `export` → independent readers (issue #2, #7)."""
import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from exportcheck import (
    FOLDERS,
    check_forecast_values,
    export_order_key,
    normalized_rows,
    part_files,
    read_csv_text,
    read_parts,
)

JOB = "E2E_Job"
TS = "2024-03-07T09:05:00Z"


def sample(cli, path, *args):
    cli.run("sample", "--output", path, *args)
    return path


def export(cli, input_path, dest, *args, check=True):
    return cli.run(
        "export", "--job-name", JOB, "--input", input_path, "--destination", dest, "--export-timestamp", TS,
        "--quiet", *args, check=check,
    )


def input_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, list(reader)


def tree_digest(folder: Path):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("dims,awkward", [(0, False), (2, True)])
def test_sample_export_is_read_back_exactly(cli, tmp_path, dims, awkward):
    src = sample(
        cli, tmp_path / "in.csv", "--items", 60, "--dimensions", dims, "--windows", 3, "--horizon", 9,
        *(["--awkward-ids"] if awkward else []),
    )
    dest = tmp_path / "out"
    export(cli, src, dest, "--max-part-bytes", "20KiB")
    assert (dest / "_SUCCESS").exists() and (dest / "_SUCCESS").stat().st_size == 0
    assert (dest / "_CHECK").exists()
    in_header, in_rows = input_rows(src)
    dim_names = ["store", "region", "channel"][:dims]
    types = ["mean", "p10", "p50", "p90"]  # the sample writes p10,p50,p90,mean; Forecast's order is mean first

    parts = part_files(dest, "forecasted-values", JOB, "csv")
    assert len(parts) > 1, "the 20KiB limit should give several parts"
    header, rows = read_parts(parts)
    check_forecast_values(header, rows, dim_names, types)
    # The union of the parts is the input, exactly (doubles bit for bit, missing stays missing).
    assert sorted(normalized_rows(header, rows)) == sorted(normalized_rows(in_header, in_rows))
    # Rows are in export order across parts, and every series lives in one part.
    norm = normalized_rows(header, rows)
    assert [export_order_key(r) for r in norm] == sorted(export_order_key(r) for r in norm)
    owner = {}
    for i, p in enumerate(parts):
        for r in normalized_rows(*read_parts([p])):
            assert owner.setdefault(r[0], i) == i, f"series {r[0]} spans parts"

    # pandas reads every part of both folders with the same columns.
    for folder in FOLDERS:
        for p in part_files(dest, folder, JOB, "csv"):
            df = pd.read_csv(p, keep_default_na=False, dtype=str)
            assert list(df.columns) == read_parts([p])[0]

    m_header, m_rows = read_parts(part_files(dest, "accuracy-metrics-values", JOB, "csv"))
    assert m_header == [
        "item_id", *dim_names, "backtest_window", "backtestwindow_start_time", "backtestwindow_end_time",
        "wQL[0.1]", "wQL[0.5]", "wQL[0.9]", "Average wQL", "RMSE", "WAPE", "MAPE", "MASE",
    ]
    series = {r[0] for r in normalized_rows(header, rows)}
    summaries = [r for r in m_rows if r[1 + dims] == "Summary"]
    computed = [r for r in m_rows if r[1 + dims] == "Computed"]
    assert len(summaries) == len(series)
    assert len(computed) == 3 * len(series)

    manifest = json.loads((dest / "_manifest.json").read_text())
    listed = {p["key"]: p for t in manifest["tables"].values() for p in t["parts"]}
    for key, entry in listed.items():
        data = (dest / key).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["tables"]["forecasted-values"]["rows"] == len(in_rows)


def test_rerun_and_any_input_order_give_byte_identical_files(cli, tmp_path):
    args = ("--items", 80, "--dimensions", 1, "--windows", 2, "--horizon", 7, "--awkward-ids")
    sorted_in = sample(cli, tmp_path / "sorted.csv", *args)
    shuffled_in = sample(cli, tmp_path / "shuffled.csv", *args, "--order", "shuffled")
    reversed_in = sample(cli, tmp_path / "reversed.csv", *args, "--order", "reversed")
    export(cli, sorted_in, tmp_path / "a")
    export(cli, sorted_in, tmp_path / "b")
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    # Same rows, other orders, with budgets that keep everything in memory or spill many runs.
    for src in (shuffled_in, reversed_in):
        for budget in ("1GiB", "64KiB"):
            out = tmp_path / f"{src.stem}-{budget}"
            result = export(cli, src, out, "--memory-limit", budget, "--temp-dir", tmp_path, "--json")
            data = json.loads(result.stdout)["data"]
            assert data["input_was_in_export_order"] is False
            assert (data["spilled_runs"] > 1) == (budget == "64KiB")
            assert tree_digest(out) == tree_digest(tmp_path / "a"), f"{src.name} {budget}"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("backtest-export-")]


def test_gzip_parts_hold_the_same_csv(cli, tmp_path):
    src = sample(cli, tmp_path / "in.csv", "--items", 30)
    export(cli, src, tmp_path / "plain")
    export(cli, src, tmp_path / "gz", "--compression", "gzip")
    for folder in FOLDERS:
        plain = part_files(tmp_path / "plain", folder, JOB, "csv")
        gz = part_files(tmp_path / "gz", folder, JOB, "csv.gz")
        assert [read_csv_text(p) for p in plain] == [read_csv_text(p) for p in gz]


def test_row_limit_keeps_series_whole(cli, tmp_path):
    src = sample(cli, tmp_path / "in.csv", "--items", 20, "--windows", 2, "--horizon", 5)
    export(cli, src, tmp_path / "out", "--max-part-rows", 25)
    parts = part_files(tmp_path / "out", "forecasted-values", JOB, "csv")
    owner = {}
    for i, p in enumerate(parts):
        rows = normalized_rows(*read_parts([p]))
        assert 0 < len(rows) <= 25
        for r in rows:
            assert owner.setdefault(r[0], i) == i


def test_zero_rows_give_header_only_parts(cli, tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text("item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50\n")
    export(cli, src, tmp_path / "out")
    for folder in FOLDERS:
        [p] = part_files(tmp_path / "out", folder, JOB, "csv")
        assert read_csv_text(p).count("\n") == 1
    assert (tmp_path / "out" / "_SUCCESS").exists()


def test_json_envelope(cli, tmp_path):
    src = sample(cli, tmp_path / "in.csv", "--items", 5)
    ok = export(cli, src, tmp_path / "out", "--json")
    data = json.loads(ok.stdout)
    assert data["success"] is True and data["data"]["id"] == JOB and data["data"]["created_at"] == TS
    # Predictor-level metrics (all series pooled): in the JSON data and in the manifest, equal.
    pooled = data["data"]["predictor_metrics"]
    assert set(pooled["summary"]) == {"wQL[0.1]", "wQL[0.5]", "wQL[0.9]", "Average wQL", "RMSE", "WAPE", "MAPE", "MASE"}
    assert pooled["summary"]["RMSE"] > 0 and pooled["summary"]["MASE"] is None  # no history: MASE not defined
    assert len(pooled["windows"]) == 3 and pooled["series"] == 5
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["predictor_metrics"]["summary"] == pooled["summary"]
    bad = cli.run("export", "--job-name", "9bad", "--input", src, "--destination", tmp_path / "x", "--json", check=False)
    assert bad.returncode == 2
    err = json.loads(bad.stdout)
    assert err["success"] is False and err["error"]["code"] == "VALIDATION_ERROR"
    assert "^[a-zA-Z][a-zA-Z0-9_]*$" in err["error"]["message"]
    missing = cli.run("export", "--input", src, "--json", check=False)
    assert missing.returncode == 2 and json.loads(missing.stdout)["error"]["code"] == "VALIDATION_ERROR"
    # A destination without a bucket is the error to report, before any missing credentials.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_SHARED_CREDENTIALS_FILE"] = env["AWS_CONFIG_FILE"] = str(tmp_path / "none")
    nobucket = cli.run("export", "--job-name", JOB, "--input", src, "--destination", "s3://", "--json", check=False,
                       env=env)
    message = json.loads(nobucket.stdout)["error"]["message"]
    assert nobucket.returncode == 2 and "bucket" in message and "credential" not in message.lower(), message


HEADER = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p10,p50,p90,mean\n"
GOOD = "a,2024-01-0{d}T00:00:00Z,1.5,2024-01-01T00:00:00,2024-01-09T00:00:00,1.0,2.0,3.0,2.5\n"


def good_rows(n=4):
    return "".join(GOOD.format(d=d) for d in range(1, n + 1))


@pytest.mark.parametrize(
    "name,content,expect",
    [
        ("missing-column", "item_id,timestamp,backtestwindow_start_time,backtestwindow_end_time,p50\n", ["target_value"]),
        ("field-count", HEADER + good_rows() + "a,2024-01-06T00:00:00Z,1\n", [":6", "9", "3"]),
        ("bad-number", HEADER + good_rows() + GOOD.format(d=6).replace("2.0", "2.x"), [":6", "p50"]),
        ("bad-timestamp", HEADER + good_rows() + GOOD.format(d=6).replace("2024-01-06T", "2024-13-06T"), [":6", "timestamp"]),
        ("bad-utf8", None, [":3", "UTF-8"]),
        ("bad-quantile", HEADER.replace("p90", "p100") + good_rows(), ["p100"]),
    ],
)
def test_bad_input_is_a_clear_error_and_publishes_nothing(cli, tmp_path, name, content, expect):
    src = tmp_path / f"{name}.csv"
    if content is None:
        src.write_bytes(HEADER.encode() + good_rows(1).encode() + b"\xff\xfeb,2024-01-02T00:00:00Z,1,2024-01-01T00:00:00,2024-01-05T00:00:00,1,2,3,4\n")
    else:
        src.write_text(content)
    dest = tmp_path / "out"
    result = export(cli, src, dest, check=False)
    assert result.returncode == 2, result.stderr
    assert str(src) in result.stderr or name == "bad-quantile", result.stderr
    for fragment in expect:
        assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"
    assert not (dest / "_SUCCESS").exists()
    for folder in FOLDERS:
        assert not (dest / folder).exists() or not [p for p in (dest / folder).iterdir() if not p.name.startswith(".")]
    as_json = export(cli, src, dest, "--json", check=False)
    assert json.loads(as_json.stdout)["error"]["code"] in ("INPUT_ERROR", "VALIDATION_ERROR")


def test_unwritable_destination_exits_1(cli, tmp_path):
    src = sample(cli, tmp_path / "in.csv", "--items", 3)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = export(cli, src, blocker / "out", "--json", check=False)
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == "SINK_ERROR"


def test_interrupted_export_leaves_no_temporary_files_and_no_success(cli, tmp_path):
    src = sample(cli, tmp_path / "big.csv", "--items", 3000, "--windows", 3, "--horizon", 30, "--order", "shuffled")
    temp = tmp_path / "spill"
    temp.mkdir()
    dest = tmp_path / "out"
    proc = subprocess.Popen(
        [str(cli.path), "export", "--job-name", JOB, "--input", src, "--destination", dest, "--memory-limit", "256KiB",
         "--temp-dir", temp, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not any(temp.rglob("run*.bin")):
        time.sleep(0.01)
    assert any(temp.rglob("run*.bin")), "the export never spilled"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert list(temp.iterdir()) == [], list(temp.rglob("*"))
    assert not (dest / "_SUCCESS").exists()
