"""End-to-end: a sharded export (plan → N shard processes → commit) publishes exactly what a
single-machine export of the same input publishes: the same rows in the same order in each table
(only part boundaries may differ), parts numbered 0…M−1, and the same predictor metrics (issue #16).
Against a local folder and the local S3 server (SeaweedFS; `scripts/test` starts it)."""
import hashlib
import json
import os
import signal
import subprocess
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


def export_args(src, hist, fmt):
    return ["--input", src, "--history", hist, "--format", fmt, "--max-part-bytes", "40KiB", "--quiet"]


def single_export(cli, src, hist, fmt, dest):
    cli.run("export", "--job-name", JOB, "--export-timestamp", TS, "--destination", dest, *export_args(src, hist, fmt))


def run_plan(cli, src, plan, shards=4):
    cli.run("plan", "--job-name", JOB, "--export-timestamp", TS, "--input", src, "--shards", shards, "--output", plan)
    return json.loads(Path(plan).read_text())


def start_shard(cli, src, hist, fmt, dest, plan, index, env=None):
    """One worker as the Kubernetes engine starts it: --shard auto with JOB_COMPLETION_INDEX."""
    env = dict(env or os.environ)
    env["JOB_COMPLETION_INDEX"] = str(index)
    return subprocess.Popen(
        [str(cli.path), "export", "--destination", str(dest), "--plan", str(plan), "--shard", "auto",
         *map(str, export_args(src, hist, fmt))],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run_shards(cli, src, hist, fmt, dest, plan, indices, env=None):
    procs = [start_shard(cli, src, hist, fmt, dest, plan, i, env) for i in indices]  # all at once
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
    # Even with a shard re-run in between (fresh staging), the committed export stays as it was.
    run_shards(cli, src, hist, "csv", dest, plan, [1])
    again = cli.run("commit", "--plan", plan, "--destination", dest, "--json")
    assert json.loads(again.stdout)["data"]["published"] is False
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
