#!/usr/bin/env bash
# bench/run.sh — whole-server benchmark for htgate (issue 2, "Performance").
#
# Serves one 1 KiB file from a throw-away docroot with htgate (several
# configurations), a bare Go net/http file server (the ceiling), Apache
# (mpm_event, AuthType Basic), nginx (auth_basic) and Caddy (basicauth), all
# on 127.0.0.1, each server pinned to one CPU with taskset and wrk pinned to
# another. Every scenario's status code is checked with curl before it is
# measured (and again after it); a mismatch aborts the run. Results are
# printed as Markdown: requests/s, latency, errors, and the CPU time the
# server used, so that ratios can also be taken per server CPU-second, which
# other work on a shared machine disturbs far less than requests/s.
#
# Usage: bench/run.sh [--smoke] [--runs N] [--only REGEX] [--out DIR] [--keep]
#                     [--install] [--perf REGEX] [--help]
#   --smoke      htgate + Go ceiling only, 1-second runs (CI; never fails on ratios)
#   --runs N     repeat the whole set N times and mark the median run
#                (median by htgate-bcrypt requests/s)
#   --only REGEX run only scenario ids matching REGEX (e.g. 'htgate|go_ceiling')
#   --out DIR    also write raw wrk output, per-run TSV and the tables to DIR
#   --keep       keep the temporary work directory (configs, logs)
#   --install    apt-get install the tools first (otherwise nothing is installed)
#   --perf REGEX record a CPU profile (perf record -g) of the server during the
#                measured runs whose id matches REGEX, e.g. --perf htgate_bcrypt;
#                perf runs on the client CPU, so those runs' numbers are skewed
#
# Environment (defaults in brackets):
#   DURATION [10s] WARMUP [2s] CONNS [32]            main profile
#   SLOW_DURATION [5s] SLOW_WARMUP [1s] SLOW_CONNS [4] profile for scenarios that
#                  pay a bcrypt hash on every request (~20 req/s per core)
#   SERVER_CPU [0] CLIENT_CPU [1]  BASE_PORT [18400]
#   HTGATE_BIN     use this htgate binary instead of building ./cmd/htgate
#   HTGATE_FLAGS   extra flags for every `htgate serve` (word-split)
#   HTGATE_LOG     where htgate's stdout/stderr go [/dev/null]
#
# Safe to run as root: it writes only under a mktemp directory, talks only
# to 127.0.0.1, bounds every run with timeout(1), and stops every process it
# started (by process group id) on exit, also on failure or Ctrl-C.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
REPO=$(cd "$SCRIPT_DIR/.." && pwd)

MODE=full
INSTALL=0
RUNS=1
ONLY=""
OUT=""
KEEP=0
PERF=""

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) MODE=smoke ;;
	--install) INSTALL=1 ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--only) ONLY=${2:?--only needs a regex}; shift ;;
	--only=*) ONLY=${1#*=} ;;
	--out) OUT=${2:?--out needs a directory}; shift ;;
	--out=*) OUT=${1#*=} ;;
	--keep) KEEP=1 ;;
	--perf) PERF=${2:?--perf needs a regex}; shift ;;
	--perf=*) PERF=${1#*=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "run.sh: --runs must be a positive integer" >&2; exit 2 ;; esac

if [ "$MODE" = smoke ]; then
	DURATION=${DURATION:-1s}
	WARMUP=${WARMUP:-1s}
	SLOW_DURATION=${SLOW_DURATION:-1s}
	SLOW_WARMUP=${SLOW_WARMUP:-0}
else
	DURATION=${DURATION:-10s}
	WARMUP=${WARMUP:-2s}
	SLOW_DURATION=${SLOW_DURATION:-5s}
	SLOW_WARMUP=${SLOW_WARMUP:-1s}
fi
CONNS=${CONNS:-32}
SLOW_CONNS=${SLOW_CONNS:-4}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18400}
HTGATE_LOG=${HTGATE_LOG:-/dev/null}
WRK_TIMEOUT=10s # per-request timeout inside wrk: slow bcrypt servers are latency, not errors

export BENCH_USER=bench # wrongpw.lua reads it
BENCH_PASS='bench-Pa55word'
WRONG_PASS='wrong-Pa55word'
REALM=bench

log() { printf '[run.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	printf '\n[run.sh] FATAL: %s\n\n' "$*" >&2
	exit 1
}

# --- processes and cleanup ------------------------------------------------

WORK=""
SERVER_PIDS=() # each server is started with setsid: its pid is its process group id

# stop_pid and run_child come from bench/lib.sh.

CHILD_PID=""
PERF_PID=""

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if [ -n "$CHILD_PID" ]; then
		kill -TERM "$CHILD_PID" 2>/dev/null || true
		wait "$CHILD_PID" 2>/dev/null || true
	fi
	if [ -n "$PERF_PID" ]; then
		kill -TERM "$PERF_PID" 2>/dev/null || true
		wait "$PERF_PID" 2>/dev/null || true
	fi
	for pid in "${SERVER_PIDS[@]}"; do stop_pid "$pid"; done
	SERVER_PIDS=()
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "$KEEP" = 1 ] || [ "$rc" != 0 ]; then
			log "work directory kept: $WORK"
		else
			rm -rf -- "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

