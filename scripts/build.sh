#!/usr/bin/env bash
# Builds the sagegate binary as it is shipped: static (CGO off, so it runs
# on any Linux of its architecture, distroless included), with trimmed
# paths and no symbol tables. The last two are not only about size: the
# runtime's tables of file names are shorter, and the gateway under load
# holds about 2 MB less of its executable in memory (BENCHMARKS.md).
#
#   ./scripts/build.sh [OUT]                 # default: dist/sagegate
#   GOOS=linux GOARCH=arm64 ./scripts/build.sh dist/sagegate-arm64
#
# VERSION sets `sagegate version` (default: git describe); TAGS are extra
# build tags (scripts/build-lambda.sh passes lambda.norpc).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/dist/sagegate}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
cd "$root"

version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
mkdir -p "$(dirname "$out")"
CGO_ENABLED=0 go build -tags "${TAGS:-}" -trimpath -ldflags "-s -w -X main.version=$version" \
	-o "$out" ./cmd/sagegate
