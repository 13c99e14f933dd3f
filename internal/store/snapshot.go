package store

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"

	"github.com/htgate/htgate/internal/passwd"
)

// Snapshot is an immutable view of what the gateway enforces: the
// credentials and the protected URLs, as of one store version. It is safe
// for concurrent use.
type Snapshot struct {
	// Version is the store version the snapshot reflects.
	Version uint64
	// Credentials are the users, hashes, locks, groups and digest secrets.
	Credentials *Credentials
	// Rules are the protected URLs with their grants.
	Rules *Rules
}

// Rules is an immutable list of protected URLs, ordered by path, then host.
type Rules struct {
	version uint64
	urls    []URL
}

// NewRules returns Rules holding urls (which it keeps; the caller must not
// change them) as of the store version version.
func NewRules(version uint64, urls []URL) *Rules {
	return &Rules{version: version, urls: urls}
}

// Version is the store version of the last change to URLs or grants.
func (r *Rules) Version() uint64 { return r.version }

// URLs returns the protected URLs. The slice and its URLs are shared: do
// not modify them.
func (r *Rules) URLs() []URL { return r.urls }

// Credentials is an immutable set of managed users: each user's hash and
// lock, their groups, and their htdigest secrets. It is built to hold a
// million users in about 150 MB: names and hashes live in large shared
// string arenas and the per-user maps hold only string headers.
type Credentials struct {
	version uint64
	hashes  map[string]string   // canonical name -> hash ("" for no password)
	locked  map[string]struct{} // locked users (few)
	groups  map[string][]string // user -> sorted groups (members only)
	digests map[digestKey]digestSecret
	// realmAlgs lists, per realm, the digest algorithms every user with a
	// secret in the realm has, SHA-256 first.
	realmAlgs map[string][]string
	userhash  sync.Once
	byHash    map[userhashKey]string

	dummyKey  dummyKey
	dummyOnce sync.Once
	dummy     string
}

type digestKey struct{ user, realm, algorithm string }

type userhashKey struct{ hash, realm, algorithm string }

type digestSecret struct{ username, ha1 string }

// dummyKey is the format and cost the dummy hash must match.
type dummyKey struct {
	format passwd.Format
	cost   int
	sample string // a hash of that format and cost
}

// Version is the store version of the last change to the credentials; it
// changes whenever any user, hash, lock, group or digest secret changes.
func (c *Credentials) Version() uint64 { return c.version }

// Len returns the number of users.
func (c *Credentials) Len() int { return len(c.hashes) }

// Hash returns the password hash of the user with the canonical name
// user. ok is false for an unknown user and for a user without a password
// hash (imported from an htdigest file).
func (c *Credentials) Hash(user string) (hash string, ok bool) {
	h, ok := c.hashes[user]
	return h, ok && h != ""
}

// Exists reports whether the user exists, with or without a password hash.
func (c *Credentials) Exists(user string) bool {
	_, ok := c.hashes[user]
	return ok
}

// Locked reports whether an admin locked the user.
func (c *Credentials) Locked(user string) bool {
	_, ok := c.locked[user]
	return ok
}

// GroupsOf returns the sorted groups of user. The slice is shared: do not
// modify it.
func (c *Credentials) GroupsOf(user string) []string { return c.groups[user] }

// DigestSecret returns the H(A1) of user (canonical) in realm with
// algorithm (DigestMD5 or DigestSHA256), and the user name that went into
// it.
func (c *Credentials) DigestSecret(user, realm, algorithm string) (username, ha1 string, ok bool) {
	d, ok := c.digests[digestKey{user, realm, algorithm}]
	return d.username, d.ha1, ok
}

// DigestAlgorithms lists the algorithms of which every user with a digest
// secret in realm has one, SHA-256 first.
func (c *Credentials) DigestAlgorithms(realm string) []string { return c.realmAlgs[realm] }

// DigestUserByHash resolves RFC 7616's userhash: the user name (as it went
// into the secret) whose H(username ":" realm) with algorithm is userhash.
// The index is built on first use.
func (c *Credentials) DigestUserByHash(userhash, realm, algorithm string) (string, bool) {
	c.userhash.Do(func() {
		c.byHash = make(map[userhashKey]string, len(c.digests))
		for k, d := range c.digests {
			c.byHash[userhashKey{digestHex(k.algorithm, d.username+":"+k.realm), k.realm, k.algorithm}] = d.username
		}
	})
	u, ok := c.byHash[userhashKey{strings.ToLower(userhash), realm, algorithm}]
	return u, ok
}

