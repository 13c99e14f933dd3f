package admin

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/store"
)

// Store is what the admin API and panel need of the managed store: every
// role but the importer and the snapshotter.
type Store interface {
	store.Users
	store.Groups
	store.URLs
	store.Grants
	store.Tokens
	store.Admins
	store.Audit
}

// LoginGuard limits password guessing on the admin login (package app
// adapts guard.Guard to it, on its own in-memory state). Enter is called
// before a password is verified. It returns the Attempt to report the
// outcome with or, when the client or the name is locked out, a nil
// Attempt and how long to wait. An error means the guard could not decide:
// the login is refused (fail closed).
type LoginGuard interface {
	Enter(ctx context.Context, client netip.Addr, name string) (Attempt, time.Duration, error)
}

// Attempt is the right to verify one password, from LoginGuard.Enter. It
// is ended by exactly one of its methods (*guard.Attempt implements it).
type Attempt interface {
	// Success reports that the password matched.
	Success(ctx context.Context) error
	// Failure reports a wrong password or an unknown name.
	Failure(ctx context.Context) error
	// Release ends the attempt without an outcome.
	Release()
}

// Options configure a Server. Zero fields take the documented defaults.
type Options struct {
	// Store is the managed store. Required.
	Store Store
	// Logger receives errors and sign-in events. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// HashPassword hashes new passwords of users and admins. Default
	// argon2id with passwd's default parameters.
	HashPassword func(password []byte) (string, error)
	// LoginGuard limits password guessing on the login form. Default:
	// none (tests only; package app always sets one).
	LoginGuard LoginGuard
	// Health serves GET /metrics, /healthz and /readyz without a login.
	// Default: /healthz and /readyz answer "ok", /metrics is 404.
	Health http.Handler
	// SessionIdle ends a panel session that has not been used for this
	// long. Default 30m.
	SessionIdle time.Duration
	// SessionLifetime ends a panel session this long after its login,
	// however busy. Default 12h.
	SessionLifetime time.Duration
	// MaxSessions bounds the sessions kept in memory; beyond it the
	// least recently used is ended. Default 10000.
	MaxSessions int
	// SecureCookies marks cookies Secure even on plain HTTP requests (for
	// a listener behind a TLS-terminating proxy). Cookies of requests
	// that came over TLS are always Secure.
	SecureCookies bool
}

// Defaults of Options.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionLifetime = 12 * time.Hour
	DefaultMaxSessions     = 10000
)

// maxBody bounds a request body (JSON or form).
const maxBody = 64 << 10

// Server is the admin API and panel, an http.Handler. It is safe for
// concurrent use.
type Server struct {
	st       Store
	log      *slog.Logger
	now      func() time.Time
	hash     func([]byte) (string, error)
	guard    LoginGuard
	health   http.Handler
	secure   bool
	sessions *sessions
	loginKey []byte // HMAC key of the login form's double-submit token
	pages    map[string]*template.Template
	mux      *http.ServeMux
	routes   []route

	dummyOnce sync.Once
	dummy     string
}

// New returns a Server for o. It returns an error if o.Store is nil or a
// template does not parse.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("admin: no store")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HashPassword == nil {
		o.HashPassword = func(p []byte) (string, error) {
			return passwd.Hash(passwd.FormatArgon2id, p, passwd.HashOptions{})
		}
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = DefaultSessionIdle
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = DefaultSessionLifetime
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		st:       o.Store,
		log:      o.Logger,
		now:      o.Now,
		hash:     o.HashPassword,
		guard:    o.LoginGuard,
		health:   o.Health,
		secure:   o.SecureCookies,
		sessions: newSessions(o.SessionIdle, o.SessionLifetime, o.MaxSessions, o.Now),
		loginKey: randomBytes(32),
		pages:    pages,
		mux:      http.NewServeMux(),
	}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	s.mux.HandleFunc("/api/", s.apiFallback)
	s.mux.HandleFunc("/", s.panelFallback)
	return s, nil
}

// Routes returns the method and pattern of every route, as registered on
// the ServeMux ("GET /api/users"), for tests and documentation.
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for _, rt := range s.routes {
		out = append(out, rt.method+" "+rt.pattern)
	}
	return out
}

// ServeHTTP serves the API, the panel, its assets and the health
// endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Security-Policy", csp)
	ref := newRefID()
	h.Set("X-Request-Id", ref)
	ctx := context.WithValue(r.Context(), refKey{}, ref)
	s.mux.ServeHTTP(w, r.WithContext(ctx))
}

// csp allows nothing but this server's own stylesheet and images, and
// forms that post back to it.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type refKey struct{}

// refOf returns the reference id of the request.
func refOf(r *http.Request) string {
	ref, _ := r.Context().Value(refKey{}).(string)
	return ref
}

// newRefID returns a short random reference id, as in the access log.
func newRefID() string {
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randomBytes(8)))
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// clientOf returns the address of the client.
func clientOf(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// clientString is the client as the audit log shows it.
func clientString(r *http.Request) string {
	if a := clientOf(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// secureRequest reports whether cookies of r must be Secure.
func (s *Server) secureRequest(r *http.Request) bool {
	return s.secure || r.TLS != nil
}

// dummyHash returns a hash of a random password in the format and cost of
// new hashes, verified for unknown admin names so that they take as long
// as known ones.
func (s *Server) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := s.hash(randomBytes(24))
		if err != nil {
			h = passwd.DummyHash("")
		}
		s.dummy = h
	})
	return s.dummy
}

// audit records an event that is not a store write (sign-ins).
func (s *Server) audit(r *http.Request, actor, action, target, detail string) {
	_, err := s.st.Record(r.Context(), store.AuditEvent{
		Time: s.now(), Actor: actor, Action: action, Target: target,
		Client: clientString(r), RefID: refOf(r), Detail: detail,
	})
	if err != nil {
		s.log.Error("admin: audit", "action", action, "ref_id", refOf(r), "err", err)
	}
}

// errorf logs an unexpected error with the request's reference id.
func (s *Server) errorf(r *http.Request, err error, msg string) {
	s.log.Error(fmt.Sprintf("admin: %s", msg), "ref_id", refOf(r), "method", r.Method, "path", r.URL.Path, "err", err)
}
