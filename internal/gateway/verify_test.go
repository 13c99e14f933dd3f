package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/state/memory"
)

func TestVerify(t *testing.T) {
	creds := &fakeCreds{hashes: map[string]string{"alice": mustHash(t, "pw-a"), "bob": mustHash(t, "pw-b")}, dummy: mustHash(t, "dummy")}
	rules := []policy.Rule{
		{ID: "members", Path: "/members", Realm: "Members", Source: "users"},
		{ID: "admin", Path: "/admin", Realm: "Admins", Source: "users", GroupSource: "groups", Require: policy.Expr{Kind: policy.Group, Args: []string{"admins"}}},
		{ID: "nopost", Path: "/ro", Realm: "RO", Source: "users", Require: policy.Expr{Kind: policy.Method, Args: []string{"GET"}}},
		{ID: "net", Path: "/net", Require: policy.Expr{Kind: policy.IP, Nets: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}},
	}
	var logs bytes.Buffer
	backend := &okBackend{}
	g := newTestGateway(t, rules, creds, Options{
		ClientIP: ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}, Header: "X-Forwarded-For"},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		Backend:  backend,
	})
	tests := []struct {
		name      string
		peer      string
		headers   map[string]string
		status    int
		user      string
		groups    string
		challenge string
	}{
		{"public", "10.0.0.1:1", map[string]string{"X-Original-URI": "/"}, 200, "", "", ""},
		{"nginx missing", "10.0.0.1:1", map[string]string{"X-Original-URI": "/members/x?a=1"}, 401, "", "", `Basic realm="Members"`},
		{"nginx valid", "10.0.0.1:1", map[string]string{"X-Original-URI": "/members/x", "Authorization": basicAuth("alice", "pw-a")}, 200, "alice", "", ""},
		{"nginx normalised", "10.0.0.1:1", map[string]string{"X-Original-URI": "/x/../MEMBERS/"}, 401, "", "", `Basic realm="Members"`},
		{"nginx encoded slash", "10.0.0.1:1", map[string]string{"X-Original-URI": "/members%2Fx"}, 400, "", "", ""},
		{"traefik groups", "10.0.0.1:1", map[string]string{"X-Forwarded-Uri": "/admin", "X-Forwarded-Method": "GET", "X-Forwarded-Host": "example.org", "X-Forwarded-Proto": "https", "Authorization": basicAuth("alice", "pw-a")}, 200, "alice", "admins", ""},
		{"traefik acl", "10.0.0.1:1", map[string]string{"X-Forwarded-Uri": "/admin", "Authorization": basicAuth("bob", "pw-b")}, 403, "", "", ""},
		{"method from header", "10.0.0.1:1", map[string]string{"X-Forwarded-Uri": "/ro", "X-Forwarded-Method": "POST", "Authorization": basicAuth("bob", "pw-b")}, 403, "", "", ""},
		{"client from XFF", "10.0.0.1:1", map[string]string{"X-Original-URI": "/net", "X-Forwarded-For": "192.0.2.7"}, 200, "", "", ""},
		{"client from XFF refused", "10.0.0.1:1", map[string]string{"X-Original-URI": "/net", "X-Forwarded-For": "198.51.100.7"}, 403, "", "", ""},
		{"bad uri", "10.0.0.1:1", map[string]string{"X-Original-URI": "http://evil/"}, 400, "", "", ""},
		{"no uri", "10.0.0.1:1", map[string]string{}, 400, "", "", ""},
		{"untrusted peer", "10.0.0.2:1", map[string]string{"X-Original-URI": "/", "Authorization": basicAuth("alice", "pw-a")}, 403, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://gw"+DefaultVerifyPath, nil)
			r.RemoteAddr = tt.peer
			r.Header.Set("Accept", "application/json")
			if tt.headers["X-Forwarded-Method"] == "" {
				r.Header.Set("X-Original-Method", "GET")
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			backend.last.Path = "untouched"
			g.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("verify(%v) = %d, want %d; body %s", tt.headers, w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Remote-User"); got != tt.user {
				t.Errorf("Remote-User = %q, want %q", got, tt.user)
			}
			if got := w.Header().Get("Remote-Groups"); got != tt.groups {
				t.Errorf("Remote-Groups = %q, want %q", got, tt.groups)
			}
			if tt.status == 200 && w.Body.Len() != 0 {
				t.Errorf("200 body = %q, want empty", w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, tt.challenge) || (tt.challenge == "") != (got == "") {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if backend.last.Path != "untouched" {
				t.Errorf("the backend was called: %+v", backend.last)
			}
		})
	}
	if !strings.Contains(logs.String(), "untrusted peer") || !strings.Contains(logs.String(), "trusted_proxies") {
		t.Errorf("no log line for the untrusted peer:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "pw-a") || strings.Contains(logs.String(), "Basic ") {
		t.Errorf("credentials in the log:\n%s", logs.String())
	}
}

func TestVerifyPathOption(t *testing.T) {
	creds := &fakeCreds{hashes: map[string]string{}, dummy: mustHash(t, "dummy")}
	trusted := ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	for _, tt := range []struct {
		name   string
		fa     ForwardAuth
		path   string
		status int // 200 from okBackend when not an endpoint, 204 never
		verify bool
	}{
		{"default", ForwardAuth{}, DefaultVerifyPath, 200, true},
		{"custom", ForwardAuth{Path: "/auth"}, "/auth", 200, true},
		{"custom leaves default", ForwardAuth{Path: "/auth"}, DefaultVerifyPath, 200, false},
		{"disabled", ForwardAuth{Disabled: true}, DefaultVerifyPath, 200, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, nil, creds, Options{ClientIP: trusted, ForwardAuth: tt.fa})
			r := httptest.NewRequest("GET", "http://gw"+tt.path, nil)
			r.RemoteAddr = "127.0.0.1:1"
			r.Header.Set("X-Original-Method", "GET")
			r.Header.Set("X-Original-URI", "/")
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			isVerify := w.Header().Get("X-Request-Id") != "" && w.Body.Len() == 0
			if w.Code != tt.status || isVerify != tt.verify {
				t.Errorf("GET %s = %d (verify endpoint %v), want %d (%v)", tt.path, w.Code, isVerify, tt.status, tt.verify)
			}
		})
	}
}

