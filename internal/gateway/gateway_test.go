package gateway

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/upstream"
)

// fakeCreds is a hand-written credential source: fixed hashes, a version
// that tests can bump, and a count of password verifications.
type fakeCreds struct {
	hashes  map[string]string
	dummy   string
	version atomic.Uint64
	err     error
}

func (f *fakeCreds) Current() (Credentials, uint64, error) {
	if f.err != nil {
		return nil, 0, f.err
	}
	return f, f.version.Load(), nil
}
func (f *fakeCreds) Lookup(user string) (string, bool) { h, ok := f.hashes[user]; return h, ok }
func (f *fakeCreds) Dummy() string                     { return f.dummy }

type fakeGroups map[string][]string

func (g fakeGroups) Current() (Groups, error) { return g, nil }
func (g fakeGroups) Of(user string) []string  { return g[user] }

// okBackend answers 200 and records what it was asked to forward.
type okBackend struct{ last upstream.Request }

func (b *okBackend) Serve(w http.ResponseWriter, _ *http.Request, req upstream.Request) {
	b.last = req
	w.WriteHeader(http.StatusOK)
}

func mustHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := passwd.Hash(passwd.FormatBcrypt, []byte(pw), passwd.HashOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newTestGateway(t testing.TB, rules []policy.Rule, creds *fakeCreds, opts Options) *Gateway {
	t.Helper()
	table, err := policy.NewTable(rules)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Responder == nil {
		r, err := respond.New(respond.Options{})
		if err != nil {
			t.Fatal(err)
		}
		opts.Responder = r
	}
	if opts.Backend == nil {
		opts.Backend = &okBackend{}
	}
	return New(&Policy{
		Rules:       table,
		Credentials: map[string]CredentialSource{"users": creds},
		Groups:      map[string]GroupSource{"groups": fakeGroups{"alice": {"admins"}}},
	}, opts)
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestDecide(t *testing.T) {
	creds := &fakeCreds{hashes: map[string]string{"alice": mustHash(t, "pw-a"), "bob": mustHash(t, "pw-b")}, dummy: mustHash(t, "dummy")}
	rules := []policy.Rule{
		{ID: "members", Path: "/members", Realm: "Members", Source: "users"},
		{ID: "admin", Path: "/admin", Realm: "Admins", Source: "users", GroupSource: "groups", Require: policy.Expr{Kind: policy.Group, Args: []string{"admins"}}},
		{ID: "closed", Path: "/closed", Require: policy.Expr{Kind: policy.AllDenied}},
		{ID: "open", Path: "/members/open", Require: policy.Expr{Kind: policy.AllGranted}},
		{ID: "host", Host: "intranet.example", Path: "/", Realm: "Intranet", Source: "users", Require: policy.Expr{Kind: policy.User, Args: []string{"bob"}}},
	}
	g := newTestGateway(t, rules, creds, Options{})
	tests := []struct {
		name, method, host, target, auth string
		status                           int
		reason                           htgate.Reason
		rule, user                       string
	}{
		{"public", "GET", "example.org", "/", "", 200, "", "", ""},
		{"missing", "GET", "example.org", "/members/x", "", 401, htgate.ReasonCredentialsMissing, "members", ""},
		{"valid", "GET", "example.org", "/members/x", basicAuth("alice", "pw-a"), 200, "", "members", "alice"},
		{"wrong password", "GET", "example.org", "/members/x", basicAuth("alice", "nope"), 401, htgate.ReasonLogonFailed, "members", "alice"},
		{"unknown user", "GET", "example.org", "/members/x", basicAuth("zed", "pw-a"), 401, htgate.ReasonLogonFailed, "members", "zed"},
		{"dummy password for unknown user", "GET", "example.org", "/members/x", basicAuth("zed", "dummy"), 401, htgate.ReasonLogonFailed, "members", "zed"},
		{"malformed", "GET", "example.org", "/members/x", "Basic ***", 401, htgate.ReasonLogonFailed, "members", ""},
		{"group allowed", "GET", "example.org", "/admin", basicAuth("alice", "pw-a"), 200, "", "admin", "alice"},
		{"group denied", "GET", "example.org", "/admin", basicAuth("bob", "pw-b"), 403, htgate.ReasonACLDenied, "admin", "bob"},
		{"all denied", "GET", "example.org", "/closed", basicAuth("alice", "pw-a"), 403, htgate.ReasonConfigDenied, "closed", ""},
		{"deeper open rule", "GET", "example.org", "/members/open/x", "", 200, "", "open", ""},
		{"host rule", "GET", "Intranet.Example:8080", "/x", "", 401, htgate.ReasonCredentialsMissing, "host", ""},
		{"host rule user", "GET", "intranet.example", "/x", basicAuth("bob", "pw-b"), 200, "", "host", "bob"},
		{"host rule other user", "GET", "intranet.example", "/x", basicAuth("alice", "pw-a"), 403, htgate.ReasonACLDenied, "host", "alice"},
		{"spelling", "GET", "example.org", "/x/..//MEMBERS/./y", "", 401, htgate.ReasonCredentialsMissing, "members", ""},
		{"encoded slash", "GET", "example.org", "/members%2Fx", "", 400, htgate.ReasonBadRequest, "", ""},
		{"trace", "TRACE", "example.org", "/", "", 405, htgate.ReasonMethodNotAllowed, "", ""},
		{"lower-case method", "delete", "example.org", "/members/x", "", 401, htgate.ReasonCredentialsMissing, "members", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://"+tt.host+tt.target, nil)
			r.Host = tt.host
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			d := g.Decide(context.Background(), r)
			ruleID := ""
			if d.Rule != nil {
				ruleID = d.Rule.ID
			}
			if d.Status != tt.status || d.Reason != tt.reason || ruleID != tt.rule || d.User != tt.user {
				t.Errorf("Decide(%s %s%s) = %d %q rule %q user %q, want %d %q rule %q user %q\ntrace: %+v",
					tt.method, tt.host, tt.target, d.Status, d.Reason, ruleID, d.User, tt.status, tt.reason, tt.rule, tt.user, d.Trace)
			}
			if tt.status == 401 && (len(d.Challenges) != 1 || d.Challenges[0].Scheme != "Basic") {
				t.Errorf("401 challenges = %v, want one Basic challenge", d.Challenges)
			}
			if len(d.Trace) == 0 {
				t.Errorf("Decide recorded no trace")
			}
		})
	}
}

// TestCredentialCache checks that a verified password is cached, that a
// new source version drops it, and that failures are never cached.
func TestCredentialCache(t *testing.T) {
	c, err := NewCredentialCache(100, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	check := func(ok bool) func() (bool, error) {
		return func() (bool, error) { calls++; return ok, nil }
	}
	steps := []struct {
		version          uint64
		user, pw         string
		result           bool
		wantValid, wantC bool
		wantCalls        int
	}{
		{1, "alice", "pw", true, true, false, 1},
		{1, "alice", "pw", true, true, true, 1},       // cached
		{1, "alice", "other", false, false, false, 2}, // a different password is not
		{1, "alice", "other", false, false, false, 3}, // failures are never cached
		{2, "alice", "pw", true, true, false, 4},      // a new version re-verifies
		{2, "alice", "pw", true, true, true, 4},
		{1, "bob", "pw", true, true, false, 5},
	}
	for i, s := range steps {
		valid, cached, err := c.Verify("users", s.version, s.user, s.pw, check(s.result))
		if err != nil || valid != s.wantValid || cached != s.wantC || calls != s.wantCalls {
			t.Errorf("step %d: Verify = %v, %v, %v with %d checks; want %v, %v, nil with %d", i, valid, cached, err, calls, s.wantValid, s.wantC, s.wantCalls)
		}
	}
	// The key does not contain the password in any readable form.
	k1 := c.key("users", 1, "alice", "pw")
	if strings.Contains(string(k1[:]), "pw") || k1 == c.key("users", 1, "alicep", "w") {
		t.Errorf("cache key is not a keyed hash of separate fields")
	}
}

func TestCredentialCacheExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	c, err := NewCredentialCache(10, time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	check := func() (bool, error) { calls++; return true, nil }
	c.Verify("s", 1, "u", "p", check)
	now = now.Add(2 * time.Minute)
	if _, cached, _ := c.Verify("s", 1, "u", "p", check); cached || calls != 2 {
		t.Errorf("after the TTL: cached %v, %d checks; want a fresh check", cached, calls)
	}
}

func TestSourceErrorFailsClosed(t *testing.T) {
	creds := &fakeCreds{err: fmt.Errorf("htpasswd: permission denied")}
	g := newTestGateway(t, []policy.Rule{{ID: "m", Path: "/m", Source: "users"}}, creds, Options{})
	r := httptest.NewRequest("GET", "/m/", nil)
	r.Header.Set("Authorization", basicAuth("alice", "pw"))
	if d := g.Decide(context.Background(), r); d.Status != 500 || d.Reason != htgate.ReasonServerError {
		t.Errorf("unreadable source: %d %q, want 500 server_error", d.Status, d.Reason)
	}
}

func TestForwardRequest(t *testing.T) {
	creds := &fakeCreds{hashes: map[string]string{"alice": mustHash(t, "pw")}, dummy: mustHash(t, "x")}
	be := &okBackend{}
	g := newTestGateway(t, []policy.Rule{
		{ID: "m", Path: "/m", Source: "users", GroupSource: "groups"},
		{ID: "p", Path: "/p", Source: "users", PassAuthorization: true},
	}, creds, Options{Backend: be})
	cases := []struct {
		target   string
		keepAuth bool
		user     string
		groups   []string
	}{
		{"/m/a%20b", false, "alice", []string{"admins"}},
		{"/p/x", true, "alice", nil},
		{"/public", true, "", nil},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.target, nil)
		r.Header.Set("Authorization", basicAuth("alice", "pw"))
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("GET %s = %d", c.target, w.Code)
		}
		if be.last.KeepAuthorization != c.keepAuth || be.last.User != c.user || strings.Join(be.last.Groups, ",") != strings.Join(c.groups, ",") || be.last.RefID == "" {
			t.Errorf("GET %s forwarded %+v, want keepAuth %v user %q groups %v", c.target, be.last, c.keepAuth, c.user, c.groups)
		}
	}
}

// BenchmarkServeHTTPCached measures the whole decision path for an
// allowed request with a cached Basic credential against 10,000 rules.
func BenchmarkServeHTTPCached(b *testing.B) {
	creds := &fakeCreds{hashes: map[string]string{"alice": mustHash(b, "pw")}, dummy: mustHash(b, "x")}
	rules := make([]policy.Rule, 0, 10000)
	for i := range 10000 {
		rules = append(rules, policy.Rule{ID: fmt.Sprint("r", i), Path: fmt.Sprintf("/area%d/section%d", i%500, i), Source: "users"})
	}
	cache, err := NewCredentialCache(1000, time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	g := newTestGateway(b, rules, creds, Options{Cache: cache})
	r := httptest.NewRequest("GET", "/area42/section8042/page.html", nil)
	r.Header.Set("Authorization", basicAuth("alice", "pw"))
	w := &nullWriter{h: http.Header{}}
	g.ServeHTTP(w, r) // warm the cache
	if w.status != 200 {
		b.Fatalf("status %d", w.status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.ServeHTTP(w, r)
	}
}

// nullWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the gateway, not a recorder.
type nullWriter struct {
	h      http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(s int)           { w.status = s }
