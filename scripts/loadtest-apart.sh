#!/usr/bin/env bash
# Load the gateway as its own process, so that its memory and CPU are its
# own: `sagegate dev` (issuer, simulated AWS) and `sagegate serve` (the
# gateway, configured by `dev --write-gateway-config`) run side by side on
# loopback, and `sagegate loadtest` sends the launches to the gateway and
# reports its peak RSS and CPU (--pid).
#
#   scripts/loadtest-apart.sh USERS LOBS [loadtest flags...]
#   scripts/loadtest-apart.sh 5000 4 --duration 20s
#   DEV_FLAGS="--aws-latency 20ms" scripts/loadtest-apart.sh 5000 4 --mix launch=1
#
# DEV_FLAGS go to `sagegate dev` (the fault flags live there), SERVE_FLAGS
# to `sagegate serve` (e.g. --pprof 127.0.0.1:6060) and SERVE_ENV is its
# extra environment (e.g. GOMEMLIMIT=48MiB). DEV_ADDR and GATEWAY_ADDR
# choose the ports (default 127.0.0.1:8080 and :8081).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
users=$1 lobs=$2
shift 2
dev_addr=${DEV_ADDR:-127.0.0.1:8080}
gw_addr=${GATEWAY_ADDR:-127.0.0.1:8081}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
pids=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Built as shipped (scripts/build.sh): its memory is the one that counts.
scripts/build.sh "$work/sagegate"

wait_for() { # URL
  for _ in $(seq 300); do
    curl -sf "$1" >/dev/null && return 0
    sleep 0.1
  done
  echo "loadtest-apart: $1 did not come up" >&2
  exit 1
}

# shellcheck disable=SC2086 # DEV_FLAGS and SERVE_FLAGS are lists of flags
"$work/sagegate" dev --addr "$dev_addr" --demo-users "$users" --demo-lobs "$lobs" --log-level warn \
  --write-gateway-config "$work/gateway.yaml" --gateway-addr "$gw_addr" ${DEV_FLAGS:-} >/dev/null 2>"$work/dev.log" &
pids+=($!)
wait_for "http://$dev_addr/healthz"

# The simulator's gateway keys, documented in internal/sandbox/dev.go.
# Audit records (stdout) are written, then dropped.
# shellcheck disable=SC2086
env ${SERVE_ENV:-} AWS_ACCESS_KEY_ID=AKIASAGEGATEDEV00001 AWS_SECRET_ACCESS_KEY=sagegate-dev-secret-key-not-a-real-secret \
  "$work/sagegate" serve --config "$work/gateway.yaml" ${SERVE_FLAGS:-} >/dev/null 2>"$work/serve.log" &
gw=$!
pids+=("$gw")
wait_for "http://$gw_addr/healthz"

status=0
"$work/sagegate" loadtest --target "http://$dev_addr" --gateway "http://$gw_addr" \
  --users "$users" --lobs "$lobs" --pid "$gw" "$@" || status=$?
if grep -q . "$work/serve.log"; then
  echo "--- sagegate serve's log (warnings and errors):" >&2
  tail -n 20 "$work/serve.log" >&2
fi
exit "$status"
