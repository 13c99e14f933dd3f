package guard

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// ClientLimits bound each client address's requests, in the spirit of IIS
// Dynamic IP Restrictions. Both limits are off by default, so that a
// default installation never refuses a normal site's traffic; a public
// site might set MaxConcurrent 64, RatePerSecond 50 and Burst 200 (a
// browser opens at most 6 HTTP/1.1 connections per host and loads a page's
// assets in a burst).
type ClientLimits struct {
	// MaxConcurrent is the most requests one client may have in progress.
	// Default 0: no limit.
	MaxConcurrent int
	// RatePerSecond is the sustained request rate one client may make.
	// Default 0: no limit.
	RatePerSecond float64
	// Burst is how many requests a client may make at once above the
	// rate. Default: 2 × RatePerSecond rounded up, at least 1.
	Burst int
	// AllowList holds client prefixes that are never limited. Default
	// empty.
	AllowList []netip.Prefix
	// Status is the status of a refused request: 429 (default) or 503.
	Status int
	// MaxClients bounds how many clients' limiters are kept; the least
	// recently seen are evicted (and start afresh if they come back).
	// Default 100,000 (about 25 MB).
	MaxClients int
	// IPv6PrefixLen is the prefix length by which IPv6 clients are
	// limited. Default 64.
	IPv6PrefixLen int
}

// DefaultMaxClients is ClientLimits.MaxClients's default.
const DefaultMaxClients = 100_000

// Enabled reports whether c sets any limit.
func (c ClientLimits) Enabled() bool { return c.MaxConcurrent > 0 || c.RatePerSecond > 0 }

// WithDefaults returns c with every zero field set to its default.
func (c ClientLimits) WithDefaults() ClientLimits {
	if c.Burst == 0 && c.RatePerSecond > 0 {
		c.Burst = max(1, int(math.Ceil(2*c.RatePerSecond)))
	}
	if c.Status == 0 {
		c.Status = http.StatusTooManyRequests
	}
	if c.MaxClients == 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.IPv6PrefixLen == 0 {
		c.IPv6PrefixLen = DefaultIPv6PrefixLen
	}
	return c
}

// Validate reports every problem of c after defaults, one error each.
func (c ClientLimits) Validate() []error {
	c = c.WithDefaults()
	var errs []error
	if c.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("max concurrent requests %d is negative", c.MaxConcurrent))
	}
	if c.RatePerSecond < 0 || math.IsNaN(c.RatePerSecond) || math.IsInf(c.RatePerSecond, 0) {
		errs = append(errs, fmt.Errorf("rate %v per second is not a non-negative number", c.RatePerSecond))
	}
	if c.Burst < 0 {
		errs = append(errs, fmt.Errorf("burst %d is negative", c.Burst))
	}
	if c.Status != http.StatusTooManyRequests && c.Status != http.StatusServiceUnavailable {
		errs = append(errs, fmt.Errorf("status %d is neither 429 nor 503", c.Status))
	}
	if c.MaxClients < 0 {
		errs = append(errs, fmt.Errorf("max clients %d is negative", c.MaxClients))
	}
	if c.IPv6PrefixLen < 1 || c.IPv6PrefixLen > 128 {
		errs = append(errs, fmt.Errorf("IPv6 prefix length %d is not in 1..128", c.IPv6PrefixLen))
	}
	for _, p := range c.AllowList {
		if !p.IsValid() {
			errs = append(errs, errors.New("allow list holds an invalid prefix"))
		}
	}
	return errs
}

// limiterShards is the number of independently locked parts of a Limiter.
const limiterShards = 16

// Limiter enforces ClientLimits. It is safe for concurrent use.
type Limiter struct {
	c         ClientLimits
	now       func() time.Time
	seed      maphash.Seed
	evictions atomic.Uint64
	shards    [limiterShards]limiterShard
}

type limiterShard struct {
	mu  sync.Mutex
	lru *simplelru.LRU[netip.Prefix, *clientState]
	// adding is true during Add: only then is a removal an eviction.
	adding bool
}

// clientState is one client's limiter and requests in progress.
type clientState struct {
	lim     *rate.Limiter
	active  int
	release func() // decrements active; made once per client
}

// NewLimiter returns a Limiter enforcing c (after defaults), on the clock
// now (time.Now if nil).
func NewLimiter(c ClientLimits, now func() time.Time) (*Limiter, error) {
	c = c.WithDefaults()
	if errs := c.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("client limits: %w", errors.Join(errs...))
	}
	c.AllowList = normalizePrefixes(c.AllowList)
	if now == nil {
		now = time.Now
	}
	l := &Limiter{c: c, now: now, seed: maphash.MakeSeed()}
	per := max((c.MaxClients+limiterShards-1)/limiterShards, 1)
	for i := range l.shards {
		sh := &l.shards[i]
		lru, err := simplelru.NewLRU(per, func(netip.Prefix, *clientState) {
			if sh.adding {
				l.evictions.Add(1)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("client limits: %w", err)
		}
		sh.lru = lru
	}
	return l, nil
}

// Limits returns the limits in force, defaults applied.
func (l *Limiter) Limits() ClientLimits { return l.c }

// Evictions returns how many clients' limiters were evicted for room.
func (l *Limiter) Evictions() uint64 { return l.evictions.Load() }

// Len returns how many clients' limiters are kept now.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += sh.lru.Len()
		sh.mu.Unlock()
	}
	return n
}

// noRelease is the release of a request that holds nothing.
func noRelease() {}

// Acquire admits one request from client, or refuses it (ok false) with
// the time after which a retry may succeed. An admitted request calls
// release exactly once when it ends. Answer a refused one with
// Limits().Status, Retry-After and reason too_many_requests.
//
// If a client's limiter is evicted while its requests are in progress
// (only when more than MaxClients clients are seen), its concurrency count
// starts afresh.
func (l *Limiter) Acquire(client netip.Addr) (release func(), ok bool, retryAfter time.Duration) {
	if !l.c.Enabled() || allowListed(l.c.AllowList, client) {
		return noRelease, true, 0
	}
	key := limiterKey(client, l.c.IPv6PrefixLen)
	sh := &l.shards[maphash.Comparable(l.seed, key)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cs, found := sh.lru.Get(key)
	if !found {
		cs = &clientState{}
		if l.c.RatePerSecond > 0 {
			cs.lim = rate.NewLimiter(rate.Limit(l.c.RatePerSecond), l.c.Burst)
		}
		if l.c.MaxConcurrent > 0 {
			cs.release = func() {
				sh.mu.Lock()
				cs.active--
				sh.mu.Unlock()
			}
		}
		sh.adding = true
		sh.lru.Add(key, cs)
		sh.adding = false
	}
	if l.c.MaxConcurrent > 0 && cs.active >= l.c.MaxConcurrent {
		return nil, false, time.Second
	}
	if cs.lim != nil {
		now := l.now()
		if !cs.lim.AllowN(now, 1) {
			need := 1 - cs.lim.TokensAt(now)
			d := time.Duration(math.Ceil(need / l.c.RatePerSecond * float64(time.Second)))
			return nil, false, max(d, time.Millisecond)
		}
	}
	if cs.release == nil {
		return noRelease, true, 0
	}
	cs.active++
	return cs.release, true, 0
}

// limiterKey returns the prefix a client is limited by.
func limiterKey(addr netip.Addr, v6Bits int) netip.Prefix {
	if !addr.IsValid() {
		return netip.Prefix{}
	}
	addr = addr.Unmap().WithZone("")
	bits := 32
	if addr.Is6() {
		bits = v6Bits
	}
	p, _ := addr.Prefix(bits)
	return p
}
