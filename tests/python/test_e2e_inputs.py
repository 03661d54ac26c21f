"""End-to-end: inputs as pipelines write them (issue #15): Parquet from pyarrow, polars, DuckDB
and pandas, a Spark-style folder of gzip CSV parts, globs, standard input, a FIFO. Each export
must be byte-identical to the export of the original CSV; bad Parquet must publish nothing."""
import csv
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

JOB = "Inputs_Job"
TS = "2024-03-07T09:05:00Z"
TIME_COLUMNS = ["timestamp", "backtestwindow_start_time", "backtestwindow_end_time"]


def export_args(inputs, dest, *extra):
    args = ["export", "--job-name", JOB, "--destination", dest, "--export-timestamp", TS, "--quiet", "--json"]
    for i in inputs:
        args += ["--input", i]
    return args + list(extra)


def export(cli, inputs, dest, *extra, check=True):
    return cli.run(*export_args(inputs, dest, *extra), check=check)


def parts_digest(folder: Path):
    """Every part's bytes (both tables) and the markers, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "_manifest.json"
    }


def read_csv_table(path: Path) -> pa.Table:
    """The CSV as typed Arrow columns, read with Python's csv module: keys as strings, times as
    UTC timestamps (ms), values as float64 with empty fields null."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    columns = {}
    for i, name in enumerate(header):
        values = [r[i] for r in body]
        if name in TIME_COLUMNS:
            parsed = [datetime.fromisoformat(v.rstrip("Z")).replace(tzinfo=timezone.utc) for v in values]
            columns[name] = pa.array(parsed, type=pa.timestamp("ms", tz="UTC"))
        elif name == "target_value" or name == "mean" or (name[:1] in "pP" and name[1:].isdigit()):
            columns[name] = pa.array([None if v == "" else float(v) for v in values], type=pa.float64())
        else:
            columns[name] = pa.array(values, type=pa.string())
    return pa.table(columns)


@pytest.fixture(scope="module")
def backtest(cli, tmp_path_factory):
    """A sample backtest with dimensions and awkward ids, its export, and its typed table."""
    root = tmp_path_factory.mktemp("inputs")
    src = root / "in.csv"
    cli.run("sample", "--output", src, "--items", 40, "--dimensions", 2, "--windows", 3, "--horizon", 8,
            "--awkward-ids", "--order", "shuffled")
    reference = root / "reference"
    export(cli, [src], reference, "--max-part-bytes", "16KiB")
    assert (reference / "_SUCCESS").exists()
    return {"root": root, "csv": src, "table": read_csv_table(src), "digest": parts_digest(reference)}


def assert_same_export(cli, backtest, inputs, name, *extra, **run):
    dest = backtest["root"] / f"out-{name}"
    if dest.exists():
        shutil.rmtree(dest)
    export(cli, inputs, dest, "--max-part-bytes", "16KiB", *extra)
    assert parts_digest(dest) == backtest["digest"], f"{name}: the export differs from the CSV input's"


def large_strings(table: pa.Table) -> pa.Table:
    return table.cast(pa.schema([
        pa.field(f.name, pa.large_string() if f.type == pa.string() else f.type) for f in table.schema
    ]))


PYARROW_WRITES = {
    "pyarrow-default": lambda t, p: pq.write_table(t, p),
    "pyarrow-small-groups-and-pages": lambda t, p: pq.write_table(t, p, row_group_size=333, data_page_size=1024),
    "pyarrow-dictionary-off": lambda t, p: pq.write_table(t, p, use_dictionary=False),
    "pyarrow-int96": lambda t, p: pq.write_table(t, p, use_deprecated_int96_timestamps=True),
    "pyarrow-large-string": lambda t, p: pq.write_table(large_strings(t), p),
    "pyarrow-v2-pages": lambda t, p: pq.write_table(t, p, data_page_version="2.0", data_page_size=2048),
    "pyarrow-gzip": lambda t, p: pq.write_table(t, p, compression="gzip"),
    "pyarrow-zstd": lambda t, p: pq.write_table(t, p, compression="zstd"),
    "pyarrow-uncompressed-required": lambda t, p: pq.write_table(
        t.cast(pa.schema([pa.field(f.name, f.type, nullable=f.name == "target_value") for f in t.schema])),
        p, compression="none"),
    "pyarrow-micros-naive": lambda t, p: pq.write_table(
        t.cast(pa.schema([pa.field(f.name, pa.timestamp("us") if f.name in TIME_COLUMNS else f.type)
                          for f in t.schema])), p),
}


