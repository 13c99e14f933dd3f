package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/htgate/htgate/internal/scheme"
	"github.com/htgate/htgate/internal/store"
)

func TestAPIUnauthenticated(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, token, wantChallenge string
	}{
		{"no token", "", `Bearer realm="htgate admin"`},
		{"unknown token", "htadm_0123_abcdef", `Bearer realm="htgate admin", error="invalid_token"`},
		{"not ours", "eyJhbGciOi", `Bearer realm="htgate admin", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := api{e: e, token: tt.token}.call("GET", "/api/users", nil).want(t, http.StatusUnauthorized)
			if got := r.Header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChallenge)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			p := decode[problem](t, r)
			if p.Type != "urn:htgate:admin:unauthorized" || p.Status != 401 || p.RefID == "" {
				t.Errorf("problem = %+v", p)
			}
		})
	}
}

func TestAPIProblemFieldErrors(t *testing.T) {
	e := newEnv(t)
	a := e.rootAPI()
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		status     int
		wantFields []string
	}{
		{"bad name and short password", "POST", "/api/users", map[string]any{"name": "a b", "password": "short"}, 422, []string{"name", "password"}},
		{"missing name", "POST", "/api/users", map[string]any{"password": "long enough"}, 422, []string{"name"}},
		{"colon in name", "POST", "/api/users", map[string]any{"name": "a:b", "password": "long enough"}, 422, []string{"name"}},
		{"unknown member", "POST", "/api/users", map[string]any{"name": "bob", "password": "long enough", "admin": true}, 422, []string{"admin"}},
		{"wrong type", "POST", "/api/users", map[string]any{"name": "bob", "password": "long enough", "locked": "yes"}, 422, []string{"locked"}},
		{"control character", "POST", "/api/users", map[string]any{"name": "bob", "password": "long enough", "display_name": "a\nb"}, 422, []string{"display_name"}},
		{"relative path", "POST", "/api/urls", map[string]any{"path": "members"}, 422, []string{"path"}},
		{"dot segment and port", "POST", "/api/urls", map[string]any{"path": "/a/../b", "host": "example.com:80"}, 422, []string{"path", "host"}},
		{"unknown scheme", "POST", "/api/urls", map[string]any{"path": "/m", "schemes": []string{"ntlm"}}, 422, []string{"schemes"}},
		{"bad grant kind", "POST", "/api/grants/*/m", map[string]any{"kind": "everyone"}, 422, []string{"kind"}},
		{"bad limit", "GET", "/api/users?limit=0", nil, 422, []string{"limit"}},
		{"bad cursor", "GET", "/api/users?cursor=%25%25", nil, 422, []string{"cursor"}},
		{"bad since", "GET", "/api/audit?since=yesterday", nil, 422, []string{"since"}},
		{"bad expiry", "POST", "/api/users", map[string]any{"name": "", "password": ""}, 422, []string{"name", "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(tt.method, tt.path, tt.body).want(t, tt.status)
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			p := decode[problem](t, r)
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Field)
				if f.Message == "" {
					t.Errorf("field %s: empty message", f.Field)
				}
			}
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s\n%s", diff, r.body)
			}
			if p.Type != "urn:htgate:admin:validation" || p.Instance != "urn:htgate:ref:"+p.RefID {
				t.Errorf("problem = %+v", p)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		a.call("POST", "/api/users", "{").want(t, http.StatusBadRequest)
		r := a.call("POST", "/api/users", "")
		if r.StatusCode != http.StatusUnsupportedMediaType && r.StatusCode != http.StatusBadRequest {
			t.Errorf("empty body: status %d", r.StatusCode)
		}
		a.call("POST", "/api/users", `{"name":"x","password":"long enough"} {}`).want(t, http.StatusBadRequest)
	})
	t.Run("not found", func(t *testing.T) {
		p := decode[problem](t, a.call("GET", "/api/users/nobody", nil).want(t, http.StatusNotFound))
		if p.Type != "urn:htgate:admin:not-found" {
			t.Errorf("type = %q", p.Type)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		a.call("POST", "/api/users", newUser{Name: "dup", Password: "long enough"}).want(t, http.StatusCreated)
		p := decode[problem](t, a.call("POST", "/api/users", newUser{Name: "DUP", Password: "long enough"}).want(t, 422))
		if len(p.Errors) != 1 || p.Errors[0].Field != "name" || !strings.Contains(p.Errors[0].Message, "exists") {
			t.Errorf("errors = %+v", p.Errors)
		}
	})
}

func TestAPIFallback(t *testing.T) {
	e := newEnv(t)
	a := e.rootAPI()
	r := a.call("GET", "/api/nothing", nil).want(t, http.StatusNotFound)
	if r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("404 Content-Type = %q", r.Header.Get("Content-Type"))
	}
	r = a.call("PUT", "/api/users", "{}").want(t, http.StatusMethodNotAllowed)
	if got := r.Header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow = %q, want GET, POST", got)
	}
}

func TestAPIPagination(t *testing.T) {
	e := newEnv(t)
	a := e.rootAPI()
	var want []string
	for i := range 7 {
		n := fmt.Sprintf("user%d", i)
		want = append(want, n)
		a.call("POST", "/api/users", newUser{Name: n, Password: "password-" + n}).want(t, http.StatusCreated)
	}
	var got []string
	path := "/api/users?limit=3"
	pages := 0
	for {
		r := a.call("GET", path, nil).want(t, http.StatusOK)
		l := decode[list[store.User]](t, r)
		pages++
		for _, u := range l.Items {
			got = append(got, u.Name)
		}
		if l.NextCursor == "" {
			if r.Header.Get("Link") != "" {
				t.Errorf("last page has a Link header: %q", r.Header.Get("Link"))
			}
			break
		}
		if len(l.Items) != 3 {
			t.Errorf("page %d has %d items, want 3", pages, len(l.Items))
		}
		if !strings.Contains(r.Header.Get("Link"), `rel="next"`) {
			t.Errorf("Link = %q", r.Header.Get("Link"))
		}
		path = "/api/users?limit=3&cursor=" + url.QueryEscape(l.NextCursor)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users over pages (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}

	// The audit log pages by id, newest first.
	var ids []int64
	path = "/api/audit?action=user.add&limit=4"
	for {
		l := decode[list[store.AuditEvent]](t, a.call("GET", path, nil).want(t, http.StatusOK))
		for _, ev := range l.Items {
			ids = append(ids, ev.ID)
		}
		if l.NextCursor == "" {
			break
		}
		path = "/api/audit?action=user.add&limit=4&cursor=" + url.QueryEscape(l.NextCursor)
	}
	if len(ids) != 7 || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) {
		t.Errorf("audit ids over pages = %v, want 7 newest first", ids)
	}
}

func TestAPIURLsAndGrants(t *testing.T) {
	e := newEnv(t)
	a := e.rootAPI()
	a.call("POST", "/api/users", newUser{Name: "alice", Password: "alice-password"}).want(t, http.StatusCreated)
	a.call("POST", "/api/groups", map[string]string{"name": "staff"}).want(t, http.StatusCreated)
	a.call("PUT", "/api/groups/staff/members/alice", nil).want(t, http.StatusNoContent)
	a.call("PUT", "/api/groups/staff/members/nobody", nil).want(t, 422)

	r := a.call("POST", "/api/urls", newURL{Path: "/members/", Realm: "Members", Schemes: []string{"Basic"}}).want(t, http.StatusCreated)
	if got := r.Header.Get("Location"); got != "/api/urls/*/members" {
		t.Errorf("Location = %q", got)
	}
	a.call("POST", "/api/urls", newURL{Path: "/", Host: "Example.COM"}).want(t, http.StatusCreated)
	a.call("POST", "/api/urls", newURL{Path: "/members"}).want(t, 422)

	a.call("POST", "/api/grants/*/members", grantInput{Kind: "user", Name: "Alice"}).want(t, http.StatusOK)
	a.call("POST", "/api/grants/*/members", grantInput{Kind: "group", Name: "staff"}).want(t, http.StatusOK)
	a.call("POST", "/api/grants/example.com/", grantInput{Kind: "valid-user"}).want(t, http.StatusOK)
	a.call("POST", "/api/grants/*/members", grantInput{Kind: "user", Name: "bob"}).want(t, 422)
	a.call("POST", "/api/grants/*/nothing", grantInput{Kind: "user", Name: "alice"}).want(t, http.StatusNotFound)

	u := decode[store.URL](t, a.call("GET", "/api/urls/*/members", nil).want(t, http.StatusOK))
	want := []store.Grant{{Kind: store.GrantUser, Name: "alice"}, {Kind: store.GrantGroup, Name: "staff"}}
	if diff := cmp.Diff(want, u.Grants); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	if u.Realm != "Members" || !slices.Equal(u.Schemes, []string{"basic"}) {
		t.Errorf("url = %+v", u)
	}
	root := decode[store.URL](t, a.call("GET", "/api/urls/example.com/", nil).want(t, http.StatusOK))
	if root.Path != "/" || root.Host != "example.com" || len(root.Grants) != 1 || root.Grants[0].Kind != store.GrantValidUser {
		t.Errorf("root url = %+v", root)
	}

	realm := "Staff only"
	u = decode[store.URL](t, a.call("PATCH", "/api/urls/*/members", urlPatch{Realm: &realm, Schemes: []string{"basic", "digest"}}).want(t, http.StatusOK))
	if u.Realm != realm || !slices.Equal(u.Schemes, []string{"basic", "digest"}) {
		t.Errorf("patched url = %+v", u)
	}
	a.call("DELETE", "/api/grants/*/members?kind=group&name=staff", nil).want(t, http.StatusNoContent)
	a.call("DELETE", "/api/grants/*/members?kind=group&name=staff", nil).want(t, http.StatusNotFound)

	l := decode[list[store.URL]](t, a.call("GET", "/api/urls", nil).want(t, http.StatusOK))
	if len(l.Items) != 2 {
		t.Errorf("%d urls, want 2", len(l.Items))
	}
	a.call("DELETE", "/api/urls/example.com/", nil).want(t, http.StatusNoContent)
	a.call("GET", "/api/urls/example.com/", nil).want(t, http.StatusNotFound)
	a.call("DELETE", "/api/groups/staff", nil).want(t, http.StatusNoContent)

	// Lock and unlock.
	locked := true
	if u := decode[store.User](t, a.call("PATCH", "/api/users/alice", userPatch{Locked: &locked}).want(t, http.StatusOK)); !u.Locked {
		t.Errorf("user not locked: %+v", u)
	}
	a.call("PUT", "/api/users/alice/password", map[string]string{"password": "short"}).want(t, 422)
	a.call("PUT", "/api/users/alice/password", map[string]string{"password": "a new password"}).want(t, http.StatusNoContent)
}

func TestAPIRemoveSoleAccess(t *testing.T) {
	e := newEnv(t)
	a := e.rootAPI()
	a.call("POST", "/api/users", newUser{Name: "alice", Password: "alice-password"}).want(t, http.StatusCreated)
	a.call("POST", "/api/urls", newURL{Path: "/members"}).want(t, http.StatusCreated)
	a.call("POST", "/api/grants/*/members", grantInput{Kind: "user", Name: "alice"}).want(t, http.StatusOK)

	r := a.call("DELETE", "/api/users/alice", nil).want(t, http.StatusConflict)
	p := decode[problem](t, r)
	if p.Type != "urn:htgate:admin:sole-access" || len(p.SoleAccess) != 1 || p.SoleAccess[0].Path != "/members" {
		t.Errorf("problem = %+v", p)
	}
	a.call("GET", "/api/users/alice", nil).want(t, http.StatusOK)
	a.call("DELETE", "/api/users/alice?force=maybe", nil).want(t, 422)
	a.call("DELETE", "/api/users/alice?force=true", nil).want(t, http.StatusNoContent)
	a.call("GET", "/api/users/alice", nil).want(t, http.StatusNotFound)
}

func TestAPITokens(t *testing.T) {
	e := newEnv(t)
	tok := e.tokenFor(rootName, rootPassword, false)
	if !strings.HasPrefix(tok, TokenPrefix) {
		t.Fatalf("token %q lacks the prefix %q", tok, TokenPrefix)
	}
	a := api{e: e, token: tok}
	m := decode[me](t, a.call("GET", "/api/me", nil).want(t, http.StatusOK))
	if m.Name != rootName || m.Via != "token" || m.ReadOnly || m.CSRFToken != "" {
		t.Errorf("me = %+v", m)
	}

	// The secret is nowhere in the store or the listing.
	ts := decode[list[store.Token]](t, a.call("GET", "/api/tokens", nil).want(t, http.StatusOK))
	if len(ts.Items) != 1 || ts.Items[0].Admin != rootName {
		t.Fatalf("tokens = %+v", ts.Items)
	}
	body := a.call("GET", "/api/tokens", nil).body
	if strings.Contains(body, tok) || strings.Contains(body, tok[len(tok)-20:]) {
		t.Error("the token listing shows the secret")
	}

	// A token cannot issue tokens, nor ask for a user's (not yet).
	a.call("POST", "/api/tokens", newToken{Name: "x"}).want(t, http.StatusForbidden)

	// Read-only tokens read.
	ro := api{e: e, token: e.tokenFor(rootName, rootPassword, true)}
	ro.call("GET", "/api/users", nil).want(t, http.StatusOK)
	ro.call("POST", "/api/users", newUser{Name: "x", Password: "long enough"}).want(t, http.StatusForbidden)
	ro.call("PUT", "/api/me/password", passwordChange{Current: rootPassword, New: "another password"}).want(t, http.StatusForbidden)

	// Revoked tokens stop at once.
	id := ts.Items[0].ID
	a.call("DELETE", "/api/tokens/"+id, nil).want(t, http.StatusNoContent)
	r := a.call("GET", "/api/me", nil).want(t, http.StatusUnauthorized)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	ro.call("DELETE", "/api/tokens/nope", nil).want(t, http.StatusForbidden) // read-only: no revoking either

	// A locked admin's tokens stop too.
	locked := true
	if _, err := e.st.UpdateAdmin(context.Background(), rootName, store.AdminUpdate{Locked: &locked}); err != nil {
		t.Fatal(err)
	}
	ro.call("GET", "/api/users", nil).want(t, http.StatusUnauthorized)
}

func TestAPIIssueUserToken(t *testing.T) {
	e := newEnv(t)
	if _, err := e.st.AddUser(context.Background(), store.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login(rootName, rootPassword)
	m := decode[me](t, b.get("/api/me"))
	post := func(body string) *http.Request {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", m.CSRFToken)
		req.Header.Set("Origin", e.ts.URL)
		return req
	}
	got := decode[issued](t, b.do(post(`{"user":"alice","scopes":["/api"],"expires_in":"720h"}`)).want(t, http.StatusCreated))
	if got.User != "alice" || got.Admin != "" || !strings.HasPrefix(got.Secret, "htg_") || len(got.Scopes) != 1 || got.Scopes[0] != "/api" {
		t.Errorf("issued = %+v", got)
	}
	stored, err := e.st.TokenByHash(context.Background(), scheme.TokenHash(got.Secret))
	if err != nil || stored.ID != got.ID {
		t.Errorf("stored token = %+v, %v", stored, err)
	}
	b.do(post(`{"user":"nobody"}`)).want(t, http.StatusNotFound)
	b.do(post(`{"scopes":["/api"]}`)).want(t, http.StatusUnprocessableEntity)
	b.do(post(`{"user":"alice","scopes":["api"]}`)).want(t, http.StatusUnprocessableEntity)
}

func TestAPISessionNeedsCSRFHeader(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(rootName, rootPassword)
	m := decode[me](t, b.get("/api/me").want(t, http.StatusOK))
	if m.Via != "session" || m.CSRFToken == "" {
		t.Fatalf("me = %+v", m)
	}
	post := func(csrf, origin string) resp {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/groups", strings.NewReader(`{"name":"staff"}`))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return b.do(req)
	}
	post("", e.ts.URL).want(t, http.StatusForbidden)
	post("wrong", e.ts.URL).want(t, http.StatusForbidden)
	post(m.CSRFToken, "http://evil.example").want(t, http.StatusForbidden)
	post(m.CSRFToken, "").want(t, http.StatusForbidden)
	post(m.CSRFToken, e.ts.URL).want(t, http.StatusCreated)
}

func TestAPIViewer(t *testing.T) {
	e := newEnv(t)
	root := e.rootAPI()
	root.call("POST", "/api/users", newUser{Name: "alice", Password: "alice-password"}).want(t, http.StatusCreated)
	v := api{e: e, token: e.tokenFor(viewerName, viewerPassword, false)}
	m := decode[me](t, v.call("GET", "/api/me", nil).want(t, http.StatusOK))
	if m.Role != store.RoleViewer || !m.ReadOnly {
		t.Errorf("me = %+v", m)
	}
	for _, path := range []string{"/api/users", "/api/users/alice", "/api/groups", "/api/urls", "/api/tokens", "/api/audit"} {
		v.call("GET", path, nil).want(t, http.StatusOK)
	}
	writes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/users", newUser{Name: "bob", Password: "bob-password"}},
		{"PATCH", "/api/users/alice", map[string]bool{"locked": true}},
		{"PUT", "/api/users/alice/password", map[string]string{"password": "new password"}},
		{"DELETE", "/api/users/alice?force=true", nil},
		{"POST", "/api/groups", map[string]string{"name": "g"}},
		{"POST", "/api/urls", newURL{Path: "/x"}},
		{"POST", "/api/grants/*/x", grantInput{Kind: "valid-user"}},
	}
	for _, w := range writes {
		p := decode[problem](t, v.call(w.method, w.path, w.body).want(t, http.StatusForbidden))
		if p.Type != "urn:htgate:admin:forbidden" {
			t.Errorf("%s %s: type %q", w.method, w.path, p.Type)
		}
	}
	root.call("GET", "/api/users/alice", nil).want(t, http.StatusOK)
	// A viewer may revoke their own token, not others'.
	rootTokens := decode[list[store.Token]](t, v.call("GET", "/api/tokens?admin=root", nil).want(t, http.StatusOK))
	v.call("DELETE", "/api/tokens/"+rootTokens.Items[0].ID, nil).want(t, http.StatusForbidden)
	mine := decode[list[store.Token]](t, v.call("GET", "/api/tokens?admin=watcher", nil).want(t, http.StatusOK))
	v.call("DELETE", "/api/tokens/"+mine.Items[0].ID, nil).want(t, http.StatusNoContent)
}

func TestAPIAuditRecordsChanges(t *testing.T) {
	e := newEnv(t)
	a := e.rootAPI()
	a.call("POST", "/api/users", newUser{Name: "alice", Password: "alice-password"}).want(t, http.StatusCreated)
	r := a.call("GET", "/api/audit?action=user.add&actor=root", nil).want(t, http.StatusOK)
	l := decode[list[store.AuditEvent]](t, r)
	if len(l.Items) != 1 {
		t.Fatalf("events = %+v", l.Items)
	}
	ev := l.Items[0]
	if ev.Target != "alice" || ev.Client != "127.0.0.1" || ev.RefID == "" {
		t.Errorf("event = %+v", ev)
	}
	if strings.Contains(r.body, "alice-password") {
		t.Error("the audit log holds a password")
	}
	logins := decode[list[store.AuditEvent]](t, a.call("GET", "/api/audit?action=admin.login", nil).want(t, http.StatusOK))
	if len(logins.Items) != 1 || logins.Items[0].Actor != rootName {
		t.Errorf("login events = %+v", logins.Items)
	}
	since := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if l := decode[list[store.AuditEvent]](t, a.call("GET", "/api/audit?since="+since, nil).want(t, http.StatusOK)); len(l.Items) != 0 {
		t.Errorf("events in the future: %+v", l.Items)
	}
}

func TestAPIChangeOwnPassword(t *testing.T) {
	e := newEnv(t)
	a := api{e: e, token: e.tokenFor(viewerName, viewerPassword, false)}
	p := decode[problem](t, a.call("PUT", "/api/me/password", passwordChange{Current: "wrong-password", New: "new password 1"}).want(t, 422))
	if len(p.Errors) != 1 || p.Errors[0].Field != "current_password" {
		t.Errorf("errors = %+v", p.Errors)
	}
	a.call("PUT", "/api/me/password", passwordChange{Current: viewerPassword, New: "new password 1"}).want(t, http.StatusNoContent)
	b := e.browser()
	b.login(viewerName, "new password 1")
}

// fakeGuard refuses a name after max failures, as guard.Guard would.
type fakeGuard struct {
	max int

	mu       sync.Mutex
	failures map[string]int
	outcomes []string
}

func (g *fakeGuard) Enter(_ context.Context, client netip.Addr, name string) (Attempt, time.Duration, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures[name] >= g.max {
		return nil, 90 * time.Second, nil
	}
	return &fakeAttempt{g: g, name: name, client: client}, 0, nil
}

type fakeAttempt struct {
	g      *fakeGuard
	name   string
	client netip.Addr
}

func (a *fakeAttempt) record(outcome string) {
	a.g.mu.Lock()
	defer a.g.mu.Unlock()
	if outcome == "failure" {
		a.g.failures[a.name]++
	}
	a.g.outcomes = append(a.g.outcomes, outcome+" "+a.name+" "+a.client.String())
}
func (a *fakeAttempt) Success(context.Context) error { a.record("success"); return nil }
func (a *fakeAttempt) Failure(context.Context) error { a.record("failure"); return nil }
func (a *fakeAttempt) Release()                      { a.record("release") }

func TestLoginGuard(t *testing.T) {
	g := &fakeGuard{max: 3, failures: map[string]int{}}
	e := newEnv(t, func(o *Options) { o.LoginGuard = g })
	b := e.browser()
	for i := range 3 {
		page := b.get("/login")
		r := b.post("/login", url.Values{"csrf": {csrfOf(t, page.body)}, "name": {rootName}, "password": {"wrong"}}).want(t, http.StatusUnauthorized)
		if !strings.Contains(r.body, "Wrong admin name or password") {
			t.Errorf("attempt %d: no error message", i)
		}
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("attempt %d: 401 without WWW-Authenticate", i)
		}
	}
	page := b.get("/login")
	r := b.post("/login", url.Values{"csrf": {csrfOf(t, page.body)}, "name": {rootName}, "password": {rootPassword}}).want(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "90" || !strings.Contains(r.body, "Try again in 2 minutes") {
		t.Errorf("Retry-After %q; body:\n%s", r.Header.Get("Retry-After"), r.body)
	}
	// Unknown names are guarded alike, and a success is reported.
	b2 := e.browser()
	b2.login(viewerName, viewerPassword)
	want := []string{"failure root 127.0.0.1", "failure root 127.0.0.1", "failure root 127.0.0.1", "success watcher 127.0.0.1"}
	if diff := cmp.Diff(want, g.outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	evs, err := e.st.AuditEvents(context.Background(), store.AuditFilter{Action: "admin.login.failed"})
	if err != nil || len(evs) != 3 {
		t.Errorf("failed-login events: %d, %v", len(evs), err)
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	r := api{e: e}.call("GET", "/api/openapi.json", nil).want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	seen := map[string]bool{}
	for _, rt := range e.srv.routes {
		if !rt.api {
			continue
		}
		p := strings.ReplaceAll(rt.pattern, "...}", "}")
		key := strings.ToLower(rt.method) + " " + p
		seen[key] = true
		ops, ok := doc.Paths[p]
		if !ok {
			t.Errorf("route %s %s: path %s is not in openapi.json", rt.method, rt.pattern, p)
			continue
		}
		if _, ok := ops[strings.ToLower(rt.method)]; !ok {
			t.Errorf("route %s %s: no %s operation in openapi.json", rt.method, rt.pattern, strings.ToLower(rt.method))
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			if !seen[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which is not a route", m, p)
			}
		}
	}
	// Every path template parameter is declared.
	params := regexp.MustCompile(`\{([a-z_]+)\}`)
	for p, ops := range doc.Paths {
		text := ""
		for _, raw := range ops {
			text += string(raw)
		}
		for _, m := range params.FindAllStringSubmatch(p, -1) {
			if !strings.Contains(text, `"#/components/parameters/`) && !strings.Contains(text, `"name": "`+m[1]+`"`) {
				t.Errorf("%s: parameter %s is not declared", p, m[1])
			}
		}
	}
}

