package store

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"maps"
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
//
// A full load builds a base; a later change of a few users builds new
// Credentials that share the base and hold the changed users in a small
// overlay (CredentialsUpdate), so that a change costs what it changes,
// not what the store holds.
type Credentials struct {
	version uint64
	base    *credBase
	overlay map[string]*account // users changed since base was loaded; nil: removed
	n       int                 // number of users
	// realmAlgs lists, per realm, the digest algorithms every user with a
	// secret in the realm has, SHA-256 first.
	realmAlgs map[string][]string
	userhash  sync.Once
	byHash    map[userhashKey]string

	dummyKey  dummyKey
	dummyOnce sync.Once
	dummy     string
}

// credBase is the bulk of Credentials, shared between generations.
type credBase struct {
	hashes  map[string]string   // canonical name -> hash ("" for no password)
	locked  map[string]struct{} // locked users (few)
	groups  map[string][]string // user -> sorted groups (members only)
	digests map[digestKey]digestSecret
}

// account is one user of an overlay, complete.
type account struct {
	hash    string
	locked  bool
	groups  []string
	digests map[realmAlg]digestSecret
}

type realmAlg struct{ realm, algorithm string }

type digestKey struct{ user, realm, algorithm string }

type userhashKey struct{ hash, realm, algorithm string }

type digestSecret struct{ username, ha1 string }

// dummyKey is the format and cost the dummy hash must match.
type dummyKey struct {
	format passwd.Format
	cost   int
	sample string // a hash of that format and cost
}

// MaxOverlay is the number of changed users above which a store reloads
// the credentials in full (which also compacts the overlay).
const MaxOverlay = 4096

// Version is the store version of the last change to the credentials; it
// changes whenever any user, hash, lock, group or digest secret changes.
func (c *Credentials) Version() uint64 { return c.version }

// Len returns the number of users.
func (c *Credentials) Len() int { return c.n }

// Incremental reports whether c holds users changed since its base was
// loaded in full (an overlay built by CredentialsUpdate), and how many.
func (c *Credentials) Incremental() (bool, int) { return len(c.overlay) > 0, len(c.overlay) }

// lookup returns the overlay's account of user: (nil, true) for a removed
// user, (nil, false) when the base has the answer.
func (c *Credentials) lookup(user string) (*account, bool) {
	if len(c.overlay) == 0 {
		return nil, false
	}
	a, ok := c.overlay[user]
	return a, ok
}

// Hash returns the password hash of the user with the canonical name
// user. ok is false for an unknown user and for a user without a password
// hash (imported from an htdigest file).
func (c *Credentials) Hash(user string) (hash string, ok bool) {
	if a, over := c.lookup(user); over {
		if a == nil {
			return "", false
		}
		return a.hash, a.hash != ""
	}
	h, ok := c.base.hashes[user]
	return h, ok && h != ""
}

// Exists reports whether the user exists, with or without a password hash.
func (c *Credentials) Exists(user string) bool {
	if a, over := c.lookup(user); over {
		return a != nil
	}
	_, ok := c.base.hashes[user]
	return ok
}

// Locked reports whether an admin locked the user.
func (c *Credentials) Locked(user string) bool {
	if a, over := c.lookup(user); over {
		return a != nil && a.locked
	}
	_, ok := c.base.locked[user]
	return ok
}

// GroupsOf returns the sorted groups of user. The slice is shared: do not
// modify it.
func (c *Credentials) GroupsOf(user string) []string {
	if a, over := c.lookup(user); over {
		if a == nil {
			return nil
		}
		return a.groups
	}
	return c.base.groups[user]
}

// DigestSecret returns the H(A1) of user (canonical) in realm with
// algorithm (DigestMD5 or DigestSHA256), and the user name that went into
// it.
func (c *Credentials) DigestSecret(user, realm, algorithm string) (username, ha1 string, ok bool) {
	if a, over := c.lookup(user); over {
		if a == nil {
			return "", "", false
		}
		d, ok := a.digests[realmAlg{realm, algorithm}]
		return d.username, d.ha1, ok
	}
	d, ok := c.base.digests[digestKey{user, realm, algorithm}]
	return d.username, d.ha1, ok
}

// Range calls fn for every user, in no particular order, until fn returns
// false.
func (c *Credentials) Range(fn func(user, hash string, locked bool) bool) {
	for u, h := range c.base.hashes {
		if _, over := c.lookup(u); over {
			continue
		}
		if !fn(u, h, c.Locked(u)) {
			return
		}
	}
	for u, a := range c.overlay {
		if a != nil && !fn(u, a.hash, a.locked) {
			return
		}
	}
}

