"""Independent readers and checks of an export folder against SPEC §2, §4 and §5."""
import csv
import io
import math
import re
import struct
from datetime import datetime, timezone
from pathlib import Path

FOLDERS = ("forecasted-values", "accuracy-metrics-values")
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # 2017-06-19T15:00:00.000Z
WINDOW = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
PLAIN = re.compile(r"^-?\d+\.\d+$")
SCIENTIFIC = re.compile(r"^-?\d\.\d+E-?\d+$")
FIXED = ("item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time")


def part_files(export: Path, folder: str, job: str, ext: str):
    """The parts of one folder in part order, after checking their names are exactly SPEC's."""
    pattern = re.compile(rf"^{job}_(\d{{4}}-\d\d-\d\dT\d\d-\d\d-\d\dZ)_part(0|[1-9]\d*)\.{re.escape(ext)}$")
    files = sorted((export / folder).iterdir())
    indexed = []
    stamps = set()
    for f in files:
        m = pattern.match(f.name)
        assert m, f"unexpected file in {folder}: {f.name!r}"
        stamps.add(m.group(1))
        indexed.append((int(m.group(2)), f))
    indexed.sort()
    assert [i for i, _ in indexed] == list(range(len(indexed))), f"part numbers not contiguous: {[i for i, _ in indexed]}"
    assert len(stamps) == 1, f"more than one timestamp: {stamps}"
    for _, f in indexed:
        assert f.stat().st_size > 0, f"zero-byte part {f}"
    return [f for _, f in indexed]


def read_csv_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    assert not data.startswith(b"\xef\xbb\xbf"), "BOM"
    return data.decode("utf-8")


def read_parts(paths):
    """(header, rows) over every part, checking each part repeats the same header."""
    header = None
    rows = []
    for p in paths:
        reader = csv.reader(io.StringIO(read_csv_text(p), newline=""))
        h = next(reader)
        if header is None:
            header = h
        assert h == header, f"{p.name}: header differs"
        rows.extend(reader)
    return header, rows


def java_number_ok(text: str) -> bool:
    if text in ("NaN", "Infinity", "-Infinity"):
        return True
    x = float(text)
    if PLAIN.match(text):
        return x == 0 or 1e-3 <= abs(x) < 1e7
    if SCIENTIFIC.match(text):
        return not (1e-3 <= abs(x) < 1e7) or x == 0
    return False


def epoch(text: str) -> int:
    """Seconds since the epoch of any input or output timestamp form (UTC)."""
    t = text.rstrip("Z").replace("T", " ")
    fmt = "%Y-%m-%d %H:%M:%S" if " " in t else "%Y-%m-%d"
    if "." in t:
        t = t.split(".")[0]
    return int(datetime.strptime(t, fmt).replace(tzinfo=timezone.utc).timestamp())


def bits(text: str):
    """A float's exact bits, or None for an empty (missing) field."""
    if text == "":
        return None
    return struct.pack("<d", float(text))


def normalized_rows(header, rows):
    """Rows as comparable tuples: key, window start, timestamp, window end, target bits, forecasts
    by column name (so that column order does not matter)."""
    idx = {name: i for i, name in enumerate(header)}
    dims = [h for h in header if h not in FIXED and not re.match(r"^[pP]\d+$|^mean$", h)]
    types = [h for h in header if re.match(r"^[pP]\d+$|^mean$", h)]
    out = []
    for r in rows:
        key = tuple([r[idx["item_id"]]] + [r[idx[d]] for d in dims])
        fc = tuple((("p" + str(int(t[1:])) if t[0] in "pP" else t), bits(r[idx[t]])) for t in types)
        out.append(
            (
                key,
                epoch(r[idx["backtestwindow_start_time"]]),
                epoch(r[idx["timestamp"]]),
                epoch(r[idx["backtestwindow_end_time"]]),
                bits(r[idx["target_value"]]),
                tuple(sorted(fc)),
            )
        )
    return out


def export_order_key(row):
    key, ws, ts, we = row[0], row[1], row[2], row[3]
    return (tuple(k.encode("utf-8") for k in key), ws, ts, we)


def check_forecast_values(header, rows, dims, types):
    assert header == ["item_id", *dims, *FIXED[1:], *types], f"header {header}"
    n = len(header)
    for r in rows:
        assert len(r) == n
        ts = r[1 + len(dims)]
        assert INSTANT.match(ts), ts
        assert WINDOW.match(r[3 + len(dims)]) and WINDOW.match(r[4 + len(dims)])
        for v in [r[2 + len(dims)], *r[5 + len(dims):]]:
            assert v == "" or java_number_ok(v), f"number {v!r} is not in Java Double.toString form"
