package store

import (
	"context"
	"time"
)

// Users manages the gateway's users. Names given to its methods are
// normalised (names.User) first; a name RFC 8265 refuses is ErrInvalid.
type Users interface {
	// AddUser adds u (Name, DisplayName, Hash, Locked) and returns it as
	// stored. ErrConflict if a user of the same canonical name exists;
	// ErrInvalid for a bad name, display name or hash.
	AddUser(ctx context.Context, u User) (User, error)
	// User returns the user. ErrNotFound if there is none.
	User(ctx context.Context, name string) (User, error)
	// ListUsers returns a page of users ordered by name.
	ListUsers(ctx context.Context, p Page) ([]User, error)
	// UpdateUser changes the fields of up that are set and returns the
	// user. ErrNotFound if there is no such user.
	UpdateUser(ctx context.Context, name string, up UserUpdate) (User, error)
	// RemoveUser removes the user with their memberships, grants, tokens
	// and digest secrets. ErrNotFound if there is none. Callers that want
	// the "last user allowed in" safety check call Grants.SoleAccess first.
	RemoveUser(ctx context.Context, name string) error
}

// Groups manages groups and their members. Names are normalised first.
type Groups interface {
	// AddGroup adds an empty group. ErrConflict if it exists.
	AddGroup(ctx context.Context, name string) (Group, error)
	// Group returns the group with its members. ErrNotFound if none.
	Group(ctx context.Context, name string) (Group, error)
	// ListGroups returns a page of groups with their members, by name.
	ListGroups(ctx context.Context, p Page) ([]Group, error)
	// RemoveGroup removes the group, its memberships and grants.
	// ErrNotFound if there is none.
	RemoveGroup(ctx context.Context, name string) error
	// AddMember puts user into group. ErrNotFound if either does not
	// exist; ErrConflict if the user already is a member.
	AddMember(ctx context.Context, group, user string) error
	// RemoveMember takes user out of group. ErrNotFound if the group or
	// user does not exist or the user is not a member.
	RemoveMember(ctx context.Context, group, user string) error
}

// URLs manages protected URLs. Keys are canonicalised first
// (CanonicalURLKey); a path or host that is not canonical is ErrInvalid.
type URLs interface {
	// Protect adds a protected URL (Host, Path, Realm, Schemes; no grants)
	// and returns it as stored. ErrConflict if the host and path are
	// protected already.
	Protect(ctx context.Context, u URL) (URL, error)
	// URL returns the protected URL with its grants. ErrNotFound if none.
	URL(ctx context.Context, key URLKey) (URL, error)
	// ListURLs returns a page of protected URLs with their grants, ordered
	// by path, then host.
	ListURLs(ctx context.Context, p Page) ([]URL, error)
	// UpdateURL changes the realm or schemes. ErrNotFound if none.
	UpdateURL(ctx context.Context, key URLKey, up URLUpdate) (URL, error)
	// Unprotect removes the protected URL and its grants. ErrNotFound if
	// none.
	Unprotect(ctx context.Context, key URLKey) error
}

// Grants say who may enter a protected URL.
type Grants interface {
	// Grant admits g to the URL. ErrNotFound if the URL, user or group
	// does not exist; ErrConflict if g is granted already.
	Grant(ctx context.Context, key URLKey, g Grant) error
	// Revoke takes g's grant away. ErrNotFound if it was not granted.
	Revoke(ctx context.Context, key URLKey, g Grant) error
	// SoleAccess returns the protected URLs that nobody but user could
	// enter: removing the user would leave them with nobody allowed in.
	// ErrNotFound if there is no such user.
	SoleAccess(ctx context.Context, user string) ([]URL, error)
}

