"""End-to-end: `backtest-export serve` driven, unchanged, by boto3 and the AWS CLI (issue #10).

Each check starts its own server on a free loopback port with its own state folder and bucket
root, and reads the files it wrote independently (digests against the CLI's own export)."""
import calendar
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from serverharness import (
    ACCESS_KEY,
    ROLE,
    SECRET_KEY,
    Server,
    aws_cli,
    boto_client,
    export_timestamp,
    job_arn,
    predictor_arn,
    tree_digest,
    wait_status,
)


@pytest.fixture(scope="module")
def inputs(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    small = folder / "small.csv"
    cli.run("sample", "--output", small, "--items", 40, "--dimensions", 1, "--windows", 2, "--horizon", 7,
            "--order", "shuffled", "--awkward-ids")
    history = folder / "history.csv"
    with_history = folder / "with_history.csv"
    cli.run("sample", "--output", with_history, "--history-output", history, "--items", 30, "--windows", 2,
            "--horizon", 5)
    return {"small": small, "with_history": with_history, "history": history}


@pytest.fixture(scope="module")
def server(cli, inputs, tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    s = Server(cli.path, root / "state", root / "buckets",
               [("Bikes", inputs["small"]), ("Rides", f"{inputs['with_history']},history={inputs['history']},frequency=D")])
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    return boto_client(server.url)


def create(client, name, predictor="Bikes", path=None, fmt=None, **extra):
    args = dict(
        PredictorBacktestExportJobName=name, PredictorArn=predictor_arn(predictor),
        Destination={"S3Config": {"Path": path or f"s3://bucket/{name}", "RoleArn": ROLE}}, **extra,
    )
    if fmt:
        args["Format"] = fmt
    return client.create_predictor_backtest_export_job(**args)["PredictorBacktestExportJobArn"]


def cli_export(cli, tmp_path, input_path, job, timestamp, fmt, *extra):
    out = tmp_path / f"cli-{job}-{fmt}"
    cli.run("export", "--job-name", job, "--input", input_path, "--destination", out, "--export-timestamp",
            timestamp, "--format", fmt.lower(), "--quiet", *extra)
    return out


@pytest.mark.parametrize("fmt", ["CSV", "PARQUET"])
def test_boto3_create_poll_and_files_equal_the_cli(cli, server, client, inputs, tmp_path, fmt):
    name = f"Boto_{fmt}"
    before = time.time()
    arn = create(client, name, path=f"s3://bucket/exports/{name}/", fmt=fmt, Tags=[{"Key": "team", "Value": "ml"}])
    assert arn == job_arn("Bikes", name)
    job = wait_status(client, arn)
    assert job["PredictorBacktestExportJobName"] == name and job["Format"] == fmt
    assert job["PredictorArn"] == predictor_arn("Bikes")
    assert job["Destination"]["S3Config"] == {"Path": f"s3://bucket/exports/{name}/", "RoleArn": ROLE}
    created, modified = job["CreationTime"].timestamp(), job["LastModificationTime"].timestamp()
    assert before - 1 <= created <= modified <= time.time() + 1
    folder = server.bucket_root / "bucket" / "exports" / name
    assert (folder / "_SUCCESS").exists()
    stamp = export_timestamp(folder)
    started = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    assert int(created) <= started <= modified  # the job's start time, whole seconds
    expected = cli_export(cli, tmp_path, inputs["small"], name, stamp, fmt)
    assert tree_digest(folder) == tree_digest(expected)


def test_history_and_frequency_reach_the_export(cli, server, client, inputs, tmp_path):
    arn = create(client, "WithHistory", predictor="Rides")
    wait_status(client, arn)
    folder = server.bucket_root / "bucket" / "WithHistory"
    expected = cli_export(cli, tmp_path, inputs["with_history"], "WithHistory", export_timestamp(folder), "CSV",
                          "--history", inputs["history"], "--frequency", "D")
    assert tree_digest(folder) == tree_digest(expected)


def test_aws_cli_create_describe_list_tag_delete(cli, server, inputs, tmp_path):
    url = server.url
    out = aws_cli(url, "create-predictor-backtest-export-job", "--predictor-backtest-export-job-name", "Cli_Job",
                  "--predictor-arn", predictor_arn("Bikes"), "--format", "PARQUET",
                  "--destination", f"S3Config={{Path=s3://bucket/cli,RoleArn={ROLE}}}",
                  "--tags", "Key=owner,Value=cli")
    arn = out["PredictorBacktestExportJobArn"]
    assert arn == job_arn("Bikes", "Cli_Job")
    for _ in range(3000):
        job = aws_cli(url, "describe-predictor-backtest-export-job", "--predictor-backtest-export-job-arn", arn)
        if job["Status"] == "ACTIVE":
            break
        assert job["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS"), job
    assert job["Status"] == "ACTIVE" and job["Format"] == "PARQUET"
    assert isinstance(job["CreationTime"], (str, float, int))
    folder = server.bucket_root / "bucket" / "cli"
    expected = cli_export(cli, tmp_path, inputs["small"], "Cli_Job", export_timestamp(folder), "PARQUET")
    assert tree_digest(folder) == tree_digest(expected)
    listed = aws_cli(url, "list-predictor-backtest-export-jobs", "--filters",
                     f"Key=PredictorArn,Value={predictor_arn('Bikes')},Condition=IS")
    assert arn in [j["PredictorBacktestExportJobArn"] for j in listed["PredictorBacktestExportJobs"]]
    aws_cli(url, "tag-resource", "--resource-arn", arn, "--tags", "Key=stage,Value=prod")
    aws_cli(url, "untag-resource", "--resource-arn", arn, "--tag-keys", "owner")
    tags = aws_cli(url, "list-tags-for-resource", "--resource-arn", arn)["Tags"]
    assert tags == [{"Key": "stage", "Value": "prod"}]
    assert aws_cli(url, "delete-predictor-backtest-export-job", "--predictor-backtest-export-job-arn", arn) is None
    gone = aws_cli(url, "describe-predictor-backtest-export-job", "--predictor-backtest-export-job-arn", arn, check=False)
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr


def test_list_filters_and_pagination(cli, inputs, tmp_path):
    s = Server(cli.path, tmp_path / "state", tmp_path / "buckets", [("Bikes", inputs["small"]), ("Rides", inputs["small"])])
    s.start()
    try:
        client = boto_client(s.url)
        arns = [create(client, "J1"), create(client, "J2", predictor="Rides"), create(client, "J3")]
        for arn in arns:
            wait_status(client, arn)
        # MaxResults 1 over 3 jobs: three pages, the last without NextToken.
        pages, token = [], None
        while True:
            kwargs = {"MaxResults": 1} | ({"NextToken": token} if token else {})
            page = client.list_predictor_backtest_export_jobs(**kwargs)
            pages.append([j["PredictorBacktestExportJobArn"] for j in page["PredictorBacktestExportJobs"]])
            token = page.get("NextToken")
            if not token:
                break
        assert pages == [[a] for a in arns]
        summary = client.list_predictor_backtest_export_jobs()["PredictorBacktestExportJobs"][0]
        assert set(summary) == {"PredictorBacktestExportJobArn", "PredictorBacktestExportJobName", "Destination",
                                "Status", "CreationTime", "LastModificationTime"}
        # boto3's own paginator.
        paginator = client.get_paginator("list_predictor_backtest_export_jobs")
        seen = [j["PredictorBacktestExportJobArn"] for p in paginator.paginate(PaginationConfig={"PageSize": 1})
                for j in p["PredictorBacktestExportJobs"]]
        assert seen == arns

        def names(*filters):
            return [j["PredictorBacktestExportJobName"] for j in client.list_predictor_backtest_export_jobs(
                Filters=[{"Key": k, "Value": v, "Condition": c} for k, v, c in filters])["PredictorBacktestExportJobs"]]

        assert names(("PredictorArn", predictor_arn("Rides"), "IS")) == ["J2"]
        assert names(("PredictorArn", predictor_arn("Rides"), "IS_NOT")) == ["J1", "J3"]
        assert names(("Status", "ACTIVE", "IS")) == ["J1", "J2", "J3"]
        assert names(("Status", "ACTIVE", "IS_NOT")) == []
        assert names(("Status", "ACTIVE", "IS"), ("PredictorArn", predictor_arn("Bikes"), "IS")) == ["J1", "J3"]
        # AWS CLI: its automatic pagination over MaxResults-sized pages.
        out = aws_cli(s.url, "list-predictor-backtest-export-jobs", "--page-size", "1")
        assert [j["PredictorBacktestExportJobArn"] for j in out["PredictorBacktestExportJobs"]] == arns
        out = aws_cli(s.url, "list-predictor-backtest-export-jobs", "--filters", "Key=Status,Value=ACTIVE,Condition=IS_NOT")
        assert out["PredictorBacktestExportJobs"] == []
    finally:
        s.stop()


def test_tags_with_boto3(client):
    arn = create(client, "Tagged", Tags=[{"Key": "a", "Value": "1"}])
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    client.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    wait_status(client, arn)


def test_stop_pending_job_and_delete(cli, inputs, tmp_path):
    # One slot and a slow first job: the second stays pending and is stopped before it starts.
    big = tmp_path / "big.csv"
    cli.run("sample", "--output", big, "--items", 20000, "--windows", 3, "--horizon", 14)
    s = Server(cli.path, tmp_path / "state", tmp_path / "buckets", [("Big", big), ("Bikes", inputs["small"])],
               "--max-running", 1)
    s.start()
    try:
        client = boto_client(s.url)
        running = create(client, "Slow", predictor="Big")
        pending = create(client, "Waiting")
        assert client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=pending)["Status"] == "CREATE_PENDING"
        client.stop_resource(ResourceArn=pending)
        assert client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=pending)["Status"] == "CREATE_STOPPED"
        wait_status(client, running, statuses=("CREATE_IN_PROGRESS", "ACTIVE"))
        job = client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=running)
        if job["Status"] == "CREATE_IN_PROGRESS":
            client.stop_resource(ResourceArn=running)
            job = client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=running)
            assert job["Status"] in ("CREATE_STOPPING", "CREATE_STOPPED", "ACTIVE")
            for _ in range(2000):
                job = client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=running)
                if job["Status"] != "CREATE_STOPPING":
                    break
                time.sleep(0.05)
            folder = s.bucket_root / "bucket" / "Slow"
            if job["Status"] == "CREATE_STOPPED":
                assert not (folder / "_SUCCESS").exists()
                assert not list(folder.rglob("*_part*")), "a stopped export keeps no parts"
        assert not (s.bucket_root / "bucket" / "Waiting").exists()
        for arn in (pending, running):
            client.delete_predictor_backtest_export_job(PredictorBacktestExportJobArn=arn)
        assert client.list_predictor_backtest_export_jobs()["PredictorBacktestExportJobs"] == []
    finally:
        s.stop()