to_seconds() { # 10s, 2m, 500ms, 5 -> whole seconds (rounded up, >= 1)
	local d=$1
	case "$d" in
	*ms) echo $(((${d%ms} + 999) / 1000 + 1)) ;;
	*s) echo "${d%s}" ;;
	*m) echo $((${d%m} * 60)) ;;
	*h) echo $((${d%h} * 3600)) ;;
	*) echo "$d" ;;
	esac
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# group_cpu_ticks PGID: CPU time (user+system, in clock ticks) used so far by the
# processes of a server's process group, plus the children its leader has reaped
# (Apache may retire worker processes during a run).
group_cpu_ticks() {
	local pgid=$1 total=0 p stat f
	for p in $(pgrep -g "$pgid" || true); do
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		read -ra f <<<"${stat##*) }" # fields from the 3rd (state) on; 14-17 are utime stime cutime cstime
		total=$((total + f[11] + f[12]))
		[ "$p" = "$pgid" ] && total=$((total + f[13] + f[14]))
	done
	echo "$total"
}

# start_server NAME PORT LOGFILE CMD... : start CMD pinned to SERVER_CPU in its own
# session, wait until it answers HTTP on PORT (<= 15 s).
CUR_PID=""
start_server() {
	local name=$1 port=$2 logf=$3
	shift 3
	port_busy "$port" && die "$name: port 127.0.0.1:$port is already in use (set BASE_PORT)"
	setsid taskset -c "$SERVER_CPU" "$@" >"$logf" 2>&1 </dev/null &
	CUR_PID=$!
	SERVER_PIDS+=("$CUR_PID")
	for _ in $(seq 150); do
		if ! kill -0 "$CUR_PID" 2>/dev/null; then
			[ -f "$logf" ] && tail -n 20 "$logf" >&2
			die "$name exited during start-up (command: $*; log: $logf${HTGATE_LOG:+; htgate output goes to HTGATE_LOG=$HTGATE_LOG})"
		fi
		if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
			return 0
		fi
		sleep 0.1
	done
	die "$name did not answer on 127.0.0.1:$port within 15 s (log: $logf)"
}

stop_server() {
	local pid=$CUR_PID p keep=()
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || die "server pid $pid died during the benchmark (see logs in $WORK)"
	stop_pid "$pid"
	for p in "${SERVER_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	SERVER_PIDS=("${keep[@]}")
	CUR_PID=""
}

# --- checks ---------------------------------------------------------------

# check_status NAME URL WANT [AUTH]: one curl; abort loudly unless the status is WANT.
# A 200 must carry exactly the benchmark file; a 401 must carry a Basic challenge.
check_status() {
	local name=$1 url=$2 want=$3 auth=${4:-} got hdrs=() size
	[ -n "$auth" ] && hdrs=(-H "Authorization: Basic $auth")
	got=$(curl -sS --max-time 15 -D "$WORK/check.headers" -o "$WORK/check.body" \
		-w '%{http_code}' "${hdrs[@]}" "$url") || die "$name: curl $url failed"
	if [ "$got" != "$want" ]; then
		{ cat "$WORK/check.headers"; head -c 400 "$WORK/check.body" | LC_ALL=C tr -c '[:print:]\n' '.'; echo; } >&2 || true
		die "$name: status check failed: GET $url${auth:+ (with Authorization)} answered $got, want $want"
	fi
	case "$want" in
	200)
		size=$(stat -c %s "$WORK/check.body")
		cmp -s "$WORK/check.body" "$DOCROOT/p/file.bin" ||
			die "$name: GET $url answered 200 with $size bytes that are not the 1 KiB benchmark file"
		;;
	401)
		grep -qi '^www-authenticate: *basic' "$WORK/check.headers" ||
			die "$name: GET $url answered 401 without a 'WWW-Authenticate: Basic' challenge"
		;;
	esac
	log "check ok: $name GET ${url#http://127.0.0.1}${auth:+ [auth]} -> $got"
}

# check_protected NAME BASEURL CREDS: the usual three checks for a protected server.
check_protected() {
	local name=$1 base=$2
	check_status "$name" "$base/file.bin" 200
	check_status "$name" "$base/p/file.bin" 401
	check_status "$name" "$base/p/file.bin" 401 "$WRONG_B64"
	check_status "$name" "$base/p/file.bin" 200 "$GOOD_B64"
}

# --- measurement ----------------------------------------------------------

