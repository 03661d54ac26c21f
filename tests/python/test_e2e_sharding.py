"""End-to-end: a sharded export (plan → N shard processes → commit) publishes exactly what a
single-machine export of the same input publishes: the same rows in the same order in each table
(only part boundaries may differ), parts numbered 0…M−1, and the same predictor metrics (issue #16).
Against a local folder and the local S3 server (SeaweedFS; `scripts/test` starts it)."""
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from exportcheck import part_files, read_csv_text

JOB = "Sharded_Job"
TS = "2024-06-01T00:00:00Z"
STAMP = "2024-06-01T00-00-00Z"
TABLES = ("forecasted-values", "accuracy-metrics-values")


@pytest.fixture(scope="module")
def data(cli, tmp_path_factory):
    """Shuffled input with awkward ids, one dimension and a history (for MASE)."""
    folder = tmp_path_factory.mktemp("sharding-input")
    src, hist = folder / "in.csv", folder / "history.csv"
    cli.run("sample", "--output", src, "--history-output", hist, "--items", 400, "--dimensions", 1,
            "--windows", 3, "--horizon", 10, "--order", "shuffled", "--awkward-ids", "--seed", 16)
    return src, hist


def export_args(src, hist, fmt, part_bytes="40KiB"):
    return ["--input", src, "--history", hist, "--format", fmt, "--max-part-bytes", part_bytes, "--quiet"]


def single_export(cli, src, hist, fmt, dest, part_bytes="40KiB", env=None):
    cli.run("export", "--job-name", JOB, "--export-timestamp", TS, "--destination", dest,
            *export_args(src, hist, fmt, part_bytes), env=env)


def run_plan(cli, src, plan, shards=4):
    cli.run("plan", "--job-name", JOB, "--export-timestamp", TS, "--input", src, "--shards", shards, "--output", plan)
    return json.loads(Path(plan).read_text())


