// Package redis implements the shared ephemeral state of package state
// (counters, bans, marks, Digest nonce counts and form-login sessions) on
// a Redis server with github.com/redis/go-redis/v9, so that any number of
// gateway nodes share lockouts, nonces and sessions.
//
// Every read-modify-write operation (Counters.Incr, Bans.Ban, Nonces.Use,
// Sessions.Get) is one Lua script run by the server, atomic across nodes;
// reads are one GET or MGET. Instants come from the store's clock (Now)
// and are kept in the values as zero-padded 20-digit Unix nanoseconds, so
// that the scripts compare them as strings, exactly, without Lua's
// floating-point numbers; the server's own expiry (PX) only collects
// garbage, a minute after an entry ended.
//
// Keys are Prefix + a letter for the kind + ":" + the caller's key
// (c: counters, b: bans, m: marks, n: nonces, s: sessions), and Prefix +
// "bans" is a sorted set indexing the bans for List. Several deployments
// (or tests) share a server with different prefixes. A script touches
// one ban key and the index, so Redis Cluster is not supported.
//
// Errors of the server or the network are returned (wrapped) to the
// caller: the guard refuses what it cannot decide (fails closed).
//
// It imports state and go-redis; only internal/app and tests import it.
package redis