RUN_TSV=""
# measure ID LABEL PROFILE(fast|slow) URL WANT [AUTH]: warm up, measure, then check
# WANT again (a lockout or a rate limit that kicked in during the run aborts it).
measure() {
	local id=$1 label=$2 profile=$3 url=$4 want=$5 auth=${6:-}
	local conns dur warm hdr=() raw line tmo script="$SCRIPT_DIR/report.lua"
	if [ "$profile" = slow ]; then
		conns=$SLOW_CONNS dur=$SLOW_DURATION warm=$SLOW_WARMUP
	else
		conns=$CONNS dur=$DURATION warm=$WARMUP
	fi
	if [ "$auth" = distinct-wrong ]; then
		# a new wrong password on every request (wrongpw.lua); the checks use WRONG_B64
		auth=$WRONG_B64
		script="$WORK/wrongpw-report.lua"
		cat "$SCRIPT_DIR/wrongpw.lua" "$SCRIPT_DIR/report.lua" >"$script"
	elif [ -n "$auth" ]; then
		hdr=(-H "Authorization: Basic $auth")
	fi
	if [ "$warm" != 0 ]; then
		tmo=$(($(to_seconds "$warm") + 30))
		run_child /dev/null timeout -k 5 "$tmo" taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"$warm" \
			--timeout "$WRK_TIMEOUT" -s "$script" "${hdr[@]}" "$url" ||
			die "$id: warm-up wrk failed"
	fi
	raw="$WORK/raw/run$RUN_NO-$id.txt"
	tmo=$(($(to_seconds "$dur") + 30))
	log "measure: $id (wrk -t1 -c$conns -d$dur, server on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU)"
	PERF_PID=""
	if [ -n "$PERF" ] && [[ $id =~ $PERF ]]; then
		log "perf: recording $id (pid $CUR_PID) into $WORK/raw/run$RUN_NO-$id.perf.data"
		timeout -k 5 "$tmo" taskset -c "$CLIENT_CPU" perf record -q -F 499 -g -p "$CUR_PID" \
			-o "$WORK/raw/run$RUN_NO-$id.perf.data" -- sleep "$(to_seconds "$dur")" >"$WORK/raw/run$RUN_NO-$id.perf.log" 2>&1 &
		PERF_PID=$!
	fi
	local ticks0 ticks1
	ticks0=$(group_cpu_ticks "$CUR_PID")
	run_child "$raw" timeout -k 5 "$tmo" taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"$dur" --latency \
		--timeout "$WRK_TIMEOUT" -s "$script" "${hdr[@]}" "$url" ||
		{ cat "$raw" >&2; die "$id: wrk failed"; }
	ticks1=$(group_cpu_ticks "$CUR_PID")
	if [ -n "$PERF_PID" ]; then
		wait "$PERF_PID" || log "perf record exited with an error (see $WORK/raw/run$RUN_NO-$id.perf.log)"
		perf report -i "$WORK/raw/run$RUN_NO-$id.perf.data" --no-children --stdio --percent-limit 0.5 \
			--sort symbol -g none >"$WORK/raw/run$RUN_NO-$id.perf.txt" 2>/dev/null || true
		log "perf: flat profile in $WORK/raw/run$RUN_NO-$id.perf.txt"
		PERF_PID=""
	fi
	line=$(grep '^BENCH ' "$raw") || { cat "$raw" >&2; die "$id: no BENCH line in wrk output"; }
	local -A m=()
	local kv
	for kv in ${line#BENCH }; do m[${kv%%=*}]=${kv#*=}; done
	if [ "${m[requests]:-0}" -eq 0 ]; then
		cat "$raw" >&2
		# A 1-second smoke run on a busy CI machine can see a stall; a full run cannot.
		[ "$MODE" = smoke ] || die "$id: wrk completed no requests"
		log "WARNING: $id: wrk completed no requests in $dur"
	fi
	kill -0 "$CUR_PID" 2>/dev/null || die "$id: the server died during the run"
	if [ "$want" = 200 ] && [ "${m[non2xx]}" != 0 ]; then
		log "WARNING: $id: ${m[non2xx]} of ${m[requests]} responses were not 2xx/3xx"
	fi
	if [ "$want" != 200 ] && [ "${m[non2xx]}" != "${m[requests]}" ]; then
		log "WARNING: $id: only ${m[non2xx]} of ${m[requests]} responses were errors, want all $want"
	fi
	check_status "$id (after the run)" "$url" "$want" "$auth"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$label" "$conns" "$dur" \
		"$(awk -v r="${m[requests]}" -v d="${m[duration_us]}" 'BEGIN{printf "%.1f", r/(d/1e6)}')" \
		"${m[p50_us]}" "${m[p99_us]}" "${m[non2xx]}" \
		"$((m[connect] + m[read] + m[write] + m[timeout]))" "${m[requests]}" \
		"$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t/hz}')" "${m[duration_us]}" >>"$RUN_TSV"
}

want() { [ -z "$ONLY" ] || [[ $1 =~ $ONLY ]]; }
want_any() { local s; for s in "$@"; do want "$s" && return 0; done; return 1; }

# --- servers --------------------------------------------------------------