def test_every_modelled_error_raises_its_boto3_class(cli, inputs, tmp_path):
    big = tmp_path / "big.csv"
    cli.run("sample", "--output", big, "--items", 20000, "--windows", 3, "--horizon", 14)
    s = Server(cli.path, tmp_path / "state", tmp_path / "buckets", [("Big", big), ("Bikes", inputs["small"])],
               "--max-running", 1)
    s.start()
    try:
        client = boto_client(s.url)
        ex = client.exceptions
        running = create(client, "Busy", predictor="Big")
        with pytest.raises(ex.ResourceAlreadyExistsException):
            create(client, "Busy", predictor="Big")
        with pytest.raises(ex.ResourceNotFoundException):
            create(client, "X", predictor="NoSuchPredictor")
        with pytest.raises(ex.ResourceNotFoundException):
            client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=job_arn("Bikes", "Nope"))
        with pytest.raises(ex.ResourceInUseException):
            client.delete_predictor_backtest_export_job(PredictorBacktestExportJobArn=running)
        with pytest.raises(ex.InvalidNextTokenException):
            client.list_predictor_backtest_export_jobs(NextToken="not-a-token")
        with pytest.raises(ex.LimitExceededException):
            client.tag_resource(ResourceArn=running, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
        bad_inputs = [
            dict(PredictorBacktestExportJobName="1starts_with_digit"),
            dict(PredictorBacktestExportJobName="has-hyphen"),
            dict(PredictorBacktestExportJobName="x" * 64),
            dict(Format="JSON"),
            dict(Format="csv"),
            dict(Destination={"S3Config": {"Path": "s3://Bucket/x", "RoleArn": ROLE}}),
            dict(Destination={"S3Config": {"Path": "s3://bucket/../../etc", "RoleArn": ROLE}}),
            dict(Destination={"S3Config": {"Path": "s3://bucket/p", "RoleArn": ROLE, "KMSKeyArn": "alias/key"}}),
            dict(PredictorArn="arn:aws:s3:::bucket"),
            dict(Tags=[{"Key": "aws:reserved", "Value": "x"}]),
            dict(Tags=[{"Key": "bad#key", "Value": "x"}]),
        ]
        for i, override in enumerate(bad_inputs):
            args = dict(PredictorBacktestExportJobName=f"Bad{i}", PredictorArn=predictor_arn("Bikes"),
                        Destination={"S3Config": {"Path": "s3://bucket/p", "RoleArn": ROLE}}) | override
            with pytest.raises(ex.InvalidInputException):
                client.create_predictor_backtest_export_job(**args)
        with pytest.raises(ex.InvalidInputException):
            client.list_predictor_backtest_export_jobs(Filters=[{"Key": "Name", "Value": "x", "Condition": "IS"}])
        with pytest.raises(ex.InvalidInputException):
            client.untag_resource(ResourceArn=running, TagKeys=["aws:x"])
        with pytest.raises(ex.ResourceNotFoundException):
            client.list_tags_for_resource(ResourceArn=job_arn("Bikes", "Nope"))
        with pytest.raises(ex.ResourceNotFoundException):
            client.stop_resource(ResourceArn=job_arn("Bikes", "Nope"))
        # boto3 checks MaxResults itself (ParamValidationError); the server's own check answers too.
        raw = raw_request(s.url, "ListPredictorBacktestExportJobs", b'{"MaxResults": 101}')
        assert raw[0] == 400 and raw[1]["__type"] == "InvalidInputException" and "MaxResults" in raw[1]["message"]
        # The big job may have finished by now (exports got faster): stopping it is then refused
        # because it is ACTIVE, and for no other reason.
        try:
            client.stop_resource(ResourceArn=running)
        except ex.InvalidInputException as refused:
            assert "ACTIVE" in str(refused)
            job = client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=running)
            assert job["Status"] == "ACTIVE"
    finally:
        s.stop()