func TestProxyAuth(t *testing.T) {
	creds := &fakeCreds{hashes: map[string]string{"alice": mustHash(t, "pw-a")}, dummy: mustHash(t, "dummy")}
	rules := []policy.Rule{{ID: "proxy", Path: "/", Realm: "Proxy", Source: "users"}}
	resp, err := respond.New(respond.Options{Proxy: true})
	if err != nil {
		t.Fatal(err)
	}
	backend := &okBackend{}
	g := newTestGateway(t, rules, creds, Options{ProxyAuth: true, Responder: resp, Backend: backend})
	tests := []struct {
		name, method, target, proxyAuth, auth string
		status                                int
	}{
		{"absolute no credentials", "GET", "http://example.com/x", "", "", 407},
		{"absolute www credentials are not proxy credentials", "GET", "http://example.com/x", "", basicAuth("alice", "pw-a"), 407},
		{"absolute ok", "GET", "http://example.com/a%2Fb", basicAuth("alice", "pw-a"), "", 200},
		{"connect no credentials", "CONNECT", "example.com:443", "", "", 407},
		{"connect wrong", "CONNECT", "example.com:443", basicAuth("alice", "nope"), "", 407},
		{"connect ok", "CONNECT", "example.com:443", basicAuth("alice", "pw-a"), "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.method == "CONNECT" {
				r = httptest.NewRequest("CONNECT", "http://"+tt.target, nil)
				r.URL.Scheme, r.URL.Path, r.RequestURI = "", "", tt.target
			}
			if !IsProxyRequest(r) {
				t.Fatalf("IsProxyRequest(%s %s) = false", tt.method, tt.target)
			}
			if tt.proxyAuth != "" {
				r.Header.Set("Proxy-Authorization", tt.proxyAuth)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.target, w.Code, tt.status)
			}
			if tt.status == 407 {
				if got := w.Header().Get("Proxy-Authenticate"); !strings.HasPrefix(got, `Basic realm="Proxy"`) {
					t.Errorf("Proxy-Authenticate = %q", got)
				}
				if got := w.Header().Get("WWW-Authenticate"); got != "" {
					t.Errorf("WWW-Authenticate = %q, want none", got)
				}
			}
			if tt.status == 200 && r.Header.Get("Proxy-Authorization") == "" {
				t.Errorf("the original request lost Proxy-Authorization before the backend (it strips it itself)")
			}
		})
	}
	if IsProxyRequest(httptest.NewRequest("GET", "/x", nil)) {
		t.Error("IsProxyRequest(origin-form) = true")
	}
	_ = http.MethodConnect
}