def start_shard(cli, src, hist, fmt, dest, plan, index, env=None, part_bytes="40KiB"):
    """One worker as the Kubernetes engine starts it: --shard auto with JOB_COMPLETION_INDEX."""
    env = dict(env or os.environ)
    env["JOB_COMPLETION_INDEX"] = str(index)
    return subprocess.Popen(
        [str(cli.path), "export", "--destination", str(dest), "--plan", str(plan), "--shard", "auto",
         *map(str, export_args(src, hist, fmt, part_bytes))],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run_shards(cli, src, hist, fmt, dest, plan, indices, env=None, part_bytes="40KiB"):
    procs = [start_shard(cli, src, hist, fmt, dest, plan, i, env, part_bytes) for i in indices]  # all at once
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"shard exited {p.returncode}: {err}"


def table_rows(folder: Path, fmt: str):
    """Per table: (header, data bytes of all parts concatenated in part order) for CSV; the
    concatenated pyarrow table for Parquet. Checks part names (0…M−1, no gap)."""
    ext = "csv" if fmt == "csv" else "parquet"
    out = {}
    for table in TABLES:
        parts = part_files(folder, table, JOB, ext)
        if fmt == "csv":
            texts = [read_csv_text(p) for p in parts]
            headers = {t.split("\n", 1)[0] for t in texts}
            assert len(headers) == 1
            out[table] = (headers.pop(), "".join(t.split("\n", 1)[1] for t in texts), len(parts))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            out[table] = (None, pa.concat_tables([pq.read_table(p) for p in parts]), len(parts))
    return out


def assert_same_rows(sharded, single, fmt):
    for table in TABLES:
        header, rows, _ = sharded[table]
        h1, rows1, _ = single[table]
        assert header == h1
        if fmt == "csv":
            assert rows == rows1, f"{table}: concatenated rows differ from the single-machine export"
        else:
            assert rows.equals(rows1), f"{table}: concatenated rows differ from the single-machine export"


def assert_same_metrics(manifest, single_manifest):
    a, b = manifest["predictor_metrics"], single_manifest["predictor_metrics"]
    assert a["series"] == b["series"] and len(a["windows"]) == len(b["windows"])
    pairs = [(a["summary"], b["summary"])] + [(x["metrics"], y["metrics"]) for x, y in zip(a["windows"], b["windows"])]
    for wa, wb in zip(a["windows"], b["windows"]):
        assert (wa["start"], wa["end"], wa["items"]) == (wb["start"], wb["end"], wb["items"])
    checked = 0
    for x, y in pairs:
        assert x.keys() == y.keys()
        for name in x:
            if x[name] is None or y[name] is None:
                assert x[name] is None and y[name] is None, name
                continue
            assert abs(x[name] - y[name]) <= 1e-12 * max(abs(x[name]), abs(y[name])), (name, x[name], y[name])
            checked += 1
    assert checked > 10


def assert_manifest_matches_files(folder: Path, manifest):
    listed = []
    for table in TABLES:
        for part in manifest["tables"][table]["parts"]:
            data = (folder / part["key"]).read_bytes()
            assert len(data) == part["bytes"] and hashlib.sha256(data).hexdigest() == part["sha256"]
            listed.append(part["key"])
    on_disk = sorted(str(p.relative_to(folder)) for t in TABLES for p in (folder / t).iterdir())
    assert sorted(listed) == on_disk


def tree(folder: Path):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_four_shards_then_commit_equal_a_single_machine_export(cli, data, tmp_path, fmt):
    src, hist = data
    single = tmp_path / "single"
    single_export(cli, src, hist, fmt, single)
    plan = tmp_path / "plan.json"
    document = run_plan(cli, src, plan)
    assert document["shards"] == 4 and len(document["split_points"]) == 3
    dest = tmp_path / "sharded"
    run_shards(cli, src, hist, fmt, dest, plan, range(4))
    assert not (dest / "_SUCCESS").exists(), "a shard published"
    result = cli.run("commit", "--plan", plan, "--destination", dest, "--json")
    assert json.loads(result.stdout)["data"]["published"] is True

    assert (dest / "_SUCCESS").exists() and not (dest / "_staging").exists()
    sharded_rows, single_rows = table_rows(dest, fmt), table_rows(single, fmt)
    assert sharded_rows["forecasted-values"][2] >= 4, "expected parts from every shard"
    assert_same_rows(sharded_rows, single_rows, fmt)
    manifest = json.loads((dest / "_manifest.json").read_text())
    assert_manifest_matches_files(dest, manifest)
    assert_same_metrics(manifest, json.loads((single / "_manifest.json").read_text()))
    assert manifest["tables"]["forecasted-values"]["rows"] == json.loads(
        (single / "_manifest.json").read_text())["tables"]["forecasted-values"]["rows"]


def test_killed_shard_blocks_the_commit_until_it_is_run_again(cli, data, tmp_path):
    src, hist = data
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan)
    dest = tmp_path / "sharded"
    run_shards(cli, src, hist, "csv", dest, plan, [0, 1, 3])
    # Shard 2 is killed once it has started writing its staging folder.
    victim = start_shard(cli, src, hist, "csv", dest, plan, 2)
    staging = dest / "_staging" / f"{JOB}_{STAMP}" / "shard-2"
    deadline = time.monotonic() + 60
    while not (staging / "_CHECK").exists() and time.monotonic() < deadline and victim.poll() is None:
        time.sleep(0.002)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert not (staging / "_shard.json").exists(), "shard 2 finished before it could be killed"

    refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", check=False)
    assert refused.returncode != 0
    error = json.loads(refused.stdout)["error"]
    assert "shard 2" in error["message"] and "shard 0" not in error["message"], error
    assert not (dest / "_SUCCESS").exists() and not (dest / "_manifest.json").exists()
    assert not any((dest / t).exists() and any((dest / t).iterdir()) for t in TABLES), "parts were published"

    run_shards(cli, src, hist, "csv", dest, plan, [2])
    cli.run("commit", "--plan", plan, "--destination", dest)
    single = tmp_path / "single"
    single_export(cli, src, hist, "csv", single)
    assert_same_rows(table_rows(dest, "csv"), table_rows(single, "csv"), "csv")
    assert_manifest_matches_files(dest, json.loads((dest / "_manifest.json").read_text()))


