#!/usr/bin/env bash
# Builds the Lambda deployment packages of sagegate: one `bootstrap` zip per
# architecture, for the provided.al2023 runtime.
#
#   ./scripts/build-lambda.sh [arm64|amd64 ...]     # default: both
#
# Output: dist/lambda/<arch>/bootstrap.zip (dist/ is git-ignored). The zip
# holds only the binary; put sagegate.yaml next to it (it is read from
# $LAMBDA_TASK_ROOT/sagegate.yaml) or point SAGEGATE_CONFIG elsewhere. The
# same zip serves every role: SAGEGATE_LAMBDA_ROLE=http|authorizer|events.
#
# The binary is scripts/build.sh's (static, trimmed paths, no symbol
# tables) with the lambda.norpc tag (no legacy go1.x RPC server). VERSION
# sets `sagegate version` (default: git describe).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
archs=("$@")
((${#archs[@]})) || archs=(arm64 amd64)

# zipfile writes a zip of one file with its mode (bootstrap must be
# executable), using zip(1) when present and Python's zipfile otherwise.
zipfile() {
	local out=$1 dir=$2 name=$3
	rm -f "$out"
	if command -v zip >/dev/null; then
		(cd "$dir" && zip -q -X "$out" "$name")
	else
		python3 - "$out" "$dir" "$name" <<'PY'
import os, sys, zipfile
out, d, name = sys.argv[1:]
path = os.path.join(d, name)
info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 & 0xFFFF) << 16
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(out, "w") as z, open(path, "rb") as f:
    z.writestr(info, f.read())
PY
	fi
}

for arch in "${archs[@]}"; do
	case "$arch" in
	arm64 | amd64) ;;
	*)
		echo "build-lambda.sh: unknown architecture $arch (want arm64 or amd64)" >&2
		exit 2
		;;
	esac
	out="$root/dist/lambda/$arch"
	mkdir -p "$out"
	VERSION="$version" TAGS=lambda.norpc GOOS=linux GOARCH="$arch" "$root/scripts/build.sh" "$out/bootstrap"
	zipfile "$out/bootstrap.zip" "$out" bootstrap
	printf '%s: %s (%s bytes, binary %s bytes)\n' "$arch" "dist/lambda/$arch/bootstrap.zip" \
		"$(wc -c <"$out/bootstrap.zip" | tr -d ' ')" "$(wc -c <"$out/bootstrap" | tr -d ' ')"
done