// FuzzOriginalRequest: whatever the proxy's headers say, rebuilding the
// original request never panics, and what it returns has a path-only URI.
func FuzzOriginalRequest(f *testing.F) {
	for _, s := range [][3]string{
		{"GET", "/members/x?a=1", "example.org"},
		{"POST", "/x/../MEMBERS/", ""},
		{"", "", ""},
		{"G ET", "http://evil/", "a,b"},
		{"GET", "//evil/x", "host:8080"},
		{"GET", "/%2F%00", " "},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, method, uri, host string) {
		r := httptest.NewRequest("GET", "http://gw/.htgate/verify", nil)
		r.Header["X-Original-Method"] = []string{method}
		r.Header["X-Forwarded-Uri"] = []string{uri}
		r.Header["X-Forwarded-Host"] = []string{host}
		orig, err := originalRequest(r)
		if err != nil {
			return
		}
		if !strings.HasPrefix(orig.RequestURI, "/") || orig.URL.Host != "" || orig.URL.Scheme != "" {
			t.Errorf("originalRequest(%q, %q) = URI %q, URL %v", method, uri, orig.RequestURI, orig.URL)
		}
		if orig.Header.Get("X-Forwarded-Uri") != "" {
			t.Error("X-Forwarded-Uri kept")
		}
	})
}

func TestVerifyFormLogin(t *testing.T) {
	creds := &fakeCreds{hashes: map[string]string{"alice": mustHash(t, "pw-a")}, dummy: mustHash(t, "dummy")}
	rules := []policy.Rule{{ID: "app", Path: "/app", Realm: "App", Source: "users", Schemes: []string{"form", "basic"}}}
	g := newTestGateway(t, rules, creds, Options{
		ClientIP:  ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		FormLogin: &FormLogin{Sessions: memory.NewSessions(memory.Options{})},
	})
	tests := []struct {
		name, accept, uriHeader string
		status                  int
		location, login         string
	}{
		{"caddy browser", "text/html", "X-Forwarded-Uri", 303, "/.htgate/login?return=%2Fapp%2Fx%3Fq%3D1", "/.htgate/login?return=%2Fapp%2Fx%3Fq%3D1"},
		{"nginx browser", "text/html", "X-Original-Uri", 401, "", "/.htgate/login?return=%2Fapp%2Fx%3Fq%3D1"},
		{"api client", "application/json", "X-Forwarded-Uri", 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://gw"+DefaultVerifyPath, nil)
			r.RemoteAddr = "127.0.0.1:1"
			r.Header.Set("Accept", tt.accept)
			r.Header.Set(tt.uriHeader, "/app/x?q=1")
			r.Header.Set("X-Forwarded-Method", "GET")
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != tt.status || w.Header().Get("Location") != tt.location || w.Header().Get(HeaderLogin) != tt.login {
				t.Errorf("verify = %d Location %q %s %q; want %d %q %q", w.Code, w.Header().Get("Location"), HeaderLogin, w.Header().Get(HeaderLogin), tt.status, tt.location, tt.login)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	creds := &fakeCreds{hashes: map[string]string{"alice": mustHash(b, "pw-a")}, dummy: mustHash(b, "dummy")}
	cache, err := NewCredentialCache(100, time.Minute, nil)
	if err != nil {
		b.Fatal(err)
	}
	g := newTestGateway(b, []policy.Rule{{ID: "members", Path: "/members", Realm: "Members", Source: "users"}}, creds, Options{
		ClientIP: ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		Cache:    cache,
	})
	r := httptest.NewRequest("GET", "http://gw"+DefaultVerifyPath, nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Original-Method", "GET")
	r.Header.Set("X-Original-URI", "/members/page.html")
	r.Header.Set("Authorization", basicAuth("alice", "pw-a"))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("verify = %d", w.Code)
		}
	}
}