def test_second_commit_publishes_nothing_again(cli, data, tmp_path):
    src, hist = data
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=3)
    dest = tmp_path / "sharded"
    run_shards(cli, src, hist, "csv", dest, plan, range(3))
    cli.run("commit", "--plan", plan, "--destination", dest)
    before = tree(dest)
    again = cli.run("commit", "--plan", plan, "--destination", dest, "--json")
    assert json.loads(again.stdout)["data"]["published"] is False
    assert tree(dest) == before
    # A shard run again since: the commit neither drops its work silently nor publishes a mix; it
    # refuses naming the shard, and the committed export stays as it was.
    run_shards(cli, src, hist, "csv", dest, plan, [1])
    refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = json.loads(refused.stdout)["error"]["message"]
    assert "shard 1 ran again since" in message and "--shard 0, 2" in message, message
    published = {k: v for k, v in tree(dest).items() if not k.startswith("_staging")}
    assert published == before
    # Every shard run again: published anew, as a re-run of `export` replaces its export.
    run_shards(cli, src, hist, "csv", dest, plan, [0, 2])
    again = cli.run("commit", "--plan", plan, "--destination", dest, "--json")
    assert json.loads(again.stdout)["data"]["published"] is True
    assert tree(dest) == before


def test_shard_arguments_are_checked(cli, data, tmp_path):
    src, hist = data
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=2)
    env = {k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID")}
    for args, text in [
        (["--shard", "auto"], "JOB_COMPLETION_INDEX"),
        (["--shard", "2"], "outside"),
        (["--shard", "x"], "--shard"),
        (["--shard", "0", "--job-name", "Other"], "differs"),
    ]:
        r = cli.run("export", "--destination", tmp_path / "d", "--plan", plan, "--input", src, *args, "--json",
                    env=env, check=False)
        assert r.returncode == 2 and text in json.loads(r.stdout)["error"]["message"], r.stdout
    assert not (tmp_path / "d").exists()
    # AWS Batch's variable works the same way.
    env["AWS_BATCH_JOB_ARRAY_INDEX"] = "1"
    cli.run("export", "--destination", tmp_path / "d", "--plan", plan, "--input", src, "--shard", "auto", "--quiet",
            env=env)
    assert (tmp_path / "d" / "_staging" / f"{JOB}_{STAMP}" / "shard-1" / "_shard.json").exists()


class HeldShard:
    """A shard held running: its input is a FIFO fed half-way, so it holds its staging folder's
    lock, blocked reading, until `finish()` feeds the rest (or `kill()` kills it). `started()`
    tells when it has taken its lock (its staging `_CHECK` is there)."""

    def __init__(self, cli, src, hist, dest, plan, index, folder, started, env=None):
        self.fifo = folder / f"shard-{index}-input.csv"
        os.mkfifo(self.fifo)
        # Read-write: a writer exists from now on, so neither side's open blocks.
        self.fd = os.open(self.fifo, os.O_RDWR)
        data = Path(src).read_bytes()
        self.rest = data[len(data) // 2:]
        self.proc = start_shard(cli, self.fifo, hist, "csv", dest, plan, index, env)
        feeder = threading.Thread(target=self._write, args=(data[:len(data) // 2],), daemon=True)
        feeder.start()
        deadline = time.monotonic() + 120
        while not started():
            assert self.proc.poll() is None, f"the held shard exited: {self.proc.communicate()}"
            assert time.monotonic() < deadline, "the held shard did not start"
            time.sleep(0.01)
        feeder.join(timeout=120)  # it has read most of the first half: it is in the middle of its input
        assert not feeder.is_alive() and self.proc.poll() is None

    def _write(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def finish(self):
        self._write(self.rest)
        os.close(self.fd)
        out, err = self.proc.communicate(timeout=600)
        assert self.proc.returncode == 0, f"the held shard failed: {err}"

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()
        os.close(self.fd)


def published_nothing(folder: Path):
    return (not (folder / "_SUCCESS").exists() and not (folder / "_manifest.json").exists()
            and not any((folder / t).exists() and any((folder / t).iterdir()) for t in TABLES))


@pytest.mark.parametrize("earlier", ["single", "commit"])
def test_commit_replaces_a_larger_export_of_the_same_job(cli, data, tmp_path, earlier):
    """The destination holds an earlier export of the same job and timestamp with more parts (a
    single-machine export, or a commit of another plan): after the commit exactly its parts
    remain, and the manifest lists exactly them."""
    src, hist = data
    dest = tmp_path / "sharded"
    if earlier == "single":
        single_export(cli, src, hist, "csv", dest, part_bytes="10KiB")
    else:
        old_plan = tmp_path / "old-plan.json"
        run_plan(cli, src, old_plan, shards=4)
        run_shards(cli, src, hist, "csv", dest, old_plan, range(4), part_bytes="10KiB")
        cli.run("commit", "--plan", old_plan, "--destination", dest)
    old = json.loads((dest / "_manifest.json").read_text())
    old_keys = {p["key"] for t in TABLES for p in old["tables"][t]["parts"]}

    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=2)
    run_shards(cli, src, hist, "csv", dest, plan, range(2))
    result = json.loads(cli.run("commit", "--plan", plan, "--destination", dest, "--json").stdout)["data"]
    assert result["published"] is True, result
    new_keys = {p["key"] for p in result["parts"]}
    assert len(new_keys) < len(old_keys), (len(new_keys), len(old_keys))

    assert (dest / "_SUCCESS").exists() and not (dest / "_staging").exists()
    manifest = json.loads((dest / "_manifest.json").read_text())
    assert {p["key"] for t in TABLES for p in manifest["tables"][t]["parts"]} == new_keys
    assert_manifest_matches_files(dest, manifest)  # on disk: exactly the listed parts
    single = tmp_path / "single"
    single_export(cli, src, hist, "csv", single)
    assert_same_rows(table_rows(dest, "csv"), table_rows(single, "csv"), "csv")
    assert_same_metrics(manifest, json.loads((single / "_manifest.json").read_text()))


def test_commit_refuses_another_exports_parts_unless_told(cli, data, tmp_path):
    src, hist = data
    dest = tmp_path / "sharded"
    cli.run("export", "--job-name", "Other_Job", "--export-timestamp", TS, "--destination", dest,
            *export_args(src, hist, "csv"))
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=2)
    run_shards(cli, src, hist, "csv", dest, plan, range(2))
    before = tree(dest)
    refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = json.loads(refused.stdout)["error"]["message"]
    assert "Other_Job_" in message and "--if-exists" in message, message
    assert tree(dest) == before, "a refused commit changed the destination"

    cli.run("commit", "--plan", plan, "--destination", dest, "--if-exists", "overwrite")
    assert not any(p.name.startswith("Other_Job_") for t in TABLES for p in (dest / t).iterdir())
    assert_manifest_matches_files(dest, json.loads((dest / "_manifest.json").read_text()))


def test_a_running_shard_blocks_the_commit(cli, data, tmp_path):
    """A shard still running holds its staging folder's lock: commit fails naming it and
    publishes nothing; once the shard finished, commit succeeds."""
    src, hist = data
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=3)
    dest = tmp_path / "sharded"
    run_shards(cli, src, hist, "csv", dest, plan, [0, 2])
    staging = dest / "_staging" / f"{JOB}_{STAMP}" / "shard-1"
    held = HeldShard(cli, src, hist, dest, plan, 1, tmp_path, started=lambda: (staging / "_CHECK").exists())
    try:
        refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", check=False)
        assert refused.returncode != 0
        message = json.loads(refused.stdout)["error"]["message"]
        assert "shard 1 is still running" in message and "shard 0" not in message, message
        assert published_nothing(dest), "a commit published while shard 1 ran"
        # The same shard started again meanwhile is refused too.
        again = start_shard(cli, src, hist, "csv", dest, plan, 1)
        out, err = again.communicate(timeout=600)
        assert again.returncode != 0 and "Shard 1" in err, err
        held.finish()
    except BaseException:
        held.kill()
        raise
    assert (staging / "_shard.json").exists()
    cli.run("commit", "--plan", plan, "--destination", dest)
    single = tmp_path / "single"
    single_export(cli, src, hist, "csv", single)
    assert_same_rows(table_rows(dest, "csv"), table_rows(single, "csv"), "csv")
    assert_manifest_matches_files(dest, json.loads((dest / "_manifest.json").read_text()))


# --- S3 -----------------------------------------------------------------------------------------

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
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=cfg["access_key"], AWS_SECRET_ACCESS_KEY=cfg["secret_key"], AWS_REGION=cfg["region"],
               AWS_ENDPOINT_URL_S3=cfg["endpoint"], AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
               AWS_CONFIG_FILE="/nonexistent")
    cfg["env"] = env
    return cfg


def download(s3, prefix: str, folder: Path):
    """Every object under prefix/ into folder (keys relative to the prefix)."""
    client, bucket = s3["client"], s3["bucket"]
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            rel = item["Key"][len(prefix) + 1:]
            keys.append(rel)
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    return keys


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_four_shards_then_commit_on_s3_equal_a_single_machine_export(cli, data, tmp_path, s3, fmt):
    src, hist = data
    single = tmp_path / "single"
    single_export(cli, src, hist, fmt, single)
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan)
    prefix = f"h16/sharding-{uuid.uuid4().hex[:12]}"
    dest = f"s3://{s3['bucket']}/{prefix}"
    run_shards(cli, src, hist, fmt, dest, plan, range(4), env=s3["env"])
    cli.run("commit", "--plan", plan, "--destination", dest, env=s3["env"])
    folder = tmp_path / "downloaded"
    keys = download(s3, prefix, folder)
    assert not any(k.startswith("_staging/") for k in keys), "staging objects left behind"
    assert "_SUCCESS" in keys and "_manifest.json" in keys
    assert_same_rows(table_rows(folder, fmt), table_rows(single, fmt), fmt)
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert_manifest_matches_files(folder, manifest)
    assert_same_metrics(manifest, json.loads((single / "_manifest.json").read_text()))

    again = cli.run("commit", "--plan", plan, "--destination", dest, "--json", env=s3["env"])
    assert json.loads(again.stdout)["data"]["published"] is False
    assert sorted(download(s3, prefix, tmp_path / "again")) == sorted(keys)


def test_missing_shard_on_s3_publishes_nothing(cli, data, tmp_path, s3):
    src, hist = data
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=3)
    prefix = f"h16/sharding-{uuid.uuid4().hex[:12]}"
    dest = f"s3://{s3['bucket']}/{prefix}"
    run_shards(cli, src, hist, "csv", dest, plan, [0, 2], env=s3["env"])
    refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", env=s3["env"], check=False)
    assert refused.returncode != 0 and "shard 1" in json.loads(refused.stdout)["error"]["message"]
    keys = download(s3, prefix, tmp_path / "after")
    assert all(k.startswith("_staging/") for k in keys), f"published: {[k for k in keys if not k.startswith('_staging/')]}"


