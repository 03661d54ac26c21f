"""Shared fixtures for the end-to-end checks: they run the built CLI and read what it wrote
with independent readers (Python's csv module, pandas, and for Parquet pyarrow, DuckDB,
polars and fastparquet)."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli_path() -> Path:
    env = os.environ.get("BACKTEST_EXPORT_BIN")
    if env:
        return Path(env)
    for config in ("release", "debug"):
        candidate = ROOT / ".build" / config / "backtest-export"
        if candidate.exists():
            return candidate
    raise RuntimeError("backtest-export is not built: run `swift build -c release` or set BACKTEST_EXPORT_BIN")


class CLI:
    def __init__(self, path: Path):
        self.path = path

    def run(self, *args, check=True, env=None, timeout=600):
        result = subprocess.run(
            [str(self.path), *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"backtest-export {' '.join(map(str, args))} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result


@pytest.fixture(scope="session")
def cli() -> CLI:
    return CLI(cli_path())
