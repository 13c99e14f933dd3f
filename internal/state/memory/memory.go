package memory

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/htgate/htgate/internal/state"
)

// DefaultMaxKeys is the default bound of each of the three tables.
const DefaultMaxKeys = 200_000

// shards is the number of independently locked parts of each table.
const shards = 16

// Options configure a Store. Zero fields take the documented default.
type Options struct {
	// MaxKeys bounds the entries of each table (counters, bans, marks)
	// separately. Default DefaultMaxKeys; values below 16 mean 16.
	MaxKeys int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Store keeps counters, bans and marks in memory. It is safe for
// concurrent use.
type Store struct {
	now       func() time.Time
	evictions atomic.Uint64
	counters  table[counter]
	bans      table[banRecord]
	marks     table[mark]
}

var (
	_ state.Store   = (*Store)(nil)
	_ state.Bounded = (*Store)(nil)
)

// New returns an empty store.
func New(o Options) *Store {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{now: o.Now}
	s.counters.init(o.MaxKeys, &s.evictions)
	s.bans.init(o.MaxKeys, &s.evictions)
	s.marks.init(o.MaxKeys, &s.evictions)
	return s
}

// Len returns the number of entries in the three tables, expired ones
// included until they are looked at or evicted.
func (s *Store) Len() int {
	return s.counters.len() + s.bans.len() + s.marks.len()
}

// Cap returns the most entries the three tables hold together.
func (s *Store) Cap() int {
	return s.counters.capacity() + s.bans.capacity() + s.marks.capacity()
}

// Evictions returns how many live entries were evicted to make room.
func (s *Store) Evictions() uint64 { return s.evictions.Load() }

// Incr implements state.Counters.
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	if err := check(ctx, "incr", key); err != nil {
		return 0, err
	}
	if window <= 0 {
		return 0, fmt.Errorf("state: incr %q: window %v is not positive: %w", key, window, state.ErrInvalid)
	}
	now := s.now().UnixNano()
	sh := s.counters.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ok := sh.lru.Get(key)
	if !ok || c.exp <= now {
		c = counter{n: 1, exp: addNanos(now, window)}
		sh.add(key, c, now, !ok)
		return 1, nil
	}
	c.n++
	sh.add(key, c, now, false)
	return c.n, nil
}

// Get implements state.Counters.
func (s *Store) Get(ctx context.Context, key string) (int64, error) {
	if err := check(ctx, "get", key); err != nil {
		return 0, err
	}
	sh := s.counters.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ok := sh.live(key, s.now)
	if !ok {
		return 0, nil
	}
	return c.n, nil
}

// Delete implements state.Counters.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	return s.counters.remove(ctx, "delete", keys)
}

// Ban implements state.Bans.
func (s *Store) Ban(ctx context.Context, key string, sched state.Schedule) (state.Ban, bool, error) {
	if err := check(ctx, "ban", key); err != nil {
		return state.Ban{}, false, err
	}
	if err := sched.Validate(); err != nil {
		return state.Ban{}, false, fmt.Errorf("state: ban %q: %w", key, err)
	}
	now := s.now().UnixNano()
	sh := s.bans.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r, ok := sh.live(key, func() time.Time { return time.Unix(0, now) })
	if ok && r.until > now {
		return r.ban(key), false, nil
	}
	level := int64(1)
	if ok {
		level = r.level + 1
	}
	until := addNanos(now, sched.Duration(int(min(level, 1<<30))))
	r = banRecord{until: until, forget: addNanos(until, sched.Remember), level: level}
	sh.add(key, r, now, !sh.lru.Contains(key))
	return r.ban(key), true, nil
}

// Active implements state.Bans.
func (s *Store) Active(ctx context.Context, keys ...string) ([]state.Ban, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: active: %w", err)
	}
	// The clock is read only when a key is found: on this hot path (every
	// request) a clock reading can cost more than the lookups.
	now := lazyClock{now: s.now}
	var out []state.Ban
	for _, key := range keys {
		sh := s.bans.shard(key)
		sh.mu.Lock()
		r, ok := sh.lru.Get(key)
		if ok && r.forget <= now.get() {
			sh.lru.Remove(key)
			ok = false
		}
		sh.mu.Unlock()
		if ok && r.until > now.get() {
			out = append(out, r.ban(key))
		}
	}
	return out, nil
}

// Unban implements state.Bans.
func (s *Store) Unban(ctx context.Context, keys ...string) error {
	return s.bans.remove(ctx, "unban", keys)
}

// List implements state.Bans.
func (s *Store) List(ctx context.Context, limit int) ([]state.Ban, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: list: %w", err)
	}
	now := s.now().UnixNano()
	var out []state.Ban
	for i := range s.bans.shards {
		sh := &s.bans.shards[i]
		sh.mu.Lock()
		keys, recs := sh.lru.Keys(), sh.lru.Values()
		sh.mu.Unlock()
		for j, r := range recs {
			if r.until > now {
				out = append(out, r.ban(keys[j]))
			}
		}
	}
	slices.SortFunc(out, func(a, b state.Ban) int {
		if c := a.Until.Compare(b.Until); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit:limit]
	}
	return out, nil
}

