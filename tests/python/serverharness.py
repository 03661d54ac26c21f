"""Helpers for the `backtest-export serve` checks: a server process on a free loopback port,
boto3 and AWS CLI clients signed with the server's credentials, and file-tree digests."""
import hashlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ACCESS_KEY = "AKIDSERVETEST0000001"
SECRET_KEY = "serve/test+Secret0000000000000000000000000"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/ForecastExport"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def predictor_arn(name: str) -> str:
    return f"arn:aws:forecast:{REGION}:{ACCOUNT}:predictor/{name}"


def job_arn(predictor: str, job: str) -> str:
    return f"arn:aws:forecast:{REGION}:{ACCOUNT}:predictor-backtest-export-job/{predictor}/{job}"


def clean_env(**extra):
    """This process's environment without any AWS_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    env.update(extra)
    return env


class Server:
    """One `backtest-export serve` process. `start()` waits for its `listening on` line."""

    def __init__(self, binary, state_dir, bucket_root, predictors, *extra, env=None):
        self.binary = str(binary)
        self.state_dir = Path(state_dir)
        self.bucket_root = Path(bucket_root)
        self.predictors = predictors  # [(name, input path)]
        self.extra = [str(x) for x in extra]
        self.env = env if env is not None else clean_env(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        self.process = None
        self.url = None
        self.stderr_path = self.state_dir.parent / f"serve-{id(self)}.stderr"

    def start(self, timeout=60):
        port = free_port()
        args = [self.binary, "serve", "--port", str(port), "--state-dir", str(self.state_dir),
                "--bucket-root", str(self.bucket_root), "--region", REGION, "--account-id", ACCOUNT, *self.extra]
        for name, spec in self.predictors:
            args += ["--predictor", f"{name}={spec}"]
        self.stderr = open(self.stderr_path, "ab")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, env=self.env)
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                break
            if self.process.poll() is not None:
                break
        expected = f"listening on http://127.0.0.1:{port}\n".encode()
        if line != expected:
            self.kill()
            raise AssertionError(f"serve did not start: stdout {line!r}, stderr:\n{self.stderr_text()}")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stderr_text(self):
        self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=timeout)
        return self.process.returncode

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def alive(self):
        return self.process is not None and self.process.poll() is None


def boto_client(url, secret=SECRET_KEY, access=ACCESS_KEY):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "forecast", endpoint_url=url, region_name=REGION, aws_access_key_id=access, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=64),
    )


def aws_cli(url, *args, check=True):
    """Runs `aws forecast … --endpoint-url URL --output json`; returns the parsed JSON (or None)."""
    import json

    aws = os.environ.get("AWS_CLI") or str(Path(sys.executable).parent / "aws")
    if not Path(aws).exists():
        aws = shutil.which("aws") or "aws"
    env = clean_env(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
                    AWS_PAGER="")
    result = subprocess.run([aws, "forecast", *map(str, args), "--endpoint-url", url, "--output", "json"],
                            capture_output=True, text=True, env=env, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"aws forecast {' '.join(map(str, args))}: {result.returncode}\n{result.stderr}")
    if not check:
        return result
    return json.loads(result.stdout) if result.stdout.strip() else None


def wait_status(client, arn, statuses=("ACTIVE",), timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=arn)
        if job["Status"] in statuses:
            return job
        if job["Status"] in ("CREATE_FAILED", "CREATE_STOPPED", "ACTIVE"):
            raise AssertionError(f"{arn} ended {job['Status']}: {job.get('Message')}")
        time.sleep(0.05)
    raise AssertionError(f"{arn} did not reach {statuses} in {timeout} s")


def tree_digest(folder: Path):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


def export_timestamp(folder: Path):
    """The ExportTimestamp in the part names under `folder` (yyyy-MM-ddTHH-mm-ssZ → ISO 8601)."""
    names = [p.name for p in Path(folder).rglob("*_part*") if p.is_file()]
    assert names, f"no parts under {folder}"
    stamps = {n.rsplit("_part", 1)[0][-20:] for n in names}
    assert len(stamps) == 1, stamps
    stamp = stamps.pop()
    return stamp[:13] + ":" + stamp[14:16] + ":" + stamp[17:]