def s3_exists(s3, key):
    try:
        s3["client"].head_object(Bucket=s3["bucket"], Key=key)
        return True
    except s3["client"].exceptions.ClientError:
        return False


def test_commit_on_s3_replaces_a_larger_export_of_the_same_job(cli, data, tmp_path, s3):
    src, hist = data
    prefix = f"h16/sharding-{uuid.uuid4().hex[:12]}"
    dest = f"s3://{s3['bucket']}/{prefix}"
    single_export(cli, src, hist, "csv", dest, part_bytes="10KiB", env=s3["env"])
    old_keys = download(s3, prefix, tmp_path / "old")
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=2)
    run_shards(cli, src, hist, "csv", dest, plan, range(2), env=s3["env"])
    result = json.loads(cli.run("commit", "--plan", plan, "--destination", dest, "--json", env=s3["env"]).stdout)
    new_keys = {p["key"] for p in result["data"]["parts"]}
    assert len(new_keys) < len([k for k in old_keys if k.split("/")[0] in TABLES])

    folder = tmp_path / "downloaded"
    keys = download(s3, prefix, folder)
    assert not any(k.startswith("_staging/") for k in keys), "staging objects left behind"
    assert {k for k in keys if k.split("/")[0] in TABLES} == new_keys
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert_manifest_matches_files(folder, manifest)
    single = tmp_path / "single"
    single_export(cli, src, hist, "csv", single)
    assert_same_rows(table_rows(folder, "csv"), table_rows(single, "csv"), "csv")


