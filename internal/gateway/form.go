package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/state"
)

// Form login endpoints, under ReservedPrefix.
const (
	LoginPath  = ReservedPrefix + "login"
	LogoutPath = ReservedPrefix + "logout"
)

// Default session lifetimes.
const (
	DefaultSessionIdle     = 24 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
)

// The scheme name of form login in rules.
const schemeForm = "form"

// FormLogin configures form login with sessions, for rules whose Schemes
// include "form".
type FormLogin struct {
	// Sessions holds the sessions. Required.
	Sessions state.Sessions
	// Idle ends a session not used for this long. Default DefaultSessionIdle.
	Idle time.Duration
	// Absolute ends a session this long after sign-in. Default DefaultSessionAbsolute.
	Absolute time.Duration
	// Key signs the CSRF tokens (HMAC-SHA-256); nodes behind one name
	// share it. Nil: a random key, so that forms do not survive a restart.
	Key []byte
}

func (f *FormLogin) withDefaults() *FormLogin {
	if f == nil {
		return nil
	}
	c := *f
	if c.Idle <= 0 {
		c.Idle = DefaultSessionIdle
	}
	if c.Absolute <= 0 {
		c.Absolute = DefaultSessionAbsolute
	}
	if len(c.Key) == 0 {
		c.Key = make([]byte, 32)
		if _, err := rand.Read(c.Key); err != nil {
			panic("gateway: no randomness for the CSRF key: " + err.Error())
		}
	}
	return &c
}

// Cookie names: the __Host- prefix (Secure, Path=/, no Domain) over TLS.
func sessionCookie(r *http.Request) string {
	if r.TLS != nil {
		return "__Host-htgate_session"
	}
	return "htgate_session"
}

func csrfCookie(r *http.Request) string {
	if r.TLS != nil {
		return "__Host-htgate_csrf"
	}
	return "htgate_csrf"
}

// sessionIDLen is the length of a session id: 32 random bytes, base64url.
const sessionIDLen = 43

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validSecret reports whether s has the shape of newSecret's output.
func validSecret(s string) bool {
	if len(s) != sessionIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// sessionKey is what the session store keeps a session under: the
// SHA-256 of its id, so that a dump of the store holds no live id.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: r.TLS != nil, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// sessionPrincipal returns the user of a valid session cookie for rule.
func (g *Gateway) sessionPrincipal(ctx context.Context, p *Policy, rule *policy.Rule, r *http.Request, d *htgate.Decision) (*htgate.Principal, bool) {
	f := g.form
	if f == nil {
		return nil, false
	}
	c, err := r.Cookie(sessionCookie(r))
	if err != nil || !validSecret(c.Value) {
		return nil, false
	}
	s, ok, err := f.Sessions.Get(ctx, sessionKey(c.Value), f.Idle)
	if err != nil {
		g.opts.Logger.ErrorContext(ctx, "session store unavailable", "err", err, "ref_id", d.RefID)
		return nil, false
	}
	if !ok || s.Source != rule.Source {
		if d.Tracing {
			d.Record("authn", htgate.OutcomeInfo, "session cookie unknown, ended, or of another credential source")
		}
		return nil, false
	}
	if src, ok := p.Credentials[rule.Source]; ok {
		if creds, _, err := src.Current(); err != nil {
			return nil, false
		} else if _, known := creds.Lookup(s.User); !known {
			return nil, false // the user was removed
		}
	}
	d.User = s.User
	if d.Tracing {
		d.Record("authn", htgate.OutcomePass, "form login: session of user "+s.User)
	}
	return &htgate.Principal{Name: s.User, Scheme: schemeForm}, true
}

// wantsLoginPage reports whether a request without credentials should be
// sent to the login page: a GET or HEAD of a browser, whose Accept prefers
// text/html to JSON. API clients (curl's */*) get the 401.
func wantsLoginPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	html, json := -1.0, -1.0
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			media, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(media)) {
			case "text/html", "application/xhtml+xml":
				html = max(html, q)
			case "application/json", "application/problem+json":
				json = max(json, q)
			}
		}
	}
	return html > 0 && html >= json
}

