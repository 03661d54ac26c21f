"""End-to-end: the CLI's accuracy-metrics-values against the independent numpy oracle (issue #3)."""
import csv
import random
import subprocess
import sys
from pathlib import Path

import pytest

ORACLE = Path(__file__).with_name("metrics_oracle.py")
JOB = "Metrics_Job"


def oracle(*args):
    result = subprocess.run([sys.executable, str(ORACLE), *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, f"oracle found mismatches:\n{result.stdout}\n{result.stderr}"
    return result


def export(cli, src, dest, *args):
    cli.run("export", "--job-name", JOB, "--input", src, "--destination", dest, "--quiet", *args)


def irregular_dataset(folder: Path, seed=11):
    """Intermittent demand, zeros, missing actuals, whole windows without actuals, negative and
    missing forecasts, Σ|y| = 0 windows, two dimensions, unsorted rows, and a history file."""
    rng = random.Random(seed)
    header = ["region", "item_id", "timestamp", "target_value", "backtestwindow_start_time",
              "backtestwindow_end_time", "p5", "p50", "p95", "channel"]
    rows, history = [], []
    for item in range(40):
        for region in ("north", "south"):
            kind = item % 5  # 0 regular, 1 intermittent, 2 all zeros, 3 no actuals in window 1, 4 sparse history
            level = rng.uniform(0.5, 300)
            for day in range(35):
                if kind == 4 and day % 3:
                    continue
                y = 0.0 if kind == 2 or (kind == 1 and rng.random() < 0.7) else round(level * rng.uniform(0.5, 1.5), 3)
                history.append([f"it{item}", region, "web", f"2023-01-{1 + day % 31:02d}" if day < 31 else f"2023-02-{day - 30:02d}", "" if rng.random() < 0.05 else y])
            for w in range(3):
                start_day = 6 + 7 * w
                for h in range(7):
                    day = start_day + h
                    ts = f"2023-02-{day:02d} 00:00:00"
                    y = "" if (kind == 3 and w == 1) or rng.random() < 0.08 else (
                        0.0 if kind == 2 or (kind == 1 and rng.random() < 0.7) else round(level * rng.uniform(0.5, 1.5), 4))
                    center = level * rng.uniform(0.7, 1.3) - (5 if kind == 1 else 0)
                    p50 = "" if rng.random() < 0.03 else center
                    rows.append([region, f"it{item}", ts, y, f"2023-02-{start_day:02d}T00:00:00",
                                 f"2023-02-{start_day + 6:02d}T00:00:00", center - 0.4 * abs(center), p50,
                                 center + 0.4 * abs(center), "web"])
    rng.shuffle(rows)
    src = folder / "irregular.csv"
    with open(src, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    hist = folder / "irregular-history.csv"
    with open(hist, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["item_id", "region", "channel", "timestamp", "target_value"])
        w.writerows(history)
    return src, hist


def test_sample_metrics_match_the_oracle(cli, tmp_path):
    src, hist = tmp_path / "s.csv", tmp_path / "h.csv"
    cli.run("sample", "--output", src, "--history-output", hist, "--items", 150, "--dimensions", 1, "--windows", 3)
    export(cli, src, tmp_path / "out", "--history", hist, "--frequency", "D")
    oracle("--input", src, "--history", hist, "--frequency", "D", "--check", tmp_path / "out")


@pytest.mark.parametrize("mode", ["normalized", "absolute"])
def test_irregular_metrics_match_the_oracle(cli, tmp_path, mode):
    src, hist = irregular_dataset(tmp_path)
    export(cli, src, tmp_path / "out", "--history", hist, "--wape-mode", mode)
    oracle("--input", src, "--history", hist, "--wape-mode", mode, "--check", tmp_path / "out")
    text = "".join(p.read_text() for p in (tmp_path / "out" / "accuracy-metrics-values").glob("*.csv"))
    assert "not defined" in text


def test_metrics_without_history_have_mase_not_defined(cli, tmp_path):
    src = tmp_path / "s.csv"
    cli.run("sample", "--output", src, "--items", 20)
    export(cli, src, tmp_path / "out")
    oracle("--input", src, "--check", tmp_path / "out")
    [part] = (tmp_path / "out" / "accuracy-metrics-values").glob("*.csv")
    rows = list(csv.DictReader(part.open()))
    assert rows and all(r["MASE"] == "not defined" for r in rows)


def test_a_history_of_no_listed_frequency_warns_that_mase_is_not_defined(cli, tmp_path):
    """Two-hourly data: SPEC §6 gives no season for it, so MASE is not defined, and the export
    says why on stderr instead of leaving every MASE empty without a word."""
    src, hist = tmp_path / "in.csv", tmp_path / "history.csv"
    header = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50\n"
    rows = [f"a,2024-01-03 {h:02d}:00:00,{h},2024-01-03 00:00:00,2024-01-03 22:00:00,{h + 1}\n" for h in range(0, 24, 2)]
    src.write_text(header + "".join(rows))
    hours = [(d, h) for d in (1, 2) for h in range(0, 24, 2)]
    hist.write_text("item_id,timestamp,target_value\n" + "".join(f"a,2024-01-0{d} {h:02d}:00:00,{h}\n" for d, h in hours))
    result = cli.run("export", "--job-name", "J", "--input", src, "--history", hist, "--destination", tmp_path / "out")
    assert "MASE is not defined" in result.stderr and "--frequency" in result.stderr, result.stderr
    metrics = (next((tmp_path / "out" / "accuracy-metrics-values").glob("*.csv"))).read_text()
    assert metrics.splitlines()[1].endswith(",not defined"), metrics
    quiet = cli.run("export", "--job-name", "J", "--input", src, "--history", hist, "--destination", tmp_path / "q",
                    "--quiet")
    assert quiet.stderr == ""
    given = cli.run("export", "--job-name", "J", "--input", src, "--history", hist, "--destination", tmp_path / "d",
                    "--frequency", "H")
    assert "warning" not in given.stderr
