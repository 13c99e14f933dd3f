package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/gateway"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/store/postgres"
	"github.com/htgate/htgate/internal/store/sqlite"
)

// DefaultDataDir is the managed store's directory when none is given.
const DefaultDataDir = "htgate-data"

// Managed-store timing.
const (
	// storePollInterval is how often a running gateway asks the store for
	// its version; a change is enforced within this and the reload time.
	storePollInterval = 250 * time.Millisecond
	// auditPruneInterval is how often old audit events are removed.
	auditPruneInterval = time.Hour
)

// managedSource is the key of the managed store's sources in a policy
// (rule.Source, GroupSource, DigestSource); traces name it.
const managedSource = "managed store"

// noGrants is the user a protected URL without grants requires: no
// managed name can contain a space, so every signed-in user gets 403 and
// everyone else the 401 with the challenges.
const noGrants = "(no grants)"

// StoreLocation says where the managed store is.
type StoreLocation struct {
	// Data is a data directory (the database is Data/htgate.db).
	Data string
	// URL is a store URL: "sqlite://PATH". Reserved for PostgreSQL.
	URL string
}

// String describes the location for messages, without a password.
func (l StoreLocation) String() string {
	if l.URL != "" {
		if u, err := url.Parse(l.URL); err == nil && u.User != nil {
			return u.Redacted()
		}
		return l.URL
	}
	return l.Data
}

// isPostgres reports whether l is a PostgreSQL URL.
func (l StoreLocation) isPostgres() bool {
	return strings.HasPrefix(l.URL, "postgres://") || strings.HasPrefix(l.URL, "postgresql://")
}

// dbPath returns the SQLite file of l, or an error for a URL of another
// kind.
func (l StoreLocation) dbPath() (string, error) {
	if l.URL == "" {
		return filepath.Join(l.Data, sqlite.FileName), nil
	}
	scheme, rest, ok := strings.Cut(l.URL, "://")
	switch {
	case !ok:
		return "", fmt.Errorf("store URL %q: want sqlite://PATH", l.URL)
	case scheme == "sqlite" && rest != "":
		return rest, nil
	case scheme == "sqlite":
		return "", fmt.Errorf("store URL %q: no database file after sqlite://", l.URL)
	}
	return "", fmt.Errorf("store URL %q: unknown kind %q (want sqlite://PATH or postgres://...)", l.String(), scheme)
}