# htgate_serve NAME PORT [extra serve flags...]: the access log is off (as for the
# other servers) unless the flags say --access-log=true.
htgate_serve() {
	local name=$1 port=$2
	shift 2
	# shellcheck disable=SC2086 # HTGATE_FLAGS is deliberately word-split
	start_server "$name" "$port" "$HTGATE_LOG" "$HTGATE" serve --root "$DOCROOT" \
		--addr "127.0.0.1:$port" --log-format json $HTGATE_NOLOG "$@" $HTGATE_FLAGS
}

# htgate_protected NAME PORT HASH [extra serve flags...]: start htgate protecting /p
# with the HASH htpasswd file and run the usual status checks.
htgate_protected() {
	local name=$1 port=$2 hash=$3
	shift 3
	htgate_serve "$name" "$port" --protect /p --htpasswd "$WORK/htpasswd.$hash" --realm "$REALM" "$@"
	check_protected "$name" "http://127.0.0.1:$port"
}

# One function per server process; each starts its server, checks it, measures its
# scenarios and stops it. SEQUENCE below sets the order.
grp_htgate_none() {
	want htgate_none || return 0
	local port=$((BASE_PORT + 1))
	htgate_serve "htgate (no rule)" "$port"
	check_status htgate_none "http://127.0.0.1:$port/p/file.bin" 200
	measure htgate_none "htgate, no rule" fast "http://127.0.0.1:$port/p/file.bin" 200
	stop_server
}

grp_htgate_bcrypt() {
	want_any htgate_bcrypt htgate_nocreds || return 0
	local port=$((BASE_PORT + 2)) url
	url="http://127.0.0.1:$port/p/file.bin"
	htgate_protected htgate_bcrypt "$port" bcrypt
	if want htgate_bcrypt; then
		measure htgate_bcrypt "htgate, /p protected, bcrypt-10 user, valid credentials" fast "$url" 200 "$GOOD_B64"
	fi
	if want htgate_nocreds; then
		measure htgate_nocreds "htgate, /p protected, no credentials (401)" fast "$url" 401
	fi
	stop_server
}

grp_htgate_bcrypt_log() {
	want htgate_bcrypt_log || return 0
	local port=$((BASE_PORT + 5))
	# shellcheck disable=SC2086 # empty when this htgate has no --access-log switch
	htgate_protected htgate_bcrypt_log "$port" bcrypt $HTGATE_LOG_ON
	measure htgate_bcrypt_log "htgate, as htgate_bcrypt but with its JSON access log on (to $HTGATE_LOG)" fast \
		"http://127.0.0.1:$port/p/file.bin" 200 "$GOOD_B64"
	stop_server
}

grp_htgate_apr1() {
	want htgate_apr1 || return 0
	local port=$((BASE_PORT + 3))
	htgate_protected htgate_apr1 "$port" apr1
	measure htgate_apr1 "htgate, /p protected, apr1 user, valid credentials" fast "http://127.0.0.1:$port/p/file.bin" 200 "$GOOD_B64"
	stop_server
}

# Wrong passwords: with the brute-force guard on, the 6th attempt is already a
# 429 without any hash, so these run on their own servers with the guard off.
grp_htgate_wrong_bcrypt() {
	want htgate_wrong_bcrypt || return 0
	local port=$((BASE_PORT + 11))
	htgate_protected htgate_wrong_bcrypt "$port" bcrypt "${HTGATE_GUARD_OFF[@]}"
	measure htgate_wrong_bcrypt "htgate, bcrypt-10 user, a new wrong password each request (401), brute-force guard off" slow \
		"http://127.0.0.1:$port/p/file.bin" 401 distinct-wrong
	stop_server
}

grp_htgate_wrong_apr1() {
	want htgate_wrong_apr1 || return 0
	local port=$((BASE_PORT + 12))
	htgate_protected htgate_wrong_apr1 "$port" apr1 "${HTGATE_GUARD_OFF[@]}"
	measure htgate_wrong_apr1 "htgate, apr1 user, a new wrong password each request (401), brute-force guard off" fast \
		"http://127.0.0.1:$port/p/file.bin" 401 distinct-wrong
	stop_server
}

grp_go_ceiling() {
	want go_ceiling || return 0
	local port=$((BASE_PORT + 4))
	start_server "Go ceiling" "$port" "$WORK/goceiling.log" "$GOCEILING" -addr "127.0.0.1:$port" -root "$DOCROOT"
	check_status go_ceiling "http://127.0.0.1:$port/p/file.bin" 200
	measure go_ceiling "bare Go net/http FileServer (ceiling)" fast "http://127.0.0.1:$port/p/file.bin" 200
	stop_server
}

