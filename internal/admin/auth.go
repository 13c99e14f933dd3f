package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/store"
)

// principal is the admin a request acts for.
type principal struct {
	name     string
	role     store.Role
	sess     *session // nil for an API token
	tokenID  string   // "" for a session
	readOnly bool     // a token with the "read" scope
}

// canWrite reports whether the principal may change the store.
func (p *principal) canWrite() bool { return p.role == store.RoleAdmin && !p.readOnly }

// access says who may use a route.
type access uint8

const (
	public      access = iota // no login (login page, assets, OpenAPI, health)
	read                      // any signed-in admin, viewer included
	write                     // role admin
	self                      // any signed-in admin (not a read-only token), about their own account
	sessionSelf               // like self, and only with a panel session
)

// route is one entry of the route table: the ServeMux pattern, who may
// use it, whether it answers JSON (API) or HTML (panel), and the handler.
type route struct {
	method, pattern string
	access          access
	api             bool
	h               func(w http.ResponseWriter, r *http.Request, p *principal)
}

// Cookie names. With TLS the __Host- prefix binds the cookie to this
// host, path "/" and Secure.
const (
	sessionCookie       = "htgate-admin"
	sessionCookieSecure = "__Host-htgate-admin"
	loginCookie         = "htgate-admin-login"
	loginCookieSecure   = "__Host-htgate-admin-login"
)

// TokenPrefix starts every admin API token, so that it can be recognised
// (and found by secret scanners).
const TokenPrefix = "htadm_"

// ScopeRead is the scope of a read-only admin API token.
const ScopeRead = "read"

func (s *Server) cookieName(r *http.Request, plain, secure string) string {
	if s.secureRequest(r) {
		return secure
	}
	return plain
}

// wrap authenticates, authorises and protects a route's handler.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access == public {
			rt.h(w, r, nil)
			return
		}
		p, bad, err := s.authenticate(r, rt.api)
		if err != nil {
			s.errorf(r, err, "authenticate")
			s.fail(w, r, rt.api, errUnavailable)
			return
		}
		if p == nil {
			s.unauthenticated(w, r, rt.api, bad)
			return
		}
		if rt.access == sessionSelf && p.sess == nil {
			s.fail(w, r, rt.api, &httpError{status: http.StatusForbidden, kind: "forbidden",
				detail: "API tokens are issued from a signed-in session (the panel's Tokens page), not with another token"})
			return
		}
		if !rt.api {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if err := r.ParseForm(); err != nil {
				s.fail(w, r, rt.api, &httpError{status: http.StatusBadRequest, kind: "bad-request", detail: "the form could not be read"})
				return
			}
		}
		if unsafeMethod(r.Method) && p.sess != nil {
			if !s.sameOrigin(r) || !s.validCSRF(r, rt.api, p.sess) {
				s.fail(w, r, rt.api, errCSRF)
				return
			}
		}
		if (rt.access == write && !p.canWrite()) || (rt.access == self && p.readOnly) {
			s.fail(w, r, rt.api, errReadOnly)
			return
		}
		ctx := store.WithActor(r.Context(), store.Actor{Name: p.name, Client: clientString(r), RefID: refOf(r)})
		rt.h(w, r.WithContext(ctx), p)
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// authenticate finds the admin of a request: by its Bearer token (API
// routes only) or its session cookie. bad is true when credentials were
// given and refused. An admin account that was removed or locked ends its
// sessions and its tokens stop working at once.
func (s *Server) authenticate(r *http.Request, api bool) (p *principal, bad bool, err error) {
	ctx := r.Context()
	if authz := r.Header.Get("Authorization"); authz != "" && api {
		scheme, tok, ok := strings.Cut(authz, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, true, nil
		}
		return s.tokenPrincipal(ctx, strings.TrimSpace(tok))
	}
	c, err := r.Cookie(s.cookieName(r, sessionCookie, sessionCookieSecure))
	if err != nil {
		return nil, false, nil
	}
	sess := s.sessions.get(c.Value)
	if sess == nil {
		return nil, true, nil
	}
	a, err := s.st.Admin(ctx, sess.admin)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.Locked) {
		s.sessions.end(sess)
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &principal{name: a.Name, role: a.Role, sess: sess}, false, nil
}

// tokenPrincipal checks an admin API token: known by its SHA-256, owned
// by an admin account that is not locked, not revoked, not expired.
func (s *Server) tokenPrincipal(ctx context.Context, tok string) (*principal, bool, error) {
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) > 256 {
		return nil, true, nil
	}
	sum := sha256.Sum256([]byte(tok))
	h := hex.EncodeToString(sum[:])
	t, err := s.st.TokenByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) != 1 || t.Admin == "" ||
		!t.Revoked.IsZero() || (!t.Expires.IsZero() && !now.Before(t.Expires)) {
		return nil, true, nil
	}
	a, err := s.st.Admin(ctx, t.Admin)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.Locked) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &principal{name: a.Name, role: a.Role, tokenID: t.ID, readOnly: slices.Contains(t.Scopes, ScopeRead)}, false, nil
}

