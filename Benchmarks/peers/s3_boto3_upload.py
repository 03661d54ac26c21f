"""boto3's upload_file with its default TransferConfig, for Benchmarks/peers/s3-throughput."""
import os
import sys
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

e = os.environ
s3 = boto3.client(
    "s3", endpoint_url=e["BACKTEST_EXPORT_S3_TEST_ENDPOINT"], aws_access_key_id=e["BACKTEST_EXPORT_S3_TEST_ACCESS_KEY"],
    aws_secret_access_key=e["BACKTEST_EXPORT_S3_TEST_SECRET_KEY"], region_name=e.get("BACKTEST_EXPORT_S3_TEST_REGION", "us-east-1"),
    config=Config(s3={"addressing_style": "path"}),
)
size = os.path.getsize(sys.argv[1])
t = time.perf_counter()
s3.upload_file(sys.argv[1], e["BACKTEST_EXPORT_S3_TEST_BUCKET"], "bench/" + sys.argv[2], Config=TransferConfig())
dt = time.perf_counter() - t
print(f"boto3 {boto3.__version__} upload_file: {size} bytes in {dt:.2f} s = {size / dt / 1e6:.1f} MB/s (default TransferConfig)")