apache_conf() { # apache_conf HASH PORT -> path of the config file
	local hash=$1 port=$2 dir="$WORK/apache-$1" m
	mkdir -p "$dir/run" "$dir/logs"
	{
		echo "ServerRoot $dir"
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$port"
		echo "PidFile $dir/run/httpd.pid"
		echo "DefaultRuntimeDir $dir/run"
		echo "ErrorLog $dir/logs/error.log"
		echo "LogLevel warn"
		for m in mpm_event authn_core authn_file auth_basic authz_core authz_user mime; do
			echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so"
		done
		if [ "$(id -u)" = 0 ]; then
			echo "User $RUN_USER"
			echo "Group $RUN_GROUP"
		fi
		cat <<-EOF
			# Debian's mpm_event defaults (/etc/apache2/mods-available/mpm_event.conf)
			StartServers 2
			MinSpareThreads 25
			MaxSpareThreads 75
			ThreadLimit 64
			ThreadsPerChild 25
			MaxRequestWorkers 150
			MaxConnectionsPerChild 0
			# keep-alive as wrk uses it; unlimited requests per connection (the Go servers have no limit)
			KeepAlive On
			MaxKeepAliveRequests 0
			KeepAliveTimeout 5
			TypesConfig /etc/mime.types
			DocumentRoot $DOCROOT
			<Directory />
			    AllowOverride None
			    Require all denied
			</Directory>
			<Directory $DOCROOT>
			    AllowOverride None
			    Require all granted
			</Directory>
			<Directory $DOCROOT/p>
			    AuthType Basic
			    AuthName "$REALM"
			    AuthBasicProvider file
			    AuthUserFile $WORK/htpasswd.$hash
			    Require valid-user
			</Directory>
		EOF
	} >"$dir/httpd.conf"
	echo "$dir/httpd.conf"
}

# grp_apache HASH PORT
grp_apache() {
	local hash=$1 port=$2 conf profile=fast
	want "apache_$hash" || return 0
	[ "$hash" = bcrypt ] && profile=slow
	conf=$(apache_conf "$hash" "$port")
	start_server "Apache ($hash)" "$port" "$WORK/apache-$hash/logs/stdout.log" apache2 -f "$conf" -DFOREGROUND
	check_protected "apache_$hash" "http://127.0.0.1:$port"
	measure "apache_$hash" "Apache $APACHE_VERSION mpm_event, AuthType Basic, $hash user, valid credentials" "$profile" \
		"http://127.0.0.1:$port/p/file.bin" 200 "$GOOD_B64"
	stop_server
}
grp_apache_bcrypt() { grp_apache bcrypt $((BASE_PORT + 6)); }
grp_apache_apr1() { grp_apache apr1 $((BASE_PORT + 7)); }

nginx_conf() { # nginx_conf HASH PORT -> path of the config file
	local hash=$1 port=$2 dir="$WORK/nginx-$1"
	mkdir -p "$dir/logs" "$dir/tmp"
	{
		[ "$(id -u)" = 0 ] && echo "user $RUN_USER $RUN_GROUP;"
		cat <<-EOF
			worker_processes 1;
			daemon off;
			pid $dir/nginx.pid;
			error_log $dir/logs/error.log warn;
			events { worker_connections 1024; }
			http {
			    include /etc/nginx/mime.types;
			    default_type application/octet-stream;
			    access_log off;
			    keepalive_requests 1000000;
			    client_body_temp_path $dir/tmp/body;
			    proxy_temp_path $dir/tmp/proxy;
			    fastcgi_temp_path $dir/tmp/fastcgi;
			    uwsgi_temp_path $dir/tmp/uwsgi;
			    scgi_temp_path $dir/tmp/scgi;
			    server {
			        listen 127.0.0.1:$port;
			        root $DOCROOT;
			        location /p/ {
			            auth_basic "$REALM";
			            auth_basic_user_file $WORK/htpasswd.$hash;
			        }
			    }
			}
		EOF
	} >"$dir/nginx.conf"
	echo "$dir/nginx.conf"
}

# grp_nginx HASH PORT
grp_nginx() {
	local hash=$1 port=$2 conf profile=fast
	want "nginx_$hash" || return 0
	[ "$hash" = bcrypt ] && profile=slow
	conf=$(nginx_conf "$hash" "$port")
	start_server "nginx ($hash)" "$port" "$WORK/nginx-$hash/logs/stdout.log" \
		nginx -p "$WORK/nginx-$hash/" -e "$WORK/nginx-$hash/logs/error.log" -c "$conf"
	check_protected "nginx_$hash" "http://127.0.0.1:$port"
	measure "nginx_$hash" "nginx $NGINX_VERSION, auth_basic, $hash user, valid credentials" "$profile" \
		"http://127.0.0.1:$port/p/file.bin" 200 "$GOOD_B64"
	stop_server
}
grp_nginx_bcrypt() { grp_nginx bcrypt $((BASE_PORT + 8)); }
grp_nginx_apr1() { grp_nginx apr1 $((BASE_PORT + 9)); }