// redirectToLogin marks d as a 303 to the login page; ServeHTTP writes it.
func (g *Gateway) redirectToLogin(rule *policy.Rule, d *htgate.Decision) {
	d.Refuse(http.StatusSeeOther, htgate.ReasonCredentialsMissing, "authn", "no credentials: a browser is sent to the login page")
	d.Challenges = append(d.Challenges, g.challenges(rule)...)
}

// loginLocation is the login page's URL for a request to r.
func loginLocation(r *http.Request) string {
	ret := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		ret += "?" + r.URL.RawQuery
	}
	if !SafeReturn(ret) {
		ret = "/"
	}
	return LoginPath + "?return=" + url.QueryEscape(ret)
}

// SafeReturn reports whether ret may be redirected to after signing in: a
// same-site relative path ("/" but not "//" or "/\"), without backslashes,
// control characters or a scheme or host once parsed, at most 2048 bytes.
func SafeReturn(ret string) bool {
	if len(ret) == 0 || len(ret) > 2048 || ret[0] != '/' {
		return false
	}
	if len(ret) > 1 && (ret[1] == '/' || ret[1] == '\\') {
		return false
	}
	for i := 0; i < len(ret); i++ {
		if c := ret[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	return true
}

// csrfToken is the HMAC of the pre-session cookie's value.
func (g *Gateway) csrfToken(pre string) string {
	m := hmac.New(sha256.New, g.form.Key)
	m.Write([]byte("htgate csrf\x00"))
	m.Write([]byte(pre))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// preSession returns the pre-session cookie's value, setting a new one
// when the request has none.
func (g *Gateway) preSession(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(csrfCookie(r)); err == nil && validSecret(c.Value) {
		return c.Value, nil
	}
	v, err := newSecret()
	if err != nil {
		return "", err
	}
	setCookie(w, r, csrfCookie(r), v, 0)
	return v, nil
}

// checkCSRF reports whether the posted form carries the token bound to
// the request's pre-session cookie (double submit, signed).
func (g *Gateway) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie(r))
	if err != nil || !validSecret(c.Value) {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(g.csrfToken(c.Value))) == 1
}

// maxLoginForm bounds a login or logout form's body.
const maxLoginForm = 8 << 10

// serveLogin is /.htgate/login: GET shows the form, POST signs in.
func (g *Gateway) serveLogin(w http.ResponseWriter, r *http.Request) {
	start := g.opts.Now()
	d := &htgate.Decision{RefID: g.refs.next(), Method: r.Method, Host: r.Host, Path: LoginPath}
	g.resolveClient(r, d)
	rec := &statusRecorder{ResponseWriter: w, refID: d.RefID}
	w = rec
	if g.opts.AccessLog {
		defer func() { g.logAccess(r.Context(), d, rec, g.opts.Now().Sub(start)) }()
	}
	if g.form == nil {
		g.opts.Responder.Error(w, r, http.StatusNotFound, htgate.ReasonNotFound, d.RefID)
		return
	}
	if release, ok := g.acquireClient(d); !ok {
		g.opts.Responder.Refuse(w, r, d)
		return
	} else if release != nil {
		defer release()
	}
	page := respond.Login{Action: LoginPath, RefID: d.RefID}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		page.Return = r.URL.Query().Get("return")
		if !SafeReturn(page.Return) {
			page.Return = "/"
		}
		if rule := g.formRule(r, page.Return); rule != nil {
			page.Realm = rule.Realm
		}
		g.showLogin(w, r, http.StatusOK, page)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
		if err := r.ParseForm(); err != nil {
			g.opts.Responder.Error(w, r, http.StatusBadRequest, htgate.ReasonBadRequest, d.RefID)
			return
		}
		g.login(w, r, d, page)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		g.opts.Responder.Error(w, r, http.StatusMethodNotAllowed, htgate.ReasonMethodNotAllowed, d.RefID)
	}
}

