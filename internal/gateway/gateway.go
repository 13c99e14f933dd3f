package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/scheme"
	"github.com/htgate/htgate/internal/state"
	"github.com/htgate/htgate/internal/upstream"
)

// Policy is one immutable generation of what the gateway enforces: the rule
// table and the credential sources its rules name. A reload builds a new
// Policy and swaps it in with Gateway.SetPolicy; requests in flight keep
// the one they started with.
type Policy struct {
	// Rules is the rule table.
	Rules *policy.Table
	// Credentials maps a rule's Source to its credential source.
	Credentials map[string]CredentialSource
	// Groups maps a rule's GroupSource to its group source.
	Groups map[string]GroupSource
	// Digests maps a rule's DigestSource to its Digest credential source
	// (an htdigest file: HtdigestSource).
	Digests map[string]DigestSource
	// Tokens looks up the Bearer tokens of rules that accept "bearer"
	// (the managed store's). Nil: every token is unknown.
	Tokens TokenSource
}

// Options configure a Gateway. Nil fields take the documented default.
type Options struct {
	// Backend serves allowed requests (static files or a reverse proxy). Required.
	Backend upstream.Backend
	// Responder writes every refusal. Required.
	Responder *respond.Responder
	// Limits bound request headers. Zero fields take Apache's defaults.
	Limits Limits
	// ClientIP decides the client address. Zero value: the peer, no trusted proxies.
	ClientIP ClientIP
	// Cache remembers verified credentials; nil disables caching (every request pays the hash).
	Cache *CredentialCache
	// Logger receives the access log (one line per request) and errors. Nil discards.
	Logger *slog.Logger
	// AccessLog turns the per-request log line on.
	AccessLog bool
	// Guard refuses locked-out clients and users before any hash is
	// computed and counts failures. Nil: no brute-force protection.
	Guard Guard
	// Limiter bounds each client's concurrent requests and rate. Nil: none.
	Limiter Limiter
	// LimitStatus answers a client over its limits: 429 (default) or 503.
	LimitStatus int
	// Failures counts refused authentications by reason (metrics). Nil: none.
	Failures FailureCounter
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// DigestKey mints and checks Digest nonces. Nil: a random key made by
	// New, so that nonces do not survive a restart (clients retry stale
	// nonces without asking the user); nodes that share clients share a
	// key made from a common secret.
	DigestKey *scheme.NonceKey
	// Nonces remembers the nonce counts of verified Digest requests, so
	// that a captured request cannot be replayed. Nil: counts are not
	// checked and a request can be replayed while its nonce lives; the
	// application always sets one.
	Nonces state.Nonces
	// HTAccess honours the .htaccess files of a static docroot as Apache
	// httpd 2.4 does (see HTAccess). Nil: .htaccess files are ignored
	// (the static backend never serves them).
	HTAccess *HTAccess
	// FormLogin turns on form login with sessions for rules whose schemes
	// include "form" (form.go). Nil: such rules answer 401 to everyone
	// without other credentials.
	FormLogin *FormLogin
	// ForwardAuth configures the forward-authentication endpoint for
	// nginx auth_request, Traefik forwardAuth and Caddy forward_auth
	// (verify.go). The zero value serves it at DefaultVerifyPath.
	ForwardAuth ForwardAuth
	// ProxyAuth makes the gateway a forward proxy's authentication
	// (forwardproxy.go): credentials come from Proxy-Authorization, every
	// request is matched as the path "/" of its destination host, and the
	// Responder should answer 407 (respond.Options.Proxy). Default false.
	ProxyAuth bool
}

// Gateway is the request path. It is safe for concurrent use.
type Gateway struct {
	opts   Options
	policy atomic.Pointer[Policy]
	refs   refIDs
	states sync.Pool  // *requestState
	ht     *htState   // nil unless Options.HTAccess
	form   *FormLogin // Options.FormLogin with defaults; nil: off
	// verifyPath is the forward-auth endpoint's path, "" when it is off.
	verifyPath string
}

