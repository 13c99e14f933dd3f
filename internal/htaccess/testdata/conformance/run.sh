#!/bin/sh
# Compares a server with htgate's own Apache goldens, as the shared
# run-against.sh does for the shared ones:
#   ./run.sh '/tmp/htgate serve --root {docroot} --htaccess --addr 127.0.0.1:{port}' [--scenario NAME ...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${CONFORMANCE_DIR:-$here/../../../../../shared/conformance}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$shared/run.py" "$tmp/"
ln -s "$here/scenarios" "$tmp/scenarios"
ln -s "$here/cases" "$tmp/cases"
ln -s "$here/golden" "$tmp/golden"
python3 "$tmp/run.py" run-against "$@"
