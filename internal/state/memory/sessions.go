package memory

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/htgate/htgate/internal/state"
)

// Sessions keeps form-login sessions in one bounded, sharded LRU table with
// lazy expiry. It is safe for concurrent use. Sessions are created only
// after a password verified, so an attacker without one cannot fill it;
// when it is full the least recently used session ends (its user signs in
// again): size MaxKeys for the users signed in at once.
type Sessions struct {
	now       func() time.Time
	evictions atomic.Uint64
	records   table[sessionRecord]
}

var (
	_ state.Sessions = (*Sessions)(nil)
	_ state.Bounded  = (*Sessions)(nil)
)

// NewSessions returns an empty session table bounded by o.MaxKeys
// (default DefaultMaxKeys) and reading time from o.Now.
func NewSessions(o Options) *Sessions {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sessions{now: o.Now}
	s.records.init(o.MaxKeys, &s.evictions)
	return s
}

// sessionRecord is a session and the end of its idle lifetime.
type sessionRecord struct {
	s    state.Session
	idle int64 // Unix nanoseconds
}

func (r sessionRecord) expiry() int64 { return min(r.idle, r.s.Expires.UnixNano()) }

// Create implements state.Sessions.
func (m *Sessions) Create(ctx context.Context, key string, s state.Session, idle time.Duration) error {
	if err := check(ctx, "create session", key); err != nil {
		return err
	}
	if idle <= 0 {
		return fmt.Errorf("state: create session: idle lifetime %v is not positive: %w", idle, state.ErrInvalid)
	}
	now := m.now().UnixNano()
	sh := m.records.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, found := sh.lru.Peek(key)
	sh.add(key, sessionRecord{s: s, idle: addNanos(now, idle)}, now, !found)
	return nil
}

// Get implements state.Sessions.
func (m *Sessions) Get(ctx context.Context, key string, idle time.Duration) (state.Session, bool, error) {
	if err := check(ctx, "get session", key); err != nil {
		return state.Session{}, false, err
	}
	if idle <= 0 {
		return state.Session{}, false, fmt.Errorf("state: get session: idle lifetime %v is not positive: %w", idle, state.ErrInvalid)
	}
	sh := m.records.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r, ok := sh.live(key, m.now)
	if !ok {
		return state.Session{}, false, nil
	}
	r.idle = addNanos(m.now().UnixNano(), idle)
	sh.lru.Add(key, r) // key is present: no eviction, the table keeps its key
	return r.s, true, nil
}

// Delete implements state.Sessions.
func (m *Sessions) Delete(ctx context.Context, keys ...string) error {
	return m.records.remove(ctx, "delete sessions", keys)
}

// Len returns the number of sessions held, ended ones included until they
// are looked at or evicted.
func (m *Sessions) Len() int { return m.records.len() }

// Cap returns the most sessions the table holds.
func (m *Sessions) Cap() int { return m.records.capacity() }

// Evictions returns how many live sessions were evicted to make room.
func (m *Sessions) Evictions() uint64 { return m.evictions.Load() }