// Tokens manages API tokens.
type Tokens interface {
	// AddToken stores t (ID, User or Admin, Hash, Name, Scopes, Expires)
	// and returns it as stored. ErrConflict if the ID or hash exists;
	// ErrNotFound if the owner does not.
	AddToken(ctx context.Context, t Token) (Token, error)
	// Token returns the token with this ID. ErrNotFound if none.
	Token(ctx context.Context, id string) (Token, error)
	// TokenByHash returns the token whose SHA-256 (lower-case hex) is
	// hash. ErrNotFound if none.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// ListTokens returns the tokens f selects, newest first.
	ListTokens(ctx context.Context, f TokenFilter) ([]Token, error)
	// RevokeToken marks the token revoked now. ErrNotFound if none;
	// revoking a revoked token keeps the first time.
	RevokeToken(ctx context.Context, id string) error
}

// Admins manages the accounts of the admin API and panel.
type Admins interface {
	// AddAdmin adds a (Name, Hash, Role, Locked). ErrConflict if it exists.
	AddAdmin(ctx context.Context, a Admin) (Admin, error)
	// Admin returns the account. ErrNotFound if none.
	Admin(ctx context.Context, name string) (Admin, error)
	// ListAdmins returns every admin account, by name.
	ListAdmins(ctx context.Context) ([]Admin, error)
	// UpdateAdmin changes the fields of up that are set. ErrNotFound if none.
	UpdateAdmin(ctx context.Context, name string, up AdminUpdate) (Admin, error)
	// RemoveAdmin removes the account and its tokens. ErrNotFound if none.
	RemoveAdmin(ctx context.Context, name string) error
}

// Audit is the audit log. Every write of the other roles records its own
// event in the same transaction (see WithActor); Record is for events
// that are not store writes, such as refusals.
type Audit interface {
	// Record appends e and returns it with its ID (and Time, if it was
	// zero). It does not change the store's version.
	Record(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// AuditEvents returns the events f selects, newest first.
	AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PruneAudit removes events older than before and returns how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// Importer adds many items in one transaction per call, for `htgate
// import`. Each item gets an Outcome; the error is for the batch as a
// whole (nothing of it was stored). A batch writes one audit event.
type Importer interface {
	// ImportUsers adds users (Name, Hash; the hash is copied as it is).
	// An existing user is Skipped, or Replaced (new hash, unlocked) when
	// replace is set.
	ImportUsers(ctx context.Context, users []User, replace bool) ([]Outcome, error)
	// ImportDigestSecrets adds htdigest secrets, creating users without a
	// password hash where needed. An existing secret of the same user and
	// realm is Skipped, or Replaced when replace is set.
	ImportDigestSecrets(ctx context.Context, secrets []DigestSecret, replace bool) ([]Outcome, error)
	// ImportMembers creates the groups named and adds the memberships. A
	// membership that exists is Skipped; a user that does not exist Failed
	// (ErrNotFound).
	ImportMembers(ctx context.Context, ms []Membership) ([]Outcome, error)
}

// Snapshotter gives the gateway its view of the store.
type Snapshotter interface {
	// Version returns a number that changes (grows) with every write to
	// users, groups, URLs, grants, tokens or admins, in the same
	// transaction as the write. Audit records do not change it.
	Version(ctx context.Context) (uint64, error)
	// Snapshot reads users, hashes, groups, digest secrets, URLs and
	// grants in one consistent read. Parts that did not change since prev
	// (which may be nil) are shared with it rather than read again.
	Snapshot(ctx context.Context, prev *Snapshot) (*Snapshot, error)
}

// Store is a whole backend.
type Store interface {
	Users
	Groups
	URLs
	Grants
	Tokens
	Admins
	Audit
	Importer
	Snapshotter
	// Close releases the backend's connections.
	Close() error
}

// Actor is who makes a change, for the audit event every write records.
type Actor struct {
	// Name is an admin account, the OS user of a CLI command, or "cli".
	Name string
	// Client is an address, or "cli".
	Client string
	// RefID is the reference id of the admin request, if any.
	RefID string
}

type actorKey struct{}

// WithActor returns a context whose writes are audited as done by a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; Name "system" when none was set.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	if a.Name == "" {
		a.Name = "system"
	}
	return a
}
