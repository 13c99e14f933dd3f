#!/bin/sh
# Records golden/ from a real Apache httpd 2.4 (Debian's apache2 package)
# with the shared conformance runner: ./record.sh [--scenario NAME ...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${CONFORMANCE_DIR:-$here/../../../../../shared/conformance}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$shared/run.py" "$tmp/"
ln -s "$here/scenarios" "$tmp/scenarios"
ln -s "$here/cases" "$tmp/cases"
mkdir -p "$here/golden"
ln -s "$here/golden" "$tmp/golden"
python3 "$tmp/run.py" record "$@"
