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
	c.hmacs.New = func() any {
		return &keyer{mac: hmac.New(sha256.New, secret[:]), buf: make([]byte, 0, 256), sum: make([]byte, 0, sha256.Size)}
	}
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

// keyer is a reusable HMAC and the buffer its input is assembled in.
type keyer struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

// key is the HMAC of the length-prefixed fields, so that no two different
// field tuples share an input. It does not allocate.
func (c *CredentialCache) key(source string, version uint64, user, password string) cacheKey {
	kr := c.hmacs.Get().(*keyer)
	b := kr.buf[:0]
	b = binary.BigEndian.AppendUint64(b, uint64(len(source)))
	b = append(b, source...)
	b = binary.BigEndian.AppendUint64(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(len(user)))
	b = append(b, user...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(password)))
	b = append(b, password...)
	kr.mac.Reset()
	kr.mac.Write(b)
	kr.sum = kr.mac.Sum(kr.sum[:0])
	var k cacheKey
	copy(k[:], kr.sum)
	clear(b) // the buffer held a password
	if cap(b) <= 4096 {
		kr.buf = b[:0]
	} else {
		kr.buf = nil
	}
	c.hmacs.Put(kr)
	return k
}
