#!/usr/bin/env bash
# bench/smoke.sh — CI smoke run of the whole-server benchmark: htgate and the
# bare Go file server only, 1-second wrk runs, every status checked with curl
# first. Fails if a server does not start, a status check fails or wrk gets
# no answers; never fails on the performance ratios. Takes well under a
# minute once the Go build cache is warm. Needs wrk, curl, htpasswd
# (apache2-utils), taskset, go.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" --smoke "$@"
