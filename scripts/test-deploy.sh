#!/usr/bin/env bash
# Tests of deploy/, the CDK app (its own Go module):
#
#   ./scripts/test-deploy.sh [go test flags]
#
# gofmt, go vet, staticcheck (the version scripts/test.sh pins, installed
# when missing or another version) and go test over the module, then
# `sagegate config check` of the example's gateway configuration with the
# environment GatewayStack gives the functions. CDK for Go runs its jsii
# kernel in node; aws-cdk-lib itself comes inside the Go module, so nothing
# is downloaded but Go modules.
#
# No -race here: the CDK code is single-threaded configuration, and race
# instrumentation of the 160 MB awscdk module multiplies its build time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/deploy"

die() {
	printf 'test-deploy.sh: %s\n' "$*" >&2
	exit 1
}

timed() {
	local name=$1 start=$SECONDS
	shift
	printf '==> deploy: %s\n' "$name"
	"$@"
	printf '    deploy: %s: %ss\n' "$name" $((SECONDS - start))
}

command -v go >/dev/null || die "go is required"
command -v node >/dev/null || die "node is required: CDK for Go synthesizes through a node process (Node.js 20 or newer)"

# jsii prints a banner when node is past its end of life; silence it for
# the node in use only.
JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-$(node -p 'process.versions.node.split(".")[0]')}"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION

check_gofmt() {
	local unformatted
	unformatted=$(gofmt -l .)
	if [[ -n "$unformatted" ]]; then
		printf 'gofmt: these files need gofmt -w:\n%s\n' "$unformatted" >&2
		return 1
	fi
}

# The staticcheck version scripts/test.sh pins, read from there so that the
# pin lives in one place and both modules are checked by the same rules.
staticcheck_version() {
	local v
	v=$(sed -n 's/^STATICCHECK_VERSION=\(v[0-9][0-9.]*\)$/\1/p' "$root/scripts/test.sh")
	[[ -n "$v" ]] || die "no STATICCHECK_VERSION=vX.Y.Z line in scripts/test.sh"
	printf '%s\n' "$v"
}

# ensure_staticcheck puts the pinned staticcheck first on PATH, installing
# it when it is missing or another version, as scripts/test.sh does.
ensure_staticcheck() {
	local gobin want
	want=$(staticcheck_version)
	gobin="$(go env GOBIN)"
	[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
	PATH="$gobin:$PATH"
	if command -v staticcheck >/dev/null &&
		[[ "$(staticcheck -version 2>/dev/null)" == *"(${want#v})"* ]]; then
		return
	fi
	timed "install staticcheck $want" go install "honnef.co/go/tools/cmd/staticcheck@$want"
}

# The example configuration must load with the environment the stack sets
# (values here are stand-ins of the right shape).
check_example_config() {
	(
		cd "$root"
		export AWS_REGION=eu-west-1 SAGEGATE_PUBLIC_URL=https://studio.example.com \
			SAGEGATE_COGNITO_USER_POOL_ID=eu-west-1_AbCdEf123 SAGEGATE_COGNITO_CLIENT_ID=1example23456789abcdefghij \
			SAGEGATE_COGNITO_DOMAIN=https://sagegate-example.auth.eu-west-1.amazoncognito.com \
			SAGEGATE_USERS_TABLE=users-map-table SAGEGATE_LOBS_TABLE=lobs-map-table \
			SAGEGATE_ACCOUNT_LOB_A=111111111111 SAGEGATE_ACCOUNT_LOB_B=222222222222 \
			SAGEGATE_DOMAIN_LOB_A=d-example0000a SAGEGATE_DOMAIN_LOB_B_RESEARCH=d-example0000b \
			SAGEGATE_DOMAIN_LOB_B_ANALYTICS=d-example0000c \
			SAGEGATE_COOKIE_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
		go run ./cmd/sagegate config check deploy/examples/two-accounts/gateway/sagegate.yaml
	)
}

timed "gofmt" check_gofmt
timed "go vet" go vet ./...
ensure_staticcheck
timed "staticcheck" staticcheck ./...
timed "go test" go test -count=1 -timeout=10m "$@" ./...
timed "example config" check_example_config
