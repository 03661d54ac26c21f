#!/usr/bin/env python3
"""Checks Parquet files written by backtest-export against their exact expected values.

Usage: python3 tests/python/parquet_oracle.py DIR

DIR holds NAME.parquet files, each with a sibling NAME.expected.json:

    {"rows": N, "codec": "SNAPPY", "created_by": "...", "key_value_metadata": {k: v},
     "dictionary_strings": true,   (optional: every string chunk must be dictionary-encoded)
     "columns": [{"name": "item_id", "type": "string", "values": ["a", ...]},
                 {"name": "timestamp", "type": "timestamp_ms", "values": [epoch ms, ...]},
                 {"name": "p50", "type": "double", "values": ["3ff8000000000000", null, ...]}]}

Doubles are 64-bit patterns in hex (so NaN, -0.0 and the infinities survive), timestamps epoch
milliseconds, nulls null. Every file is read with pyarrow, DuckDB, polars and fastparquet; each must
return exactly these values: strings byte for byte, doubles bit for bit, timestamps to the
millisecond (and typed as UTC-adjusted timestamps in pyarrow, DuckDB and polars), nulls where the
value is missing. Also checked: the column types, the codec, created_by, the key-value metadata, and
the column-chunk statistics as DuckDB's parquet_metadata() and pyarrow show them (null_count always;
min/max per the writer's rules: NaN skipped, -0.0 as a zero min, +0.0 as a zero max, strings in
byte order and omitted when a value is longer than 1 KiB).

Reader limits that the checks allow for, and only these:
- fastparquet returns float columns as pandas float64, where a null is NaN: for fastparquet a
  missing double is checked to be NaN (the other readers check null exactly), and its timestamps
  are naive datetime64 (it drops the UTC flag), so only their values are checked.
- DuckDB does not show min/max of a DOUBLE chunk that contains NaN; pyarrow's view is checked there.

Exit status: 0 when every check passes, 1 with a list of the mismatches otherwise, 2 when a module
is missing or DIR has no files.
"""

import json
import struct
import sys
from datetime import datetime, timezone
from pathlib import Path

HINT = "run: pip install -r tests/python/requirements.txt"

try:
    import duckdb
    import fastparquet
    import numpy as np
    import pandas as pd  # noqa: F401  (fastparquet's output type)
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
except ImportError as error:  # pragma: no cover - environment problem, reported clearly
    print(f"parquet_oracle: a Python module is missing ({error}); {HINT}")
    sys.exit(2)

STRING_STATS_LIMIT = 1024
MAX_REPORTED = 60


class Failures:
    def __init__(self):
        self.messages = []

    def add(self, file, reader, message):
        self.messages.append(f"{file}: [{reader}] {message}")

    def __bool__(self):
        return bool(self.messages)


