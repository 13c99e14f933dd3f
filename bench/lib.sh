# shellcheck shell=bash
# bench/lib.sh — process helpers shared by bench/run.sh and bench/attack/run.sh.
# Sourced, not run. The caller declares CHILD_PID="" before using run_child.

stop_pid() { # stop_pid PID: TERM the process group, wait <= 5 s, then KILL it
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# run_child OUTFILE CMD...: run CMD (stdout and stderr to OUTFILE) in the background
# and wait for it, so that a signal to the script is handled at once (bash defers
# traps while a foreground child runs). The redirection is inside on purpose: a
# trap that fires in here would otherwise inherit it.
run_child() {
	local rc=0 out=$1
	shift
	"$@" >"$out" 2>&1 &
	CHILD_PID=$!
	wait "$CHILD_PID" || rc=$?
	CHILD_PID=""
	return "$rc"
}
