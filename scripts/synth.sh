#!/usr/bin/env bash
# Writes the CloudFormation templates of a sagegate deployment, offline (no
# AWS credentials, no cdk CLI):
#
#   ./scripts/synth.sh [-o DIR] [-c key=value ...]
#
# By default the two-account example (deploy/examples/two-accounts.json),
# into deploy/cdk.out (a relative -o is relative to the current directory). Context parameters are those of `cdk -c`:
# deployment=<file> (relative to deploy/), lambdaAsset=<zip>,
# account:<name>=<id>. The Lambda zip of the gateway's architecture is used
# when it has been built (dist/lambda/<arch>/bootstrap.zip); otherwise a
# placeholder stands in, with a warning, and the templates are for reading,
# not for deploying.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

command -v go >/dev/null || { echo "synth.sh: go is required" >&2; exit 1; }
command -v node >/dev/null || { echo "synth.sh: node is required (Node.js 20 or newer)" >&2; exit 1; }

JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-$(node -p 'process.versions.node.split(".")[0]')}"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION

out="$root/deploy/cdk.out"
args=()
while (($#)); do
	case "$1" in
	-o)
		[[ $# -ge 2 ]] || { echo "synth.sh: -o needs a directory" >&2; exit 2; }
		out=$2
		[[ "$out" == /* ]] || out="$PWD/$out" # relative to where it was asked
		shift 2
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done

cd "$root/deploy"
go run ./cmd/sagegate-cdk -placeholder-asset -o "$out" ${args[@]+"${args[@]}"}
printf 'synth.sh: templates in %s:\n' "$(cd "$out" && pwd)"
ls "$out"/*.template.json
