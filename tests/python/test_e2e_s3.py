"""End-to-end: exports to a real S3 server (SeaweedFS, which checks SigV4 signatures) equal the
same export on local disk, object for object (issue #5). `scripts/test` starts the server and
sets BACKTEST_EXPORT_S3_TEST_*; without them these tests fail and say how to start it."""
import hashlib
import json
import os
from pathlib import Path

import pytest

JOB = "S3_Job"
TS = "2024-06-01T00:00:00Z"


@pytest.fixture(scope="module")
def s3():
    names = ["ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "BUCKET", "REGION"]
    missing = [n for n in names if not os.environ.get(f"BACKTEST_EXPORT_S3_TEST_{n}")]
    if missing:
        pytest.fail('no S3 test server: run eval "$(scripts/s3-server.sh start)" first (or scripts/test)')
    cfg = {n.lower(): os.environ[f"BACKTEST_EXPORT_S3_TEST_{n}"] for n in names}
    import boto3

    client = boto3.client(
        "s3", endpoint_url=cfg["endpoint"], aws_access_key_id=cfg["access_key"],
        aws_secret_access_key=cfg["secret_key"], region_name=cfg["region"],
    )
    cfg["client"] = client
    return cfg


def env_for(s3, secret=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=s3["access_key"], AWS_SECRET_ACCESS_KEY=secret or s3["secret_key"],
        AWS_REGION=s3["region"], AWS_ENDPOINT_URL_S3=s3["endpoint"], AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_CONFIG_FILE="/nonexistent",
    )
    return env


def objects(s3, prefix):
    client, bucket = s3["client"], s3["bucket"]
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"][len(prefix) + 1:]] = hashlib.sha256(body).hexdigest()
    return out


def local_files(folder: Path):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def export(cli, src, dest, env, *args, check=True):
    return cli.run("export", "--job-name", JOB, "--input", src, "--destination", dest, "--export-timestamp", TS,
                   "--quiet", *args, env=env, check=check)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_s3_export_equals_the_local_export(cli, s3, tmp_path, fmt):
    src = tmp_path / "in.csv"
    cli.run("sample", "--output", src, "--items", 200, "--dimensions", 1, "--awkward-ids")
    export(cli, src, tmp_path / "local", env_for(s3), "--format", fmt, "--max-part-bytes", "64KiB")
    prefix = f"e2e/{fmt}/a+b $c"
    export(cli, src, f"s3://{s3['bucket']}/{prefix}/", env_for(s3), "--format", fmt, "--max-part-bytes", "64KiB")
    remote = objects(s3, prefix)
    assert remote == local_files(tmp_path / "local")
    assert "_SUCCESS" in remote and any(k.startswith("forecasted-values/") for k in remote)


def test_large_export_uses_multipart_with_parts_in_flight(cli, s3, tmp_path):
    src = tmp_path / "big.csv"
    cli.run("sample", "--output", src, "--items", 2000, "--windows", 4, "--horizon", 30)  # ≈ 40 MB of CSV
    export(cli, src, tmp_path / "local", env_for(s3))
    result = export(cli, src, f"s3://{s3['bucket']}/e2e/big", env_for(s3), "--json")
    data = json.loads(result.stdout)["data"]
    assert data["parts"][0]["bytes"] > 3 * 8 * 1024 * 1024, "the part should span several 8 MiB upload parts"
    head = s3["client"].head_object(Bucket=s3["bucket"], Key="e2e/big/" + data["parts"][0]["key"])
    assert "-" in head["ETag"], f"not a multipart upload: ETag {head['ETag']}"
    assert objects(s3, "e2e/big") == local_files(tmp_path / "local")
    uploads = s3["client"].list_multipart_uploads(Bucket=s3["bucket"], Prefix="e2e/big/")
    assert not uploads.get("Uploads")


def test_wrong_secret_fails_clearly_and_publishes_nothing(cli, s3, tmp_path):
    src = tmp_path / "in.csv"
    cli.run("sample", "--output", src, "--items", 5)
    secret = "definitely-not-the-secret-4711"
    result = export(cli, src, f"s3://{s3['bucket']}/e2e/wrong", env_for(s3, secret=secret), "--json", check=False)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "SINK_ERROR"
    assert "SignatureDoesNotMatch" in error["message"] or "403" in error["message"]
    assert secret not in result.stdout + result.stderr
    assert objects(s3, "e2e/wrong") == {}


def test_s3_rerun_lock_and_if_exists(cli, s3, tmp_path):
    """SPEC §2 on S3: a re-run leaves exactly the manifest's parts (ListObjectsV2), a `_LOCK` object
    (created with If-None-Match: *) stops a second run and names its holder, --if-exists applies."""
    import uuid

    client, bucket = s3["client"], s3["bucket"]
    prefix = f"e2e/publishing-{uuid.uuid4().hex[:12]}"
    dest = f"s3://{bucket}/{prefix}"
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    cli.run("sample", "--output", big, "--items", 150)
    cli.run("sample", "--output", small, "--items", 10)
    export(cli, big, dest, env_for(s3), "--max-part-bytes", "16KiB")
    first = {k for k in objects(s3, prefix) if "/" in k}
    assert len(first) > 6
    export(cli, small, dest, env_for(s3), "--max-part-bytes", "64KiB")
    remote = objects(s3, prefix)
    manifest = json.loads(client.get_object(Bucket=bucket, Key=f"{prefix}/_manifest.json")["Body"].read())
    listed = {p["key"]: p["sha256"] for t in manifest["tables"].values() for p in t["parts"]}
    assert {k: v for k, v in remote.items() if "/" in k} == listed
    assert "_SUCCESS" in remote and "_LOCK" not in remote

    client.put_object(Bucket=bucket, Key=f"{prefix}/_LOCK", Body=b"export job Other (pid 7)")
    held = export(cli, small, dest, env_for(s3), "--json", check=False)
    assert held.returncode == 1
    message = json.loads(held.stdout)["error"]["message"]
    assert "locked by another export: export job Other (pid 7)" in message and "_LOCK" in message
    assert objects(s3, prefix) == {**remote, "_LOCK": hashlib.sha256(b"export job Other (pid 7)").hexdigest()}
    client.delete_object(Bucket=bucket, Key=f"{prefix}/_LOCK")

    other = cli.run("export", "--job-name", "Other_Job", "--input", small, "--destination", dest, "--quiet",
                    "--json", env=env_for(s3), check=False)
    assert other.returncode == 2 and "--if-exists" in json.loads(other.stdout)["error"]["message"]
    assert objects(s3, prefix) == remote
    cli.run("export", "--job-name", "Other_Job", "--input", small, "--destination", dest, "--quiet",
            "--if-exists", "overwrite", env=env_for(s3))
    parts = [k for k in objects(s3, prefix) if "/" in k]
    assert parts and all("Other_Job" in k for k in parts)