def bits_of(value):
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def double_of(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def describe_double(bits):
    return f"{double_of(int(bits))!r} (0x{int(bits):016x})"


class Column:
    def __init__(self, spec):
        self.name = spec["name"]
        self.type = spec["type"]
        values = spec["values"]
        if self.type == "string":
            self.strings = values
        elif self.type == "timestamp_ms":
            self.ints = np.array(values, dtype=np.int64)
        elif self.type == "double":
            self.null = np.array([v is None for v in values], dtype=bool)
            self.bits = np.array([0 if v is None else int(v, 16) for v in values], dtype=np.uint64)
        else:
            raise ValueError(f"unknown column type {self.type!r} for {self.name}")

    def __len__(self):
        if self.type == "string":
            return len(self.strings)
        if self.type == "timestamp_ms":
            return len(self.ints)
        return len(self.bits)


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def compare_strings(failures, file, reader, column, got):
    if got != column.strings:
        if len(got) != len(column.strings):
            failures.add(file, reader, f"column {column.name!r}: {len(got)} values, expected {len(column.strings)}")
            return
        i = first_difference(got, column.strings)
        failures.add(file, reader, f"column {column.name!r} row {i}: got {got[i]!r}, expected {column.strings[i]!r}")


def compare_ints(failures, file, reader, column, got):
    got = np.asarray(got, dtype=np.int64)
    if len(got) != len(column.ints):
        failures.add(file, reader, f"column {column.name!r}: {len(got)} values, expected {len(column.ints)}")
        return
    bad = np.nonzero(got != column.ints)[0]
    if len(bad):
        i = int(bad[0])
        failures.add(
            file, reader,
            f"column {column.name!r} row {i}: got {int(got[i])} ms, expected {int(column.ints[i])} ms ({len(bad)} rows differ)",
        )


def compare_doubles(failures, file, reader, column, got_null, got_bits, nulls_are_nan=False):
    got_null = np.asarray(got_null, dtype=bool)
    got_bits = np.asarray(got_bits, dtype=np.uint64)
    if len(got_bits) != len(column.bits):
        failures.add(file, reader, f"column {column.name!r}: {len(got_bits)} values, expected {len(column.bits)}")
        return
    if nulls_are_nan:
        got_values = got_bits.view(np.float64)
        missing_not_nan = np.nonzero(column.null & ~np.isnan(got_values))[0]
        if len(missing_not_nan):
            i = int(missing_not_nan[0])
            failures.add(file, reader, f"column {column.name!r} row {i}: got {describe_double(got_bits[i])}, expected null (NaN)")
        present = ~column.null
    else:
        null_mismatch = np.nonzero(got_null != column.null)[0]
        if len(null_mismatch):
            i = int(null_mismatch[0])
            got = "null" if got_null[i] else describe_double(got_bits[i])
            exp = "null" if column.null[i] else describe_double(column.bits[i])
            failures.add(file, reader, f"column {column.name!r} row {i}: got {got}, expected {exp}")
            return
        present = ~column.null
    bad = np.nonzero(present & (got_bits != column.bits))[0]
    if len(bad):
        i = int(bad[0])
        failures.add(
            file, reader,
            f"column {column.name!r} row {i}: got {describe_double(got_bits[i])}, expected {describe_double(column.bits[i])} ({len(bad)} rows differ)",
        )


def arrow_doubles(array):
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    null = array.is_null().to_numpy(zero_copy_only=False)
    bits = pc.fill_null(array, 0.0).to_numpy(zero_copy_only=False).astype(np.float64, copy=False).view(np.uint64)
    return null, bits


def is_utc(tz):
    return tz in ("UTC", "+00:00", "Etc/UTC")


def check_pyarrow(failures, file, columns, path):
    reader = "pyarrow"
    table = pq.read_table(path)
    table.validate(full=True)
    for column in columns:
        if column.name not in table.column_names:
            failures.add(file, reader, f"column {column.name!r} missing")
            continue
        data = table.column(column.name)
        if column.type == "string":
            if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
                failures.add(file, reader, f"column {column.name!r} has type {data.type}, expected string")
            compare_strings(failures, file, reader, column, data.to_pylist())
        elif column.type == "timestamp_ms":
            if not (pa.types.is_timestamp(data.type) and data.type.unit == "ms" and is_utc(data.type.tz)):
                failures.add(file, reader, f"column {column.name!r} has type {data.type}, expected timestamp[ms, tz=UTC]")
            compare_ints(failures, file, reader, column, data.cast(pa.int64()).to_numpy())
        else:
            if data.type != pa.float64():
                failures.add(file, reader, f"column {column.name!r} has type {data.type}, expected double")
            compare_doubles(failures, file, reader, column, *arrow_doubles(data))
    if table.num_rows != len(columns[0]):
        failures.add(file, reader, f"{table.num_rows} rows, expected {len(columns[0])}")


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def check_duckdb(failures, file, columns, path):
    reader = "duckdb"
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    types = {row[0]: row[1] for row in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()}
    expected_types = {"string": "VARCHAR", "timestamp_ms": "TIMESTAMP WITH TIME ZONE", "double": "DOUBLE"}
    select = []
    for column in columns:
        if types.get(column.name) != expected_types[column.type]:
            failures.add(file, reader, f"column {column.name!r} has type {types.get(column.name)}, expected {expected_types[column.type]}")
        if column.type == "timestamp_ms":
            select.append(f"epoch_ms({quote(column.name)}) AS {quote(column.name)}")
        else:
            select.append(quote(column.name))
    literal = "'" + str(path).replace("'", "''") + "'"
    query = f"SELECT {', '.join(select)} FROM read_parquet({literal}, file_row_number=true) ORDER BY file_row_number"
    table = con.sql(query).to_arrow_table()
    for column in columns:
        data = table.column(column.name)
        if column.type == "string":
            compare_strings(failures, file, reader, column, data.to_pylist())
        elif column.type == "timestamp_ms":
            compare_ints(failures, file, reader, column, data.cast(pa.int64()).to_numpy(zero_copy_only=False))
        else:
            compare_doubles(failures, file, reader, column, *arrow_doubles(data))
    count = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0]
    if count != len(columns[0]):
        failures.add(file, reader, f"count(*) = {count}, expected {len(columns[0])}")