// OpenStore opens the managed store at loc, creating the data directory
// (mode 0700) and the database when they do not exist yet: what the store
// commands of the CLI do.
func OpenStore(ctx context.Context, loc StoreLocation) (store.Store, error) {
	if loc.URL == "" && loc.Data == "" {
		loc.Data = DefaultDataDir
	}
	if loc.isPostgres() {
		db, err := postgres.Open(ctx, loc.URL, postgres.Options{})
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	path, err := loc.dbPath()
	if err != nil {
		return nil, err
	}
	if loc.URL == "" {
		if err := os.MkdirAll(loc.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// storeLocation returns where the configuration puts the managed store,
// and false when it has none: data or store set, or else ./htgate-data if
// that directory exists.
func storeLocation(cfg *config.Config) (StoreLocation, bool) {
	switch {
	case cfg.Store != "":
		return StoreLocation{URL: cfg.Store}, true
	case cfg.Data != "":
		return StoreLocation{Data: cfg.Data}, true
	}
	if fi, err := os.Stat(DefaultDataDir); err == nil && fi.IsDir() {
		return StoreLocation{Data: DefaultDataDir}, true
	}
	return StoreLocation{}, false
}

// managed is the managed store of a running gateway and the snapshot in
// force.
type managed struct {
	st     store.Store
	loc    StoreLocation
	logger *slog.Logger
	realm  string // the configuration's default realm

	mu     sync.Mutex
	snap   *store.Snapshot
	failed uint64 // version whose rules could not be applied (logged once)
	// readErr is why the store could not be read at the last attempt, nil
	// when it could: /readyz reports it.
	readErr error
	// tokens are the user Bearer tokens of the latest version read.
	tokens atomic.Pointer[tokenTable]

	closeOnce sync.Once
	closeErr  error
}

// openManaged opens the configured store, if any, and reads its first
// snapshot.
func openManaged(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*managed, error) {
	loc, ok := storeLocation(cfg)
	if !ok {
		return nil, nil
	}
	st, err := OpenStore(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("managed store %s: %w", loc, err)
	}
	snap, err := st.Snapshot(ctx, nil)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("managed store %s: %w", loc, err)
	}
	snap.Credentials.Dummy() // pay for the dummy hash now, not on a request
	logger.Info("managed store", "location", loc.String(), "users", snap.Credentials.Len(), "protected_urls", len(snap.Rules.URLs()), "version", snap.Version)
	m := &managed{st: st, loc: loc, logger: logger, realm: cfg.Realm, snap: snap}
	tokens, err := loadTokens(ctx, st, snap.Credentials)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("managed store %s: %w", loc, err)
	}
	m.tokens.Store(tokens)
	return m, nil
}

// current returns the snapshot in force.
func (m *managed) current() *store.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap
}

// refresh reads a new snapshot when the store's version moved. It returns
// nil when nothing the gateway enforces changed.
func (m *managed) refresh(ctx context.Context) (*store.Snapshot, error) {
	m.mu.Lock()
	prev := m.snap
	m.mu.Unlock()
	v, err := m.st.Version(ctx)
	if err != nil {
		return nil, err
	}
	if v == prev.Version {
		return nil, nil
	}
	next, err := m.st.Snapshot(ctx, prev)
	if err != nil {
		return nil, err
	}
	next.Credentials.Dummy()
	tokens, err := loadTokens(ctx, m.st, next.Credentials)
	if err != nil {
		return nil, err
	}
	m.tokens.Store(tokens) // revocations and new tokens count at once
	m.mu.Lock()
	m.snap = next
	m.mu.Unlock()
	if next.Credentials == prev.Credentials && next.Rules == prev.Rules {
		return nil, nil // admins or tokens: nothing to enforce yet
	}
	return next, nil
}

// close closes the store (once).
func (m *managed) close() error {
	m.closeOnce.Do(func() { m.closeErr = m.st.Close() })
	return m.closeErr
}

// managedRules turns the snapshot's protected URLs into rules: one rule per
// URL, named m<ID>, checked against the managed store's sources.
func managedRules(snap *store.Snapshot, defaultRealm string, logger *slog.Logger) []policy.Rule {
	urls := snap.Rules.URLs()
	rules := make([]policy.Rule, 0, len(urls))
	for _, u := range urls {
		r := policy.Rule{
			ID:     "m" + strconv.FormatInt(u.ID, 10),
			Origin: "managed URL " + u.String(),
			Host:   u.Host,
			Path:   u.Path,
			Realm:  u.Realm,
			Source: managedSource,
		}
		if r.Realm == "" {
			r.Realm = defaultRealm
		}
		for _, s := range u.Schemes {
			switch s {
			case store.SchemeBasic, store.SchemeDigest, store.SchemeBearer, store.SchemeForm:
				r.Schemes = append(r.Schemes, s)
			}
		}
		if slices.Contains(r.Schemes, store.SchemeDigest) {
			r.DigestSource = managedSource
		}
		r.Require = grantsExpr(u.Grants)
		if len(r.Schemes) == 0 {
			// Bearer and form login are for a later version: fail closed.
			if logger != nil {
				logger.Warn("protected URL accepts no scheme this version implements: everyone is refused", "url", u.String(), "schemes", strings.Join(u.Schemes, ","))
			}
			r.Schemes = []string{store.SchemeBasic}
			r.Require = policy.Expr{Kind: policy.AllDenied}
		}
		for _, g := range u.Grants {
			if g.Kind == store.GrantGroup {
				r.GroupSource = managedSource
				break
			}
		}
		rules = append(rules, r)
	}
	return rules
}

// grantsExpr is the Require expression of a URL's grants: any of them
// admits; none admits nobody (but still asks for credentials, so that a
// visitor sees the login dialog and a signed-in user a 403).
func grantsExpr(grants []store.Grant) policy.Expr {
	var users, groups []string
	valid := false
	for _, g := range grants {
		switch g.Kind {
		case store.GrantValidUser:
			valid = true
		case store.GrantUser:
			users = append(users, g.Name)
		case store.GrantGroup:
			groups = append(groups, g.Name)
		}
	}
	var any []policy.Expr
	if valid {
		any = append(any, policy.Expr{Kind: policy.ValidUser})
	}
	if len(users) > 0 {
		any = append(any, policy.Expr{Kind: policy.User, Args: users})
	}
	if len(groups) > 0 {
		any = append(any, policy.Expr{Kind: policy.Group, Args: groups})
	}
	switch len(any) {
	case 0:
		return policy.Expr{Kind: policy.User, Args: []string{noGrants}}
	case 1:
		return any[0]
	}
	return policy.Expr{Kind: policy.Any, Sub: any}
}

// errManagedConflict explains a rule table error that involves managed URLs.
var errManagedConflict = errors.New("a protected URL of the managed store and a rule of the configuration (or two protected URLs, when paths ignore case) cover the same host and path: remove one with `htgate url unprotect PATH` or from the configuration")

// compose merges the YAML policy lp with the managed snapshot (which may be
// nil) into one policy generation: one table, YAML rules first.
func compose(lp *loadedPolicy, snap *store.Snapshot, defaultRealm string, logger *slog.Logger) (*gateway.Policy, error) {
	if snap == nil {
		return lp.policy, nil
	}
	managedRules := managedRules(snap, defaultRealm, logger)
	rules := make([]policy.Rule, 0, len(lp.rules)+len(managedRules))
	rules = append(append(rules, lp.rules...), managedRules...)
	table, err := policy.NewTableWith(rules, lp.tableOpts)
	if err != nil {
		if errors.Is(err, policy.ErrDuplicateRule) {
			return nil, fmt.Errorf("%w:\n%w", errManagedConflict, err)
		}
		return nil, fmt.Errorf("managed rules: %w", err)
	}
	p := &gateway.Policy{
		Rules:       table,
		Credentials: maps.Clone(lp.policy.Credentials),
		Groups:      maps.Clone(lp.policy.Groups),
		Digests:     maps.Clone(lp.policy.Digests),
	}
	src := gateway.StoreSource{Creds: snap.Credentials}
	if p.Credentials == nil {
		p.Credentials = map[string]gateway.CredentialSource{}
	}
	if p.Groups == nil {
		p.Groups = map[string]gateway.GroupSource{}
	}
	if p.Digests == nil {
		p.Digests = map[string]gateway.DigestSource{}
	}
	p.Credentials[managedSource] = src.Credentials()
	p.Groups[managedSource] = src.Groups()
	p.Digests[managedSource] = src.Digests()
	return p, nil
}

// applyPolicy builds the policy of the current YAML generation and managed
// snapshot and puts it in force. Callers hold a.pmu.
func (a *App) applyPolicy() error {
	var snap *store.Snapshot
	if a.managed != nil {
		snap = a.managed.current()
	}
	p, err := compose(a.yaml, snap, a.cfg.Realm, a.logger)
	if err != nil {
		return err
	}
	if a.managed != nil {
		p.Tokens = a.managed
	}
	a.gateway.SetPolicy(p)
	return nil
}

// watchStore polls the store's version and puts every change in force
// within storePollInterval (plus the time to read it), without a restart
// and without blocking requests: they keep the policy they started with.
// It also prunes the audit log. It returns when ctx is done.
func (a *App) watchStore(ctx context.Context) {
	m := a.managed
	tick := time.NewTicker(storePollInterval)
	defer tick.Stop()
	// A store that announces its changes (PostgreSQL: LISTEN/NOTIFY) wakes
	// the loop at once; the poll stays as the fallback.
	wake := make(chan struct{}, 1)
	if w, ok := m.st.(storeWatcher); ok {
		go func() {
			down := false // logged once per outage
			_ = w.Watch(ctx, func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			}, func(err error) {
				if ctx.Err() != nil || (err != nil) == down {
					return
				}
				down = err != nil
				if err != nil {
					a.logger.Warn("managed store: change notifications lost; polling every "+storePollInterval.String()+" until they return", "location", m.loc.String(), "err", err)
				} else {
					a.logger.Info("managed store: change notifications back", "location", m.loc.String())
				}
			})
		}()
	}
	var lastPrune time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
		if now := time.Now(); a.cfg.AuditRetention > 0 && now.Sub(lastPrune) >= auditPruneInterval {
			lastPrune = now
			if n, err := m.st.PruneAudit(ctx, now.Add(-a.cfg.AuditRetention)); err != nil {
				a.logger.Warn("audit log: could not remove old events", "err", err)
			} else if n > 0 {
				a.logger.Info("audit log: removed old events", "count", n, "retention", a.cfg.AuditRetention.String())
			}
		}
		snap, err := m.refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		m.mu.Lock()
		was := m.readErr
		m.readErr = err
		m.mu.Unlock()
		switch {
		case err != nil && was == nil:
			a.logger.Error("managed store unreadable; the snapshot in force stays until it can be read again", "location", m.loc.String(), "err", err)
		case err == nil && was != nil:
			a.logger.Info("managed store readable again", "location", m.loc.String())
		}
		if err != nil {
			continue
		}
		if snap == nil {
			continue
		}
		a.pmu.Lock()
		err = a.applyPolicy()
		a.pmu.Unlock()
		if err != nil {
			m.mu.Lock()
			logIt := m.failed != snap.Version
			m.failed = snap.Version
			m.mu.Unlock()
			if logIt {
				a.logger.Error("managed store change not applied; the rules in force stay", "version", snap.Version, "err", err)
			}
			continue
		}
		inc, overlay := snap.Credentials.Incremental()
		a.logger.Info("managed store change applied", "version", snap.Version, "users", snap.Credentials.Len(),
			"protected_urls", len(snap.Rules.URLs()), "incremental", inc, "changed_users", overlay)
	}
}