func digestHex(algorithm, s string) string {
	if algorithm == DigestSHA256 {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Dummy returns a hash of a random password in the most common format and
// cost among the users' hashes (bcrypt at passwd.DefaultBcryptCost when
// there are none), to verify unknown users' passwords against so that they
// cost what a known user's wrong password costs. It is computed on first
// use (a password hash: call it once before serving), or inherited from the
// previous Credentials when the format and cost did not change.
func (c *Credentials) Dummy() string {
	c.dummyOnce.Do(func() { c.dummy = passwd.DummyHash(c.dummyKey.sample) })
	return c.dummy
}

// arenaChunk is the size of one string arena of a CredentialsBuilder.
const arenaChunk = 4 << 20

// dummySamples bounds the number of hashes whose format and cost are
// counted to choose the dummy's.
const dummySamples = 4096

// CredentialsBuilder builds Credentials from rows read in any order. It is
// not safe for concurrent use.
type CredentialsBuilder struct {
	c       *Credentials
	arena   strings.Builder
	interns map[string]string // group names and realms
	costs   map[dummyKey]int
	seen    int
}

// NewCredentialsBuilder starts Credentials for the store version version,
// with room for users users.
func NewCredentialsBuilder(version uint64, users int) *CredentialsBuilder {
	return &CredentialsBuilder{
		c: &Credentials{
			version: version,
			hashes:  make(map[string]string, users),
			locked:  map[string]struct{}{},
			groups:  map[string][]string{},
			digests: map[digestKey]digestSecret{},
		},
		interns: map[string]string{},
		costs:   map[dummyKey]int{},
	}
}

// store copies b into the current arena and returns it as a string that
// shares the arena's memory. Arenas are never written over, so the strings
// stay valid; a new arena starts when the current one is full.
func (b *CredentialsBuilder) store(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if len(p) > arenaChunk/16 {
		return string(p)
	}
	if b.arena.Cap()-b.arena.Len() < len(p) {
		b.arena = strings.Builder{}
		b.arena.Grow(arenaChunk)
	}
	start := b.arena.Len()
	b.arena.Write(p)
	return b.arena.String()[start:]
}

// AddUser adds a user: canonical name, hash ("" for none) and lock, and
// returns the name as the builder keeps it, to pass to AddMember. The bytes
// are copied (they may come from sql.RawBytes).
func (b *CredentialsBuilder) AddUser(name, hash []byte, locked bool) string {
	n := b.store(name)
	h := b.store(hash)
	b.c.hashes[n] = h
	if locked {
		b.c.locked[n] = struct{}{}
	}
	if h != "" {
		b.countCost(h)
	}
	return n
}

// countCost counts the format and cost of a sample of hashes: every hash
// of the first dummySamples, then one in 64.
func (b *CredentialsBuilder) countCost(h string) {
	b.seen++
	if b.seen > dummySamples && b.seen%64 != 0 {
		return
	}
	f, c := passwd.Cost(h)
	if c == 0 {
		return // a hash Check refuses; it never matches anyway
	}
	for k := range b.costs {
		if k.format == f && k.cost == c {
			b.costs[k]++
			return
		}
	}
	b.costs[dummyKey{format: f, cost: c, sample: h}] = 1
}

// AddMember records that user, as AddUser returned it, is in group. The
// bytes are copied.
func (b *CredentialsBuilder) AddMember(user string, group []byte) {
	if _, ok := b.c.hashes[user]; !ok {
		return
	}
	g, ok := b.interns[string(group)] // no allocation for the lookup
	if !ok {
		g = string(group)
		b.interns[g] = g
	}
	b.c.groups[user] = append(b.c.groups[user], g)
}

// AddDigest records an htdigest secret of d.User (canonical, added with
// AddUser).
func (b *CredentialsBuilder) AddDigest(d DigestSecret) {
	if _, ok := b.c.hashes[d.User]; !ok {
		return
	}
	r, ok := b.interns[d.Realm]
	if !ok {
		r = d.Realm
		b.interns[r] = r
	}
	b.c.digests[digestKey{d.User, r, d.Algorithm}] = digestSecret{username: d.Username, ha1: d.HA1}
}

// Build returns the Credentials. When prev (which may be nil) had a dummy
// hash of the same format and cost, the new Credentials share it.
func (b *CredentialsBuilder) Build(prev *Credentials) *Credentials {
	c := b.c
	// Users with the same groups share one slice.
	shared := map[string][]string{}
	for u, gs := range c.groups {
		slices.Sort(gs)
		gs = slices.Compact(gs)
		key := strings.Join(gs, "\x00")
		if s, ok := shared[key]; ok {
			c.groups[u] = s
			continue
		}
		gs = slices.Clip(gs)
		shared[key] = gs
		c.groups[u] = gs
	}
	var best dummyKey
	n := -1
	for k, count := range b.costs {
		if count > n || count == n && (k.format < best.format || k.format == best.format && k.cost < best.cost) {
			best, n = k, count
		}
	}
	// Per realm: the algorithms every user with a secret there has.
	users := map[string]map[string]bool{}
	algs := map[[2]string]int{}
	for k := range c.digests {
		if users[k.realm] == nil {
			users[k.realm] = map[string]bool{}
		}
		users[k.realm][k.user] = true
		algs[[2]string{k.realm, k.algorithm}]++
	}
	c.realmAlgs = map[string][]string{}
	for realm, us := range users {
		for _, a := range []string{DigestSHA256, DigestMD5} {
			if algs[[2]string{realm, a}] == len(us) {
				c.realmAlgs[realm] = append(c.realmAlgs[realm], a)
			}
		}
	}
	c.dummyKey = best
	if prev != nil && prev.dummyKey.format == best.format && prev.dummyKey.cost == best.cost {
		c.dummyKey = prev.dummyKey
		d := prev.Dummy()
		c.dummyOnce.Do(func() { c.dummy = d })
	}
	b.c = nil
	return c
}
