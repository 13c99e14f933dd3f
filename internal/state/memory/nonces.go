package memory

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/htgate/htgate/internal/state"
)

// Nonces keeps Digest nonce counts in one bounded, sharded LRU table with
// lazy expiry, like the tables of Store. It is safe for concurrent use.
//
// A record is written only after a Digest response verified (the gateway
// calls Use last), so an attacker without a password cannot fill the
// table; each legitimate client adds one record per nonce it is issued.
// If the table is full, the least recently used record is evicted, and a
// request captured with that nonce could be replayed until the nonce
// expires: size MaxKeys for the clients active within a nonce lifetime.
type Nonces struct {
	now       func() time.Time
	evictions atomic.Uint64
	records   table[nonceRecord]
}

var (
	_ state.Nonces  = (*Nonces)(nil)
	_ state.Bounded = (*Nonces)(nil)
)

// NewNonces returns an empty nonce-count table bounded by o.MaxKeys
// (default DefaultMaxKeys) and reading time from o.Now.
func NewNonces(o Options) *Nonces {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	n := &Nonces{now: o.Now}
	n.records.init(o.MaxKeys, &n.evictions)
	return n
}

// nonceRecord is the last count used with a nonce.
type nonceRecord struct {
	last uint64
	exp  int64
}

func (r nonceRecord) expiry() int64 { return r.exp }

// Use implements state.Nonces.
func (n *Nonces) Use(ctx context.Context, nonce string, nc uint64, ttl time.Duration) (bool, error) {
	if err := check(ctx, "use nonce", nonce); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, fmt.Errorf("state: use nonce: time to live %v is not positive: %w", ttl, state.ErrInvalid)
	}
	now := n.now().UnixNano()
	sh := n.records.shard(nonce)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r, found := sh.lru.Get(nonce)
	if found && r.exp <= now {
		r, found = nonceRecord{}, false
		sh.lru.Remove(nonce)
	}
	if nc <= r.last {
		return false, nil
	}
	r.last = nc
	r.exp = max(r.exp, addNanos(now, ttl))
	sh.add(nonce, r, now, !found)
	return true, nil
}

// Len returns the number of records held, expired ones included until
// they are looked at or evicted.
func (n *Nonces) Len() int { return n.records.len() }

// Cap returns the most records the table holds.
func (n *Nonces) Cap() int { return n.records.capacity() }

// Evictions returns how many live records were evicted to make room.
func (n *Nonces) Evictions() uint64 { return n.evictions.Load() }