@pytest.mark.parametrize("writer", sorted(PYARROW_WRITES))
def test_pyarrow_parquet_exports_like_the_csv(cli, backtest, writer):
    path = backtest["root"] / f"{writer}.parquet"
    PYARROW_WRITES[writer](backtest["table"], path)
    assert_same_export(cli, backtest, [path], writer)


def test_polars_parquet_exports_like_the_csv(cli, backtest):
    path = backtest["root"] / "polars.parquet"
    pl.from_arrow(backtest["table"]).write_parquet(path)  # polars' default codec: zstd
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    assert_same_export(cli, backtest, [path], "polars")


def test_duckdb_parquet_exports_like_the_csv(cli, backtest):
    path = backtest["root"] / "duckdb.parquet"
    t = backtest["table"]  # noqa: F841 (DuckDB finds it by name)
    duckdb.sql(f"COPY (SELECT * FROM t) TO '{path}' (FORMAT parquet)")
    assert_same_export(cli, backtest, [path], "duckdb")


def test_pandas_parquet_exports_like_the_csv(cli, backtest):
    path = backtest["root"] / "pandas.parquet"
    backtest["table"].to_pandas().to_parquet(path)
    assert_same_export(cli, backtest, [path], "pandas")


def test_a_pandas_index_column_is_ignored_not_a_dimension(cli, backtest):
    # A filtered or shuffled frame keeps row labels that pandas saves as __index_level_0__ (int64):
    # as a dimension it would make every row its own series.
    path = backtest["root"] / "pandas-index.parquet"
    frame = backtest["table"].to_pandas().sample(frac=1.0, random_state=7)
    frame.to_parquet(path)
    assert "__index_level_0__" in pq.ParquetFile(path).schema_arrow.names
    assert_same_export(cli, backtest, [path], "pandas-index")


def split_csv(src: Path, parts: int):
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    size = (len(body) + parts - 1) // parts
    return header, [body[i * size:(i + 1) * size] for i in range(parts)]


def write_csv(path: Path, header, rows, opener=open):
    with opener(path, "wt", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def test_spark_style_folder_of_gzip_parts(cli, backtest):
    folder = backtest["root"] / "spark-out"
    folder.mkdir()
    header, chunks = split_csv(backtest["csv"], 4)
    # Columns in another order in one part: any order is allowed between files.
    order = list(reversed(range(len(header))))
    for i, rows in enumerate(chunks):
        name = folder / f"part-{i:05d}-c000.csv.gz"
        if i == 2:
            write_csv(name, [header[k] for k in order], [[r[k] for k in order] for r in rows], gzip.open)
        else:
            write_csv(name, header, rows, gzip.open)
        (folder / f".part-{i:05d}-c000.csv.gz.crc").write_bytes(b"crc")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "_temporary").mkdir()
    (folder / "_temporary" / "part-99999.csv").write_text("garbage\n")
    assert_same_export(cli, backtest, [folder], "spark-folder")
    # The same files through a glob, and as separate --input arguments.
    assert_same_export(cli, backtest, [f"{folder}/part-*.csv.gz"], "spark-glob")
    assert_same_export(cli, backtest, sorted(str(p) for p in folder.glob("part-*")), "spark-files")


