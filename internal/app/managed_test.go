package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/gateway"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/upstream"
)

// managedFixture is a data directory with a store, and a docroot.
type managedFixture struct {
	dir, data, root string
	st              store.Store
	ctx             context.Context
}

func newManagedFixture(t *testing.T) *managedFixture {
	t.Helper()
	dir := t.TempDir()
	f := &managedFixture{dir: dir, data: filepath.Join(dir, "data"), root: writeSite(t, dir)}
	st, err := OpenStore(context.Background(), StoreLocation{Data: f.data})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.ctx = store.WithActor(context.Background(), store.Actor{Name: "test"})
	return f
}

func (f *managedFixture) user(t *testing.T, name, password string) {
	t.Helper()
	h, err := passwd.Hash(passwd.FormatBcrypt, []byte(password), passwd.HashOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AddUser(f.ctx, store.User{Name: name, Hash: h}); err != nil {
		t.Fatal(err)
	}
}

func (f *managedFixture) protect(t *testing.T, path string, grants ...store.Grant) {
	t.Helper()
	if _, err := f.st.Protect(f.ctx, store.URL{URLKey: store.URLKey{Path: path}, Realm: "Managed"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if err := f.st.Grant(f.ctx, store.URLKey{Path: path}, g); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *managedFixture) config(t *testing.T, yaml string) *config.Config {
	t.Helper()
	path := filepath.Join(f.dir, "htgate.yaml")
	y := strings.NewReplacer("{root}", f.root, "{data}", f.data, "{dir}", f.dir).Replace(yaml)
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return mustLoad(t, path)
}

func TestManagedAndYAMLRules(t *testing.T) {
	f := newManagedFixture(t)
	f.user(t, "alice", "alice-pw")
	f.user(t, "bob", "bob-pw")
	if _, err := f.st.AddGroup(f.ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddMember(f.ctx, "staff", "bob"); err != nil {
		t.Fatal(err)
	}
	f.protect(t, "/members", store.Grant{Kind: store.GrantUser, Name: "alice"}, store.Grant{Kind: store.GrantGroup, Name: "staff"})
	f.protect(t, "/public/members") // no grants: nobody
	htp := filepath.Join(f.dir, "yaml.htpasswd")
	if err := os.WriteFile(htp, []byte(htpasswdLine(t, "B", "-C 4", "carol", "carol-pw")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := f.config(t, "root: {root}\ndata: {data}\nrules:\n  - {path: /admin, htpasswd: "+htp+"}\n")
	a, err := Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tests := []struct {
		path, user, pw string
		status         int
		reason         htgate.Reason
	}{
		{"/members/", "alice", "alice-pw", 200, ""},
		{"/members/", "ALICE", "alice-pw", 200, ""},
		{"/members/page.html", "bob", "bob-pw", 200, ""},
		{"/members/", "alice", "wrong", 401, htgate.ReasonLogonFailed},
		{"/members/", "", "", 401, htgate.ReasonCredentialsMissing},
		{"/members/", "carol", "carol-pw", 401, htgate.ReasonLogonFailed}, // a YAML user is not a managed user
		{"/public/members/", "alice", "alice-pw", 403, htgate.ReasonACLDenied},
		{"/public/members/", "", "", 401, htgate.ReasonCredentialsMissing},
		{"/admin/", "carol", "carol-pw", 200, ""},
		{"/admin/", "alice", "alice-pw", 401, htgate.ReasonLogonFailed},
		{"/", "", "", 200, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.path, nil)
		if tt.user != "" {
			r.SetBasicAuth(tt.user, tt.pw)
		}
		d := a.Gateway().Decide(context.Background(), r)
		if d.Status != tt.status || d.Reason != tt.reason {
			t.Errorf("GET %s as %q = %d %q, want %d %q\n%+v", tt.path, tt.user, d.Status, d.Reason, tt.status, tt.reason, d.Trace)
		}
		if tt.path == "/members/" && tt.user == "ALICE" && tt.status == 200 && (d.Principal == nil || d.Principal.Name != "alice") {
			t.Errorf("ALICE signed in as %+v, want the canonical name alice", d.Principal)
		}
	}
	// explain names the managed URL.
	r := httptest.NewRequest("GET", "/members/", nil)
	d := a.Gateway().Decide(context.Background(), r)
	if d.Rule == nil || !strings.Contains(d.Rule.Origin, "managed URL /members") || d.Rule.Realm != "Managed" {
		t.Errorf("rule of /members = %+v, want the managed URL", d.Rule)
	}
}

func TestManagedLockedUser(t *testing.T) {
	f := newManagedFixture(t)
	f.user(t, "alice", "alice-pw")
	f.protect(t, "/members", store.Grant{Kind: store.GrantValidUser})
	lock := true
	if _, err := f.st.UpdateUser(f.ctx, "alice", store.UserUpdate{Locked: &lock}); err != nil {
		t.Fatal(err)
	}
	a, err := Build(context.Background(), f.config(t, "root: {root}\ndata: {data}\n"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, tt := range []struct {
		pw     string
		reason htgate.Reason
	}{{"alice-pw", htgate.ReasonLockedOut}, {"wrong", htgate.ReasonLogonFailed}} {
		r := httptest.NewRequest("GET", "/members/", nil)
		r.SetBasicAuth("alice", tt.pw)
		d := a.Gateway().Decide(context.Background(), r)
		if d.Status != 401 || d.Reason != tt.reason || len(d.Challenges) == 0 {
			t.Errorf("locked alice, password %q: %d %q (%d challenges), want 401 %q with a challenge", tt.pw, d.Status, d.Reason, len(d.Challenges), tt.reason)
		}
	}
}

// TestManagedConflictWithYAML: a YAML rule and a managed URL for the same
// host and path are a configuration error, said clearly.
func TestManagedConflictWithYAML(t *testing.T) {
	f := newManagedFixture(t)
	f.protect(t, "/admin/")
	htp := filepath.Join(f.dir, "users")
	if err := os.WriteFile(htp, []byte(htpasswdLine(t, "s", "", "carol", "pw")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), f.config(t, "root: {root}\ndata: {data}\nrules:\n  - {path: /ADMIN, htpasswd: "+htp+"}\n"), slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("Build with a YAML rule and a managed URL for /admin: no error")
	}
	for _, want := range []string{"managed URL /admin", "rules[0]", "htgate url unprotect"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestManagedRuntimeConflictKeepsPolicy: a store change that cannot be
// applied is logged and the rules in force stay.
func TestManagedRuntimeConflictKeepsPolicy(t *testing.T) {
	f := newManagedFixture(t)
	f.user(t, "alice", "alice-pw")
	htp := filepath.Join(f.dir, "users")
	if err := os.WriteFile(htp, []byte(htpasswdLine(t, "s", "", "carol", "pw")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := f.config(t, "root: {root}\ndata: {data}\nguard: {disabled: true}\nrules:\n  - {path: /admin, htpasswd: "+htp+"}\n")
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := Open(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	decide := func(path string) int {
		r := httptest.NewRequest("GET", path, nil)
		r.SetBasicAuth("alice", "alice-pw")
		return a.Gateway().Decide(context.Background(), r).Status
	}
	f.protect(t, "/other", store.Grant{Kind: store.GrantUser, Name: "alice"})
	waitFor(t, "managed /other", func() bool { return decide("/other/") == 200 })
	f.protect(t, "/admin") // conflicts with the YAML rule
	waitFor(t, "the conflict logged", func() bool { return strings.Contains(logs.String(), "managed store change not applied") })
	if !strings.Contains(logs.String(), "htgate url unprotect") {
		t.Errorf("the log does not say how to fix the conflict:\n%s", logs.String())
	}
	if got := decide("/other/"); got != 200 {
		t.Errorf("/other after a conflicting change: %d, want 200 (the rules in force stay)", got)
	}
	if got := decide("/admin/"); got != 401 {
		t.Errorf("/admin after a conflicting change: %d, want 401 (the YAML rule)", got)
	}
	if err := f.st.Unprotect(f.ctx, store.URLKey{Path: "/admin"}); err != nil {
		t.Fatal(err)
	}
	f.protect(t, "/third", store.Grant{Kind: store.GrantValidUser})
	waitFor(t, "the next good change", func() bool { return decide("/third/") == 200 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 3 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGrantsExpr(t *testing.T) {
	tests := []struct {
		grants []store.Grant
		want   policy.Expr
	}{
		{nil, policy.Expr{Kind: policy.User, Args: []string{noGrants}}},
		{[]store.Grant{{Kind: store.GrantValidUser}}, policy.Expr{Kind: policy.ValidUser}},
		{[]store.Grant{{Kind: store.GrantUser, Name: "a"}, {Kind: store.GrantUser, Name: "b"}}, policy.Expr{Kind: policy.User, Args: []string{"a", "b"}}},
		{[]store.Grant{{Kind: store.GrantValidUser}, {Kind: store.GrantUser, Name: "a"}, {Kind: store.GrantGroup, Name: "g"}},
			policy.Expr{Kind: policy.Any, Sub: []policy.Expr{{Kind: policy.ValidUser}, {Kind: policy.User, Args: []string{"a"}}, {Kind: policy.Group, Args: []string{"g"}}}}},
	}
	for _, tt := range tests {
		got := grantsExpr(tt.grants)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("grantsExpr(%v) (-want +got):\n%s", tt.grants, diff)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("grantsExpr(%v) = invalid expression: %v", tt.grants, err)
		}
	}
}

func TestManagedRulesSchemes(t *testing.T) {
	snap := &store.Snapshot{
		Credentials: store.NewCredentialsBuilder(1, 0).Build(nil),
		Rules: store.NewRules(1, []store.URL{
			{ID: 1, URLKey: store.URLKey{Path: "/a"}, Schemes: []string{"basic", "digest"}, Grants: []store.Grant{{Kind: store.GrantGroup, Name: "g"}}},
			{ID: 2, URLKey: store.URLKey{Host: "example.com", Path: "/b"}, Realm: "B", Schemes: []string{"bearer"}},
		}),
	}
	rules := managedRules(snap, "Default", nil)
	if len(rules) != 2 {
		t.Fatalf("rules = %+v", rules)
	}
	a, b := rules[0], rules[1]
	if a.ID != "m1" || a.Realm != "Default" || !cmp.Equal(a.Schemes, []string{"basic", "digest"}) || a.Source != managedSource || a.DigestSource != managedSource || a.GroupSource != managedSource {
		t.Errorf("rule of /a = %+v", a)
	}
	// Without grants nobody is allowed in, but the Bearer challenge is sent.
	if !cmp.Equal(b.Schemes, []string{"bearer"}) || b.Require.Kind != policy.User || b.Host != "example.com" || b.Realm != "B" || b.GroupSource != "" {
		t.Errorf("rule of a bearer-only URL = %+v, want bearer without grants", b)
	}
}

func TestNoStoreWithoutDataDir(t *testing.T) {
	if _, err := os.Stat(DefaultDataDir); err == nil {
		t.Skipf("./%s exists in the package directory", DefaultDataDir)
	}
	if loc, ok := storeLocation(&config.Config{}); ok {
		t.Errorf("storeLocation without data = %v, want none", loc)
	}
	if loc, ok := storeLocation(&config.Config{Data: "/x"}); !ok || loc.Data != "/x" {
		t.Errorf("storeLocation(data /x) = %v %v", loc, ok)
	}
}

// nopBackend answers 200 without a body.
type nopBackend struct{}

func (nopBackend) Serve(w http.ResponseWriter, _ *http.Request, _ upstream.Request) {
	w.WriteHeader(http.StatusOK)
}

type nullWriter struct {
	h      http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(s int)           { w.status = s }

// BenchmarkManagedDecide100kURLs: a gateway with 100,000 managed protected
// URLs decides a request (DESIGN's target: under 5 µs).
func BenchmarkManagedDecide100kURLs(b *testing.B) {
	const n = 100_000
	hash, err := passwd.Hash(passwd.FormatBcrypt, []byte("pw"), passwd.HashOptions{BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	cb := store.NewCredentialsBuilder(1, 1)
	cb.AddUser([]byte("alice"), []byte(hash), false)
	urls := make([]store.URL, n)
	for i := range urls {
		urls[i] = store.URL{ID: int64(i + 1), URLKey: store.URLKey{Path: fmt.Sprintf("/site%03d/area%06d", i%1000, i)},
			Schemes: []string{"basic"}, Grants: []store.Grant{{Kind: store.GrantUser, Name: "alice"}}}
	}
	snap := &store.Snapshot{Version: 1, Credentials: cb.Build(nil), Rules: store.NewRules(1, urls)}
	lp := &loadedPolicy{policy: &gateway.Policy{}}
	start := time.Now()
	p, err := compose(lp, snap, "Restricted", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("policy of %d managed URLs built in %v", n, time.Since(start))
	responder, err := respond.New(respond.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cache, err := gateway.NewCredentialCache(1000, time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	g := gateway.New(p, gateway.Options{Backend: nopBackend{}, Responder: responder, Cache: cache})
	for _, bc := range []struct {
		name, path, user string
		status           int
	}{
		{"public", "/elsewhere/page.html", "", 200},
		{"protected-cached-basic", "/site042/area099042/page.html", "alice", 200},
		{"protected-no-credentials", "/site042/area099042/page.html", "", 401},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", bc.path, nil)
			if bc.user != "" {
				r.SetBasicAuth(bc.user, "pw")
			}
			w := &nullWriter{h: http.Header{}}
			g.ServeHTTP(w, r) // warm the credential cache
			if w.status != bc.status {
				b.Fatalf("status %d, want %d", w.status, bc.status)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				clear(w.h)
				g.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkManagedMemory1MUsers loads a snapshot of 1,000,000 managed
// users (bcrypt hashes) from a SQLite store and reports the heap it holds
// (DESIGN's target: under 300 MB) and the time to load it.
func BenchmarkManagedMemory1MUsers(b *testing.B) {
	const n = 1_000_000
	const hash = "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	st, err := OpenStore(context.Background(), StoreLocation{Data: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	batch := make([]store.User, 10_000)
	for i := 0; i < n; i += len(batch) {
		for j := range batch {
			batch[j] = store.User{Name: fmt.Sprintf("user%07d", i+j), Hash: hash}
		}
		if _, err := st.ImportUsers(ctx, batch, false); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		snap, err := st.Snapshot(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		snap.Credentials.Dummy()
		took := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		if snap.Credentials.Len() != n {
			b.Fatalf("%d users loaded", snap.Credentials.Len())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
		b.ReportMetric(took.Seconds(), "load-s")
		runtime.KeepAlive(snap)
	}
}
