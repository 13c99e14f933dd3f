package probe

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixedNow is the clock of every probe in these tests.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const noStore = "no-store"

// challenge401 answers 401 with the given challenges and Cache-Control.
func challenge401(cacheControl string, challenges ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, c := range challenges {
			w.Header().Add("WWW-Authenticate", c)
		}
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}
}

// basicServer accepts one user name and password with Basic.
func basicServer(user, pass string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == user && p == pass {
			fmt.Fprintln(w, "welcome")
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="Members", charset="UTF-8"`)
		w.Header().Set("Cache-Control", noStore)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}
}

// bearerServer accepts one token; any other token is refused with desc.
func bearerServer(token, desc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+token {
			fmt.Fprintln(w, `{"ok":true}`)
			return
		}
		ch := `Bearer realm="api"`
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			ch += fmt.Sprintf(`, error="invalid_token", error_description=%q`, desc)
		}
		w.Header().Set("WWW-Authenticate", ch)
		w.Header().Set("Cache-Control", noStore)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}
}

// digestServer is a small RFC 7616 server for the Digest client tests.
type digestServer struct {
	t          *testing.T
	user, pass string
	algs       []string // offered, in order: "MD5", "SHA-256", "SHA-256-sess", ...
	staleOnce  bool     // the first correct answer is told its nonce is stale
	nonce      string
	sawStale   bool
}

func (d *digestServer) hash(alg string) func() hash.Hash {
	if strings.HasPrefix(strings.ToUpper(alg), "SHA-256") {
		return sha256.New
	}
	return md5.New
}

func (d *digestServer) verify(r *http.Request, c Challenge) bool {
	get := func(n string) string { v, _ := c.Param(n); return v }
	alg := get("algorithm")
	if alg == "" {
		alg = "MD5"
	}
	if !slices.Contains(d.algs, alg) || get("nonce") != d.nonce || get("realm") != "Digest Area" ||
		get("uri") != r.URL.RequestURI() || get("opaque") != "0paque" || get("qop") != "auth" || get("username") != d.user {
		d.t.Logf("digest server: bad parameters in %q", c.Raw)
		return false
	}
	newHash := d.hash(alg)
	h := func(s string) string {
		x := newHash()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	ha1 := h(d.user + ":Digest Area:" + d.pass)
	if strings.HasSuffix(alg, "-sess") {
		ha1 = h(ha1 + ":" + d.nonce + ":" + get("cnonce"))
	}
	ha2 := h(r.Method + ":" + get("uri"))
	want := h(ha1 + ":" + d.nonce + ":" + get("nc") + ":" + get("cnonce") + ":auth:" + ha2)
	return get("response") == want
}

func (d *digestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	stale := false
	if authz := r.Header.Get("Authorization"); strings.HasPrefix(authz, "Digest ") {
		cs, err := ParseChallenges([]string{authz})
		if err == nil && len(cs) == 1 && d.verify(r, cs[0]) {
			if !d.staleOnce || d.sawStale {
				fmt.Fprintln(w, "welcome")
				return
			}
			d.sawStale, stale = true, true
			d.nonce = "fresh-nonce"
		}
	}
	for _, alg := range d.algs {
		c := fmt.Sprintf(`Digest realm="Digest Area", qop="auth", algorithm=%s, nonce=%q, opaque="0paque"`, alg, d.nonce)
		if stale {
			c += ", stale=true"
		}
		w.Header().Add("WWW-Authenticate", c)
	}
	w.Header().Set("Cache-Control", noStore)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

const loginPage = `<!doctype html><html><head><title>Sign in</title><link rel="stylesheet" href="/static/site.css"></head>
<body><h1>Welcome back</h1><form method="post" action="/login"><input name="user"><input type="password" name="pw"><button>Sign in</button></form></body></html>`

// dialTo makes a client that sends every connection to addr (a local test
// server) whatever the URL's host, to probe "remote" names safely.
func dialTo(addr string) *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

type probeCase struct {
	name    string
	handler http.Handler
	tls     bool
	url     string // path, or a full URL with host REMOTE for dialTo
	opts    Options
	want    []string // finding ids, exactly and in order
}

func probeCases() []probeCase {
	mux := func(routes map[string]http.HandlerFunc) http.Handler {
		m := http.NewServeMux()
		for p, h := range routes {
			m.HandleFunc(p, h)
		}
		return m
	}
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
	}
	return []probeCase{
		{name: "missing-challenge", handler: challenge401(noStore), want: []string{"missing-challenge"}},
		{name: "missing-challenge-empty-header", handler: challenge401(noStore, ""), want: []string{"missing-challenge"}},
		{name: "challenge-unparseable", handler: challenge401(noStore, `Bearer realm="api`), want: []string{"challenge-unparseable"}},
		{name: "basic-over-http-loopback", handler: challenge401(noStore, `Basic realm="Members", charset="UTF-8"`), want: []string{"basic-over-http"}},
		{name: "basic-over-http-remote", url: "http://intranet.example:8080/admin", handler: challenge401(noStore, `Basic realm="Members", charset="UTF-8"`), want: []string{"basic-over-http"}},
		{name: "cacheable-401", handler: challenge401("", `Bearer realm="api"`), want: []string{"cacheable-401"}},
		{name: "cacheable-401-max-age", handler: challenge401("public, max-age=3600", `Bearer realm="api"`), want: []string{"cacheable-401"}},
		{name: "cacheable-401-private-is-fine", handler: challenge401("private", `Bearer realm="api"`), want: nil},
		{name: "soft-401-login-form", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, loginPage)
		}), want: []string{"soft-401"}},
		{name: "soft-401-redirect-to-login", handler: mux(map[string]http.HandlerFunc{
			"/api/": redirect("/login?next=/api/items"),
			"/login": func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, loginPage)
			},
		}), url: "/api/items", want: []string{"soft-401"}},
		{name: "soft-401-json", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"error":"Unauthorized","message":"Please log in"}`)
		}), want: []string{"soft-401"}},
		{name: "soft-401-says-access-denied", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><body><script>var unauthorized = 1;</script><p>Access&nbsp;denied. Ask your admin.</p></body></html>`)
		}), want: []string{"soft-401"}},
		{name: "login-redirect-loop", handler: mux(map[string]http.HandlerFunc{
			"/":      redirect("/login"),
			"/login": redirect("/"),
		}), url: "/", want: []string{"login-redirect-loop"}},
		{name: "login-redirect-loop-cookie-path", handler: mux(map[string]http.HandlerFunc{
			"/app": func(w http.ResponseWriter, r *http.Request) {
				if _, err := r.Cookie("session"); err == nil {
					fmt.Fprintln(w, "hello")
					return
				}
				http.Redirect(w, r, "/login?return_to=/app", http.StatusFound)
			},
			"/login": func(w http.ResponseWriter, r *http.Request) {
				// The session cookie's Path leaves out /app, so it never comes back there.
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/login"})
				http.Redirect(w, r, r.URL.Query().Get("return_to"), http.StatusFound)
			},
		}), url: "/app", want: []string{"login-redirect-loop"}},
		{name: "login-redirect-loop-growing-query", handler: mux(map[string]http.HandlerFunc{
			"/": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/?r="+r.URL.RawQuery+"x", http.StatusFound)
			},
		}), url: "/", want: []string{"login-redirect-loop"}},
		{name: "cookie-login-is-not-a-loop", handler: mux(map[string]http.HandlerFunc{
			"/app": func(w http.ResponseWriter, r *http.Request) {
				if _, err := r.Cookie("session"); err == nil {
					fmt.Fprintln(w, "hello")
					return
				}
				http.Redirect(w, r, "/sso", http.StatusFound)
			},
			"/sso": func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/"})
				http.Redirect(w, r, "/app", http.StatusFound)
			},
		}), url: "/app", want: nil},
		{name: "challenge-on-403", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			http.Error(w, "forbidden", http.StatusForbidden)
		}), want: []string{"challenge-on-non-401"}},
		{name: "challenge-on-200", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			fmt.Fprintln(w, "ok")
		}), want: []string{"challenge-on-non-401"}},
		{name: "insufficient-scope-on-403-is-fine", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="insufficient_scope", scope="admin"`)
			http.Error(w, "forbidden", http.StatusForbidden)
		}), want: nil},
		{name: "407-without-proxy-authenticate", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "proxy auth", http.StatusProxyAuthRequired)
		}), want: []string{"407-without-proxy-authenticate"}},
		{name: "407-with-proxy-authenticate", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Proxy-Authenticate", `Basic realm="Proxy", charset="UTF-8"`)
			http.Error(w, "proxy auth", http.StatusProxyAuthRequired)
		}), want: nil},
		{name: "digest-md5-only", handler: challenge401(noStore, `Digest realm="Digest Area", qop="auth", nonce="abc", opaque="xyz"`), want: []string{"digest-md5-only"}},
		{name: "digest-with-sha256-is-fine", handler: challenge401(noStore,
			`Digest realm="Digest Area", qop="auth", algorithm=SHA-256, nonce="abc"`,
			`Digest realm="Digest Area", qop="auth", algorithm=MD5, nonce="abc"`), want: nil},
		{name: "basic-no-charset", tls: true, handler: challenge401(noStore, `Basic realm="Members"`), want: []string{"basic-no-charset"}},
		{name: "auth-required-on-error-page", handler: mux(map[string]http.HandlerFunc{
			"/": func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
				w.Header().Set("Cache-Control", noStore)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `<html><head><link rel="stylesheet" href="/css/error.css"><link rel="preload" href="/font.woff2">
<script src="https://cdn.example/analytics.js"></script></head>
<body><img src='/img/logo.png' alt=""><img src="/public/ok.png"><h1>Please log in</h1></body></html>`)
			},
			"/public/": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "png") },
		}), url: "/private", want: []string{"auth-required-on-error-page"}},
		{name: "credentials-rejected", handler: basicServer("alice", "right"),
			opts: Options{User: "alice", Password: "wrong", HasPassword: true}, want: []string{"credentials-rejected", "basic-over-http"}},
		{name: "credentials-accepted", handler: basicServer("alice", "right"),
			opts: Options{User: "alice", Password: "right", HasPassword: true}, want: []string{"basic-over-http"}},
		{name: "token-expired", handler: bearerServer("good", "The access token expired"),
			opts: Options{Token: "old"}, want: []string{"token-expired"}},
		{name: "token-invalid", handler: bearerServer("good", "Malformed token"),
			opts: Options{Token: "garbage"}, want: []string{"token-invalid"}},
		{name: "token-accepted", handler: bearerServer("good", ""), opts: Options{Token: "good"}, want: nil},
		{name: "retry-after-seconds", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}), want: []string{"retry-after"}},
		{name: "retry-after-date", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", "Sun, 01 Mar 2026 12:00:00 GMT")
			w.Header().Set("Retry-After", "Sun, 01 Mar 2026 13:30:00 GMT")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		}), want: []string{"retry-after"}},
		{name: "well-behaved", tls: true, handler: basicServer("alice", "right"), want: nil},
		{name: "well-behaved-with-credentials", tls: true, handler: basicServer("alice", "right"),
			opts: Options{User: "alice", Password: "right", HasPassword: true}, want: nil},
		{name: "everything-wrong", handler: mux(map[string]http.HandlerFunc{
			"/": func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Basic realm=Members`)
				w.Header().Add("WWW-Authenticate", `Digest realm="Members", nonce="n", algorithm=MD5-sess, qop="auth"`)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `<html><head><link rel=stylesheet href=/style.css></head><body>No</body></html>`)
			},
		}), url: "/members/", want: []string{"auth-required-on-error-page", "cacheable-401", "digest-md5-only", "basic-over-http", "basic-no-charset"}},
	}
}

