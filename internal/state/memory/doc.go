// Package memory is the in-process implementation of the state interfaces:
// counters, bans and marks in three bounded, sharded LRU tables
// (hashicorp/golang-lru/v2) with lazy expiry, on an injected clock (Store),
// and Digest nonce counts in a fourth table of the same kind (Nonces). It is
// the default for a single node; it imports state and golang-lru only.
//
// # Memory bound
//
// Each table holds at most Options.MaxKeys entries (default
// DefaultMaxKeys = 200,000, rounded up to a multiple of its 16 shards) and
// evicts the least recently used beyond that, counting the evictions of
// live entries (Store.Evictions). Measured on amd64 with Go 1.26
// (TestBytesPerKey), one entry costs about 150 bytes with a 12-byte key
// (an IPv4 client) and 180 with a 34-byte key (an address and a user
// name): list element with the value, map slot and the key's own copy.
// The guard's keys are at most ~110 bytes. So the three tables of the
// default hold at most 600,000 entries in about 100 MB; only the counters
// and bans fill under attack (about 70 MB), and an attack from millions of
// distinct addresses cannot grow them further. Each shard evicts its own
// least recently used entry, which approximates LRU over the table.
//
// The tables are separate so that failures, which an attacker can make at
// will, never evict the marks of recent successes, which only a correct
// password makes.
//
// Expired entries are removed when they are next looked at, or evicted
// when room is needed; they never count as evictions.
package memory