def test_a_running_shard_blocks_the_commit_on_s3_and_a_killed_ones_lock_does_not(cli, data, tmp_path, s3):
    src, hist = data
    plan = tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=3)
    prefix = f"h16/sharding-{uuid.uuid4().hex[:12]}"
    dest = f"s3://{s3['bucket']}/{prefix}"
    run_shards(cli, src, hist, "csv", dest, plan, [0, 2], env=s3["env"])
    staging = f"{prefix}/_staging/{JOB}_{STAMP}/shard-1/"

    def published(label):
        keys = download(s3, prefix, tmp_path / label)
        return [k for k in keys if not k.startswith("_staging/")]

    # Held running: the commit names shard 1 and publishes nothing.
    held = HeldShard(cli, src, hist, dest, plan, 1, tmp_path, started=lambda: s3_exists(s3, staging + "_CHECK"),
                     env=s3["env"])
    try:
        refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", env=s3["env"], check=False)
        assert refused.returncode != 0
        message = json.loads(refused.stdout)["error"]["message"]
        assert "shard 1 is still running" in message, message
        assert published("held") == [], "a commit published while shard 1 ran"
    finally:
        held.kill()
    # Killed, it leaves its _LOCK: neither a re-run of the shard nor the commit waits for it forever
    # (a lock of a dead process of this host is taken over).
    assert s3_exists(s3, staging + "_LOCK")
    refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", env=s3["env"], check=False)
    message = json.loads(refused.stdout)["error"]["message"]
    assert refused.returncode != 0 and "shard 1" in message and "still running" not in message, message
    assert published("killed") == []
    run_shards(cli, src, hist, "csv", dest, plan, [1], env=s3["env"])
    cli.run("commit", "--plan", plan, "--destination", dest, env=s3["env"])
    folder = tmp_path / "downloaded"
    download(s3, prefix, folder)
    single = tmp_path / "single"
    single_export(cli, src, hist, "csv", single)
    assert_same_rows(table_rows(folder, "csv"), table_rows(single, "csv"), "csv")
    assert_manifest_matches_files(folder, json.loads((folder / "_manifest.json").read_text()))


