"""End-to-end: any input order in one pass (issue #12): byte-identical output for sorted,
window-major, shuffled and reversed inputs at any memory budget (also with few file descriptors),
duplicate rows and over-long records refused with exit 2 and nothing published, and `sample`'s
sorted order being the export's own byte-wise order."""
import csv
import hashlib
import json
import resource
import subprocess
import time
from pathlib import Path

import pytest

JOB = "Grouping_Job"
TS = "2024-03-07T09:05:00Z"


def sample(cli, path, *args):
    cli.run("sample", "--output", path, *args)
    return path


def export(cli, src, dest, *args, check=True):
    return cli.run(
        "export", "--job-name", JOB, "--input", src, "--destination", dest, "--export-timestamp", TS, "--quiet",
        *args, check=check,
    )


def tree_digest(folder: Path):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def published_parts(folder: Path):
    return [p for p in folder.rglob("*") if p.is_file() and p.name not in ("_CHECK",)]


ARGS = ("--items", 120, "--dimensions", 2, "--windows", 4, "--horizon", 9, "--awkward-ids")


def test_sample_sorted_is_the_export_order(cli, tmp_path):
    src = sample(cli, tmp_path / "in.csv", *ARGS)
    with open(src, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    dims = [c for c in header if c in ("store", "region", "channel")]
    index = {c: header.index(c) for c in header}

    def key(r):
        return ([r[index["item_id"]].encode()] + [r[index[d]].encode() for d in dims],
                r[index["backtestwindow_start_time"]], r[index["timestamp"]])

    assert [key(r) for r in rows] == sorted(key(r) for r in rows)
    result = export(cli, src, tmp_path / "out", "--json")
    assert json.loads(result.stdout)["data"]["input_was_in_export_order"] is True


def test_every_order_and_budget_gives_identical_files(cli, tmp_path):
    reference = None
    for order in ("sorted", "window-major", "shuffled", "reversed"):
        src = sample(cli, tmp_path / f"{order}.csv", *ARGS, "--order", order)
        for budget in ("1GiB", "64KiB"):
            out = tmp_path / f"{order}-{budget}"
            data = json.loads(export(cli, src, out, "--memory-limit", budget, "--temp-dir", tmp_path, "--json").stdout)
            assert data["data"]["input_was_in_export_order"] is (order == "sorted")
            assert (data["data"]["spilled_runs"] > 0) == (budget == "64KiB")
            digest = tree_digest(out)
            reference = reference or digest
            assert digest == reference, f"{order} {budget}"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("backtest-export-")]


