"""End-to-end: `--format parquet` read by pyarrow, DuckDB, polars and fastparquet gives exactly the
rows of the same export as CSV (issue #4): doubles bit for bit, timestamps in UTC, nulls where the
CSV has an empty field or `not defined`."""
import csv
import io
import math
import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest

from exportcheck import FOLDERS, part_files, read_parts

JOB = "Pq_Job"
TS = "2024-05-06T07:08:09Z"
CODECS = ["snappy", "gzip", "zstd", "none"]


def export(cli, src, dest, *args):
    cli.run("export", "--job-name", JOB, "--input", src, "--destination", dest, "--export-timestamp", TS,
            "--quiet", *args)


def adversarial_input(path: Path, rows=True):
    ids = ["", "a,b", 'q"uote', "new\nline", "Zürich", "東京", " lead", "😀", "x" * 300]
    specials = ["NaN", "Infinity", "-Infinity", "0.0", "-0.0", "5e-324", "1.7976931348623157E308", "", "-1e-300",
                "0.1", "123456789.25"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["item_id", "store", "timestamp", "target_value", "backtestwindow_start_time",
                    "backtestwindow_end_time", "p10", "p50", "p90", "mean"])
        if not rows:
            return path
        for i, item in enumerate(ids):
            for d in range(4):
                w.writerow([item, ["", "s,1", "ü"][i % 3], f"2024-01-0{d + 1}T00:00:00Z",
                            specials[(i + d) % len(specials)], "2024-01-01T00:00:00", "2024-01-04T00:00:00",
                            specials[(i * 3 + d) % len(specials)], 1.5 + d, "", specials[(i + 2 * d) % len(specials)]])
    return path


def millis(value, where=""):
    """Epoch milliseconds of a reader's timestamp, which must carry UTC. fastparquet alone drops the
    UTC flag of TIMESTAMP(MILLIS, isAdjustedToUTC=true) and returns naive values: those are read as UTC."""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if where.startswith("fastparquet") and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    assert value.tzinfo is not None and value.utcoffset().total_seconds() == 0, f"timestamp {value!r} is not UTC ({where})"
    return round(value.timestamp() * 1000)


def csv_millis(text):
    """`2024-01-01T00:00:00.250Z` (timestamp) or `2024-01-01T00:00:00` (window bounds) as epoch ms."""
    t = text.rstrip("Z")
    t, _, fraction = t.partition(".")
    seconds = int(datetime.strptime(t, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return seconds * 1000 + (int(fraction) if fraction else 0)


def same_double(a, b):
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


def expected_rows(header, rows):
    """CSV rows as typed values: strings, epoch ms, doubles (None where missing / not defined)."""
    out = []
    for r in rows:
        typed = []
        for name, v in zip(header, r):
            if name in ("timestamp", "backtestwindow_start_time", "backtestwindow_end_time"):
                typed.append(csv_millis(v))
            elif name in ("item_id", "store", "backtest_window"):
                typed.append(v)
            else:
                typed.append(None if v in ("", "not defined") else float(v))
        out.append(typed)
    return out


def read_with(reader, path):
    if reader == "pyarrow":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return table.column_names, [list(r.values()) for r in table.to_pylist()]
    if reader == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone='UTC'")
        rel = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        names = [d[0] for d in rel.description]
        return names, [list(r) for r in rel.fetchall()]
    if reader == "polars":
        import polars as pl

        df = pl.read_parquet(path)
        return df.columns, [list(r) for r in df.rows()]
    if reader == "fastparquet":
        import fastparquet

        df = fastparquet.ParquetFile(str(path)).to_pandas()
        rows = []
        for r in df.itertuples(index=False):
            rows.append(list(r))
        return list(df.columns), rows
    raise ValueError(reader)


def compare(reader, header, expected, names, got):
    assert names == header, f"{reader}: columns {names}"
    assert len(got) == len(expected), f"{reader}: {len(got)} rows, expected {len(expected)}"
    for i, (e_row, g_row) in enumerate(zip(expected, got)):
        for name, e, g in zip(header, e_row, g_row):
            where = f"{reader} row {i} column {name}"
            if name in ("timestamp", "backtestwindow_start_time", "backtestwindow_end_time"):
                assert millis(g, where) == e, where
            elif isinstance(e, str):
                assert g == e, f"{where}: {g!r} != {e!r}"
            elif reader == "fastparquet" and e is None:
                # pandas has no null double: fastparquet gives NaN for a null.
                assert g is None or (isinstance(g, float) and math.isnan(g)), where
            else:
                g = None if g is None else float(g)
                assert same_double(e, g), f"{where}: {g!r} != {e!r}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("pq-inputs")
    sample = folder / "sample.csv"
    cli.run("sample", "--output", sample, "--items", 40, "--dimensions", 1, "--awkward-ids", "--order", "shuffled")
    single = folder / "single.csv"
    lines = adversarial_input(folder / "tmp.csv").read_text(encoding="utf-8").split("\n")
    single.write_text(lines[0] + "\n" + lines[5] + "\n", encoding="utf-8")
    return {
        "sample": sample, "adversarial": adversarial_input(folder / "adversarial.csv"), "single": single,
        "empty": adversarial_input(folder / "empty.csv", rows=False),
    }


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("data", ["sample", "adversarial", "single", "empty"])
def test_every_reader_returns_the_csv_rows(cli, tmp_path, inputs, codec, data):
    src = inputs[data]
    csv_dest, pq_dest = tmp_path / "csv", tmp_path / "pq"
    export(cli, src, csv_dest, "--max-part-bytes", "16KiB")
    export(cli, src, pq_dest, "--format", "parquet", "--compression", codec, "--max-part-bytes", "16KiB")
    assert (pq_dest / "_SUCCESS").exists()
    for folder in FOLDERS:
        header, rows = read_parts(part_files(csv_dest, folder, JOB, "csv"))
        expected = expected_rows(header, rows)
        pq_parts = part_files(pq_dest, folder, JOB, "parquet")
        for reader in ("pyarrow", "duckdb", "polars", "fastparquet"):
            names, got = None, []
            for p in pq_parts:
                n, r = read_with(reader, p)
                names = names or n
                got.extend(r)
            compare(reader, header, expected, names, got)
