package store

import (
	"strings"
	"time"
)

// User is a managed user.
type User struct {
	// Name is the canonical name (names.User): what the user types, after
	// RFC 8265 normalisation. Methods normalise the names they are given.
	Name string `json:"name"`
	// DisplayName is free text for people, e.g. "Alice Liddell". AddUser
	// sets it to the name as given when that differs from the canonical
	// name and no display name is given.
	DisplayName string `json:"display_name,omitempty"`
	// Hash is the password hash in any format passwd.Verify reads (argon2id
	// for passwords htgate sets, the original format for imported ones),
	// or "" for a user who has no password for Basic (one imported from an
	// htdigest file). Never shown in listings.
	Hash string `json:"-"`
	// Locked refuses the user (401 locked_out) until an admin unlocks them.
	Locked bool `json:"locked"`
	// Groups are the groups the user belongs to, sorted. Set by the
	// methods that return users; ignored by AddUser.
	Groups []string `json:"groups"`
	// Created and Changed are set by the store.
	Created time.Time `json:"created"`
	Changed time.Time `json:"changed"`
}

// UserUpdate changes the fields that are not nil.
type UserUpdate struct {
	DisplayName *string
	// Hash replaces the password hash. The user's htdigest secrets, which
	// were derived from the old password, are removed with it.
	Hash   *string
	Locked *bool
}

// Group is a named set of users.
type Group struct {
	// Name is the canonical name (names.Group).
	Name string `json:"name"`
	// Members are the canonical names of its users, sorted.
	Members []string `json:"members"`
	// Created and Changed are set by the store.
	Created time.Time `json:"created"`
	Changed time.Time `json:"changed"`
}

// URLKey identifies a protected URL: an optional host and a canonical path.
type URLKey struct {
	// Host is a lower-case host name without port or trailing dot, or a
	// bracketed IPv6 literal; "" means every host.
	Host string `json:"host"`
	// Path is the canonical path prefix, without a trailing "/" (except
	// "/" itself). It protects itself and everything below it by whole
	// segments.
	Path string `json:"path"`
}

// String returns host+path, e.g. "example.com/admin" or "/admin".
func (k URLKey) String() string { return k.Host + k.Path }

// ParseURLKey is the inverse of URLKey.String (for pagination cursors).
func ParseURLKey(s string) URLKey {
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return URLKey{Host: s}
	}
	return URLKey{Host: s[:i], Path: s[i:]}
}

// Scheme names, as URL.Schemes lists them.
const (
	SchemeBasic  = "basic"
	SchemeDigest = "digest"
	SchemeBearer = "bearer"
	SchemeForm   = "form"
)

// URL is a protected URL and who may enter it.
type URL struct {
	// ID is assigned by the store; rules built from the URL are named by it.
	ID int64 `json:"id"`
	URLKey
	// Realm is the realm of the challenges; "" means the server's default.
	Realm string `json:"realm"`
	// Schemes are the accepted authentication schemes, lower case, in the
	// order given. Default ["basic"].
	Schemes []string `json:"schemes"`
	// Grants say who may enter: valid-user first, then users, then
	// groups, each sorted by name. No grants: nobody (every signed-in user
	// gets 403).
	Grants []Grant `json:"grants"`
	// Created and Changed are set by the store.
	Created time.Time `json:"created"`
	Changed time.Time `json:"changed"`
}

// URLUpdate changes the fields that are not nil.
type URLUpdate struct {
	Realm   *string
	Schemes []string // nil: unchanged
}

// GrantKind says whom a grant admits.
type GrantKind string

// Grant kinds.
const (
	GrantUser      GrantKind = "user"       // one user (Name)
	GrantGroup     GrantKind = "group"      // the members of a group (Name)
	GrantValidUser GrantKind = "valid-user" // every user who signs in (Name is empty)
)

// Grant admits a user, the members of a group, or every valid user to a URL.
type Grant struct {
	Kind GrantKind `json:"kind"`
	Name string    `json:"name,omitempty"`
}

// String returns "user alice", "group staff" or "valid-user".
func (g Grant) String() string {
	if g.Kind == GrantValidUser {
		return string(g.Kind)
	}
	return string(g.Kind) + " " + g.Name
}

// Token is an API token. The token itself is shown once when it is issued
// and never stored: the store keeps its SHA-256.
type Token struct {
	// ID is the public identifier (e.g. a prefix shown in listings); the
	// caller chooses it. Unique.
	ID string `json:"id"`
	// User owns a Bearer token for protected URLs; Admin owns an admin API
	// token. Exactly one of them is set.
	User  string `json:"user,omitempty"`
	Admin string `json:"admin,omitempty"`
	// Hash is the lower-case hex SHA-256 of the token. Unique.
	Hash string `json:"-"`
	// Name is a note for people ("deploy script").
	Name string `json:"name,omitempty"`
	// Scopes limit what the token may do; empty means no limit.
	Scopes []string `json:"scopes"`
	// Expires is when it stops working; zero means never.
	Expires time.Time `json:"expires,omitzero"`
	// Revoked is when it was revoked; zero means it was not.
	Revoked time.Time `json:"revoked,omitzero"`
	// Created is set by the store.
	Created time.Time `json:"created"`
}