// storeWatcher is a store that announces its changes (store/postgres).
type storeWatcher interface {
	// Watch calls changed after every change and failed when the feed
	// breaks (err) or returns (nil), until ctx is done.
	Watch(ctx context.Context, changed func(), failed func(error)) error
}

// problem says why the store could not be read at the last attempt, ""
// when it could.
func (m *managed) problem() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readErr == nil {
		return ""
	}
	return "managed store " + m.loc.String() + " unreadable (the last snapshot read stays in force): " + m.readErr.Error()
}

// Store returns the managed store the gateway enforces, or nil when it
// runs without one (for the admin API, which shares it).
func (a *App) Store() store.Store {
	if a.managed == nil {
		return nil
	}
	return a.managed.st
}

// HashPassword hashes a new password of a managed user or admin with the
// configured parameters: argon2id (PHC string) by default, bcrypt when
// p.Format is "bcrypt" or forceBcrypt is set.
func HashPassword(p config.Passwords, password []byte, forceBcrypt bool) (string, error) {
	if len(password) == 0 {
		return "", errors.New("empty password")
	}
	if forceBcrypt || p.Format == "bcrypt" {
		if len(password) > 72 {
			return "", errors.New("password longer than 72 bytes: bcrypt would ignore the rest (use argon2id)")
		}
		return passwd.Hash(passwd.FormatBcrypt, password, passwd.HashOptions{BcryptCost: p.BcryptCost})
	}
	return passwd.Hash(passwd.FormatArgon2id, password, passwd.HashOptions{Argon2: passwd.Argon2Params{
		Memory: p.Argon2.MemoryKiB, Time: p.Argon2.Iterations, Threads: p.Argon2.Threads,
	}})
}