def test_a_wrong_secret_or_an_unknown_key_is_refused(server):
    wrong = boto_client(server.url, secret="wrong" + SECRET_KEY[5:])
    with pytest.raises(wrong.exceptions.ClientError) as info:
        wrong.list_predictor_backtest_export_jobs()
    assert info.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    unknown = boto_client(server.url, access="AKIDUNKNOWN000000000")
    with pytest.raises(unknown.exceptions.ClientError) as info:
        unknown.list_predictor_backtest_export_jobs()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert SECRET_KEY not in server.stderr_text()
    status, body = raw_request(server.url, "ListPredictorBacktestExportJobs", b"{}", sign=False)
    assert status == 400 and body["__type"] == "MissingAuthenticationTokenException"


def raw_request(url, operation, body, content_type="application/x-amz-json-1.1", sign=True, target=True):
    """POSTs `body` signed as botocore signs (so only the named defect is wrong)."""
    import urllib.request
    import urllib.error

    headers = {"Content-Type": content_type}
    if target is True:
        headers["X-Amz-Target"] = f"AmazonForecast.{operation}"
    elif target:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "forecast", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url + "/", data=body, method="POST", headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
    except urllib.error.HTTPError as error:
        payload = error.read()
        return error.code, json.loads(payload)


def test_malformed_requests_get_a_400_and_the_server_keeps_serving(server, client):
    cases = [
        (dict(operation="ListPredictorBacktestExportJobs", body=b"{not json"), "SerializationException"),
        (dict(operation="ListPredictorBacktestExportJobs", body=b'["an", "array"]'), "SerializationException"),
        (dict(operation="ListPredictorBacktestExportJobs", body=b'{"MaxResults": "ten"}'), "SerializationException"),
        (dict(operation="ListPredictorBacktestExportJobs", body=b"\xff\xfe{}"), "SerializationException"),
        (dict(operation="ListPredictorBacktestExportJobs", body=b"{}", target=False), "UnknownOperationException"),
        (dict(operation="X", body=b"{}", target="AmazonForecast.CreateDataset"), "UnknownOperationException"),
        (dict(operation="X", body=b"{}", target="Nonsense"), "UnknownOperationException"),
        (dict(operation="ListPredictorBacktestExportJobs", body=b"{}", content_type="application/json"),
         "SerializationException"),
        (dict(operation="ListPredictorBacktestExportJobs", body=b"{}", content_type="text/plain"),
         "SerializationException"),
        (dict(operation="ListPredictorBacktestExportJobs", body=b"{" + b" " * (1 << 20) + b"}"),
         "SerializationException"),
    ]
    for kwargs, expected in cases:
        status, body = raw_request(server.url, **kwargs)
        assert status == 400, (kwargs.get("target"), status, body)
        assert body["__type"] == expected and body["message"], body
        assert server.alive()
        client.list_predictor_backtest_export_jobs(MaxResults=1)  # still serving
    # A connection that sends half a request and hangs up does not hurt either.
    host, port = server.url[len("http://"):].split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        sock.recv(100)
    assert server.alive()
    client.list_predictor_backtest_export_jobs(MaxResults=1)


def test_sigterm_stops_cleanly(cli, inputs, tmp_path):
    s = Server(cli.path, tmp_path / "state", tmp_path / "buckets", [("Bikes", inputs["small"])], "--allow-unsigned")
    s.start()
    assert "--allow-unsigned" in s.stderr_text()
    assert s.stop() == 0
    s2 = Server(cli.path, tmp_path / "state", tmp_path / "buckets", [("Bikes", inputs["small"])], "--allow-unsigned")
    s2.start()
    import signal as sig
    assert s2.stop(sig.SIGINT) == 0