// TokenFilter selects tokens: of one user, of one admin, or (both empty) all.
type TokenFilter struct {
	User  string
	Admin string
}

// Role is what an admin account may do in the admin API and panel.
type Role string

// Roles.
const (
	RoleAdmin  Role = "admin"  // everything
	RoleViewer Role = "viewer" // read only
)

// Admin is an account of the admin API and panel (not a gateway user).
type Admin struct {
	// Name is the canonical name (names.User).
	Name string `json:"name"`
	// Hash is the password hash (argon2id or bcrypt). Never shown.
	Hash string `json:"-"`
	// Role is RoleAdmin or RoleViewer. Default RoleAdmin.
	Role Role `json:"role"`
	// Locked refuses the account's logins.
	Locked bool `json:"locked"`
	// Created and Changed are set by the store.
	Created time.Time `json:"created"`
	Changed time.Time `json:"changed"`
}

// AdminUpdate changes the fields that are not nil.
type AdminUpdate struct {
	Hash   *string
	Role   *Role
	Locked *bool
}

// AuditEvent is one entry of the audit log: an admin change or a refusal.
type AuditEvent struct {
	// ID is assigned by the store, increasing.
	ID int64 `json:"id"`
	// Time is when it happened; Record sets it when zero.
	Time time.Time `json:"time"`
	// Actor is who: an admin account, the OS user of a CLI command, "cli",
	// or the user a refusal was about.
	Actor string `json:"actor"`
	// Action is what, e.g. "user.add", "url.grant", "refusal".
	Action string `json:"action"`
	// Target is what it was done to, e.g. "alice" or "example.com/admin".
	Target string `json:"target,omitempty"`
	// Client is from where: an address, or "cli".
	Client string `json:"client,omitempty"`
	// RefID is the reference id of the request (as in the access log).
	RefID string `json:"ref_id,omitempty"`
	// Reason is the reason code of a refusal (htgate.Reason).
	Reason string `json:"reason,omitempty"`
	// Detail says more, for people. Never a password, hash or token.
	Detail string `json:"detail,omitempty"`
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	// Actor, Action, Target, Client and Reason match exactly when set.
	Actor, Action, Target, Client, Reason string
	// Since and Until bound Time (Since inclusive, Until exclusive).
	Since, Until time.Time
	// BeforeID continues a listing: only events with a smaller ID.
	BeforeID int64
	// Limit bounds the number of events. Default and maximum MaxPage.
	Limit int
}

// Page selects one page of a listing ordered by name (for URLs: by path,
// then host).
type Page struct {
	// After continues a listing after this name (for URLs: URLKey.String()
	// of the last one). "" starts at the beginning.
	After string
	// Limit bounds the number of items. Default and maximum MaxPage.
	Limit int
}

// MaxPage is the largest page of a listing.
const MaxPage = 1000

// Size returns the page size to use: MaxPage for 0 or anything above it.
func (p Page) Size() int { return pageSize(p.Limit) }

func pageSize(n int) int {
	if n <= 0 || n > MaxPage {
		return MaxPage
	}
	return n
}

// Size returns the number of events to return: MaxPage for 0 or above.
func (f AuditFilter) Size() int { return pageSize(f.Limit) }

// ImportResult is what happened to one item of an import batch.
type ImportResult uint8

// Import results.
const (
	Imported ImportResult = iota // added
	Replaced                     // existed and was replaced (replace mode)
	Skipped                      // existed and was kept
	Failed                       // refused; Outcome.Err says why
)

// String returns "imported", "replaced", "skipped" or "failed".
func (r ImportResult) String() string {
	switch r {
	case Imported:
		return "imported"
	case Replaced:
		return "replaced"
	case Skipped:
		return "skipped"
	}
	return "failed"
}

// Outcome is the result of one item of an import batch.
type Outcome struct {
	Result ImportResult
	// Err says why an item failed (wrapping ErrInvalid or ErrNotFound) or
	// was skipped (wrapping ErrConflict).
	Err error
}

// Digest algorithms of a DigestSecret (RFC 7616 names, as passwd.DigestMD5
// and passwd.DigestSHA256).
const (
	DigestMD5    = "MD5"
	DigestSHA256 = "SHA-256"
)

// DigestSecret is an htdigest entry: H(username ":" realm ":" password),
// which HTTP Digest authentication verifies against.
type DigestSecret struct {
	// User is the user it belongs to (normalised by the store).
	User string
	// Username is the name exactly as it went into the hash, which a
	// Digest client must send; it may differ from the canonical name.
	Username string
	// Realm is the realm that went into the hash.
	Realm string
	// Algorithm is DigestMD5 (32 hex digits, what Apache's htdigest
	// writes) or DigestSHA256 (64). "" means: by the length of HA1.
	Algorithm string
	// HA1 is the lower-case hex hash.
	HA1 string
}

// Membership puts User into Group (for imports of group files).
type Membership struct {
	Group string
	User  string
}