// showLogin writes a login or logout page with a fresh CSRF token.
func (g *Gateway) showLogin(w http.ResponseWriter, r *http.Request, status int, page respond.Login) {
	pre, err := g.preSession(w, r)
	if err != nil {
		g.opts.Responder.Error(w, r, http.StatusInternalServerError, htgate.ReasonServerError, page.RefID)
		return
	}
	page.CSRF = g.csrfToken(pre)
	g.opts.Responder.Login(w, r, status, page)
}

// formRule returns the rule that protects ret with form login, or nil.
func (g *Gateway) formRule(r *http.Request, ret string) *policy.Rule {
	table := g.policy.Load().Rules
	if u, err := url.Parse(ret); err == nil {
		if path, err := NormalizePath(u.EscapedPath()); err == nil {
			if rule := table.Match(r.Host, path); rule != nil {
				if rule.HasScheme(schemeForm) {
					return rule
				}
				return nil // protected otherwise: signing in here would not help
			}
		}
	}
	// Not a form-protected path (the site's home, or a hostile return
	// replaced by "/"): the form rule of this host, when all of them
	// check one credential source.
	var found *policy.Rule
	rules := table.Rules()
	for i := range rules {
		rule := &rules[i]
		if !rule.HasScheme(schemeForm) || (rule.Host != "" && !strings.EqualFold(rule.Host, hostOnly(r.Host))) {
			continue
		}
		if found != nil && found.Source != rule.Source {
			return nil
		}
		if found == nil {
			found = rule
		}
	}
	return found
}

// hostOnly drops the port of a Host header.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i]
	}
	return h
}

// login checks a posted user name and password against the credential
// source of the rule protecting the return path, under the guard, and on
// success starts a new session and goes back.
func (g *Gateway) login(w http.ResponseWriter, r *http.Request, d *htgate.Decision, page respond.Login) {
	ctx := r.Context()
	page.Return = r.PostFormValue("return")
	if !SafeReturn(page.Return) {
		page.Return = "/"
	}
	if !g.checkCSRF(r) {
		page.Kind = respond.LoginExpiredForm
		d.Reason, d.Detail = htgate.ReasonBadRequest, "form login: CSRF token missing or wrong"
		g.opts.Logger.InfoContext(ctx, "login refused: CSRF token missing or wrong", "client", d.Client.String(), "ref_id", d.RefID)
		g.showLogin(w, r, http.StatusForbidden, page)
		return
	}
	p := g.policy.Load()
	rule := g.formRule(r, page.Return)
	user := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	page.User = user
	if rule == nil || user == "" || len(user) > 256 || password == "" || len(password) > 4096 {
		page.Kind = respond.LoginFailed
		d.Reason, d.Detail = htgate.ReasonLogonFailed, "form login: no form-login rule for the return path, or an empty or oversized field"
		g.showLogin(w, r, http.StatusOK, page)
		return
	}
	page.Realm = rule.Realm
	d.Rule = &htgate.RuleRef{ID: rule.ID, Origin: rule.Origin, Host: rule.Host, Path: rule.Path, Realm: rule.Realm}
	user = canonicalUser(p, rule, user)
	d.User = user
	if !g.checkGuard(ctx, rule, d, user) {
		g.opts.Responder.Refuse(w, r, d) // 429 with Retry-After
		return
	}
	src, ok := p.Credentials[rule.Source]
	if !ok {
		g.opts.Responder.Error(w, r, http.StatusInternalServerError, htgate.ReasonServerError, d.RefID)
		return
	}
	snapshot, version, err := src.Current()
	if err != nil {
		g.opts.Logger.ErrorContext(ctx, "credential source unreadable", "source", rule.Source, "err", err, "ref_id", d.RefID)
		g.opts.Responder.Error(w, r, http.StatusInternalServerError, htgate.ReasonServerError, d.RefID)
		return
	}
	valid, _, err := g.verify(ctx, false, d.Client, rule.Source, version, snapshot, user, password)
	var refused *refusedByGuard
	if errors.As(err, &refused) {
		g.refuseByGuard(rule, d, refused.v)
		g.opts.Responder.Refuse(w, r, d)
		return
	}
	if err != nil {
		g.opts.Logger.ErrorContext(ctx, "hash unverifiable", "source", rule.Source, "user", user, "err", err, "ref_id", d.RefID)
		g.opts.Responder.Error(w, r, http.StatusInternalServerError, htgate.ReasonServerError, d.RefID)
		return
	}
	if valid {
		if a := accountsOf(p, rule); a != nil && a.Locked(user) {
			valid = false
		}
	}
	if !valid {
		g.countFailure(htgate.ReasonLogonFailed)
		d.Reason, d.Detail = htgate.ReasonLogonFailed, "form login: unknown user, wrong password or locked account"
		g.opts.Logger.InfoContext(ctx, "login failed", "user", user, "client", d.Client.String(), "rule", rule.ID, "ref_id", d.RefID)
		page.Kind = respond.LoginFailed
		g.showLogin(w, r, http.StatusOK, page)
		return
	}
	// A new id at every sign-in (no fixation); the old session ends.
	if c, err := r.Cookie(sessionCookie(r)); err == nil && validSecret(c.Value) {
		_ = g.form.Sessions.Delete(ctx, sessionKey(c.Value))
	}
	id, err := newSecret()
	if err != nil {
		g.opts.Responder.Error(w, r, http.StatusInternalServerError, htgate.ReasonServerError, d.RefID)
		return
	}
	now := g.opts.Now()
	s := state.Session{User: user, Source: rule.Source, Created: now, Expires: now.Add(g.form.Absolute)}
	if err := g.form.Sessions.Create(ctx, sessionKey(id), s, g.form.Idle); err != nil {
		g.opts.Logger.ErrorContext(ctx, "session store unavailable", "err", err, "ref_id", d.RefID)
		g.opts.Responder.Error(w, r, http.StatusServiceUnavailable, htgate.ReasonServerError, d.RefID)
		return
	}
	setCookie(w, r, sessionCookie(r), id, int(g.form.Absolute/time.Second))
	g.opts.Logger.InfoContext(ctx, "login", "user", user, "client", d.Client.String(), "rule", rule.ID, "ref_id", d.RefID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, page.Return, http.StatusSeeOther)
}

