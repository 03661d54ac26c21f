"""Crash-clean and fault-proof exports (issue #14): SIGKILL at random moments leaves nothing
wrong under a final name and the next run of the same job cleans up after it; SIGINT/SIGTERM
cancel the export (exit 130/143, no open multipart upload, no temporary file); an S3 endpoint
that accepts connections and never answers fails the export with a timeout message in bounded
time. The S3 cases use the SeaweedFS server that `scripts/test` starts (key prefix `h14/`)."""
import csv
import gzip
import hashlib
import io
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

JOB = "Crash_Job"
TS = "2024-06-01T00:00:00Z"
PREFIX = "h14-crash"
TABLES = ("forecasted-values", "accuracy-metrics-values")


@pytest.fixture(scope="module")
def s3():
    names = ["ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "BUCKET", "REGION"]
    missing = [n for n in names if not os.environ.get(f"BACKTEST_EXPORT_S3_TEST_{n}")]
    if missing:
        pytest.fail('no S3 test server: run eval "$(scripts/s3-server.sh start)" first (or scripts/test)')
    cfg = {n.lower(): os.environ[f"BACKTEST_EXPORT_S3_TEST_{n}"] for n in names}
    import boto3

    cfg["client"] = boto3.client(
        "s3", endpoint_url=cfg["endpoint"], aws_access_key_id=cfg["access_key"],
        aws_secret_access_key=cfg["secret_key"], region_name=cfg["region"],
    )
    return cfg


def s3_env(s3, endpoint=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=s3["access_key"] if s3 else "test-key", AWS_SECRET_ACCESS_KEY=s3["secret_key"] if s3 else "test-secret",
        AWS_REGION=s3["region"] if s3 else "us-east-1", AWS_ENDPOINT_URL_S3=endpoint or s3["endpoint"],
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_CONFIG_FILE="/nonexistent",
    )
    return env


@pytest.fixture(scope="module")
def inputs(cli, tmp_path_factory):
    """A sorted and a shuffled input of ≈ 17 MB each (150,000 rows; fewer with
    BACKTEST_EXPORT_CRASH_ITEMS, for a debug build)."""
    folder = tmp_path_factory.mktemp("crash-inputs")
    items = int(os.environ.get("BACKTEST_EXPORT_CRASH_ITEMS", "1250"))
    paths = {}
    for order in ("sorted", "shuffled"):
        path = folder / f"{order}.csv"
        cli.run("sample", "--output", path, "--items", items, "--windows", 4, "--horizon", 30, "--order", order)
        paths[order] = path
    return paths


def command(cli, src, dest, temp_dir, fmt, compression, extra=(), memory_limit="4MiB"):
    return [str(cli.path), "export", "--job-name", JOB, "--input", str(src), "--destination", str(dest),
            "--export-timestamp", TS, "--format", fmt, "--compression", compression, "--quiet",
            "--temp-dir", str(temp_dir), "--memory-limit", memory_limit, *extra]


# --- what a destination holds -----------------------------------------------------------------

def local_listing(folder: Path):
    """Every file below `folder`: {relative path: bytes}."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def s3_listing(s3, prefix):
    client, bucket, out = s3["client"], s3["bucket"], {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            out[item["Key"][len(prefix) + 1:]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


def open_uploads(s3, prefix):
    uploads = s3["client"].list_multipart_uploads(Bucket=s3["bucket"], Prefix=prefix + "/")
    return [u["Key"] for u in uploads.get("Uploads", [])]


def check_complete(name: str, body: bytes, fmt: str, compression: str):
    """Fails unless `body` is a whole file of its kind, read by an independent reader."""
    base = name.rsplit("/", 1)[-1]
    if base == "_manifest.json":
        json.loads(body)
        return
    if base in ("_SUCCESS", "_CHECK"):
        assert body == b"", f"{name} is not empty"
        return
    if name == "_LOCK":
        # The destination's lock file (flock): the kernel released the dead run's lock; the file
        # names the last holder and is reused by the next run.
        return
    assert name.split("/")[0] in TABLES, f"unexpected file {name}"
    assert not base.startswith("."), f"a hidden file under a final name: {name}"
    if fmt == "parquet":
        pq.read_table(io.BytesIO(body))  # needs the footer: a cut file fails
        return
    text = gzip.decompress(body) if compression == "gzip" else body  # gzip checks its CRC and length
    assert text.endswith(b"\n"), f"{name} does not end with a whole row"
    rows = list(csv.reader(io.StringIO(text.decode("utf-8"))))
    assert len({len(r) for r in rows}) == 1, f"{name} has rows of different widths"


# --- the kill test ------------------------------------------------------------------------------

CASES = [(fmt, comp, order, dest) for fmt, comp in (("csv", "none"), ("csv", "gzip"), ("parquet", "snappy"))
         for order in ("sorted", "shuffled") for dest in ("local", "s3")]


def test_sigkill_at_random_moments_then_the_same_command_cleans_up(cli, s3, inputs, tmp_path):
    rng = random.Random(1414)
    durations = {}
    summary = []
    for run in range(30):
        fmt, comp, order, dest_kind = CASES[run % len(CASES)]
        temp_dir = tmp_path / f"tmp{run}"
        temp_dir.mkdir()
        if dest_kind == "local":
            dest = tmp_path / f"out{run}"
            extra = ("--max-part-bytes", "2MiB")
        else:
            prefix = f"{PREFIX}/kill-{uuid.uuid4().hex[:8]}-{run}"
            dest = f"s3://{s3['bucket']}/{prefix}"
            extra = ()  # one part of ≈ 17 MB: a multipart upload of 8 MiB parts
        argv = command(cli, inputs[order], dest, temp_dir, fmt, comp, extra)
        env = s3_env(s3) if dest_kind == "s3" else None

        key = (fmt, comp, order, dest_kind)
        if key not in durations:  # how long this kind of export takes, to kill within it
            started = time.monotonic()
            probe_dest = tmp_path / f"probe{run}" if dest_kind == "local" else f"s3://{s3['bucket']}/{PREFIX}/probe-{uuid.uuid4().hex[:8]}"
            probe = command(cli, inputs[order], probe_dest, temp_dir, fmt, comp, extra)
            subprocess.run(probe, env=env, check=True, capture_output=True, timeout=300)
            durations[key] = time.monotonic() - started

        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        delay = rng.uniform(0.02, durations[key] * 0.95)
        time.sleep(delay)
        finished_first = process.poll() is not None
        process.kill()
        process.wait()
        summary.append((run, key, round(delay, 2), finished_first))

        listing = local_listing(dest) if dest_kind == "local" and dest.exists() else (
            s3_listing(s3, prefix) if dest_kind == "s3" else {})
        if "_SUCCESS" in listing:
            # It finished before the kill (or the kill came while the finished process exited,
            # after poll()): then the export must be whole, every part the manifest lists there
            # with its digest and no other part.
            assert not finished_first or process.returncode == 0
            manifest = json.loads(listing["_manifest.json"])
            listed = {p["key"]: p["sha256"] for t in manifest["tables"].values() for p in t["parts"]}
            present = {n: hashlib.sha256(b).hexdigest() for n, b in listing.items()
                       if n.split("/")[0] in TABLES and not n.rsplit("/", 1)[-1].startswith(".")}
            assert present == listed, f"run {run} {key}: _SUCCESS after SIGKILL at {delay:.2f} s, parts differ"
        for name, body in listing.items():
            if name.rsplit("/", 1)[-1].startswith("."):
                continue  # a temporary file: hidden, not under a final name
            check_complete(name, body, fmt, comp)

        # The same command again: it completes and leaves nothing behind.
        again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, f"run {run} {key}: rerun failed: {again.stderr}"
        listing = local_listing(dest) if dest_kind == "local" else s3_listing(s3, prefix)
        assert "_SUCCESS" in listing
        hidden = [n for n in listing if n.rsplit("/", 1)[-1].startswith(".")]
        assert hidden == [], f"run {run} {key}: temporary parts left: {hidden}"
        for name, body in listing.items():
            check_complete(name, body, fmt, comp)
        manifest = json.loads(listing["_manifest.json"])
        assert manifest, "empty manifest"
        assert list(temp_dir.iterdir()) == [], f"run {run} {key}: spill runs left: {list(temp_dir.iterdir())}"
        if dest_kind == "s3":
            assert open_uploads(s3, prefix) == [], f"run {run} {key}: multipart uploads left open"
    killed_during_run = sum(1 for s in summary if not s[3])
    assert killed_during_run >= 20, f"most kills should land during the export: {summary}"


def test_sigkill_while_the_metrics_table_is_written_leaves_nothing_after_the_next_run(cli, tmp_path):
    """The accuracy metrics spilled to a temporary file (tiny --memory-limit) and a SIGKILL while
    their table is written: the next run removes that file as it removes spill folders."""
    src = tmp_path / "in.csv"
    cli.run("sample", "--output", src, "--items", 1000, "--dimensions", 2, "--windows", 5, "--horizon", 10,
            "--order", "shuffled")
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    dest = tmp_path / "out"
    argv = command(cli, src, dest, temp_dir, "csv", "none", extra=("--max-part-bytes", "1MiB"),
                   memory_limit="64KiB")
    killed_in_metrics = 0
    for _ in range(3):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        metrics = dest / "accuracy-metrics-values"
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if metrics.exists() and any(metrics.iterdir()):
                break
            time.sleep(0.002)
        if proc.poll() is None:
            proc.kill()
            killed_in_metrics += 1
        proc.wait()
        subprocess.run(argv, check=True, capture_output=True, timeout=300)
        assert (dest / "_SUCCESS").exists()
        assert list(temp_dir.iterdir()) == [], f"left in --temp-dir: {list(temp_dir.iterdir())}"
    assert killed_in_metrics > 0, "no kill landed while the metrics table was written"


def test_a_later_run_removes_stale_spill_folders_but_not_live_ones(cli, inputs, tmp_path):
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    stale = temp_dir / "backtest-export-99999999-abc"  # above pid_max: its owner is dead
    stale.mkdir()
    (stale / "run0.bin").write_bytes(b"x" * 1000)
    live = temp_dir / f"backtest-export-{os.getpid()}-def"  # this test's own process: alive
    live.mkdir()
    argv = command(cli, inputs["sorted"], tmp_path / "out", temp_dir, "csv", "none")
    subprocess.run(argv, check=True, capture_output=True, timeout=300)
    assert not stale.exists()
    assert live.exists()


# --- SIGINT / SIGTERM ---------------------------------------------------------------------------

def test_sigint_during_a_multipart_upload_exits_130_within_a_second_with_no_open_upload(cli, s3, tmp_path):
    src = tmp_path / "big.csv"
    cli.run("sample", "--output", src, "--items", 2000, "--windows", 4, "--horizon", 30)  # ≈ 40 MB, one part
    prefix = f"{PREFIX}/sigint-{uuid.uuid4().hex[:8]}"
    argv = command(cli, src, f"s3://{s3['bucket']}/{prefix}", tmp_path, "csv", "none")
    process = subprocess.Popen(argv, env=s3_env(s3), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not open_uploads(s3, prefix):
        assert process.poll() is None, f"the export ended before a multipart upload opened: {process.stderr.read()}"
        assert time.monotonic() < deadline, "no multipart upload opened"
        time.sleep(0.02)
    time.sleep(0.2)  # some parts in flight
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        status = process.wait(timeout=5)
    finally:
        process.kill()
    elapsed = time.monotonic() - sent
    stderr = process.stderr.read()
    assert status == 130, f"exit {status}: {stderr}"
    assert elapsed < 1.0, f"took {elapsed:.2f} s to exit after SIGINT"
    assert "SIGINT" in stderr
    assert open_uploads(s3, prefix) == []
    assert "_SUCCESS" not in s3_listing(s3, prefix)


def test_sigterm_on_a_local_spilling_export_exits_143_and_leaves_no_temporary_file(cli, inputs, tmp_path):
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    dest = tmp_path / "out"
    argv = command(cli, inputs["shuffled"], dest, temp_dir, "parquet", "snappy", ("--max-part-bytes", "1MiB"),
                   memory_limit="512KiB")
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(temp_dir.iterdir()):  # wait until it spills
        assert process.poll() is None, f"ended before spilling: {process.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=5)
    elapsed = time.monotonic() - sent
    assert status == 143, process.stderr.read()
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert list(temp_dir.iterdir()) == []
    files = local_listing(dest) if dest.exists() else {}
    assert "_SUCCESS" not in files
    assert [n for n in files if n.rsplit("/", 1)[-1].startswith(".")] == []


# --- an endpoint that never answers -----------------------------------------------------------

class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte (nor closes them)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_an_endpoint_that_accepts_and_never_answers_fails_with_a_timeout_within_45_s(cli, inputs, tmp_path):
    server = SilentServer()
    try:
        argv = command(cli, inputs["sorted"], "s3://bucket/h14-silent", tmp_path, "csv", "none", ("--json",))
        started = time.monotonic()
        result = subprocess.run(argv, env=s3_env(None, endpoint=f"http://127.0.0.1:{server.port}"),
                                capture_output=True, text=True, timeout=45)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert result.returncode == 1, result.stderr
    assert server.accepted, "the export never connected"
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "SINK_ERROR"
    assert "timed out" in error["message"], error["message"]
    assert "test-secret" not in result.stdout + result.stderr
    assert elapsed < 45


def test_overall_timeout_cancels_the_export(cli, inputs, tmp_path):
    server = SilentServer()
    try:
        argv = command(cli, inputs["sorted"], "s3://bucket/h14-silent", tmp_path, "csv", "none",
                       ("--json", "--timeout", "2"))
        started = time.monotonic()
        result = subprocess.run(argv, env=s3_env(None, endpoint=f"http://127.0.0.1:{server.port}"),
                                capture_output=True, text=True, timeout=30)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stdout)["error"]
    assert "--timeout" in error["message"], error["message"]
    assert elapsed < 10