// New returns a gateway enforcing p.
func New(p *Policy, opts Options) *Gateway {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Limits = opts.Limits.WithDefaults()
	if opts.DigestKey == nil {
		key, err := scheme.NewNonceKey(nil)
		if err != nil {
			panic("gateway: no randomness for the Digest nonce key: " + err.Error())
		}
		opts.DigestKey = key
	}
	g := &Gateway{opts: opts, refs: newRefIDs(), ht: newHTState(opts.HTAccess, opts.Logger, opts.Now)}
	g.states.New = func() any { return new(requestState) }
	g.form = opts.FormLogin.withDefaults()
	g.verifyPath = opts.ForwardAuth.path()
	g.policy.Store(p)
	return g
}

// SetPolicy swaps in a new policy generation (config reload).
func (g *Gateway) SetPolicy(p *Policy) { g.policy.Store(p) }

// Policy returns the policy generation in force.
func (g *Gateway) Policy() *Policy { return g.policy.Load() }

// requestState is what one request needs while it is served, allocated
// together and reused through a pool so that an allowed request costs
// (almost) no allocations. Nothing may keep a pointer into it after
// ServeHTTP returns.
type requestState struct {
	d   htgate.Decision
	rec statusRecorder
}

// ServeHTTP runs the request path: decide, then forward or refuse.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := g.endpoint(r.URL.Path); h != nil && !g.opts.ProxyAuth {
		h(w, r)
		return
	}
	start := g.opts.Now()
	st := g.states.Get().(*requestState)
	defer g.putState(st)
	d := &st.d
	d.RefID, d.Method, d.Host = g.refs.next(), r.Method, r.Host
	dr := r
	if g.opts.ProxyAuth {
		dr = proxyDecisionRequest(r) // forwardproxy.go
	}
	fwd, release := g.decide(r.Context(), false, dr, d)
	if release != nil {
		defer release()
	}
	rec := &st.rec
	rec.ResponseWriter, rec.refID = w, d.RefID
	// Content shown to an authenticated user must not outlive the login in
	// a shared cache or, after a logout, in the browser's cache.
	rec.private = d.Reason.Allowed() && d.User != ""
	switch {
	case d.Status == http.StatusSeeOther: // a browser without credentials: the login page (form.go)
		rec.Header().Set("Cache-Control", "no-store")
		rec.Header().Set("Vary", "Accept, Cookie")
		http.Redirect(rec, r, loginLocation(r), http.StatusSeeOther)
	case g.ht != nil:
		g.serveHTAccess(rec, r, d, fwd)
	case d.Reason.Allowed():
		d.Status = http.StatusOK
		g.opts.Backend.Serve(rec, r, fwd)
	default:
		if d.Status == http.StatusBadRequest {
			// The connection's framing may be in doubt: do not reuse it.
			rec.Header().Set("Connection", "close")
		}
		g.opts.Responder.Refuse(rec, r, d)
	}
	if g.opts.AccessLog {
		g.logAccess(r.Context(), d, rec, g.opts.Now().Sub(start))
	}
}

func (g *Gateway) putState(st *requestState) {
	*st = requestState{}
	g.states.Put(st)
}

// Decide runs the decision steps of the request path (everything but
// forwarding) on r and returns the decision. It is what explain shows:
// the same code the gateway runs, without side effects on the backend.
func (g *Gateway) Decide(ctx context.Context, r *http.Request) *htgate.Decision {
	d := &htgate.Decision{RefID: g.refs.next(), Method: r.Method, Host: r.Host, Tracing: true}
	g.decide(ctx, true, r, d)
	if d.Reason.Allowed() {
		d.Status = http.StatusOK
	}
	return d
}

// decide runs steps 1-6 of DESIGN §2. When it returns, d.Reason is
// ReasonNone for an allowed request, whose forwarding instructions it
// returns; otherwise d says how to refuse. release, when not nil, frees
// the client's place in the per-client limits once the response is
// written. A dry run (explain) records nothing in the guard and takes no
// place.
func (g *Gateway) decide(ctx context.Context, dry bool, r *http.Request, d *htgate.Decision) (fwd upstream.Request, release func()) {
	p := g.policy.Load()
	g.resolveClient(r, d)
	if !g.checkLimits(r, d) || !g.checkMethod(r, d) {
		d.Path = r.URL.Path
		if g.ht != nil {
			g.htaccessEarly(d)
		}
		return upstream.Request{}, nil
	}
	path, escaped, ok := g.normalize(r, d)
	if g.ht != nil {
		ok = g.htaccessTarget(ctx, dry, r, d, ok)
	}
	if !ok {
		return upstream.Request{}, nil
	}
	if !dry {
		if release, ok = g.acquireClient(d); !ok {
			return upstream.Request{}, nil
		}
	}
	rule := g.match(p, r, d)
	fwd = upstream.Request{Path: path, EscapedPath: escaped, RefID: d.RefID, Client: d.Client, KeepAuthorization: true}
	if rule != nil {
		fwd.KeepAuthorization = rule.PassAuthorization
		principal, ok := g.authorize(ctx, dry, p, rule, r, d)
		if !ok {
			return upstream.Request{}, release
		}
		if principal != nil {
			fwd.User = principal.Name
			fwd.Groups = principal.Groups
		}
	}
	// With .htaccess on, a YAML rule and the .htaccess files must both allow.
	if g.ht != nil && !g.htaccessStep(ctx, dry, r, d, &fwd) {
		return upstream.Request{}, release
	}
	return fwd, release
}

