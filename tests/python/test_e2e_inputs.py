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
