package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/scheme"
	"github.com/htgate/htgate/internal/store"
)

// serveManaged runs cfg on a real listener until the test ends and returns
// its base URL.
func serveManaged(t *testing.T, cfg *config.Config) string {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return "http://" + a.Addr().String()
}

// issue stores a token for user and returns it.
func (f *managedFixture) issue(t *testing.T, user string, scopes []string, expires, revoked bool) string {
	t.Helper()
	tok, err := scheme.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	st := store.Token{ID: scheme.TokenHash(tok)[:12], User: user, Hash: scheme.TokenHash(tok), Scopes: scopes}
	if expires {
		st.Expires = time.Now().Add(-time.Minute)
	}
	if _, err := f.st.AddToken(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	if revoked {
		if err := f.st.RevokeToken(f.ctx, st.ID); err != nil {
			t.Fatal(err)
		}
	}
	return tok
}

type bearerAnswer struct {
	status     int
	reason     htgate.Reason
	challenges []string
}

func getBearer(t *testing.T, base, path, authz string) bearerAnswer {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Accept", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(b, &body)
	return bearerAnswer{status: resp.StatusCode, reason: htgate.Reason(body.Reason), challenges: resp.Header.Values("WWW-Authenticate")}
}

// TestBearerAnswers checks every answer of RFC 6750 through a real listener.
func TestBearerAnswers(t *testing.T) {
	f := newManagedFixture(t)
	f.user(t, "alice", "alice-pw")
	f.user(t, "mallory", "mallory-pw")
	for _, path := range []string{"/members", "/public/members"} {
		if _, err := f.st.Protect(f.ctx, store.URL{URLKey: store.URLKey{Path: path}, Realm: "Managed", Schemes: []string{"basic", "bearer"}}); err != nil {
			t.Fatal(err)
		}
		if err := f.st.Grant(f.ctx, store.URLKey{Path: path}, store.Grant{Kind: store.GrantValidUser}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.Protect(f.ctx, store.URL{URLKey: store.URLKey{Path: "/basic-only"}, Realm: "B", Schemes: []string{"basic"}}); err != nil {
		t.Fatal(err)
	}
	valid := f.issue(t, "alice", nil, false, false)
	scoped := f.issue(t, "alice", []string{"/members/a"}, false, false)
	expired := f.issue(t, "alice", nil, true, false)
	revoked := f.issue(t, "alice", nil, false, true)
	lockedOwner := f.issue(t, "mallory", nil, false, false)
	locked := true
	if _, err := f.st.UpdateUser(f.ctx, "mallory", store.UserUpdate{Locked: &locked}); err != nil {
		t.Fatal(err)
	}
	unknown, _ := scheme.NewToken()
	c := byte('a')
	if valid[10] == 'a' {
		c = 'b'
	}
	typo := valid[:10] + string(c) + valid[11:]
	base := serveManaged(t, f.config(t, "root: {root}\ndata: {data}\n"))

	basicCh := `Basic realm="Managed", charset="UTF-8"`
	invalid := func(desc string) []string {
		return []string{basicCh, `Bearer realm="Managed", error="invalid_token", error_description="` + desc + `"`}
	}
	tests := []struct {
		name, path, authz string
		want              bearerAnswer
	}{
		{"no credentials", "/members/", "", bearerAnswer{401, htgate.ReasonCredentialsMissing, []string{basicCh, `Bearer realm="Managed"`}}},
		{"valid", "/members/", "Bearer " + valid, bearerAnswer{200, "", nil}},
		{"scheme case", "/members/", "bearer " + valid, bearerAnswer{200, "", nil}},
		{"valid in scope", "/members/a/page.html", "Bearer " + scoped, bearerAnswer{404, htgate.ReasonNotFound, nil}},
		{"out of scope", "/members/", "Bearer " + scoped, bearerAnswer{403, htgate.ReasonInsufficientScope,
			[]string{`Bearer realm="Managed", error="insufficient_scope", error_description="The access token is not valid for this URL", scope="/members/"`}}},
		{"segment boundary", "/members/ab", "Bearer " + scoped, bearerAnswer{403, htgate.ReasonInsufficientScope,
			[]string{`Bearer realm="Managed", error="insufficient_scope", error_description="The access token is not valid for this URL", scope="/members/ab"`}}},
		{"unknown", "/members/", "Bearer " + unknown, bearerAnswer{401, htgate.ReasonLogonFailed, invalid("The access token is invalid")}},
		{"typo", "/members/", "Bearer " + typo, bearerAnswer{401, htgate.ReasonLogonFailed, invalid("The access token is invalid")}},
		{"not ours", "/members/", "Bearer mF_9.B5f-4.1JqM", bearerAnswer{401, htgate.ReasonLogonFailed, invalid("The access token is invalid")}},
		{"malformed", "/members/", "Bearer a b", bearerAnswer{401, htgate.ReasonLogonFailed, invalid("The access token is invalid")}},
		{"expired", "/members/", "Bearer " + expired, bearerAnswer{401, htgate.ReasonTokenExpired, invalid("The access token expired")}},
		{"revoked", "/members/", "Bearer " + revoked, bearerAnswer{401, htgate.ReasonTokenRevoked, invalid("The access token was revoked")}},
		{"locked owner", "/members/", "Bearer " + lockedOwner, bearerAnswer{401, htgate.ReasonLockedOut, invalid("The access token is invalid")}},
		{"bearer not accepted", "/basic-only/", "Bearer " + valid, bearerAnswer{401, htgate.ReasonLogonFailed, []string{`Basic realm="B", charset="UTF-8"`}}},
	}
	for _, tt := range tests {
		got := getBearer(t, base, tt.path, tt.authz)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(bearerAnswer{})); diff != "" {
			t.Errorf("%s: GET %s (-want +got):\n%s", tt.name, tt.path, diff)
		}
	}

	// A revocation is enforced by the running server within a second.
	if err := f.st.RevokeToken(f.ctx, scheme.TokenHash(valid)[:12]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		got := getBearer(t, base, "/members/", "Bearer "+valid)
		if got.status == 401 && got.reason == htgate.ReasonTokenRevoked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked token still answered %d %q after 1 s", got.status, got.reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkBearerDecide is the decision path of a request with a valid
// Bearer token on a managed URL (Decide traces, so ServeHTTP costs less).
func BenchmarkBearerDecide(b *testing.B) {
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	ctx := store.WithActor(context.Background(), store.Actor{Name: "bench"})
	st, err := OpenStore(ctx, StoreLocation{Data: data})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := scheme.NewToken()
	steps := []error{}
	_, err = st.AddUser(ctx, store.User{Name: "alice"})
	steps = append(steps, err)
	_, err = st.Protect(ctx, store.URL{URLKey: store.URLKey{Path: "/api"}, Schemes: []string{"bearer"}})
	steps = append(steps, err)
	steps = append(steps, st.Grant(ctx, store.URLKey{Path: "/api"}, store.Grant{Kind: store.GrantValidUser}))
	_, err = st.AddToken(ctx, store.Token{ID: "bench", User: "alice", Hash: scheme.TokenHash(tok), Scopes: []string{"/api"}})
	steps = append(steps, err, st.Close())
	for _, err := range steps {
		if err != nil {
			b.Fatal(err)
		}
	}
	cfg := &config.Config{Root: dir, Data: data, Listen: "127.0.0.1:0"}
	cfg.ApplyDefaults()
	a, err := Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	r, _ := http.NewRequest("GET", "/api/x", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		if d := a.Gateway().Decide(context.Background(), r); d.Status != 200 {
			b.Fatalf("Decide = %d %s", d.Status, d.Reason)
		}
	}
}
