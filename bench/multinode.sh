#!/usr/bin/env bash
# bench/multinode.sh: requests/s of one node with memory state, one node
# with Redis state and two nodes with Redis state, all on one PostgreSQL
# store, for cached valid credentials and for a locked-out client (wrong
# password; the guard answers 429 without hashing after the 5th), and the
# Redis commands per request of each (redis-cli config resetstat before a
# run, info commandstats after, divided by wrk's request count). Servers on
# CPU 0, wrk on CPU 1, loopback, one run side by side. Needs PostgreSQL
# (database test) and Redis on 127.0.0.1, wrk, taskset. Usage:
#   bash bench/multinode.sh [DURATION]   (default 10s)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
tmp=$(mktemp -d)
bin=$tmp/htgate
go build -o "$bin" ./cmd/htgate
schema=htgate_bench_$$
prefix="htgate-bench-$$:"
psql -q -h 127.0.0.1 -U postgres test -c "CREATE SCHEMA $schema"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql -q -h 127.0.0.1 -U postgres test -c "DROP SCHEMA $schema CASCADE" 2>/dev/null || true
	redis-cli --scan --pattern "$prefix*" | xargs -r redis-cli del >/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
STORE="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=$schema"
STATE="redis://127.0.0.1:6379/0?prefix=$prefix"
mkdir -p "$tmp/root/private"
echo hello >"$tmp/root/private/index.html"
cat >"$tmp/cfg.yaml" <<YAML
root: $tmp/root
passwords: {bcrypt_cost: 4}
YAML
cli() { "$bin" "$@" --store "$STORE" --config "$tmp/cfg.yaml" >/dev/null; }
echo pw-alice | cli user add alice --password-stdin --bcrypt
echo pw-bob | cli user add bob --password-stdin --bcrypt
cli url protect /private
cli url grant /private --valid-user
good="Authorization: Basic $(printf alice:pw-alice | base64)"
bad="Authorization: Basic $(printf bob:wrong | base64)"

start() { # PORT [STATE]
	local args=(serve --config "$tmp/cfg.yaml" --addr "127.0.0.1:$1" --store "$STORE" --access-log=false)
	[ -n "${2:-}" ] && args+=(--state "$2")
	taskset -c 0 "$bin" "${args[@]}" 2>"$tmp/node-$1.log" &
	pids+=($!)
	for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.1; done
	echo "node $1 did not start" >&2; cat "$tmp/node-$1.log" >&2; exit 1
}
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
reqs() { awk '/requests in/ {print $1}' "$1"; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
cmds() { redis-cli info commandstats | awk -F'[:=,]' '/^cmdstat_/ {sub("cmdstat_","",$1); printf "%s=%s ", $1, $3}'; }
total() { redis-cli info commandstats | awk -F'[:=,]' '/^cmdstat_/ {n+=$3} END {print n+0}'; }

measure() { # LABEL HEADER PORT...
	local label=$1 header=$2; shift 2
	local ports=("$@") n=0 r=0 outs=() wpids=()
	for p in "${ports[@]}"; do curl -s -o /dev/null -H "$header" "http://127.0.0.1:$p/private/"; done
	redis-cli config resetstat >/dev/null
	local conns=$((50 / ${#ports[@]}))
	for p in "${ports[@]}"; do
		taskset -c 1 wrk -t1 -c"$conns" -d"$dur" -H "$header" "http://127.0.0.1:$p/private/" >"$tmp/wrk-$p.out" &
		wpids+=($!)
		outs+=("$tmp/wrk-$p.out")
	done
	for w in "${wpids[@]}"; do wait "$w"; done
	sleep 0.2
	local calls breakdown
	calls=$(total); breakdown=$(cmds)
	for o in "${outs[@]}"; do
		n=$((n + $(reqs "$o")))
		r=$(awk -v a="$r" -v b="$(rps "$o")" 'BEGIN {print a + b}')
	done
	printf '| %s | %.0f | %d | %.3f | %s |\n' "$label" "$r" "$n" "$(awk -v c="$calls" -v n="$n" 'BEGIN {print c / n}')" "$breakdown"
}

echo "| configuration, path | requests/s | requests | Redis commands/request | Redis commandstats (calls) |"
echo "|---|---|---|---|---|"
start 18181
measure "1 node, memory state, cached valid credentials" "$good" 18181
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -H "$bad" http://127.0.0.1:18181/private/; done
measure "1 node, memory state, locked out (429)" "$bad" 18181
stop_all
start 18182 "$STATE"
measure "1 node, Redis state, cached valid credentials" "$good" 18182
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -H "$bad" http://127.0.0.1:18182/private/; done
measure "1 node, Redis state, locked out (429)" "$bad" 18182
stop_all
redis-cli --scan --pattern "$prefix*" | xargs -r redis-cli del >/dev/null
start 18183 "$STATE"
start 18184 "$STATE"
measure "2 nodes, Redis state, cached valid credentials" "$good" 18183 18184
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -H "$bad" http://127.0.0.1:18183/private/; done
measure "2 nodes, Redis state, locked out (429)" "$bad" 18183 18184
