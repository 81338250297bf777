#!/usr/bin/env bash
# The one test command, for developers and CI alike:
#
#   ./scripts/test.sh [go test flags] [packages]
#
# It installs what the tests need when it is missing (npm emulators, Debian's
# chromium, staticcheck), then runs gofmt, go vet, staticcheck and
# `go test -race` over the module, and, without arguments, the browser
# end-to-end test (test/e2e/run.sh; screenshots in test-artifacts/).
# Installs are idempotent, so a second run goes straight to the checks.
# Arguments go to `go test`; give flag values in the -flag=value form (e.g.
# -run=TestX) so they are not taken for packages.
#
# With CI=true every missing prerequisite is an error: CI must test
# everything, never skip it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

STATICCHECK_VERSION=v0.6.1
GO_TEST_TIMEOUT=${GO_TEST_TIMEOUT:-20m}

in_ci() {
	case "${CI:-}" in
	1 | t | T | true | TRUE | True) return 0 ;;
	esac
	return 1
}

is_root() { [[ "$(id -u)" == 0 ]]; }

step() { printf '==> %s\n' "$*"; }
warn() { printf 'test.sh: warning: %s\n' "$*" >&2; }
die() {
	printf 'test.sh: %s\n' "$*" >&2
	exit 1
}

# timed NAME CMD...: runs a step and reports how long it took, so slow
# phases show up in CI logs.
timed() {
	local name=$1 start=$SECONDS
	shift
	step "$name"
	"$@"
	printf '    %s: %ss\n' "$name" $((SECONDS - start))
}

# quietly CMD...: keeps installer chatter out of the log unless it fails.
quietly() {
	local log
	log=$(mktemp)
	if ! "$@" >"$log" 2>&1; then
		tail -n 50 "$log" >&2
		rm -f "$log"
		return 1
	fi
	rm -f "$log"
}

apt_install() {
	is_root || return 1
	export DEBIAN_FRONTEND=noninteractive
	quietly apt-get update &&
		quietly apt-get install -y --no-install-recommends "$@"
}

ensure_node() {
	command -v node >/dev/null && command -v npm >/dev/null && return
	if ! apt_install nodejs npm; then
		die "node and npm are required (Node.js 20 or newer); install them, e.g. apt-get install -y nodejs npm"
	fi
}

# npm ci wipes and reinstalls node_modules, which takes a while; do it only
# when node_modules does not match the lockfile (and node version) it was
# installed from.
ensure_node_modules() {
	ensure_node
	local stamp=node_modules/.sagegate-install-stamp want
	want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node --version)"
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
		return
	fi
	timed "npm ci" quietly npm ci --no-audit --no-fund
	printf '%s\n' "$want" >"$stamp"
}

# Browser tests drive Debian's chromium through playwright-core; a browser is
# never downloaded. Without it those tests skip locally and fail in CI, so an
# install failure is fatal only in CI.
ensure_chromium() {
	[[ -x /usr/bin/chromium ]] && return
	if timed "apt-get install chromium" apt_install chromium; then
		return
	fi
	if in_ci; then
		die "could not install chromium (apt-get install -y chromium, as root)"
	fi
	warn "chromium is not installed; browser tests will be skipped (install: apt-get install -y chromium, as root)"
}

ensure_staticcheck() {
	local gobin
	gobin="$(go env GOBIN)"
	[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
	export PATH="$gobin:$PATH"
	if command -v staticcheck >/dev/null &&
		[[ "$(staticcheck -version 2>/dev/null)" == *"(${STATICCHECK_VERSION#v})"* ]]; then
		return
	fi
	timed "install staticcheck $STATICCHECK_VERSION" \
		quietly go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
}

check_gofmt() {
	local files unformatted
	# node_modules and .git are not ours; anything else with Go code is.
	files=$(find . \( -path ./node_modules -o -path ./.git \) -prune -o -name '*.go' -print)
	[[ -n "$files" ]] || return 0
	# shellcheck disable=SC2086 # word splitting is intended: paths have no spaces
	unformatted=$(gofmt -l $files)
	if [[ -n "$unformatted" ]]; then
		printf 'gofmt: these files need gofmt -w:\n%s\n' "$unformatted" >&2
		return 1
	fi
}

main() {
	command -v go >/dev/null || die "go is required"

	ensure_node_modules
	ensure_chromium
	ensure_staticcheck

	local pkgs=() flags=() a
	for a in "$@"; do
		if [[ "$a" == -* ]]; then flags+=("$a"); else pkgs+=("$a"); fi
	done
	((${#pkgs[@]})) || pkgs=(./...)

	timed "gofmt" check_gofmt
	timed "go vet" go vet ./...
	timed "staticcheck" staticcheck ./...
	timed "go test" go test -race -count=1 -timeout="$GO_TEST_TIMEOUT" ${flags[@]+"${flags[@]}"} "${pkgs[@]}"
	# deploy/ (the CDK app) is a Go module of its own that ./... leaves out;
	# its checks run with the whole check, as in CI.
	if (($# == 0)); then
		timed "deploy (CDK)" bash scripts/test-deploy.sh
	fi
	# The browser test runs with the whole check (no arguments), as in CI;
	# a run narrowed to some packages or tests leaves it out.
	if (($# == 0)); then
		timed "e2e (browser)" bash test/e2e/run.sh
	fi
}

main "$@"