def test_folder_of_parquet_parts_mixed_with_csv(cli, backtest):
    folder = backtest["root"] / "mixed"
    (folder / "a").mkdir(parents=True)
    t = backtest["table"]
    third = t.num_rows // 3
    pq.write_table(t.slice(0, third), folder / "a" / "part-0.parquet")
    pl.from_arrow(t.slice(third, third)).write_parquet(folder / "part-1.parquet")
    header, _ = split_csv(backtest["csv"], 1)
    with open(backtest["csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    write_csv(folder / "part-2.csv", header, rows[2 * third:])
    assert_same_export(cli, backtest, [folder], "mixed-folder")


def test_standard_input_plain_and_gzip(cli, backtest):
    for name, data in [("stdin", backtest["csv"].read_bytes()), ("stdin-gzip", gzip.compress(backtest["csv"].read_bytes()))]:
        dest = backtest["root"] / f"out-{name}"
        result = subprocess.run(
            [str(cli.path), *map(str, export_args(["-"], dest, "--max-part-bytes", "16KiB"))],
            input=data, capture_output=True, timeout=300,
        )
        assert result.returncode == 0, result.stderr.decode()
        assert parts_digest(dest) == backtest["digest"], name


def test_pipe_through_dev_stdin_and_a_fifo(cli, backtest):
    dest = backtest["root"] / "out-dev-stdin"
    with open(backtest["csv"], "rb") as f:
        cat = subprocess.Popen(["cat"], stdin=f, stdout=subprocess.PIPE)
        result = subprocess.run(
            [str(cli.path), *map(str, export_args(["/dev/stdin"], dest, "--max-part-bytes", "16KiB"))],
            stdin=cat.stdout, capture_output=True, timeout=300,
        )
        cat.wait()
    assert result.returncode == 0, result.stderr.decode()
    assert parts_digest(dest) == backtest["digest"]

    fifo = backtest["root"] / "fifo"
    os.mkfifo(fifo)
    data = backtest["csv"].read_bytes()

    def feed():
        with open(fifo, "wb") as w:
            w.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    dest = backtest["root"] / "out-fifo"
    export(cli, [fifo], dest, "--max-part-bytes", "16KiB")
    writer.join(timeout=60)
    assert parts_digest(dest) == backtest["digest"]


def assert_input_error(result, dest, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert body["success"] is False and body["error"]["code"] == "INPUT_ERROR"
    message = body["error"]["message"]
    for fragment in fragments:
        assert fragment in message, message
    assert not (dest / "_SUCCESS").exists()
    published = [p for p in dest.rglob("*.parquet")] + [p for p in dest.rglob("*.csv")] if dest.exists() else []
    assert published == [], published
    return message


def test_nested_column_is_refused(cli, backtest):
    t = backtest["table"]
    nested = t.append_column("extra", pa.array([{"a": 1, "b": "x"}] * t.num_rows))
    path = backtest["root"] / "nested.parquet"
    pq.write_table(nested, path)
    dest = backtest["root"] / "out-nested"
    result = export(cli, [path], dest, check=False)
    assert_input_error(result, dest, "nested.parquet", "extra", "nested")


def test_parquet_truncated_mid_page_is_refused(cli, backtest):
    path = backtest["root"] / "whole.parquet"
    pq.write_table(backtest["table"], path)
    column = pq.ParquetFile(path).metadata.row_group(0).column(3)
    cut = column.data_page_offset + 40
    data = path.read_bytes()
    truncated = backtest["root"] / "truncated.parquet"
    truncated.write_bytes(data[:cut])
    dest = backtest["root"] / "out-truncated"
    assert_input_error(export(cli, [truncated], dest, check=False), dest, "truncated.parquet", "truncated")
    # The footer kept but a page cut short: the bytes after the cut are gone, the offsets still point there.
    footer_length = int.from_bytes(data[-8:-4], "little")
    footer = data[-8 - footer_length:]
    spliced = backtest["root"] / "spliced.parquet"
    spliced.write_bytes(data[:cut] + footer)
    dest = backtest["root"] / "out-spliced"
    assert_input_error(export(cli, [spliced], dest, check=False), dest, "spliced.parquet")


def one_row_parquet(path: Path, timestamp: datetime, start: datetime, end: datetime):
    utc = pa.timestamp("ms", tz="UTC")
    pq.write_table(pa.table({
        "item_id": pa.array(["a"]), "timestamp": pa.array([timestamp], type=utc),
        "target_value": pa.array([3.0]), "backtestwindow_start_time": pa.array([start], type=utc),
        "backtestwindow_end_time": pa.array([end], type=utc), "p50": pa.array([5.0]),
    }), path)


def test_parquet_times_follow_the_csv_rules(cli, backtest):
    """A timestamp outside its window, or a year the output cannot spell (1000...9999), is refused
    in Parquet input as in CSV input, at the file, row group and row."""
    day = lambda y, m, d: datetime(y, m, d, tzinfo=timezone.utc)
    cases = [
        ("after", day(2024, 1, 9), day(2024, 1, 1), day(2024, 1, 3), "outside its row's backtest window"),
        ("before", day(2023, 12, 31), day(2024, 1, 1), day(2024, 1, 3), "outside its row's backtest window"),
        ("y500", day(500, 1, 2), day(500, 1, 1), day(500, 1, 3), "year 500 is out of range 1000...9999"),
    ]
    for name, t, start, end, rule in cases:
        path = backtest["root"] / f"time-{name}.parquet"
        one_row_parquet(path, t, start, end)
        dest = backtest["root"] / f"out-time-{name}"
        assert_input_error(export(cli, [path], dest, check=False), dest, f"time-{name}.parquet:0:0", rule)
    # Year 10000 (beyond Python's datetime): written as raw milliseconds.
    ms = 253402300800000  # 10000-01-01T00:00:00Z
    path = backtest["root"] / "time-y10000.parquet"
    utc = pa.timestamp("ms", tz="UTC")
    pq.write_table(pa.table({
        "item_id": pa.array(["a"]), "timestamp": pa.array([ms], type=pa.int64()).cast(utc),
        "target_value": pa.array([3.0]), "backtestwindow_start_time": pa.array([ms], type=pa.int64()).cast(utc),
        "backtestwindow_end_time": pa.array([ms], type=pa.int64()).cast(utc), "p50": pa.array([5.0]),
    }), path)
    dest = backtest["root"] / "out-time-y10000"
    assert_input_error(export(cli, [path], dest, check=False), dest, "year 10000 is out of range 1000...9999")


def test_a_zero_row_parquet_file_from_pandas_or_pyarrow_is_an_empty_input(cli, backtest):
    """pyarrow writes a zero-row table as one empty row group whose page offsets are 0."""
    empty = backtest["table"].slice(0, 0)
    path = backtest["root"] / "zero-rows.parquet"
    pq.write_table(empty, path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    dest = backtest["root"] / "out-zero-rows"
    export(cli, [path], dest)
    assert (dest / "_SUCCESS").exists()
    (part,) = (dest / "forecasted-values").glob("*.csv")
    assert part.read_text().count("\n") == 1  # the header only
    # Next to a file with rows, it adds nothing.
    whole = backtest["root"] / "with-rows.parquet"
    pq.write_table(backtest["table"], whole)
    assert_same_export(cli, backtest, [path, whole], "empty-and-whole")


def test_a_duplicate_row_in_parquet_names_the_file_and_both_rows(cli, backtest):
    t = backtest["table"]
    path = backtest["root"] / "dup.parquet"
    pq.write_table(pa.concat_tables([t, t.slice(5, 1)]), path)
    dest = backtest["root"] / "out-dup-parquet"
    message = assert_input_error(export(cli, [path], dest, check=False), dest, "duplicate row")
    assert f"rows 6 and {t.num_rows + 1} of {path}, counting rows from 1" in message, message


def test_mismatched_files_name_both(cli, backtest):
    folder = backtest["root"] / "mismatch"
    folder.mkdir()
    header, chunks = split_csv(backtest["csv"], 2)
    write_csv(folder / "a.csv", header, chunks[0])
    write_csv(folder / "b.csv", [h if h != "p10" else "p20" for h in header], chunks[1])
    dest = backtest["root"] / "out-mismatch"
    assert_input_error(export(cli, [folder], dest, check=False), dest, "a.csv", "b.csv", "p20")


def test_corrupt_gzip_is_an_input_error(cli, backtest):
    path = backtest["root"] / "bad.csv.gz"
    data = gzip.compress(backtest["csv"].read_bytes())
    path.write_bytes(data[: len(data) // 2])
    dest = backtest["root"] / "out-bad-gzip"
    assert_input_error(export(cli, [path], dest, check=False), dest, "bad.csv.gz", "truncated")


def test_empty_folder_and_unmatched_glob_are_input_errors(cli, backtest):
    empty = backtest["root"] / "empty"
    (empty / "_SUCCESS").parent.mkdir(exist_ok=True)
    (empty / "_SUCCESS").write_bytes(b"")
    dest = backtest["root"] / "out-empty"
    assert_input_error(export(cli, [empty], dest, check=False), dest, "no input files")
    assert_input_error(export(cli, [f"{empty}/part-*.csv"], dest, check=False), dest, "matches no input files")


# --- --history in every form --input takes, and Parquet on standard input --------------------


def folder_digest(folder: Path):
    """Every file of an export folder (parts, markers and the manifest), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_export(cli, args, stdin_bytes=None):
    return subprocess.run([str(cli.path), *map(str, args)], input=stdin_bytes, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def with_history(cli, tmp_path_factory):
    """A backtest with dimensions and awkward ids, its target history, and the export of both
    as CSV (with MASE in the metrics table)."""
    root = tmp_path_factory.mktemp("history")
    src, history = root / "in.csv", root / "history.csv"
    cli.run("sample", "--output", src, "--history-output", history, "--items", 30, "--dimensions", 2,
            "--windows", 2, "--horizon", 6, "--awkward-ids", "--order", "shuffled")
    reference = root / "reference"
    export(cli, [src], reference, "--max-part-bytes", "16KiB", "--history", history)
    assert (reference / "_SUCCESS").exists()
    metrics = [p for p in (reference / "accuracy-metrics-values").iterdir()]
    with open(metrics[0], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # MASE comes from the history: the comparison below would be vacuous without it.
    assert rows and all(r["MASE"] != "" for r in rows)
    temp = root / "temp"
    temp.mkdir()
    return {"root": root, "csv": src, "history": history, "history_table": read_csv_table(history),
            "table": read_csv_table(src), "digest": folder_digest(reference), "temp": temp}


def assert_same_history_export(cli, data, name, inputs, history, stdin_bytes=None):
    dest = data["root"] / f"out-{name}"
    if dest.exists():
        shutil.rmtree(dest)
    args = export_args(inputs, dest, "--max-part-bytes", "16KiB", "--temp-dir", data["temp"])
    for h in history:
        args += ["--history", h]
    result = run_export(cli, args, stdin_bytes)
    assert result.returncode == 0, result.stderr.decode()
    assert folder_digest(dest) == data["digest"], f"{name}: the export differs from the CSV inputs'"
    assert list(data["temp"].iterdir()) == [], "a temporary file was left behind"


HISTORY_WRITES = {
    "pyarrow-default": lambda t, p: pq.write_table(t, p),
    "pyarrow-small-groups-dictionary-off": lambda t, p: pq.write_table(
        t, p, row_group_size=100, data_page_size=512, use_dictionary=False),
    "pyarrow-int96": lambda t, p: pq.write_table(t, p, use_deprecated_int96_timestamps=True),
    "polars": lambda t, p: pl.from_arrow(t).write_parquet(p),
    "pandas": lambda t, p: t.to_pandas().to_parquet(p),
}


@pytest.mark.parametrize("writer", sorted(HISTORY_WRITES))
def test_parquet_history_exports_like_the_csv_history(cli, with_history, writer):
    path = with_history["root"] / f"history-{writer}.parquet"
    HISTORY_WRITES[writer](with_history["history_table"], path)
    assert_same_history_export(cli, with_history, f"history-{writer}", [with_history["csv"]], [path])


def test_history_as_folder_glob_and_standard_input(cli, with_history):
    data = with_history
    folder = data["root"] / "history-parts"
    folder.mkdir()
    t = data["history_table"]
    half = t.num_rows // 2
    # Columns in another order in the Parquet part, a gzip CSV part, markers to skip.
    pq.write_table(t.slice(0, half).select(list(reversed(t.column_names))), folder / "part-0.parquet")
    header, _ = split_csv(data["history"], 1)
    with open(data["history"], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    write_csv(folder / "part-1.csv.gz", header, rows[half:], gzip.open)
    (folder / "_SUCCESS").write_bytes(b"")
    assert_same_history_export(cli, data, "history-folder", [data["csv"]], [folder])
    assert_same_history_export(cli, data, "history-glob", [data["csv"]], [f"{folder}/part-*"])
    # Standard input: CSV, gzip CSV and Parquet.
    parquet = data["root"] / "history-stdin.parquet"
    pq.write_table(t, parquet)
    for name, payload in [("csv", data["history"].read_bytes()), ("gzip", gzip.compress(data["history"].read_bytes())),
                          ("parquet", parquet.read_bytes())]:
        assert_same_history_export(cli, data, f"history-stdin-{name}", [data["csv"]], ["-"], stdin_bytes=payload)


def test_parquet_piped_to_standard_input(cli, with_history):
    data = with_history
    path = data["root"] / "stdin-input.parquet"
    pq.write_table(data["table"], path, row_group_size=500)
    assert_same_history_export(cli, data, "stdin-parquet", ["-"], [data["history"]], stdin_bytes=path.read_bytes())
    # Through a real pipe (cat), and with the history as Parquet too.
    history = data["root"] / "stdin-history.parquet"
    pq.write_table(data["history_table"], history)
    dest = data["root"] / "out-stdin-cat"
    args = export_args(["-"], dest, "--max-part-bytes", "16KiB", "--temp-dir", data["temp"], "--history", history)
    with open(path, "rb") as f:
        cat = subprocess.Popen(["cat"], stdin=f, stdout=subprocess.PIPE)
        result = subprocess.run([str(cli.path), *map(str, args)], stdin=cat.stdout, capture_output=True, timeout=300)
        cat.wait()
    assert result.returncode == 0, result.stderr.decode()
    assert folder_digest(dest) == data["digest"]
    assert list(data["temp"].iterdir()) == []


def test_truncated_parquet_on_standard_input_is_an_input_error(cli, with_history):
    data = with_history
    path = data["root"] / "stdin-whole.parquet"
    pq.write_table(data["table"], path)
    whole = path.read_bytes()
    column = pq.ParquetFile(path).metadata.row_group(0).column(3)
    for name, payload in [("mid-page", whole[:column.data_page_offset + 40]), ("no-footer", whole[:-3])]:
        dest = data["root"] / f"out-stdin-truncated-{name}"
        args = export_args(["-"], dest, "--temp-dir", data["temp"], "--history", data["history"])
        result = run_export(cli, args, payload)
        result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
        message = assert_input_error(result, dest, "'-'", "truncated")
        assert str(data["temp"]) not in message, message
        assert list(data["temp"].iterdir()) == [], "the copy of standard input was left behind"
    # The same for the history on standard input.
    history = data["root"] / "stdin-history-whole.parquet"
    pq.write_table(data["history_table"], history)
    dest = data["root"] / "out-stdin-history-truncated"
    args = export_args([data["csv"]], dest, "--temp-dir", data["temp"], "--history", "-")
    result = run_export(cli, args, history.read_bytes()[:-100])
    result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
    assert_input_error(result, dest, "'-'", "truncated")
    assert list(data["temp"].iterdir()) == []


def test_a_killed_copy_of_standard_input_is_removed_by_the_next_run(cli, with_history):
    data = with_history
    temp = data["root"] / "temp-killed"
    temp.mkdir()
    path = data["root"] / "stdin-killed.parquet"
    pq.write_table(data["table"], path)
    dest = data["root"] / "out-killed"
    args = export_args(["-"], dest, "--temp-dir", temp)
    process = subprocess.Popen([str(cli.path), *map(str, args)], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.stdin.write(path.read_bytes()[:1000])
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(p.is_file() for p in temp.rglob("*")):
            time.sleep(0.05)
        left = [p for p in temp.rglob("*") if p.is_file()]
        assert len(left) == 1 and left[0].parent.name.startswith(f"backtest-export-{process.pid}-"), left
    finally:
        process.kill()
        process.wait()
    assert not (dest / "_SUCCESS").exists()
    # The next run in the same temporary folder removes what the killed one left.
    second = data["root"] / "out-after-kill"
    result = run_export(cli, export_args([data["csv"]], second, "--temp-dir", temp, "--history", data["history"],
                                         "--max-part-bytes", "16KiB"))
    assert result.returncode == 0, result.stderr.decode()
    assert folder_digest(second) == data["digest"]
    assert list(temp.iterdir()) == [], list(temp.rglob("*"))


def test_parquet_history_values_follow_the_csv_rules(cli, with_history):
    data = with_history
    t = data["history_table"]
    # A null timestamp: an error naming the file, row group and row, and the column.
    times = t.column("timestamp").to_pylist()
    times[7] = None
    bad = t.set_column(t.column_names.index("timestamp"), "timestamp", pa.array(times, type=pa.timestamp("ms", tz="UTC")))
    path = data["root"] / "history-null-time.parquet"
    pq.write_table(bad, path)
    dest = data["root"] / "out-history-null-time"
    assert_input_error(export(cli, [data["csv"]], dest, "--history", path, check=False), dest,
                       f"{path}:0:", "Missing timestamp")
    # Text values parsed as in CSV: an unparseable one names its row.
    values = [None if v is None else repr(v) for v in t.column("target_value").to_pylist()]
    values[11] = "twelve"
    bad = t.set_column(t.column_names.index("target_value"), "target_value", pa.array(values, type=pa.string()))
    path = data["root"] / "history-text-value.parquet"
    pq.write_table(bad, path)
    dest = data["root"] / "out-history-text-value"
    assert_input_error(export(cli, [data["csv"]], dest, "--history", path, check=False), dest,
                       f"{path}:0:", "twelve", "number")
    # Other dimensions than the forecast's.
    path = data["root"] / "history-other-dimensions.parquet"
    dimensions = [c for c in t.column_names if c not in ("item_id", "timestamp", "target_value")]
    assert dimensions
    pq.write_table(t.drop_columns(dimensions[:1]), path)
    dest = data["root"] / "out-history-other-dimensions"
    assert_input_error(export(cli, [data["csv"]], dest, "--history", path, check=False), dest,
                       "history-other-dimensions.parquet", "dimensions")


def test_standard_input_for_both_input_and_history_is_a_usage_error(cli, with_history):
    dest = with_history["root"] / "out-two-stdin"
    result = run_export(cli, export_args(["-"], dest, "--history", "-"), with_history["csv"].read_bytes())
    assert result.returncode == 2, result.stderr
    body = json.loads(result.stdout)
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert "--input" in body["error"]["message"] and "--history" in body["error"]["message"]
    assert not dest.exists() or not any(dest.rglob("*.csv"))