def check_polars(failures, file, columns, path):
    reader = "polars"
    frame = pl.read_parquet(path)
    for column in columns:
        if column.name not in frame.columns:
            failures.add(file, reader, f"column {column.name!r} missing")
            continue
        series = frame[column.name]
        if column.type == "string":
            if series.dtype != pl.String:
                failures.add(file, reader, f"column {column.name!r} has dtype {series.dtype}, expected String")
            compare_strings(failures, file, reader, column, series.to_list())
        elif column.type == "timestamp_ms":
            if series.dtype != pl.Datetime("ms", "UTC"):
                failures.add(file, reader, f"column {column.name!r} has dtype {series.dtype}, expected Datetime(ms, UTC)")
            compare_ints(failures, file, reader, column, series.dt.epoch("ms").to_numpy())
        else:
            if series.dtype != pl.Float64:
                failures.add(file, reader, f"column {column.name!r} has dtype {series.dtype}, expected Float64")
            null = series.is_null().to_numpy()
            bits = series.fill_null(0.0).to_numpy().astype(np.float64, copy=False).view(np.uint64)
            compare_doubles(failures, file, reader, column, null, bits)


def check_fastparquet(failures, file, columns, path):
    reader = "fastparquet"
    frame = fastparquet.ParquetFile(str(path)).to_pandas()
    if len(frame) != len(columns[0]):
        failures.add(file, reader, f"{len(frame)} rows, expected {len(columns[0])}")
        return
    for column in columns:
        if column.name not in frame.columns:
            failures.add(file, reader, f"column {column.name!r} missing")
            continue
        series = frame[column.name]
        if column.type == "string":
            compare_strings(failures, file, reader, column, series.tolist())
        elif column.type == "timestamp_ms":
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            values = series.to_numpy(dtype="datetime64[ms]").view(np.int64)
            compare_ints(failures, file, reader, column, values)
        else:
            values = series.to_numpy(dtype=np.float64)
            compare_doubles(failures, file, reader, column, np.isnan(values), values.view(np.uint64), nulls_are_nan=True)


# ---- statistics ----------------------------------------------------------------------------------


def expected_statistics(column, rows):
    """(null_count, min, max, has_nan) for the rows of one chunk; min/max None when not written."""
    if column.type == "string":
        values = column.strings[rows]
        encoded = [v.encode("utf-8") for v in values]
        if not encoded or any(len(b) > STRING_STATS_LIMIT for b in encoded):
            return 0, None, None, False
        return 0, min(encoded), max(encoded), False
    if column.type == "timestamp_ms":
        values = column.ints[rows]
        if len(values) == 0:
            return 0, None, None, False
        return 0, int(values.min()), int(values.max()), False
    null = column.null[rows]
    floats = column.bits[rows].view(np.float64)[~null]
    has_nan = bool(np.isnan(floats).any())
    finite = floats[~np.isnan(floats)]
    if len(finite) == 0:
        return int(null.sum()), None, None, has_nan
    low, high = float(finite.min()), float(finite.max())
    if low == 0:
        low = -0.0
    if high == 0:
        high = 0.0
    return int(null.sum()), bits_of(low), bits_of(high), has_nan