// serveLogout is /.htgate/logout: GET asks to confirm, POST (with the CSRF
// token) ends the session in the store and clears the cookie.
func (g *Gateway) serveLogout(w http.ResponseWriter, r *http.Request) {
	refID := g.refs.next()
	if g.form == nil {
		g.opts.Responder.Error(w, r, http.StatusNotFound, htgate.ReasonNotFound, refID)
		return
	}
	page := respond.Login{Kind: respond.LogoutConfirm, Action: LogoutPath, RefID: refID}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		g.showLogin(w, r, http.StatusOK, page)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
		if err := r.ParseForm(); err != nil {
			g.opts.Responder.Error(w, r, http.StatusBadRequest, htgate.ReasonBadRequest, refID)
			return
		}
		if !g.checkCSRF(r) {
			g.showLogin(w, r, http.StatusForbidden, page)
			return
		}
		if c, err := r.Cookie(sessionCookie(r)); err == nil && validSecret(c.Value) {
			if err := g.form.Sessions.Delete(r.Context(), sessionKey(c.Value)); err != nil {
				g.opts.Logger.ErrorContext(r.Context(), "session store unavailable", "err", err, "ref_id", refID)
				g.opts.Responder.Error(w, r, http.StatusServiceUnavailable, htgate.ReasonServerError, refID)
				return
			}
		}
		setCookie(w, r, sessionCookie(r), "", -1)
		g.showLogin(w, r, http.StatusOK, respond.Login{Kind: respond.LoginSignedOut, Action: LoginPath, Return: "/", RefID: refID})
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		g.opts.Responder.Error(w, r, http.StatusMethodNotAllowed, htgate.ReasonMethodNotAllowed, refID)
	}
}
