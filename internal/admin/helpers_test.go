package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/store/sqlite"
)

// Test accounts of newEnv.
const (
	rootName, rootPassword     = "root", "root-password-1"
	viewerName, viewerPassword = "watcher", "watcher-password-1"
)

// env is an admin server on a real SQLite store in t.TempDir().
type env struct {
	t   *testing.T
	st  *sqlite.DB
	srv *Server
	ts  *httptest.Server
}

// cheapHash hashes with bcrypt's minimum cost, to keep tests fast.
func cheapHash(p []byte) (string, error) {
	return passwd.Hash(passwd.FormatBcrypt, p, passwd.HashOptions{BcryptCost: passwd.MinBcryptCost})
}

func newEnv(t *testing.T, mod ...func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "htgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, a := range []struct {
		name, pw string
		role     store.Role
	}{{rootName, rootPassword, store.RoleAdmin}, {viewerName, viewerPassword, store.RoleViewer}} {
		h, err := cheapHash([]byte(a.pw))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddAdmin(ctx, store.Admin{Name: a.name, Hash: h, Role: a.role}); err != nil {
			t.Fatal(err)
		}
	}
	o := Options{Store: st, HashPassword: cheapHash}
	for _, m := range mod {
		m(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, st: st, srv: srv, ts: ts}
}

// browser is a cookie-keeping client that does not follow redirects and
// sends the Origin of the test server, as a browser posting a form does.
type browser struct {
	e      *env
	c      *http.Client
	origin string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, origin: e.ts.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

// resp is a response with its body read.
type resp struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) resp {
	b.e.t.Helper()
	r, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return resp{Response: r, body: string(data)}
}

func (b *browser) get(path string) resp {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.ts.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// post posts a form as the browser would, with its Origin.
func (b *browser) post(path string, form url.Values) resp {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form of a page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return m[1]
}

// login signs in and returns the session's CSRF token.
func (b *browser) login(name, password string) string {
	t := b.e.t
	t.Helper()
	page := b.get("/login")
	r := b.post("/login", url.Values{"csrf": {csrfOf(t, page.body)}, "name": {name}, "password": {password}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d, want 303\n%s", name, r.StatusCode, r.body)
	}
	return csrfOf(t, b.get("/urls").body)
}

// sessionCookie returns the session cookie's value.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.e.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

// api is a client of the JSON API with a Bearer token.
type api struct {
	e     *env
	token string
}

// call sends a JSON request; in is marshalled unless it is a string.
func (a api) call(method, path string, in any) resp {
	a.e.t.Helper()
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case string:
		body = strings.NewReader(v)
	default:
		data, err := json.Marshal(v)
		if err != nil {
			a.e.t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.e.ts.URL+path, body)
	if err != nil {
		a.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	r, err := a.e.ts.Client().Do(req)
	if err != nil {
		a.e.t.Fatal(err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		a.e.t.Fatal(err)
	}
	return resp{Response: r, body: string(data)}
}

// want checks the status.
func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL, r.StatusCode, status, r.body)
	}
	return r
}

// decode unmarshals the body.
func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", r.Request.Method, r.Request.URL, err, r.body)
	}
	return v
}

// tokenFor signs in as name in a browser and issues an admin API token
// through the API with the session (X-CSRF-Token from /api/me).
func (e *env) tokenFor(name, password string, readOnly bool) string {
	e.t.Helper()
	b := e.browser()
	b.login(name, password)
	m := decode[me](e.t, b.get("/api/me").want(e.t, http.StatusOK))
	body, _ := json.Marshal(newToken{Name: "test", ReadOnly: readOnly})
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/api/tokens", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", m.CSRFToken)
	req.Header.Set("Origin", e.ts.URL)
	r := b.do(req).want(e.t, http.StatusCreated)
	return decode[struct {
		Token string `json:"token"`
	}](e.t, r).Token
}

// rootAPI returns an API client with a token of the admin root.
func (e *env) rootAPI() api { return api{e: e, token: e.tokenFor(rootName, rootPassword, false)} }