def parse_duckdb_timestamp(text):
    text = text.strip()
    if text.endswith("+00"):
        text = text + ":00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400_000) + delta.seconds * 1000 + delta.microseconds // 1000


def pyarrow_stat_value(column, value):
    if column.type == "string":
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if column.type == "timestamp_ms":
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
            return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
        return int(value)
    return bits_of(float(value))


def describe_stat(column, value):
    if value is None:
        return "absent"
    if column.type == "double":
        return describe_double(value)
    return repr(value)


def check_metadata_and_statistics(failures, file, expected, columns, path):
    metadata = pq.ParquetFile(path).metadata
    if metadata.created_by != expected["created_by"]:
        failures.add(file, "pyarrow", f"created_by {metadata.created_by!r}, expected {expected['created_by']!r}")
    kv = {k.decode(): v.decode() for k, v in (metadata.metadata or {}).items()}
    if kv != expected["key_value_metadata"]:
        failures.add(file, "pyarrow", f"key-value metadata {kv!r}, expected {expected['key_value_metadata']!r}")
    if metadata.num_rows != expected["rows"]:
        failures.add(file, "pyarrow", f"num_rows {metadata.num_rows}, expected {expected['rows']}")
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    duck = {}
    for row in con.execute(
        "SELECT row_group_id, path_in_schema, stats_null_count, stats_min_value, stats_max_value, encodings, compression "
        "FROM parquet_metadata(?)",
        [str(path)],
    ).fetchall():
        duck[(row[0], row[1])] = row[2:]
    start = 0
    names = [metadata.schema.column(j).name for j in range(metadata.num_columns)]
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        if group.num_rows <= 0:
            failures.add(file, "pyarrow", f"row group {g} has {group.num_rows} rows")
        rows = slice(start, start + group.num_rows)
        start += group.num_rows
        for column in columns:
            where = f"row group {g} column {column.name!r}"
            j = names.index(column.name)
            chunk = group.column(j)
            if chunk.compression != expected["codec"]:
                failures.add(file, "pyarrow", f"{where}: codec {chunk.compression}, expected {expected['codec']}")
            if column.type == "string":
                if expected.get("dictionary_strings", True) and not chunk.has_dictionary_page:
                    failures.add(file, "pyarrow", f"{where}: string column without a dictionary page")
                if not chunk.has_dictionary_page and "RLE_DICTIONARY" in chunk.encodings:
                    failures.add(file, "pyarrow", f"{where}: RLE_DICTIONARY pages without a dictionary page")
            nulls, low, high, has_nan = expected_statistics(column, rows)
            # pyarrow's view.
            stats = chunk.statistics
            if stats is None or not stats.has_null_count or stats.null_count != nulls:
                got = None if stats is None or not stats.has_null_count else stats.null_count
                failures.add(file, "pyarrow", f"{where}: null_count {got}, expected {nulls}")
            if stats is not None:
                if stats.has_min_max != (low is not None):
                    failures.add(file, "pyarrow", f"{where}: has_min_max {stats.has_min_max}, expected {low is not None}")
                elif low is not None:
                    got_low, got_high = pyarrow_stat_value(column, stats.min), pyarrow_stat_value(column, stats.max)
                    if (got_low, got_high) != (low, high):
                        failures.add(
                            file, "pyarrow",
                            f"{where}: min/max {describe_stat(column, got_low)}/{describe_stat(column, got_high)}, "
                            f"expected {describe_stat(column, low)}/{describe_stat(column, high)}",
                        )
            # DuckDB's view.
            entry = duck.get((g, column.name))
            if entry is None:
                failures.add(file, "duckdb", f"{where}: missing from parquet_metadata()")
                continue
            d_nulls, d_min, d_max, encodings, compression = entry
            if d_nulls != nulls:
                failures.add(file, "duckdb", f"{where}: stats_null_count {d_nulls}, expected {nulls}")
            if column.type == "string" and expected.get("dictionary_strings", True) and "RLE_DICTIONARY" not in (encodings or ""):
                failures.add(file, "duckdb", f"{where}: encodings {encodings!r} lack RLE_DICTIONARY")
            if low is None or (column.type == "double" and has_nan and d_min is None and d_max is None):
                if low is None and (d_min is not None or d_max is not None):
                    failures.add(file, "duckdb", f"{where}: min/max {d_min!r}/{d_max!r}, expected none")
                continue
            if d_min is None or d_max is None:
                failures.add(file, "duckdb", f"{where}: no min/max shown, expected {describe_stat(column, low)}/{describe_stat(column, high)}")
                continue
            if column.type == "string":
                got = (d_min.encode("utf-8"), d_max.encode("utf-8"))
            elif column.type == "timestamp_ms":
                got = (parse_duckdb_timestamp(d_min), parse_duckdb_timestamp(d_max))
            else:
                got = (bits_of(float(d_min)), bits_of(float(d_max)))
            if got != (low, high):
                failures.add(
                    file, "duckdb",
                    f"{where}: min/max {d_min!r}/{d_max!r}, expected {describe_stat(column, low)}/{describe_stat(column, high)}",
                )
    if start != expected["rows"]:
        failures.add(file, "pyarrow", f"row groups hold {start} rows, expected {expected['rows']}")