def test_shards_need_the_same_metric_options_and_the_manifest_says_which(cli, data, tmp_path):
    """Shards run with another --wape-mode or without --history would publish rows of two WAPE
    scalings, or MASE for part of the series, under one manifest: commit refuses (exit 2) and
    publishes nothing. Shards that agree on `--wape-mode normalized` publish a manifest that says
    so, with the rows of a single-machine export with that option."""
    src, hist = data
    dest, plan = tmp_path / "out", tmp_path / "plan.json"
    run_plan(cli, src, plan, shards=2)

    def shard(index, *extra):
        cli.run("export", "--destination", dest, "--plan", plan, "--shard", index,
                *export_args(src, hist, "csv"), *extra)

    shard(0)
    shard(1, "--wape-mode", "normalized")
    refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = json.loads(refused.stdout)["error"]["message"]
    assert "--wape-mode normalized" in message and "shard 1" in message, message
    assert not (dest / "_SUCCESS").exists()

    cli.run("export", "--destination", dest, "--plan", plan, "--shard", 1, "--input", src, "--format", "csv",
            "--max-part-bytes", "40KiB", "--quiet")  # no --history
    refused = cli.run("commit", "--plan", plan, "--destination", dest, "--json", check=False)
    assert refused.returncode == 2
    assert "no history" in json.loads(refused.stdout)["error"]["message"]
    assert not (dest / "_SUCCESS").exists()

    shard(0, "--wape-mode", "normalized")
    shard(1, "--wape-mode", "normalized")
    quiet = cli.run("commit", "--plan", plan, "--destination", dest, "--quiet")
    assert quiet.stdout == "" and quiet.stderr == "", quiet.stderr
    manifest = json.loads((dest / "_manifest.json").read_text())
    assert manifest["wape_mode"] == "normalized"
    single = tmp_path / "single"
    cli.run("export", "--job-name", JOB, "--export-timestamp", TS, "--destination", single,
            *export_args(src, hist, "csv"), "--wape-mode", "normalized")
    assert_same_rows(table_rows(dest, "csv"), table_rows(single, "csv"), "csv")


def test_plan_reads_what_export_reads(cli, data, tmp_path):
    """`plan --input` takes what `export --input` takes: the same rows as a Parquet file, or as a
    folder holding it, give the same split points as the CSV."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    src, _ = data
    header = src.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    key_columns = [c for c in header if c not in ("timestamp", "target_value", "backtestwindow_start_time",
                                                  "backtestwindow_end_time", "p10", "p50", "p90", "mean")]
    assert len(key_columns) == 2, header
    table = pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in key_columns}, strings_can_be_null=False))
    folder = tmp_path / "folder"
    folder.mkdir()
    pq.write_table(table, folder / "forecasts.parquet")
    plans = {}
    for name, argument in (("csv", src), ("parquet", folder / "forecasts.parquet"), ("folder", folder)):
        plans[name] = run_plan(cli, argument, tmp_path / f"plan-{name}.json", shards=3)
    assert plans["csv"]["split_points"] == plans["parquet"]["split_points"] == plans["folder"]["split_points"]
    assert len(plans["csv"]["split_points"]) == 2