// rangeDigests calls fn for every digest secret.
func (c *Credentials) rangeDigests(fn func(k digestKey, d digestSecret)) {
	for k, d := range c.base.digests {
		if _, over := c.lookup(k.user); over {
			continue
		}
		fn(k, d)
	}
	for u, a := range c.overlay {
		if a == nil {
			continue
		}
		for ra, d := range a.digests {
			fn(digestKey{u, ra.realm, ra.algorithm}, d)
		}
	}
}

// DigestAlgorithms lists the algorithms of which every user with a digest
// secret in realm has one, SHA-256 first.
func (c *Credentials) DigestAlgorithms(realm string) []string { return c.realmAlgs[realm] }

// DigestUserByHash resolves RFC 7616's userhash: the user name (as it went
// into the secret) whose H(username ":" realm) with algorithm is userhash.
// The index is built on first use.
func (c *Credentials) DigestUserByHash(userhash, realm, algorithm string) (string, bool) {
	c.userhash.Do(func() {
		c.byHash = map[userhashKey]string{}
		c.rangeDigests(func(k digestKey, d digestSecret) {
			c.byHash[userhashKey{digestHex(k.algorithm, d.username+":"+k.realm), k.realm, k.algorithm}] = d.username
		})
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

// inheritDummy makes c use prev's dummy hash when it is for the same
// format and cost.
func (c *Credentials) inheritDummy(prev *Credentials) {
	if prev != nil && prev.dummyKey.format == c.dummyKey.format && prev.dummyKey.cost == c.dummyKey.cost {
		c.dummyKey = prev.dummyKey
		d := prev.Dummy()
		c.dummyOnce.Do(func() { c.dummy = d })
	}
}

// computeRealmAlgs lists, per realm, the algorithms every user with a
// secret there has.
func (c *Credentials) computeRealmAlgs() {
	users := map[string]map[string]bool{}
	algs := map[[2]string]int{}
	c.rangeDigests(func(k digestKey, _ digestSecret) {
		if users[k.realm] == nil {
			users[k.realm] = map[string]bool{}
		}
		users[k.realm][k.user] = true
		algs[[2]string{k.realm, k.algorithm}]++
	})
	c.realmAlgs = map[string][]string{}
	for realm, us := range users {
		for _, a := range []string{DigestSHA256, DigestMD5} {
			if algs[[2]string{realm, a}] == len(us) {
				c.realmAlgs[realm] = append(c.realmAlgs[realm], a)
			}
		}
	}
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
	costs   costCounter
}

// costCounter finds the most common format and cost of a sample of hashes:
// every hash of the first dummySamples, then one in 64.
type costCounter struct {
	counts map[dummyKey]int
	seen   int
}

func (cc *costCounter) add(h string) {
	cc.seen++
	if cc.seen > dummySamples && cc.seen%64 != 0 {
		return
	}
	f, c := passwd.Cost(h)
	if c == 0 {
		return // a hash Check refuses; it never matches anyway
	}
	if cc.counts == nil {
		cc.counts = map[dummyKey]int{}
	}
	for k := range cc.counts {
		if k.format == f && k.cost == c {
			cc.counts[k]++
			return
		}
	}
	cc.counts[dummyKey{format: f, cost: c, sample: h}] = 1
}

// best returns the most common format and cost (ties: the lowest format
// name, then the lowest cost, so that the choice is stable); the zero key,
// which gives a bcrypt dummy, when there were no hashes.
func (cc *costCounter) best() dummyKey {
	var best dummyKey
	n := -1
	for k, count := range cc.counts {
		if count > n || count == n && (k.format < best.format || k.format == best.format && k.cost < best.cost) {
			best, n = k, count
		}
	}
	return best
}

// NewCredentialsBuilder starts Credentials for the store version version,
// with room for users users.
func NewCredentialsBuilder(version uint64, users int) *CredentialsBuilder {
	return &CredentialsBuilder{
		c: &Credentials{
			version: version,
			base: &credBase{
				hashes:  make(map[string]string, users),
				locked:  map[string]struct{}{},
				groups:  map[string][]string{},
				digests: map[digestKey]digestSecret{},
			},
		},
		interns: map[string]string{},
	}
}

// store copies p into the current arena and returns it as a string that
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

// intern returns the builder's copy of s.
func (b *CredentialsBuilder) intern(s []byte) string {
	v, ok := b.interns[string(s)] // no allocation for the lookup
	if !ok {
		v = string(s)
		b.interns[v] = v
	}
	return v
}

// AddUser adds a user: canonical name, hash ("" for none) and lock, and
// returns the name as the builder keeps it, to pass to AddMember. The bytes
// are copied (they may come from sql.RawBytes).
func (b *CredentialsBuilder) AddUser(name, hash []byte, locked bool) string {
	n := b.store(name)
	h := b.store(hash)
	b.c.base.hashes[n] = h
	if locked {
		b.c.base.locked[n] = struct{}{}
	}
	if h != "" {
		b.costs.add(h)
	}
	return n
}

// AddMember records that user, as AddUser returned it, is in group. The
// bytes are copied.
func (b *CredentialsBuilder) AddMember(user string, group []byte) {
	if _, ok := b.c.base.hashes[user]; !ok {
		return
	}
	b.c.base.groups[user] = append(b.c.base.groups[user], b.intern(group))
}

// AddDigest records an htdigest secret of d.User (canonical, added with
// AddUser).
func (b *CredentialsBuilder) AddDigest(d DigestSecret) {
	if _, ok := b.c.base.hashes[d.User]; !ok {
		return
	}
	r := b.intern([]byte(d.Realm))
	b.c.base.digests[digestKey{d.User, r, d.Algorithm}] = digestSecret{username: d.Username, ha1: d.HA1}
}

// Build returns the Credentials. When prev (which may be nil) had a dummy
// hash of the same format and cost, the new Credentials share it.
func (b *CredentialsBuilder) Build(prev *Credentials) *Credentials {
	c := b.c
	// Users with the same groups share one slice.
	shared := map[string][]string{}
	for u, gs := range c.base.groups {
		slices.Sort(gs)
		gs = slices.Compact(gs)
		key := strings.Join(gs, "\x00")
		if s, ok := shared[key]; ok {
			c.base.groups[u] = s
			continue
		}
		gs = slices.Clip(gs)
		shared[key] = gs
		c.base.groups[u] = gs
	}
	c.n = len(c.base.hashes)
	c.computeRealmAlgs()
	c.dummyKey = b.costs.best()
	c.inheritDummy(prev)
	b.c = nil
	return c
}

// CredentialsUpdate builds Credentials from the previous ones and the
// complete current state of the users that changed since. It is not safe
// for concurrent use.
type CredentialsUpdate struct {
	prev    *Credentials
	version uint64
	changed map[string]*account
}

// NewCredentialsUpdate starts Credentials for version that differ from
// prev only in the users named in changed: each of them is removed unless
// SetUser gives their current state.
func NewCredentialsUpdate(prev *Credentials, version uint64, changed []string) *CredentialsUpdate {
	u := &CredentialsUpdate{prev: prev, version: version, changed: make(map[string]*account, len(changed))}
	for _, n := range changed {
		u.changed[n] = nil
	}
	return u
}

// SetUser gives the current hash and lock of a changed user.
func (u *CredentialsUpdate) SetUser(name, hash string, locked bool) {
	u.changed[name] = &account{hash: hash, locked: locked}
}

// AddMember records that user (set with SetUser) is in group.
func (u *CredentialsUpdate) AddMember(user, group string) {
	if a := u.changed[user]; a != nil {
		a.groups = append(a.groups, group)
	}
}

// AddDigest records a digest secret of d.User (set with SetUser).
func (u *CredentialsUpdate) AddDigest(d DigestSecret) {
	a := u.changed[d.User]
	if a == nil {
		return
	}
	if a.digests == nil {
		a.digests = map[realmAlg]digestSecret{}
	}
	a.digests[realmAlg{d.Realm, d.Algorithm}] = digestSecret{username: d.Username, ha1: d.HA1}
}

// Build returns the new Credentials: prev's base and overlay with the
// changed users on top.
func (u *CredentialsUpdate) Build() *Credentials {
	p := u.prev
	c := &Credentials{version: u.version, base: p.base, n: p.n,
		overlay: make(map[string]*account, len(p.overlay)+len(u.changed))}
	maps.Copy(c.overlay, p.overlay)
	for name, a := range u.changed {
		if a != nil {
			slices.Sort(a.groups)
			a.groups = slices.Compact(a.groups)
		}
		before := p.Exists(name)
		if _, inBase := p.base.hashes[name]; a == nil && !inBase {
			delete(c.overlay, name) // gone, and the base never had it
		} else {
			c.overlay[name] = a
		}
		switch {
		case before && a == nil:
			c.n--
		case !before && a != nil:
			c.n++
		}
	}
	c.computeRealmAlgs()
	c.dummyKey = p.dummyKey
	if len(c.overlay) >= len(c.base.hashes) {
		// A small store (or one that started empty) is mostly overlay:
		// count again, so that the dummy follows the users' hashes.
		var cc costCounter
		c.Range(func(_, hash string, _ bool) bool {
			if hash != "" {
				cc.add(hash)
			}
			return true
		})
		if k := cc.best(); k.sample != "" {
			c.dummyKey = k // no hashes left: any dummy does, keep the one there is
		}
	}
	c.inheritDummy(p)
	return c
}
