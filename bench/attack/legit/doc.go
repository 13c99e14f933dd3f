// Command legit is the legitimate client of the brute-force benchmark
// (bench/attack/run.sh): it requests one protected URL with the right
// password at a fixed rate for a fixed time, from a client address it names
// in a forwarded header (the gateway believes it because the benchmark runs
// htgate with --trusted-proxy 127.0.0.1), and records the status and the
// latency of every request. It prints one machine-readable line:
//
//	LEGIT requests=N ok=N non200=N errors=N p50_us=N p90_us=N p99_us=N max_us=N wait_p50_us=N wait_p99_us=N wait_max_us=N settled=N settled_p99_us=N settled_max_us=N statuses=200:N,429:N
//
// ok counts 200 answers whose body has the expected size (-size, if set);
// non200 counts every other HTTP answer; errors counts transport errors and
// timeouts. The p* latencies run from sending a request to the end of its
// answer; the wait_* ones from the time the request was scheduled, so they
// include the time it queued while every connection was busy (no
// coordinated omission: a stall of the server shows in full); settled_*
// are the same for the requests scheduled after the first -settle (5 s) of
// the run, to tell a stall at the start from the steady state. It imports
// only the standard library and is not part of htgate.
package main
