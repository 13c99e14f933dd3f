// Package state defines the shared ephemeral state of DESIGN §3: failure
// counters with a fixed window, bans whose length grows with each repeat
// offence, short-lived marks (recent successes), the nonce counts of
// Digest authentication that refuse replayed requests, and the sessions of
// form login (kept under the SHA-256 of their ids). It holds only
// interfaces and small value types; implementations live in state/memory
// (one process) and state/redis (several nodes), and every one of
// them passes statetest.Run (and statetest.RunNonces, RunSessions). It imports only the
// standard library.
//
// # Contract for implementations
//
// Every operation is atomic on the store's side: Counters.Incr, Bans.Ban
// and Nonces.Use are read-modify-write operations that concurrent callers, in
// one process or on several nodes, must never observe half done. A Redis
// implementation runs each as one Lua script (or MULTI/EXEC); it must not
// read a value into Go, change it and write it back.
//
// Time comes from the store's clock, which implementations take as a
// now func() time.Time so that tests can move it. A networked
// implementation stores explicit expiry instants in its values, compares
// them with that clock, and uses the server's own TTLs (PEXPIRE) only to
// collect garbage, with a margin, so that statetest's fake clock gives the
// same results as on the memory store.
//
// Expired entries behave exactly as absent ones. Keys are opaque, non-empty
// strings chosen by the caller (the guard bounds their length); an
// implementation may prefix them with its own namespace.
//
// A store that keeps its entries in a bounded memory (state/memory)
// implements Bounded so that its evictions reach the metrics; an eviction
// forgets a counter, ban or mark early, which callers must tolerate.
package state
