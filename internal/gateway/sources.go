package gateway

import (
	"slices"
	"strings"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/names"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/store"
)

// HtpasswdSource adapts a watched htpasswd file to CredentialSource.
type HtpasswdSource struct{ File *passwd.HtpasswdFile }

// Current returns the file's snapshot and version, or the error that makes
// the file unusable now.
func (s HtpasswdSource) Current() (Credentials, uint64, error) {
	if err := s.File.Err(); err != nil {
		return nil, 0, err
	}
	return s.File.Snapshot(), s.File.Version(), nil
}

// GroupFileSource adapts a watched group file to GroupSource.
type GroupFileSource struct{ File *passwd.GroupFile }

// Current returns the file's snapshot, or the error that makes it unusable now.
func (s GroupFileSource) Current() (Groups, error) {
	if err := s.File.Err(); err != nil {
		return nil, err
	}
	return s.File.Snapshot(), nil
}

// Accounts is what a credential source may know about its users beyond
// their passwords. The managed store's sources implement it (on the
// Credentials their Current returns); htpasswd files do not.
type Accounts interface {
	// Canonical returns the canonical form of a user name as typed
	// (RFC 8265 for managed users), or the name itself when it has none.
	Canonical(user string) string
	// Locked reports whether an admin locked the user (canonical name).
	Locked(user string) bool
}

// accountsOf returns the Accounts of the rule's credential source, or nil.
func accountsOf(p *Policy, rule *policy.Rule) Accounts {
	if p == nil {
		return nil
	}
	src, ok := p.Credentials[rule.Source]
	if !ok {
		return nil
	}
	creds, _, err := src.Current()
	if err != nil {
		return nil
	}
	a, _ := creds.(Accounts)
	return a
}

// canonicalUser returns the name the rule's source knows user by, so that
// the guard, the cache and the lookup all see one name for "Alice" and
// "alice".
func canonicalUser(p *Policy, rule *policy.Rule, user string) string {
	if a := accountsOf(p, rule); a != nil {
		return a.Canonical(user)
	}
	return user
}

// checkAccount runs after a successful authentication: it gives the
// principal its canonical name and refuses a user an admin locked, with
// 401 locked_out. The lock is checked only once the password is proven
// right, so that it tells nothing to someone who does not know it.
func (g *Gateway) checkAccount(p *Policy, rule *policy.Rule, d *htgate.Decision, pr *htgate.Principal) bool {
	a := accountsOf(p, rule)
	if a == nil {
		return true
	}
	pr.Name = a.Canonical(pr.Name)
	d.User = pr.Name
	if a.Locked(pr.Name) {
		g.challenge(rule, d, htgate.ReasonLockedOut, "user "+pr.Name+" is locked by an administrator (htgate user unlock "+pr.Name+")")
		return false
	}
	return true
}

// StoreSource is the managed store's credentials (one snapshot, the one a
// policy generation was built from) as a CredentialSource, GroupSource and
// DigestSource. User names are normalised (RFC 8265) before they are
// looked up.
type StoreSource struct{ Creds *store.Credentials }

// Credentials returns s as a CredentialSource.
func (s StoreSource) Credentials() CredentialSource { return storeCredentialSource(s) }

// Groups returns s as a GroupSource.
func (s StoreSource) Groups() GroupSource { return storeGroupSource(s) }

// Digests returns s as a DigestSource.
func (s StoreSource) Digests() DigestSource { return storeDigestSource(s) }

type storeCredentialSource StoreSource

func (s storeCredentialSource) Current() (Credentials, uint64, error) {
	return storeCredentials{s.Creds}, s.Creds.Version(), nil
}

type storeGroupSource StoreSource

func (s storeGroupSource) Current() (Groups, error) { return storeCredentials{s.Creds}, nil }

type storeDigestSource StoreSource

func (s storeDigestSource) Current() (DigestSnapshot, uint64, error) {
	return storeDigests{s.Creds}, s.Creds.Version(), nil
}

// storeCredentials adapts store.Credentials to Credentials, Accounts and
// Groups.
type storeCredentials struct{ c *store.Credentials }

// storeDigests adapts store.Credentials to DigestSnapshot.
type storeDigests struct{ c *store.Credentials }

var (
	_ Credentials    = storeCredentials{}
	_ Accounts       = storeCredentials{}
	_ Groups         = storeCredentials{}
	_ DigestSnapshot = storeDigests{}
)

func (s storeCredentials) Canonical(user string) string {
	if n, err := names.User(user); err == nil {
		return n
	}
	return user // matches nobody: no stored name fails normalisation
}

func (s storeCredentials) Locked(user string) bool { return s.c.Locked(user) }

func (s storeCredentials) Lookup(user string) (string, bool) {
	n, err := names.User(user)
	if err != nil {
		return "", false
	}
	return s.c.Hash(n)
}

func (s storeCredentials) Dummy() string { return s.c.Dummy() }

func (s storeCredentials) Of(user string) []string {
	n, err := names.User(user)
	if err != nil {
		return nil
	}
	return slices.Clone(s.c.GroupsOf(n))
}

// Lookup returns the secret of the user the name stands for; the response
// only verifies when the client sent the name as it went into the secret.
func (s storeDigests) Lookup(user, realm, algorithm string) (string, bool) {
	n, err := names.User(user)
	if err != nil {
		return "", false
	}
	_, ha1, ok := s.c.DigestSecret(n, realm, algorithm)
	return ha1, ok
}

func (s storeDigests) Dummy(algorithm string) string {
	if algorithm == store.DigestSHA256 {
		return strings.Repeat("0", 64)
	}
	return strings.Repeat("0", 32)
}

func (s storeDigests) UserByHash(userhash, realm, algorithm string) (string, bool) {
	return s.c.DigestUserByHash(userhash, realm, algorithm)
}

func (s storeDigests) Algorithms(realm string) []string { return s.c.DigestAlgorithms(realm) }
