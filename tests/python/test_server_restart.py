"""`backtest-export serve` survives a SIGKILL while exports run (issue #10): after a restart every
job is still listed, none stays in progress, and each ends ACTIVE with the complete files, byte
for byte the CLI's export with the job's (kept) start time."""
import signal
import sqlite3
import time

from serverharness import Server, boto_client, export_timestamp, predictor_arn, ROLE, tree_digest, wait_status


def test_sigkill_while_jobs_run_then_restart(cli, tmp_path):
    big = tmp_path / "big.csv"
    cli.run("sample", "--output", big, "--items", 40000, "--windows", 3, "--horizon", 14, "--order", "shuffled")
    predictors = [("Big", big)]
    state, buckets = tmp_path / "state", tmp_path / "buckets"
    server = Server(cli.path, state, buckets, predictors, "--max-running", 3).start()
    client = boto_client(server.url)
    names = [f"Kill{i}" for i in range(6)]  # 3 running, 3 pending
    arns = []
    for i, name in enumerate(names):
        arns.append(client.create_predictor_backtest_export_job(
            PredictorBacktestExportJobName=name, PredictorArn=predictor_arn("Big"), Format="PARQUET" if i % 2 else "CSV",
            Destination={"S3Config": {"Path": f"s3://bucket/{name}", "RoleArn": ROLE}},
        )["PredictorBacktestExportJobArn"])
    for _ in range(400):
        statuses = [client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=a)["Status"] for a in arns]
        if statuses.count("CREATE_IN_PROGRESS") == 3:
            break
        time.sleep(0.01)
    assert statuses.count("CREATE_IN_PROGRESS") == 3, statuses
    time.sleep(0.3)  # let the exports write some parts
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)
    # What the killed server left: jobs still running and pending (read straight from its database).
    with sqlite3.connect(state / "jobs.sqlite") as db:
        left = [row[0] for row in db.execute("SELECT status FROM job ORDER BY seq")]
    assert "CREATE_IN_PROGRESS" in left and "CREATE_PENDING" in left, left

    restarted = Server(cli.path, state, buckets, predictors, "--max-running", 3).start()
    try:
        client = boto_client(restarted.url)
        listed = [j["PredictorBacktestExportJobArn"] for j in client.list_predictor_backtest_export_jobs()["PredictorBacktestExportJobs"]]
        assert listed == arns
        for arn in arns:
            wait_status(client, arn, timeout=600)
        jobs = client.list_predictor_backtest_export_jobs()["PredictorBacktestExportJobs"]
        assert [j["Status"] for j in jobs] == ["ACTIVE"] * len(arns)
        for i, name in enumerate(names):
            folder = buckets / "bucket" / name
            assert (folder / "_SUCCESS").exists()
            fmt = "parquet" if i % 2 else "csv"
            expected = tmp_path / f"cli-{name}"
            cli.run("export", "--job-name", name, "--input", big, "--destination", expected, "--format", fmt,
                    "--export-timestamp", export_timestamp(folder), "--quiet")
            assert tree_digest(folder) == tree_digest(expected), name
    finally:
        restarted.stop()