func TestHealthOnAdminListener(t *testing.T) {
	health := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "health "+r.URL.Path) })
	e := newEnv(t, func(o *Options) { o.Health = health })
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		r := api{e: e}.call("GET", p, nil).want(t, http.StatusOK)
		if r.body != "health "+p {
			t.Errorf("GET %s = %q", p, r.body)
		}
	}
}

func TestLogHasNoSecrets(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	e := newEnv(t, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	b := e.browser()
	page := b.get("/login")
	b.post("/login", url.Values{"csrf": {csrfOf(t, page.body)}, "name": {rootName}, "password": {"SECRET-typo-1"}}).want(t, http.StatusUnauthorized)
	tok := e.tokenFor(rootName, rootPassword, false)
	a := api{e: e, token: tok}
	a.call("POST", "/api/users", newUser{Name: "alice", Password: "SECRET-alice-2"}).want(t, http.StatusCreated)
	a.call("PUT", "/api/users/alice/password", map[string]string{"password": "SECRET-alice-3"}).want(t, http.StatusNoContent)
	api{e: e, token: tok + "x"}.call("GET", "/api/me", nil).want(t, http.StatusUnauthorized)
	mu.Lock()
	defer mu.Unlock()
	for _, secret := range []string{"SECRET-", rootPassword, tok[len(TokenPrefix):], "$2a$", "$2y$", "$argon2id$"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs.String())
		}
	}
	evs, err := e.st.AuditEvents(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.Contains(fmt.Sprintf("%+v", ev), "SECRET-") || strings.Contains(fmt.Sprintf("%+v", ev), tok) {
			t.Errorf("audit event holds a secret: %+v", ev)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// FuzzDecodeJSON feeds request bodies to the strict JSON decoder: it
// never panics, and every refusal is a client error with a reason.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a","password":"b"}`, `{`, `[]`, `{"locked":"x"}`, `{"x":1}`, `{} {}`, `null`, `"s"`, `{"name":1e999}`} {
		f.Add(s)
	}
	srv := &Server{log: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/api/users", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var in newUser
		err := decodeJSON(w, r, &in)
		if err == nil {
			return
		}
		status, kind, detail, fe, _ := srv.classify(r, err)
		if status < 400 || status >= 500 || kind == "" || (detail == "" && len(fe) == 0) {
			t.Errorf("decodeJSON(%q) = %v: status %d, kind %q", body, err, status, kind)
		}
	})
}
