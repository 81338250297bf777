#!/usr/bin/env bash
# Browser end-to-end test of the launcher: builds sagegate, runs
# `sagegate dev` on a free 127.0.0.1 port, drives Debian's chromium through
# playwright-core (node's test runner) against it, and stops the server.
# Screenshots land in test-artifacts/ (git-ignored; CI keeps them), and so
# does the server's log.
#
#   bash test/e2e/run.sh        # from the repository root; needs node_modules
#
# Without chromium this skips locally and fails under CI=true.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

artifacts="${SAGEGATE_ARTIFACTS:-$root/test-artifacts}"
chromium="${CHROMIUM:-/usr/bin/chromium}"

in_ci() {
	case "${CI:-}" in
	1 | t | T | true | TRUE | True) return 0 ;;
	esac
	return 1
}

if [[ ! -x "$chromium" ]]; then
	if in_ci; then
		echo "e2e: $chromium is missing (apt-get install -y chromium)" >&2
		exit 1
	fi
	echo "e2e: skipped: $chromium is missing (apt-get install -y chromium)" >&2
	exit 0
fi
[[ -d node_modules/playwright-core ]] || {
	echo "e2e: node_modules/playwright-core is missing; run npm ci" >&2
	exit 1
}

mkdir -p "$artifacts"
work="$(mktemp -d)"
pid=""
url=""
cleanup() {
	if [[ -n "$pid" ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/sagegate" ./cmd/sagegate

# free_port asks the OS for an unused port. Another process could take it
# before sagegate binds it, so start_dev retries with a new one.
free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# ready URL PID: waits until sagegate answers /healthz, or gives up when the
# process has exited or 30 s have passed.
ready() {
	node -e '
const [url, pid] = process.argv.slice(1);
const deadline = Date.now() + 30000;
(async () => {
  while (Date.now() < deadline) {
    try { process.kill(Number(pid), 0); } catch { process.exit(1); }
    try { if ((await fetch(url + "/healthz")).ok) process.exit(0); } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  process.exit(1);
})();' "$1" "$2"
}

start_dev() {
	local attempt port
	for attempt in 1 2 3; do
		port="$(free_port)"
		url="http://127.0.0.1:$port"
		# Simulated notebooks start in 3 s: long enough to watch the progress
		# page, short enough for a test.
		"$work/sagegate" dev --addr "127.0.0.1:$port" --notebook-delay 3s >"$artifacts/e2e-dev-audit.log" 2>"$artifacts/e2e-dev.log" &
		pid=$!
		if ready "$url" "$pid"; then
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=""
		echo "e2e: sagegate dev did not start on port $port (attempt $attempt)" >&2
	done
	tail -n 20 "$artifacts/e2e-dev.log" >&2
	return 1
}

start_dev
echo "e2e: sagegate dev at $url; screenshots in ${artifacts#"$root"/}/"
SAGEGATE_URL="$url" SAGEGATE_ARTIFACTS="$artifacts" CHROMIUM="$chromium" \
	node --test --test-reporter=spec test/e2e/launcher.test.mjs