CHECKS = [
    ("pyarrow", check_pyarrow),
    ("duckdb", check_duckdb),
    ("polars", check_polars),
    ("fastparquet", check_fastparquet),
]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    directory = Path(argv[1])
    files = sorted(directory.glob("*.parquet"))
    if not files:
        print(f"parquet_oracle: no .parquet files in {directory}")
        return 2
    failures = Failures()
    for path in files:
        name = path.name
        expected_path = path.with_name(path.name[: -len(".parquet")] + ".expected.json")
        if not expected_path.exists():
            failures.add(name, "oracle", f"missing {expected_path.name}")
            continue
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        columns = [Column(spec) for spec in expected["columns"]]
        for column in columns:
            if len(column) != expected["rows"]:
                failures.add(name, "oracle", f"expected column {column.name!r} has {len(column)} values, rows = {expected['rows']}")
        before = len(failures.messages)
        for reader, check in CHECKS:
            try:
                check(failures, name, columns, path)
            except Exception as error:  # a reader that cannot read the file at all
                failures.add(name, reader, f"failed to read: {type(error).__name__}: {error}")
        try:
            check_metadata_and_statistics(failures, name, expected, columns, path)
        except Exception as error:
            failures.add(name, "metadata", f"failed: {type(error).__name__}: {error}")
        status = "ok  " if len(failures.messages) == before else "FAIL"
        print(f"{status} {name}: {expected['rows']} rows, {len(columns)} columns")
    readers = ", ".join(
        f"{n} {v}" for n, v in [
            ("pyarrow", pa.__version__), ("duckdb", duckdb.__version__), ("polars", pl.__version__),
            ("fastparquet", fastparquet.__version__),
        ]
    )
    if failures:
        print(f"\nparquet_oracle: {len(failures.messages)} mismatches in {directory} ({readers}):")
        for message in failures.messages[:MAX_REPORTED]:
            print("  " + message)
        if len(failures.messages) > MAX_REPORTED:
            print(f"  ... and {len(failures.messages) - MAX_REPORTED} more")
        return 1
    print(f"\nparquet_oracle: {len(files)} files match their expected values in {readers}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