// checkMethod refuses TRACE (in any letter case): it would echo request
// headers, credentials included, back to a script.
func (g *Gateway) checkMethod(r *http.Request, d *htgate.Decision) bool {
	if strings.EqualFold(r.Method, http.MethodTrace) {
		d.Refuse(http.StatusMethodNotAllowed, htgate.ReasonMethodNotAllowed, "method", "TRACE is refused everywhere: it would echo credentials")
		return false
	}
	return true
}

func (g *Gateway) checkLimits(r *http.Request, d *htgate.Decision) bool {
	status, reason, detail, ok := g.opts.Limits.Check(r)
	if !ok {
		d.Refuse(status, reason, "limits", detail)
		return false
	}
	return true
}

func (g *Gateway) logAccess(ctx context.Context, d *htgate.Decision, rec *statusRecorder, took time.Duration) {
	attrs := []slog.Attr{
		slog.String("ref_id", d.RefID),
		slog.String("method", d.Method),
		slog.String("path", d.Path),
		slog.Int("status", rec.Status()),
		slog.String("client", d.Client.String()),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	}
	if d.Reason != htgate.ReasonNone {
		attrs = append(attrs, slog.String("reason", string(d.Reason)), slog.String("detail", d.Detail))
	}
	if d.User != "" {
		attrs = append(attrs, slog.String("user", d.User))
	}
	if d.Rule != nil {
		attrs = append(attrs, slog.String("rule", d.Rule.ID))
	}
	g.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// statusRecorder remembers the status written through it. Unwrap lets
// http.ResponseController reach Flush and Hijack (streaming, WebSockets).
type statusRecorder struct {
	http.ResponseWriter
	status  int
	refID   string
	private bool
}

// RefIDOf returns the reference id of the request whose response w is
// writing, for backends' error callbacks, which get the gateway's writer:
// their refusal then carries the same id as the access log. It returns ""
// for a writer that did not come from the gateway.
func RefIDOf(w http.ResponseWriter) string {
	for w != nil {
		if rec, ok := w.(*statusRecorder); ok {
			return rec.refID
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return ""
		}
		w = u.Unwrap()
	}
	return ""
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.begin(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

// begin records the status of the first write and, for content shown to
// an authenticated user, adds Cache-Control: private, no-cache unless the
// backend chose its own caching.
func (s *statusRecorder) begin(code int) {
	s.status = code
	if s.private {
		if h := s.ResponseWriter.Header(); h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "private, no-cache")
		}
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.begin(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// Flush implements http.Flusher for handlers that assert it directly.
func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.begin(http.StatusOK)
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ReadFrom lets static files reach the connection's ReadFrom (sendfile)
// through the recorder, as they would without it.
func (s *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if s.status == 0 {
		s.begin(http.StatusOK)
	}
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{s.ResponseWriter}, r)
}

// Status is the status written, 200 if only a body was written, 0 if nothing.
func (s *statusRecorder) Status() int { return s.status }

// refIDs makes short reference ids: a random per-process prefix and a
// counter, unique within a process and unpredictable across processes.
type refIDs struct {
	prefix string
	n      *atomic.Uint64
}

func newRefIDs() refIDs {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return refIDs{prefix: strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), n: new(atomic.Uint64)}
}

func (r refIDs) next() string {
	var buf [40]byte
	b := append(buf[:0], r.prefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, r.n.Add(1), 36)
	return string(b)
}
