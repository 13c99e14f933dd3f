package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// CredentialCache remembers credentials that verified, so that a slow hash
// (bcrypt, argon2id) is paid once per user and password rather than per
// request. Entries are keyed by an HMAC, under a per-process random secret,
// of the source, its version, the user and the password: no password is
// kept, and any change to the source (a new version) makes old entries
// unreachable; the cache is also purged when a source's version moves.
// Only successes are cached, so a wrong password always pays the hash.
type CredentialCache struct {
	entries  *lru.Cache[cacheKey, time.Time]
	ttl      time.Duration
	now      func() time.Time
	hmacs    sync.Pool
	flight   singleflight.Group
	versions sync.Map // source -> *atomic.Uint64
}

type cacheKey [sha256.Size]byte

// NewCredentialCache returns a cache of at most size entries, each trusted
// for ttl. now may be nil (time.Now).
func NewCredentialCache(size int, ttl time.Duration, now func() time.Time) (*CredentialCache, error) {
	entries, err := lru.New[cacheKey, time.Time](size)
	if err != nil {
		return nil, err
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	c := &CredentialCache{entries: entries, ttl: ttl, now: now}
	c.hmacs.New = func() any { return hmac.New(sha256.New, secret[:]) }
	return c, nil
}

// Verify reports whether the credentials are valid, from the cache when
// they verified before, otherwise by calling check (at most once at a time
// for the same credentials) and caching a success.
func (c *CredentialCache) Verify(source string, version uint64, user, password string, check func() (bool, error)) (valid, cached bool, err error) {
	c.noteVersion(source, version)
	key := c.key(source, version, user, password)
	if exp, ok := c.entries.Get(key); ok {
		if c.now().Before(exp) {
			return true, true, nil
		}
		c.entries.Remove(key)
	}
	v, err, _ := c.flight.Do(string(key[:]), func() (any, error) {
		ok, err := check()
		if err == nil && ok {
			c.entries.Add(key, c.now().Add(c.ttl))
		}
		return ok, err
	})
	if err != nil {
		return false, false, err
	}
	return v.(bool), false, nil
}

// Len is the number of cached entries.
func (c *CredentialCache) Len() int { return c.entries.Len() }

// Purge drops every entry.
func (c *CredentialCache) Purge() { c.entries.Purge() }

// noteVersion purges the cache when a source's version changes, so that
// entries of an old generation do not linger until evicted.
func (c *CredentialCache) noteVersion(source string, version uint64) {
	v, ok := c.versions.Load(source)
	if !ok {
		nv := new(atomic.Uint64)
		nv.Store(version)
		v, _ = c.versions.LoadOrStore(source, nv)
	}
	last := v.(*atomic.Uint64)
	if old := last.Load(); old != version && last.CompareAndSwap(old, version) {
		c.entries.Purge()
	}
}

func (c *CredentialCache) key(source string, version uint64, user, password string) cacheKey {
	h := c.hmacs.Get().(hash.Hash)
	h.Reset()
	var n [8]byte
	writeField := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	writeField(source)
	binary.BigEndian.PutUint64(n[:], version)
	h.Write(n[:])
	writeField(user)
	writeField(password)
	var k cacheKey
	h.Sum(k[:0])
	c.hmacs.Put(h)
	return k
}