grp_caddy_bcrypt() {
	want caddy_bcrypt || return 0
	local port=$((BASE_PORT + 10)) dir="$WORK/caddy" hash directive pw
	mkdir -p "$dir/data" "$dir/config"
	hash=$(cut -d: -f2 "$WORK/htpasswd.bcrypt")
	# Caddy >= 2.8 calls the directive basic_auth and takes the hash as is;
	# 2.6/2.7 (Debian 12) call it basicauth and want the hash base64-encoded.
	# Both enable the verified-password cache ("hash_cache") by default.
	printf ':1 {\n\tbasic_auth {\n\t\tu %s\n\t}\n}\n' "$hash" >"$dir/probe.Caddyfile"
	if caddy adapt --adapter caddyfile --config "$dir/probe.Caddyfile" >/dev/null 2>&1; then
		directive=basic_auth pw=$hash
	else
		directive=basicauth pw=$(printf %s "$hash" | base64 -w0)
	fi
	cat >"$dir/Caddyfile" <<-EOF
		{
		    admin off
		    auto_https off
		    storage file_system $dir/data
		}
		:$port {
		    bind 127.0.0.1
		    root * $DOCROOT
		    $directive /p/* bcrypt $REALM {
		        $BENCH_USER $pw
		    }
		    file_server
		}
	EOF
	caddy adapt --adapter caddyfile --config "$dir/Caddyfile" >"$dir/caddy.json" 2>"$dir/adapt.log" ||
		{ cat "$dir/adapt.log" >&2; die "caddy could not adapt $dir/Caddyfile"; }
	grep -q '"hash_cache"' "$dir/caddy.json" || log "note: caddy config has no hash_cache (verified-password cache off)"
	start_server "Caddy (bcrypt)" "$port" "$dir/stdout.log" env HOME="$dir" XDG_DATA_HOME="$dir/data" \
		XDG_CONFIG_HOME="$dir/config" caddy run --config "$dir/Caddyfile" --adapter caddyfile
	check_protected caddy_bcrypt "http://127.0.0.1:$port"
	measure caddy_bcrypt "Caddy $CADDY_VERSION, $directive (hash cache on), bcrypt-10 user, valid credentials" fast "http://127.0.0.1:$port/p/file.bin" 200 "$GOOD_B64"
	stop_server
}

# --- report ---------------------------------------------------------------

fmt_ms() { awk -v u="$1" 'BEGIN{ if (u >= 100000) printf "%.0f ms", u/1000; else if (u >= 1000) printf "%.2f ms", u/1000; else printf "%.0f µs", u }'; }

# print_tables TSV: the results table and the ratio table of one run.
print_tables() {
	local tsv=$1
	echo "| Scenario | wrk | Requests/s | p50 | p99 | non-2xx/3xx | socket errors | server CPU | requests per CPU-second |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	local id label conns dur rps p50 p99 non2xx serr reqs cpu dus
	while IFS=$'\t' read -r id label conns dur rps p50 p99 non2xx serr reqs cpu dus; do
		# shellcheck disable=SC2016 # the backticks are Markdown
		printf '| %s (`%s`) | -c%s -d%s | %s | %s | %s | %s of %s | %s | %s | %s |\n' "$label" "$id" "$conns" "$dur" \
			"$(printf '%.0f' "$rps")" "$(fmt_ms "$p50")" "$(fmt_ms "$p99")" "$non2xx" "$reqs" "$serr" \
			"$(awk -v c="$cpu" -v d="$dus" 'BEGIN{printf "%.2f s (%.0f%%)", c, (d > 0 ? 100*c/(d/1e6) : 0)}')" \
			"$(awk -v c="$cpu" -v r="$reqs" 'BEGIN{ if (c > 0) printf "%.0f", r/c; else print "-" }')"
	done < <(awk -F'\t' -v order="$DISPLAY_ORDER" '
		BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
		{ printf "%d\t%s\n", ($1 in rank) ? rank[$1] : 99, $0 }' "$tsv" | sort -n -s -k1,1 | cut -f2-)
	echo
	awk -F'\t' '
		{ rps[$1] = $5; p99[$1] = $7; eff[$1] = ($11 > 0) ? $10 / $11 : 0 }
		function fmt(v) { return sprintf(v >= 100 ? "%.0f" : "%.2f", v) }
		function verdict(v, op, target) { return ((op == ">=") ? (v >= target) : (v <= target)) ? "met" : "**MISSED**" }
		function ratio(name, a, b, op, target, what) {
			if (!(a in rps) || !(b in rps) || rps[b] == 0 || p99[b] == 0) return
			if (what == "p99") {
				v = p99[a] / p99[b]
				printf "| %s | %.2f (%s / %s µs) | %s | - | | %s %s |\n", name, v, p99[a], p99[b], verdict(v, op, target), (op == ">=" ? "≥" : "≤"), target
			} else {
				v = rps[a] / rps[b]
				w = (eff[b] > 0) ? eff[a] / eff[b] : 0
				printf "| %s | %s | %s | %s | %s | %s %s |\n", name, fmt(v), verdict(v, op, target), \
					(w > 0 ? fmt(w) : "-"), (w > 0 ? verdict(w, op, target) : ""), (op == ">=" ? "≥" : "≤"), target
			}
			n++
		}
		END {
			print "| Ratio | by requests/s | result | by requests per server CPU-second | result | target |"
			print "|---|---:|---|---:|---|---:|"
			ratio("htgate bcrypt / htgate no rule", "htgate_bcrypt", "htgate_none", ">=", 0.85)
			ratio("htgate bcrypt / Go ceiling", "htgate_bcrypt", "go_ceiling", ">=", 0.8)
			ratio("htgate bcrypt / Caddy bcrypt", "htgate_bcrypt", "caddy_bcrypt", ">=", 1.1)
			ratio("htgate bcrypt / Apache bcrypt", "htgate_bcrypt", "apache_bcrypt", ">=", 500)
			ratio("htgate bcrypt / nginx bcrypt", "htgate_bcrypt", "nginx_bcrypt", ">=", 500)
			ratio("htgate apr1 / nginx apr1", "htgate_apr1", "nginx_apr1", ">=", 2)
			ratio("p99 latency, htgate bcrypt / Caddy bcrypt", "htgate_bcrypt", "caddy_bcrypt", "<=", 1.0, "p99")
			if (n == 0) print "| (no ratio: a scenario it needs was not run) | | | | | |"
		}' "$tsv"
}

machine_info() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc); server on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU"
	echo "- kernel: $(uname -r); $(go version 2>/dev/null || echo 'go: not found')"
	echo "- wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}'); $( [ "$MODE" = full ] && echo "Apache $APACHE_VERSION; nginx $NGINX_VERSION; Caddy $CADDY_VERSION" || echo "smoke mode")"
	echo "- load average (1 min) at start $LOAD_START, at end $(cut -d' ' -f1 /proc/loadavg): anything well above 0 means other work shared the CPUs"
	echo "- profile: -t1 -c$CONNS -d$DURATION after a $WARMUP warm-up; bcrypt-per-request scenarios -c$SLOW_CONNS -d$SLOW_DURATION after a $SLOW_WARMUP warm-up"
}

# --- main -----------------------------------------------------------------

if [ "$INSTALL" = 1 ]; then
	[ "$(id -u)" = 0 ] || die "--install needs root (apt-get)"
	pkgs=(wrk apache2-utils curl)
	[ "$MODE" = full ] && pkgs+=(apache2 nginx caddy)
	log "apt-get install -y ${pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}"
fi

need=(wrk curl htpasswd taskset setsid timeout go awk base64 cmp pgrep getconf)
[ -n "$PERF" ] && need+=(perf)
[ "$MODE" = full ] && need+=(apache2 nginx caddy)
missing=()
for t in "${need[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (run with --install, or apt-get install wrk apache2-utils apache2 nginx caddy)"

NCPU=$(nproc)
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
CLK_TCK=$(getconf CLK_TCK)
if [ "$NCPU" -lt 2 ] && [ "$SERVER_CPU" = 0 ] && [ "$CLIENT_CPU" = 1 ]; then
	log "only one CPU: server and wrk share CPU 0 (numbers are not comparable with a 2-core run)"
	CLIENT_CPU=0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/htgate-bench.XXXXXX")
chmod 755 "$WORK" # Apache and nginx workers (www-data when run as root) read the docroot and htpasswd files
mkdir -p "$WORK/raw" "$WORK/bin"
DOCROOT="$WORK/docroot"
mkdir -p "$DOCROOT/p"
head -c 1024 /dev/urandom >"$DOCROOT/p/file.bin"
cp "$DOCROOT/p/file.bin" "$DOCROOT/file.bin"
chmod -R a+rX "$DOCROOT"

htpasswd -nbB -C 10 "$BENCH_USER" "$BENCH_PASS" | head -1 >"$WORK/htpasswd.bcrypt"
htpasswd -nbm "$BENCH_USER" "$BENCH_PASS" | head -1 >"$WORK/htpasswd.apr1"
chmod 644 "$WORK"/htpasswd.*
GOOD_B64=$(printf '%s:%s' "$BENCH_USER" "$BENCH_PASS" | base64 -w0)
WRONG_B64=$(printf '%s:%s' "$BENCH_USER" "$WRONG_PASS" | base64 -w0)

if [ "$(id -u)" = 0 ]; then
	if id -u www-data >/dev/null 2>&1; then RUN_USER=www-data RUN_GROUP=www-data; else RUN_USER=nobody RUN_GROUP=nogroup; fi
fi

log "building the Go ceiling"
(cd "$REPO" && go build -o "$WORK/bin/goceiling" ./bench/goceiling) || die "go build ./bench/goceiling failed"
GOCEILING="$WORK/bin/goceiling"
HTGATE=""
if ! want_any htgate_none htgate_bcrypt htgate_wrong_bcrypt htgate_nocreds htgate_bcrypt_log htgate_apr1 htgate_wrong_apr1; then
	log "no htgate scenario selected by --only: htgate is not built"
elif [ -n "${HTGATE_BIN:-}" ]; then
	HTGATE=$HTGATE_BIN
else
	log "building htgate"
	(cd "$REPO" && go build -o "$WORK/bin/htgate" ./cmd/htgate) || die "go build ./cmd/htgate failed"
	HTGATE="$WORK/bin/htgate"
fi
if [ -n "$HTGATE" ]; then
	if ! "$HTGATE" serve --help >"$WORK/htgate-serve-help.txt" 2>&1 || ! grep -q -- '--root' "$WORK/htgate-serve-help.txt"; then
		die "'htgate serve --root' is not available in this build yet ($HTGATE)"
	fi
fi
HTGATE_FLAGS=${HTGATE_FLAGS:-}
HTGATE_NOLOG="" HTGATE_LOG_ON=""
if [ -n "$HTGATE" ] && grep -q -- '--access-log' "$WORK/htgate-serve-help.txt"; then
	HTGATE_NOLOG=--access-log=false HTGATE_LOG_ON=--access-log=true
else
	log "note: this htgate has no --access-log switch: its access log (to $HTGATE_LOG) is measured too"
fi
# The brute-force guard off, for the wrong-password scenarios: the --guard switch
# when this htgate has one, else the YAML setting guard.disabled.
HTGATE_GUARD_OFF=()
if [ -n "$HTGATE" ]; then
	if grep -qE -- '--guard( |=|$)' "$WORK/htgate-serve-help.txt"; then
		HTGATE_GUARD_OFF=(--guard=false)
	else
		printf 'guard:\n  disabled: true\n' >"$WORK/guard-off.yaml"
		HTGATE_GUARD_OFF=(--config "$WORK/guard-off.yaml")
	fi
fi

APACHE_VERSION="" NGINX_VERSION="" CADDY_VERSION=""
if [ "$MODE" = full ]; then
	APACHE_VERSION=$(apache2 -v 2>/dev/null | sed -n 's/^Server version: Apache\/\([^ ]*\).*/\1/p')
	NGINX_VERSION=$(nginx -v 2>&1 | sed -n 's/.*nginx\/\([^ ]*\).*/\1/p')
	CADDY_VERSION=$(caddy version 2>/dev/null | awk '{print $1}')
fi

[ -n "$OUT" ] && mkdir -p "$OUT"

# Scenarios compared in a ratio run next to each other, so that slow changes in
# the machine's load touch both sides alike.
SEQUENCE=(htgate_none htgate_bcrypt go_ceiling caddy_bcrypt htgate_apr1 nginx_apr1 apache_apr1
	nginx_bcrypt apache_bcrypt htgate_bcrypt_log htgate_wrong_bcrypt htgate_wrong_apr1)
DISPLAY_ORDER="htgate_none htgate_bcrypt htgate_apr1 htgate_nocreds htgate_bcrypt_log htgate_wrong_bcrypt
	htgate_wrong_apr1 go_ceiling caddy_bcrypt apache_bcrypt apache_apr1 nginx_bcrypt nginx_apr1"
if [ "$MODE" = smoke ]; then
	SEQUENCE=(htgate_none htgate_bcrypt go_ceiling htgate_apr1 htgate_bcrypt_log htgate_wrong_bcrypt htgate_wrong_apr1)
fi

for RUN_NO in $(seq "$RUNS"); do
	RUN_TSV="$WORK/run$RUN_NO.tsv"
	: >"$RUN_TSV"
	log "run $RUN_NO of $RUNS ($MODE)"
	for g in "${SEQUENCE[@]}"; do "grp_$g"; done
done

# The median run, by htgate-bcrypt requests/s (or the first scenario if that was not run).
key=htgate_bcrypt
grep -q "^$key	" "$WORK/run1.tsv" || key=$(head -1 "$WORK/run1.tsv" | cut -f1)
MEDIAN=$(for r in $(seq "$RUNS"); do
	printf '%s %s\n' "$(awk -F'\t' -v k="$key" '$1 == k {print $5}' "$WORK/run$r.tsv")" "$r"
done | sort -g | awk '{a[NR] = $2} END {print a[int((NR + 1) / 2)]}')

{
	echo "## htgate whole-server benchmark ($MODE)"
	echo
	machine_info
	echo
	for r in $(seq "$RUNS"); do
		if [ "$RUNS" -gt 1 ]; then
			echo "### Run $r of $RUNS$([ "$r" = "$MEDIAN" ] && echo " (median by $key requests/s)")"
			echo
		fi
		print_tables "$WORK/run$r.tsv"
		echo
	done
	if [ "$MODE" = smoke ]; then
		echo "Smoke run: 1-second measurements on a possibly shared machine; ratios are informational only."
	fi
} | tee "$WORK/report.md"

if [ -n "$OUT" ]; then
	cp "$WORK/report.md" "$WORK"/run*.tsv "$OUT/"
	cp -r "$WORK/raw" "$OUT/"
	log "results written to $OUT"
fi
