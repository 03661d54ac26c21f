"""The export's progress line: drawn on a terminal only (stderr a pty), with the rows read and the
share of the input read while reading, then the rows written; never with --quiet or when stderr
is not a terminal."""
import os
import pty
import re
import select
import subprocess

import pytest


def run_on_pty(cli, args):
    """Runs the CLI with stderr on a pseudo-terminal; returns (exit status, what it drew)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(cli.path), *map(str, args)], stdout=subprocess.DEVNULL, stderr=follower, stdin=subprocess.DEVNULL
    )
    os.close(follower)
    drawn = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            raise AssertionError("no output from the export for 60 s")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed its side
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    return process.wait(timeout=60), drawn.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def shuffled(cli, tmp_path_factory):
    """1,920,000 rows in random order: all of them are read before the first is written."""
    path = tmp_path_factory.mktemp("progress") / "shuffled.csv"
    cli.run("sample", "--output", path, "--items", 40000, "--windows", 4, "--horizon", 12, "--order", "shuffled")
    return path


def test_progress_line_shows_reading_share_then_writing_on_a_terminal(cli, shuffled, tmp_path):
    status, drawn = run_on_pty(
        cli, ["export", "--job-name", "Progress", "--input", shuffled, "--destination", tmp_path / "out"]
    )
    assert status == 0, drawn
    lines = [line for line in drawn.replace("\x1b[K", "").split("\r") if line.strip()]
    reading = [line for line in lines if line.startswith("reading: ")]
    assert reading, f"no reading line in {drawn!r}"
    shares = [int(m.group(1)) for m in (re.search(r"\((\d+)% of [0-9.]+ MB\)", line) for line in reading) if m]
    assert shares, f"no share of the input in {reading!r}"
    assert shares == sorted(shares) and all(0 <= s <= 100 for s in shares)
    assert all(re.search(r", [0-9.]+( k| M)? rows/s$", line) for line in reading), reading
    assert "exported 1920000 forecast rows" in drawn
    assert "0 rows, 0.0 MB" not in drawn


def test_quiet_draws_nothing_even_on_a_terminal(cli, shuffled, tmp_path):
    status, drawn = run_on_pty(
        cli, ["export", "--job-name", "Quiet", "--input", shuffled, "--destination", tmp_path / "out", "--quiet"]
    )
    assert status == 0
    assert drawn == ""


def test_no_progress_line_when_stderr_is_not_a_terminal(cli, shuffled, tmp_path):
    result = cli.run("export", "--job-name", "Piped", "--input", shuffled, "--destination", tmp_path / "out")
    assert "reading:" not in result.stderr and "\r" not in result.stderr
    assert "exported 1920000 forecast rows" in result.stderr
