#!/usr/bin/env sh
# A sharded backtest export on AWS Batch: plan → an array job of N shards → commit.
# Needs: the job definitions of aws-batch-job-definitions.json registered
#   (aws batch register-job-definition --cli-input-json "$(jq -c '.[0]' aws-batch-job-definitions.json)", same for .[1]),
# a job queue, and an image holding backtest-export and the AWS CLI. The job role needs
# s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket, s3:AbortMultipartUpload on the bucket.
set -eu
QUEUE=${QUEUE:-backtest-export}
SHARDS=${SHARDS:-8}
INPUT=${INPUT:-s3://my-bucket/backtests/forecasts.csv}
DEST=${DEST:-s3://my-bucket/exports/MyExport}
PLAN=${PLAN:-s3://my-bucket/exports/MyExport.plan.json}

# 1. Plan: once, where the input is readable (here: locally after a download). Small JSON.
aws s3 cp "$INPUT" /tmp/input.csv
backtest-export plan --job-name MyExport --input /tmp/input.csv --shards "$SHARDS" --output /tmp/plan.json
aws s3 cp /tmp/plan.json "$PLAN"

# 2. Shards: one array job; each child gets AWS_BATCH_JOB_ARRAY_INDEX (0…N-1), read by --shard auto.
SHARDS_JOB=$(aws batch submit-job --job-name MyExport-shards --job-queue "$QUEUE" \
  --job-definition backtest-export-shard --array-properties "size=$SHARDS" \
  --parameters "plan=$PLAN,input=$INPUT,destination=$DEST,format=parquet" --query jobId --output text)

# 3. Commit: starts when every child of the array job succeeded (a dependency on the array job
#    waits for all of them). It refuses, naming the shard, if one is missing.
aws batch submit-job --job-name MyExport-commit --job-queue "$QUEUE" --job-definition backtest-export-commit \
  --depends-on "jobId=$SHARDS_JOB" --parameters "plan=$PLAN,destination=$DEST"