@pytest.mark.parametrize("open_files", [256, 40])
def test_tiny_budget_under_few_file_descriptors(cli, tmp_path, open_files):
    """--memory-limit 64KiB makes hundreds of runs; a bounded merge fan-in keeps within ulimit -n 256,
    and a lower limit (40) lowers the fan-in (more merge passes) instead of failing."""
    src = sample(cli, tmp_path / "in.csv", "--items", 1200, "--dimensions", 1, "--windows", 3, "--horizon", 30,
                 "--order", "shuffled")
    export(cli, src, tmp_path / "ref")

    def limit_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    cmd = [str(cli.path), "export", "--job-name", JOB, "--input", str(src), "--destination", str(tmp_path / "small"),
           "--export-timestamp", TS, "--quiet", "--json", "--memory-limit", "64KiB", "--temp-dir", str(tmp_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit_files, timeout=600)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["spilled_runs"] > 256
    assert tree_digest(tmp_path / "small") == tree_digest(tmp_path / "ref")


def test_a_spill_folder_held_by_an_unseen_process_is_kept(cli, tmp_path):
    """A spill folder named for a pid this run cannot see (a live run in another PID namespace or
    on another machine sharing --temp-dir) is kept while its lock is held, and removed as a
    leftover once it is not."""
    import fcntl
    import os

    temp = tmp_path / "temp"
    temp.mkdir()
    dead_pid = 4_000_000  # above any pid_max: no such process here
    held = temp / f"backtest-export-{dead_pid}-abc"
    held.mkdir()
    (held / "run0.bin").write_bytes(b"x")
    fd = os.open(held, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    src = sample(cli, tmp_path / "in.csv", "--items", 300, "--order", "shuffled")
    try:
        data = json.loads(export(cli, src, tmp_path / "a", "--memory-limit", "64KiB", "--temp-dir", temp,
                                 "--json").stdout)
        assert data["data"]["spilled_runs"] > 0
        assert (held / "run0.bin").exists()
    finally:
        os.close(fd)
    export(cli, src, tmp_path / "b", "--memory-limit", "64KiB", "--temp-dir", temp)
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("soft, hard", [(12, 12), (20, 20), (12, 4096)])
def test_too_few_file_descriptors_is_a_clear_error(cli, tmp_path, soft, hard):
    """Below 32 open files the event loops cannot start: a clear error (exit 2, nothing written),
    not a crash; a low soft limit under a higher hard limit is raised and the run succeeds."""
    src = sample(cli, tmp_path / "in.csv", "--items", 30)

    def limit_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    dest = tmp_path / "out"
    cmd = [str(cli.path), "export", "--job-name", JOB, "--input", str(src), "--destination", str(dest),
           "--export-timestamp", TS, "--quiet", "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit_files, timeout=120)
    if hard < 32:
        assert result.returncode == 2, result.stderr
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert f"ulimit -n) is {soft}" in error["message"]
        assert not dest.exists() or published_parts(dest) == []
    else:
        assert result.returncode == 0, result.stderr
        assert (dest / "_SUCCESS").exists()


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_temp_dir_that_is_not_a_folder_is_a_validation_error(cli, tmp_path, kind):
    src = sample(cli, tmp_path / "in.csv", "--items", 30)
    temp = tmp_path / "temp"
    if kind == "file":
        temp.write_text("x")
    dest = tmp_path / "out"
    result = export(cli, src, dest, "--temp-dir", temp, "--json", check=False)
    assert result.returncode == 2, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "VALIDATION_ERROR" and f"--temp-dir '{temp}'" in error["message"], error
    assert not dest.exists()


def test_inherited_descriptors_count_against_the_limit(cli, tmp_path):
    """A parent that hands down many open files leaves fewer than the run needs under its limit:
    a clear error naming both numbers, not a crash of the event loops."""
    import os

    src = sample(cli, tmp_path / "in.csv", "--items", 30)
    inherited = [os.open(os.devnull, os.O_RDONLY) for _ in range(18)]

    def limit_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

    dest = tmp_path / "out"
    cmd = [str(cli.path), "export", "--job-name", JOB, "--input", str(src), "--destination", str(dest),
           "--export-timestamp", TS, "--quiet", "--json"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit_files, pass_fds=inherited,
                                timeout=120)
    finally:
        for fd in inherited:
            os.close(fd)
    assert result.returncode == 2, result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert "ulimit -n) is 32 and" in message and "already open" in message, message
    assert not dest.exists() or published_parts(dest) == []


@pytest.mark.parametrize("budget", ["1GiB", "64KiB"])
def test_duplicate_rows_are_input_errors(cli, tmp_path, budget):
    src = sample(cli, tmp_path / "in.csv", "--items", 50, "--dimensions", 1, "--windows", 2, "--horizon", 7,
                 "--order", "shuffled")
    lines = src.read_text().splitlines(keepends=True)
    # Line 7 again, with another forecast, near the end (as line len + 1 after the insert).
    duplicate = lines[6].rstrip("\n").rsplit(",", 1)[0] + ",12345.5\n"
    lines.insert(len(lines) - 3, duplicate)
    src.write_text("".join(lines))
    dup_line = len(lines) - 3
    dest = tmp_path / "out"
    result = export(cli, src, dest, "--memory-limit", budget, "--temp-dir", tmp_path, "--json", check=False)
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "INPUT_ERROR"
    assert f"{src}:{dup_line}" in error["message"], error["message"]
    assert "also on line 7" in error["message"]
    assert "duplicate row" in error["message"]
    assert published_parts(dest) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("backtest-export-")]


def test_endless_record_fails_fast(cli, tmp_path):
    t0 = time.monotonic()
    result = cli.run("export", "--job-name", JOB, "--input", "/dev/zero", "--destination", tmp_path / "z",
                     "--json", check=False, timeout=60)
    assert result.returncode == 2
    assert "/dev/zero:1" in json.loads(result.stdout)["error"]["message"]
    assert time.monotonic() - t0 < 30

    src = sample(cli, tmp_path / "in.csv", "--items", 5)
    lines = src.read_text().splitlines(keepends=True)
    lines.insert(4, "x" * 5000 + "\n")
    src.write_text("".join(lines))
    result = export(cli, src, tmp_path / "out", "--max-record-bytes", "4KiB", "--json", check=False)
    assert result.returncode == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert f"{src}:5" in message and "--max-record-bytes" in message
    assert published_parts(tmp_path / "out") == []