// maskPorts replaces the test servers' random ports and other run-dependent
// values in golden output.
var rePort = regexp.MustCompile(`127\.0\.0\.1:\d+`)

func runCase(t *testing.T, tc probeCase) *Report {
	t.Helper()
	var srv *httptest.Server
	if tc.tls {
		srv = httptest.NewTLSServer(tc.handler)
	} else {
		srv = httptest.NewServer(tc.handler)
	}
	t.Cleanup(srv.Close)
	opts := tc.opts
	opts.Now = func() time.Time { return fixedNow }
	target := srv.URL + tc.url
	switch {
	case strings.Contains(tc.url, "://"):
		target = tc.url
		opts.Client = dialTo(srv.Listener.Addr().String())
	case tc.tls:
		opts.Client = srv.Client()
	}
	rep, err := Probe(t.Context(), target, opts)
	if err != nil {
		t.Fatalf("Probe(%q) error = %v", target, err)
	}
	return rep
}

func findingIDs(r *Report) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestProbeFindings(t *testing.T) {
	for _, tc := range probeCases() {
		t.Run(tc.name, func(t *testing.T) {
			rep := runCase(t, tc)
			if diff := cmp.Diff(tc.want, findingIDs(rep)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
			for _, f := range rep.Findings {
				if f.Message == "" || f.Fix == "" || !slices.Contains(FindingIDs(), f.ID) {
					t.Errorf("finding %+v: want a known id, a message and a fix", f)
				}
			}
			if rep.TLS != nil {
				// TestProbeTLS checks dates and cipher; keep the goldens
				// independent of the validity of httptest's certificate.
				rep.TLS.NotBefore, rep.TLS.NotAfter, rep.TLS.DaysLeft = time.Time{}, time.Time{}, 0
				rep.TLS.CipherSuite = "(masked: depends on the CPU)"
			}
			js, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".json", rePort.ReplaceAll(append(js, '\n'), []byte("127.0.0.1:PORT")))
			golden(t, tc.name+".txt", rePort.ReplaceAll(text.Bytes(), []byte("127.0.0.1:PORT")))
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestReportOK(t *testing.T) {
	tests := []struct {
		findings []Finding
		want     bool
	}{
		{nil, true},
		{[]Finding{{ID: "x", Severity: SeverityWarning}, {ID: "y", Severity: SeverityInfo}}, true},
		{[]Finding{{ID: "x", Severity: SeverityWarning}, {ID: "y", Severity: SeverityError}}, false},
	}
	for _, tt := range tests {
		r := &Report{Findings: tt.findings}
		if got := r.OK(); got != tt.want {
			t.Errorf("OK(%v) = %v, want %v", tt.findings, got, tt.want)
		}
	}
}

func TestProbeDigest(t *testing.T) {
	tests := []struct {
		name     string
		algs     []string
		pass     string
		stale    bool
		wantCode int
		want     []string
	}{
		{"md5", []string{"MD5"}, "s3cret", false, 200, []string{"digest-md5-only"}},
		{"sha-256", []string{"SHA-256"}, "s3cret", false, 200, nil},
		{"sha-256 preferred over md5", []string{"MD5", "SHA-256"}, "s3cret", false, 200, nil},
		{"md5-sess", []string{"MD5-sess"}, "s3cret", false, 200, []string{"digest-md5-only"}},
		{"sha-256-sess", []string{"SHA-256-sess"}, "s3cret", false, 200, nil},
		{"stale nonce is retried", []string{"SHA-256"}, "s3cret", true, 200, nil},
		{"wrong password md5", []string{"MD5"}, "nope", false, 401, []string{"credentials-rejected", "digest-md5-only"}},
		{"wrong password sha-256", []string{"SHA-256"}, "nope", false, 401, []string{"credentials-rejected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := &digestServer{t: t, user: "bob", pass: "s3cret", algs: tt.algs, nonce: "n0nce", staleOnce: tt.stale}
			srv := httptest.NewServer(ds)
			defer srv.Close()
			rep, err := Probe(t.Context(), srv.URL+"/area/page?x=1", Options{User: "bob", Password: tt.pass, HasPassword: true, Now: func() time.Time { return fixedNow }})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != tt.wantCode {
				t.Errorf("Status = %d, want %d", rep.Status, tt.wantCode)
			}
			if diff := cmp.Diff([]string{"Digest"}, rep.Tried); diff != "" {
				t.Errorf("Tried mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, findingIDs(rep)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
			if tt.stale && !ds.sawStale {
				t.Errorf("the stale round was not exercised")
			}
		})
	}
}

// TestDigestAuthorizationRFC7616 checks the client against the worked
// example of RFC 7616 §3.9.1.
func TestDigestAuthorizationRFC7616(t *testing.T) {
	cs, err := ParseChallenges([]string{`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
		`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`})
	if err != nil {
		t.Fatal(err)
	}
	const cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	tests := []struct {
		c    Challenge
		want string
	}{
		{cs[0], "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{cs[1], "8ca523f5e9506fed4657c9700eebdbec"},
	}
	for _, tt := range tests {
		got, err := digestAuthorization(tt.c, "GET", "/dir/index.html", "Mufasa", "Circle of Life", cnonce, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, `response="`+tt.want+`"`) {
			t.Errorf("digestAuthorization(%s) = %q, want response %q", tt.c.Scheme, got, tt.want)
		}
		back, err := ParseChallenges([]string{got})
		if err != nil {
			t.Errorf("digestAuthorization output %q does not parse: %v", got, err)
		}
		if v, _ := back[0].Param("nc"); v != "00000001" {
			t.Errorf("nc = %q, want 00000001", v)
		}
	}
	if c, ok := pickDigest(cs); !ok || !strings.EqualFold(mustParam(c, "algorithm"), "SHA-256") {
		t.Errorf("pickDigest chose %q, want the SHA-256 challenge", c.Raw)
	}
}

func TestProbeTLS(t *testing.T) {
	srv := httptest.NewTLSServer(challenge401(noStore, `Basic realm="Members", charset="UTF-8"`))
	defer srv.Close()
	now := func() time.Time { return fixedNow }

	rep, err := Probe(t.Context(), srv.URL, Options{Client: srv.Client(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cert := srv.Certificate()
	want := &TLSInfo{
		Version:     "TLS 1.3",
		CipherSuite: rep.TLS.CipherSuite,
		ALPN:        rep.TLS.ALPN,
		Subject:     cert.Subject.String(),
		Issuer:      cert.Issuer.String(),
		DNSNames:    cert.DNSNames,
		NotBefore:   cert.NotBefore.UTC(),
		NotAfter:    cert.NotAfter.UTC(),
		DaysLeft:    int(cert.NotAfter.Sub(fixedNow).Hours() / 24),
	}
	if diff := cmp.Diff(want, rep.TLS); diff != "" {
		t.Errorf("TLS mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(rep.TLS.CipherSuite, "TLS_") {
		t.Errorf("CipherSuite = %q, want an IANA name", rep.TLS.CipherSuite)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings = %v, want none", findingIDs(rep))
	}

	// The probe's own client does not trust the test certificate.
	if _, err := Probe(t.Context(), srv.URL, Options{Now: now}); err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("Probe without trust: error = %v, want a certificate error", err)
	}
	// --insecure looks anyway and says the certificate is not trusted.
	rep, err = Probe(t.Context(), srv.URL, Options{Insecure: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TLS == nil || rep.TLS.VerifyError == "" {
		t.Errorf("Insecure probe TLS = %+v, want a VerifyError", rep.TLS)
	}
	if rep.Status != http.StatusUnauthorized {
		t.Errorf("Status = %d, want 401", rep.Status)
	}
}

func TestProbeUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rep, err := Probe(t.Context(), "http://"+addr+"/", Options{})
	if err == nil || rep != nil {
		t.Fatalf("Probe(closed port) = %v, %v, want nil and an error", rep, err)
	}
	if !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("error = %q, want it to say the host cannot be reached", err)
	}
}

func TestProbeTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	_, err := Probe(t.Context(), srv.URL, Options{Timeout: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no complete answer within 100ms") {
		t.Errorf("Probe(slow server) error = %v, want a timeout", err)
	}
}

func TestProbeBadOptions(t *testing.T) {
	tests := []struct {
		url  string
		opts Options
	}{
		{"", Options{}},
		{"ftp://example.com/", Options{}},
		{"http://", Options{}},
		{"http://127.0.0.1/", Options{User: "a"}},
		{"http://127.0.0.1/", Options{User: "a", HasPassword: true, Token: "t"}},
		{"http://127.0.0.1/", Options{User: "a:b", HasPassword: true}},
		{"http://127.0.0.1/", Options{Method: "BAD METHOD"}},
	}
	for _, tt := range tests {
		if rep, err := Probe(t.Context(), tt.url, tt.opts); err == nil {
			t.Errorf("Probe(%q, %+v) = %v, nil, want an error", tt.url, tt.opts, rep)
		}
	}
}

// TestProbeCredentialsStayHome checks that credentials, the caller's
// Authorization and Cookie headers are never sent to another host, and that
// no secret ends up in the report.
func TestProbeCredentialsStayHome(t *testing.T) {
	other := make(chan http.Header, 4)
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other <- r.Header.Clone()
		w.Header().Set("WWW-Authenticate", `Basic realm="elsewhere", charset="UTF-8"`)
		w.Header().Set("Cache-Control", noStore)
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer otherSrv.Close()
	// "localhost" and "127.0.0.1" are different hosts to the probe.
	otherURL := strings.Replace(otherSrv.URL, "127.0.0.1", "localhost", 1)
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+"/x", http.StatusFound)
	}))
	defer home.Close()

	for _, opts := range []Options{
		{User: "alice", Password: "pa55word", HasPassword: true, Headers: http.Header{"Cookie": {"sid=c00kie"}, "X-Test": {"1"}}},
		{Token: "t0ken", Headers: http.Header{"Authorization": {"Bearer h3ader"}}},
	} {
		rep, err := Probe(t.Context(), home.URL+"/", opts)
		if err != nil {
			t.Fatal(err)
		}
		for len(other) > 0 {
			h := <-other
			for _, name := range []string{"Authorization", "Cookie"} {
				if v := h.Get(name); v != "" {
					t.Errorf("other host received %s: %q", name, v)
				}
			}
		}
		js, _ := json.Marshal(rep)
		var text bytes.Buffer
		_ = rep.WriteText(&text)
		for _, secret := range []string{"pa55word", "t0ken", "h3ader", "c00kie", base64.StdEncoding.EncodeToString([]byte("alice:pa55word"))} {
			if bytes.Contains(js, []byte(secret)) || bytes.Contains(text.Bytes(), []byte(secret)) {
				t.Errorf("report contains the secret %q", secret)
			}
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, "1 second"},
		{30 * time.Second, "30 seconds"},
		{2 * time.Minute, "2 minutes"},
		{90 * time.Second, "1 minute 30 seconds"},
		{15*time.Minute + 5*time.Second, "15 minutes"},
		{time.Hour, "about 1 hour"},
		{90 * time.Minute, "about 1 hour 30 minutes"},
		{50 * time.Hour, "about 2 days 2 hours"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestSoft401Detection(t *testing.T) {
	tests := []struct {
		ctype, body string
		want        bool
	}{
		{"text/html", loginPage, true},
		{"text/html", `<html><body><h1>Our products</h1><p>Log in at the top.</p></body></html>`, false},
		{"text/html", `<html><body><input type="password"></body></html>`, false}, // no form
		{"text/html", `<html><body><p>You must be logged in to see this.</p></body></html>`, true},
		{"text/html", `<html><body><script>if (x) alert("Unauthorized")</script>Welcome</body></html>`, false},
		{"application/json", `{"items":[]}`, false},
		{"application/json", `{"error":"not authorized"}`, true},
		{"image/png", "unauthorized", false},
		{"", `<!DOCTYPE html><form><input type=PASSWORD></form>`, true},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.ctype != "" {
			h.Set("Content-Type", tt.ctype)
		}
		_, got := soft401(&response{status: 200, method: "GET", header: h, body: []byte(tt.body)}, false)
		if got != tt.want {
			t.Errorf("soft401(%q, %q) = %v, want %v", tt.ctype, tt.body, got, tt.want)
		}
	}
}

func BenchmarkProbeLocal(b *testing.B) {
	srv := httptest.NewServer(challenge401(noStore, `Basic realm="Members", charset="UTF-8"`))
	defer srv.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Probe(context.Background(), srv.URL, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanBody feeds arbitrary pages to the HTML heuristics: they must
// never panic and only ever return same-origin references.
func FuzzScanBody(f *testing.F) {
	f.Add(loginPage)
	f.Add(`<html><head><link rel=stylesheet href=/style.css></head><body>No</body></html>`)
	f.Add(`<img src='//evil.example/x.png'><script src="/a.js"></script><link rel="icon" href="&#47;favicon.ico">`)
	f.Add(`<form><input type=password`)
	base, _ := url.Parse("http://127.0.0.1:8080/members/")
	f.Fuzz(func(t *testing.T, body string) {
		tags := scanTags([]byte(body))
		_ = hasLoginForm(tags)
		_ = soft401Phrase(visibleText([]byte(body)))
		refs := assetRefs(tags, base)
		if len(refs) > maxAssetProbe {
			t.Fatalf("assetRefs returned %d references, want at most %d", len(refs), maxAssetProbe)
		}
		for _, u := range refs {
			if !sameOriginExact(base, u) {
				t.Fatalf("assetRefs(%q) returned the other-origin %s", body, u)
			}
		}
	})
}