// unauthenticated answers a request without a valid login: an API client
// gets 401 with a Bearer challenge, a browser the login page.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, api, bad bool) {
	if api {
		ch := htgate.Challenge{Scheme: "Bearer", Params: []htgate.Param{{Name: "realm", Value: adminRealm}}}
		detail := "sign in: send an admin API token (Authorization: Bearer htadm_...) or the panel's session cookie"
		if bad {
			ch.Params = append(ch.Params, htgate.Param{Name: "error", Value: "invalid_token"})
			detail = "the token or session is unknown, expired, revoked, or its admin account is locked"
		}
		w.Header().Set("WWW-Authenticate", ch.String())
		s.fail(w, r, true, &httpError{status: http.StatusUnauthorized, kind: "unauthorized", detail: detail})
		return
	}
	target := "/login"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if next := r.URL.RequestURI(); next != "/" {
			target += "?next=" + url.QueryEscape(next)
		}
	} else if bad {
		target += "?expired=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// adminRealm is the realm of the admin API's challenges.
const adminRealm = "htgate admin"

// sameOrigin reports whether a state-changing request comes from a page
// of this server: Sec-Fetch-Site must not say otherwise, and the Origin
// (or, without one, the Referer) must be this server.
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	// Over TLS the page must be https too. On plain HTTP it may be either:
	// behind a proxy that terminates TLS the browser's origin is https.
	schemes := []string{"http", "https"}
	if r.TLS != nil {
		schemes = []string{"https"}
	}
	ok := func(origin string) bool {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
		return slices.Contains(schemes, u.Scheme)
	}
	if o := r.Header.Get("Origin"); o != "" {
		return ok(o)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return ok(ref)
	}
	return false
}

// validCSRF checks the synchronizer token: the X-CSRF-Token header of an
// API request, the csrf field of a form.
func (s *Server) validCSRF(r *http.Request, api bool, sess *session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if !api {
		got = r.PostForm.Get("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}

// loginToken returns the login form's token for the pre-login cookie
// value: an HMAC under a key of this process (a signed double submit).
func (s *Server) loginToken(cookie string) string {
	m := hmac.New(sha256.New, s.loginKey)
	m.Write([]byte("login\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validLoginToken checks the login form's token against its cookie.
func (s *Server) validLoginToken(r *http.Request) bool {
	c, err := r.Cookie(s.cookieName(r, loginCookie, loginCookieSecure))
	if err != nil || c.Value == "" {
		return false
	}
	got := r.PostForm.Get("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(s.loginToken(c.Value)))
}

// checkPassword verifies an admin's password, in about the same time for
// unknown names, locked accounts and wrong passwords. It returns the
// account only when the password matches and the account may sign in.
func (s *Server) checkPassword(ctx context.Context, name string, password []byte) (store.Admin, bool, error) {
	a, err := s.st.Admin(ctx, name)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalid) {
		return store.Admin{}, false, err
	}
	hash := a.Hash
	if !known || hash == "" {
		hash = s.dummyHash()
	}
	ok, _ := passwd.Verify(hash, password) // a hash Verify refuses never matches
	if !known || a.Locked || a.Hash == "" || !ok {
		return store.Admin{}, false, nil
	}
	return a, true, nil
}

// verifyAdmin checks an admin's password under the login guard. retry > 0
// means the guard refused: the client or the name is locked out for that
// long, and no password was verified.
func (s *Server) verifyAdmin(r *http.Request, name string, password []byte) (a store.Admin, ok bool, retry time.Duration, err error) {
	ctx := r.Context()
	var att Attempt
	if s.guard != nil {
		key := name
		if n, err := store.UserName(name); err == nil {
			key = n
		}
		att, retry, err = s.guard.Enter(ctx, clientOf(r), key)
		if err != nil {
			return store.Admin{}, false, 0, fmt.Errorf("login guard: %w", err)
		}
		if att == nil {
			return store.Admin{}, false, max(retry, time.Second), nil
		}
	}
	a, ok, err = s.checkPassword(ctx, name, password)
	if att != nil {
		switch {
		case err != nil:
			att.Release()
		case ok:
			err = att.Success(ctx)
		default:
			err = att.Failure(ctx)
		}
		if err != nil {
			return store.Admin{}, false, 0, fmt.Errorf("login guard: %w", err)
		}
	}
	return a, ok, 0, err
}

// tooMany is the refusal of a locked-out login.
func tooMany(retry time.Duration) error {
	return &httpError{status: http.StatusTooManyRequests, kind: "too-many-requests", retryAfter: retry,
		detail: fmt.Sprintf("too many failed sign-ins from this address or for this name: try again in %s", roundUp(retry))}
}

// roundUp formats a wait for people: whole minutes, or seconds under one.
func roundUp(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int((d+time.Second-1)/time.Second))
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