// Mark implements state.Marks.
func (s *Store) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if err := check(ctx, "mark", key); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("state: mark %q: time to live %v is not positive: %w", key, ttl, state.ErrInvalid)
	}
	now := s.now().UnixNano()
	sh := s.marks.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.add(key, mark{exp: addNanos(now, ttl)}, now, !sh.lru.Contains(key))
	return nil
}

// Marked implements state.Marks.
func (s *Store) Marked(ctx context.Context, key string) (bool, error) {
	if err := check(ctx, "marked", key); err != nil {
		return false, err
	}
	sh := s.marks.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, ok := sh.live(key, s.now)
	return ok, nil
}

// Unmark implements state.Marks.
func (s *Store) Unmark(ctx context.Context, keys ...string) error {
	return s.marks.remove(ctx, "unmark", keys)
}

// lazyClock reads the clock once, at the first get.
type lazyClock struct {
	now  func() time.Time
	t    int64
	read bool
}

func (c *lazyClock) get() int64 {
	if !c.read {
		c.t, c.read = c.now().UnixNano(), true
	}
	return c.t
}

// check refuses a cancelled context and an empty key.
func check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	if key == "" {
		return fmt.Errorf("state: %s: empty key: %w", op, state.ErrInvalid)
	}
	return nil
}

// addNanos returns t+d in Unix nanoseconds, saturating instead of
// overflowing.
func addNanos(t int64, d time.Duration) int64 {
	if d > 0 && t > (1<<63-1)-int64(d) {
		return 1<<63 - 1
	}
	return t + int64(d)
}

// expirer is an entry that ends at an instant (Unix nanoseconds).
type expirer interface {
	counter | banRecord | mark | nonceRecord | sessionRecord
	expiry() int64
}

type counter struct{ n, exp int64 }

func (c counter) expiry() int64 { return c.exp }

// banRecord is a ban and the level remembered until forget.
type banRecord struct{ until, forget, level int64 }

func (r banRecord) expiry() int64 { return r.forget }

func (r banRecord) ban(key string) state.Ban {
	return state.Ban{Key: key, Until: time.Unix(0, r.until), Level: int(r.level)}
}

type mark struct{ exp int64 }

func (m mark) expiry() int64 { return m.exp }

// table is one bounded LRU map split into shards by a hash of the key.
type table[V expirer] struct {
	seed   maphash.Seed
	shards [shards]shard[V]
}

type shard[V expirer] struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, V]
	// now is the clock reading of the Add in progress, for onEvict.
	now int64
	// adding is true during Add: only then is a removal an eviction.
	adding bool
	cap    int
}

func (t *table[V]) init(maxKeys int, evictions *atomic.Uint64) {
	t.seed = maphash.MakeSeed()
	per := max((maxKeys+shards-1)/shards, 1)
	for i := range t.shards {
		sh := &t.shards[i]
		sh.cap = per
		lru, err := simplelru.NewLRU(per, func(_ string, v V) {
			if sh.adding && v.expiry() > sh.now {
				evictions.Add(1)
			}
		})
		if err != nil {
			panic(err) // unreachable: per is positive
		}
		sh.lru = lru
	}
}

func (t *table[V]) shard(key string) *shard[V] {
	return &t.shards[maphash.String(t.seed, key)%shards]
}

func (t *table[V]) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += sh.lru.Len()
		sh.mu.Unlock()
	}
	return n
}

func (t *table[V]) capacity() int { return len(t.shards) * t.shards[0].cap }

func (t *table[V]) remove(ctx context.Context, op string, keys []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	for _, key := range keys {
		sh := t.shard(key)
		sh.mu.Lock()
		sh.lru.Remove(key)
		sh.mu.Unlock()
	}
	return nil
}

// live returns key's entry if it has not expired, removing it if it has.
// The caller holds sh.mu.
// The clock is read only if key is found.
func (sh *shard[V]) live(key string, now func() time.Time) (V, bool) {
	v, ok := sh.lru.Get(key)
	if ok && v.expiry() <= now().UnixNano() {
		sh.lru.Remove(key)
		var zero V
		return zero, false
	}
	return v, ok
}

// add stores v under key; fresh says key is not in the table, so that the
// table keeps its own copy of the key rather than the caller's string,
// which may be part of a larger one. The caller holds sh.mu.
func (sh *shard[V]) add(key string, v V, now int64, fresh bool) {
	if fresh {
		key = strings.Clone(key)
	}
	sh.now, sh.adding = now, true
	sh.lru.Add(key, v)
	sh.adding = false
}
