package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/config"
)

const (
	secretMarker = "SECRET-MEMBERS-CONTENT"
)

// fixture is a running gateway on a loopback port, with its docroot,
// credential files and captured log.
type fixture struct {
	t       *testing.T
	dir     string
	base    string
	app     *App
	logs    *syncBuffer
	cancel  context.CancelFunc
	done    chan error
	htpass  string
	cfgPath string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// htpasswdLine hashes a password with Apache's own htpasswd tool, so the
// test also proves that htgate reads what Apache writes.
func htpasswdLine(t *testing.T, flag, cost, user, password string) string {
	t.Helper()
	args := append([]string{"-nb" + flag}, strings.Fields(cost)...)
	out, err := exec.Command("htpasswd", append(args, user, password)...).Output()
	if err != nil {
		t.Fatalf("htpasswd (Debian's apache2-utils, installed by .ci/run) failed: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// writeSite creates a docroot with a public page and a protected area.
func writeSite(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "site")
	files := map[string]string{
		"index.html":                "PUBLIC-HOME",
		"members/index.html":        secretMarker + " index",
		"members/page.html":         secretMarker + " page",
		"members/sub/deep.txt":      secretMarker + " deep",
		"members/caf\u00e9.txt":     secretMarker + " cafe",
		"admin/index.html":          "ADMIN " + secretMarker,
		"membership/index.html":     "PUBLIC-MEMBERSHIP",
		"public/members/index.html": "PUBLIC-NESTED",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// start runs the gateway with the YAML config (which may use {root},
// {htpasswd} and {groups} placeholders) until the test ends.
func start(t *testing.T, yamlTemplate string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, logs: &syncBuffer{}}
	root := writeSite(t, dir)
	f.htpass = filepath.Join(dir, "users.htpasswd")
	lines := []string{
		htpasswdLine(t, "B", "-C 4", "alice", "Wonderland-1"),
		htpasswdLine(t, "m", "", "bob", "b0b pass w/ space"),
		htpasswdLine(t, "s", "", "carol", "c:olon:pw"),
		htpasswdLine(t, "B", "-C 4", "jos\u00e9", "p\u00e4ssw\u00f6rd-\u00fc"),
	}
	if err := os.WriteFile(f.htpass, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	groups := filepath.Join(dir, "groups")
	if err := os.WriteFile(groups, []byte("admins: alice\nstaff: bob carol\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	y := strings.NewReplacer("{root}", root, "{htpasswd}", f.htpass, "{groups}", groups).Replace(yamlTemplate)
	f.cfgPath = filepath.Join(dir, "htgate.yaml")
	if err := os.WriteFile(f.cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := mustLoad(t, f.cfgPath)
	logger := slog.New(slog.NewJSONHandler(f.logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Open(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatalf("Open: %v", err)
	}
	f.app, f.cancel = a, cancel
	f.base = "http://" + a.Addr().String()
	f.done = make(chan error, 1)
	go func() { f.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-f.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return f
}

func mustLoad(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	return cfg
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// get sends a request and returns the response with its body read.
func (f *fixture) do(method, path string, hdr ...string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.base+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// raw sends a request line and headers byte for byte and returns the status line and body.
func (f *fixture) raw(requestTarget string, headers ...string) (int, string) {
	f.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.base, "http://"))
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", requestTarget)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		f.t.Fatalf("GET %q: %v", requestTarget, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

const membersConfig = `
root: {root}
realm: Members area
rules:
  - path: /members
    htpasswd: {htpasswd}
  - path: /admin
    realm: Admins
    htpasswd: {htpasswd}
    group_file: {groups}
    groups: [admins]
`

func TestBasicAuthStatuses(t *testing.T) {
	f := start(t, membersConfig)
	tests := []struct {
		name, method, path, auth string
		status                   int
		challenge                string
		bodyHas                  string
	}{
		{"public page", "GET", "/", "", 200, "", "PUBLIC-HOME"},
		{"no credentials", "GET", "/members/", "", 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"valid bcrypt", "GET", "/members/page.html", basic("alice", "Wonderland-1"), 200, "", secretMarker},
		{"valid apr1 with spaces", "GET", "/members/page.html", basic("bob", "b0b pass w/ space"), 200, "", secretMarker},
		{"valid sha1 with colons", "GET", "/members/page.html", basic("carol", "c:olon:pw"), 200, "", secretMarker},
		{"utf-8 user and password", "GET", "/members/page.html", basic("jos\u00e9", "p\u00e4ssw\u00f6rd-\u00fc"), 200, "", secretMarker},
		{"wrong password", "GET", "/members/", basic("alice", "wrong"), 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"unknown user", "GET", "/members/", basic("nobody", "Wonderland-1"), 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"lower-case scheme, extra spaces", "GET", "/members/page.html", "basic    " + strings.TrimPrefix(basic("alice", "Wonderland-1"), "Basic "), 200, "", secretMarker},
		{"malformed base64", "GET", "/members/", "Basic !!!notbase64", 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"no colon", "GET", "/members/", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")), 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"other scheme", "GET", "/members/", "Bearer abc", 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"known user not in group", "GET", "/admin/", basic("bob", "b0b pass w/ space"), 403, "", ""},
		{"group member", "GET", "/admin/", basic("alice", "Wonderland-1"), 200, "", secretMarker},
		{"admin without credentials", "GET", "/admin/", "", 401, `Basic realm="Admins", charset="UTF-8"`, ""},
		{"prefix is by segment", "GET", "/membership/", "", 200, "", "PUBLIC-MEMBERSHIP"},
		{"HEAD protected", "HEAD", "/members/", "", 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"OPTIONS protected", "OPTIONS", "/members/", "", 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"unknown method protected", "FOO", "/members/", "", 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"lower-case method protected", "get", "/members/", "", 401, `Basic realm="Members area", charset="UTF-8"`, ""},
		{"TRACE refused", "TRACE", "/", "", 405, "", ""},
		{"lower-case trace refused", "trace", "/members/", basic("alice", "Wonderland-1"), 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.auth != "" {
				hdr = []string{"Authorization", tt.auth}
			}
			resp, body := f.do(tt.method, tt.path, hdr...)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %d, want %d (body %q)", tt.method, tt.path, resp.StatusCode, tt.status, body)
			}
			got := strings.Join(resp.Header.Values("WWW-Authenticate"), " | ")
			if got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if tt.status >= 400 {
				if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
					t.Errorf("Cache-Control = %q, want no-store on a refusal", cc)
				}
				if resp.Header.Get("X-Request-Id") == "" {
					t.Errorf("refusal without X-Request-Id")
				}
				if strings.Contains(body, secretMarker) {
					t.Errorf("refusal leaked protected content: %q", body)
				}
			}
			if tt.bodyHas != "" && !strings.Contains(body, tt.bodyHas) {
				t.Errorf("body = %q, want containing %q", body, tt.bodyHas)
			}
		})
	}
}

// TestNoUserEnumeration checks that an unknown user and a wrong password
// get byte-identical answers apart from the reference id.
func TestNoUserEnumeration(t *testing.T) {
	f := start(t, membersConfig)
	for _, accept := range []string{"text/html", "application/json", "*/*"} {
		r1, b1 := f.do("GET", "/members/", "Authorization", basic("alice", "wrong"), "Accept", accept)
		r2, b2 := f.do("GET", "/members/", "Authorization", basic("nosuchuser", "wrong"), "Accept", accept)
		id1, id2 := r1.Header.Get("X-Request-Id"), r2.Header.Get("X-Request-Id")
		if r1.StatusCode != r2.StatusCode {
			t.Errorf("Accept %s: status %d vs %d", accept, r1.StatusCode, r2.StatusCode)
		}
		if strings.ReplaceAll(b1, id1, "REF") != strings.ReplaceAll(b2, id2, "REF") {
			t.Errorf("Accept %s: bodies differ:\n%s\n---\n%s", accept, b1, b2)
		}
		for _, h := range []string{"WWW-Authenticate", "Content-Type", "Cache-Control"} {
			if r1.Header.Get(h) != r2.Header.Get(h) {
				t.Errorf("Accept %s: %s differs: %q vs %q", accept, h, r1.Header.Get(h), r2.Header.Get(h))
			}
		}
	}
}

// TestLogHasNoSecrets checks that the log of failed and successful logins
// holds no password, hash or Authorization value.
func TestLogHasNoSecrets(t *testing.T) {
	f := start(t, membersConfig)
	f.do("GET", "/members/", "Authorization", basic("alice", "Wonderland-1"))
	f.do("GET", "/members/", "Authorization", basic("alice", "typo-Secret-99"))
	f.do("GET", "/members/", "Authorization", "Basic !!garbage-Secret-77")
	logs := f.logs.String()
	for _, secret := range []string{"Wonderland-1", "typo-Secret-99", "garbage-Secret-77", base64.StdEncoding.EncodeToString([]byte("alice:Wonderland-1")), "$2y$"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{`"reason":"logon_failed"`, `"user":"alice"`, `"status":401`, `"status":200`, `"ref_id"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestHtpasswdReload checks that a user added to the file can log in
// without a restart, and a removed one cannot, even with a cached credential.
func TestHtpasswdReload(t *testing.T) {
	// The poll below fails many times until the file is re-read: keep the
	// guard from locking the test out.
	f := start(t, membersConfig+"guard: {disabled: true}\n")
	if r, _ := f.do("GET", "/members/", "Authorization", basic("alice", "Wonderland-1")); r.StatusCode != 200 {
		t.Fatalf("alice before reload: %d", r.StatusCode)
	}
	newFile := htpasswdLine(t, "B", "-C 4", "dave", "dave-pw") + "\n"
	tmp := f.htpass + ".new"
	if err := os.WriteFile(tmp, []byte(newFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f.htpass); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rd, _ := f.do("GET", "/members/", "Authorization", basic("dave", "dave-pw"))
		ra, _ := f.do("GET", "/members/", "Authorization", basic("alice", "Wonderland-1"))
		if rd.StatusCode == 200 && ra.StatusCode == 401 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after rewriting the file: dave %d (want 200), alice %d (want 401)", rd.StatusCode, ra.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReloadRules(t *testing.T) {
	f := start(t, membersConfig)
	if r, _ := f.do("GET", "/membership/"); r.StatusCode != 200 {
		t.Fatalf("before: %d", r.StatusCode)
	}
	cfg := mustLoad(t, f.cfgPath)
	cfg.Rules = append(cfg.Rules, config.Rule{Path: "/membership", Htpasswd: f.htpass, Realm: "New"})
	cfg.ApplyDefaults()
	if err := f.app.Reload(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.do("GET", "/membership/"); r.StatusCode != 401 {
		t.Fatalf("after reload: %d, want 401", r.StatusCode)
	}
	bad := mustLoad(t, f.cfgPath)
	bad.Rules = append(bad.Rules, config.Rule{Path: "/x", Htpasswd: filepath.Join(f.dir, "missing")})
	bad.ApplyDefaults()
	if err := f.app.Reload(context.Background(), bad); err == nil {
		t.Fatal("Reload with a missing htpasswd file succeeded, want error")
	}
	if r, _ := f.do("GET", "/membership/"); r.StatusCode != 401 {
		t.Fatalf("after failed reload the old policy must stay: %d, want 401", r.StatusCode)
	}
}

func TestAmbiguousTargetsRefused(t *testing.T) {
	f := start(t, membersConfig)
	for _, target := range []string{"/members%2fpage.html", "/x%2F..%2Fmembers/", "/members%5cpage.html", "/a%00b", "/%C0%AE%C0%AE/members/", "/members/%252e%252e/", "/%ff"} {
		status, body := f.raw(target)
		if status != 400 {
			t.Errorf("GET %s = %d, want 400", target, status)
		}
		if strings.Contains(body, secretMarker) {
			t.Errorf("GET %s leaked content", target)
		}
	}
}

func TestRequestFraming(t *testing.T) {
	f := start(t, membersConfig)
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"CL and TE", []string{"Content-Length: 5", "Transfer-Encoding: chunked"}, 400},
		{"conflicting CL", []string{"Content-Length: 5", "Content-Length: 6"}, 400},
		{"huge field", []string{"X-Big: " + strings.Repeat("a", 9000)}, 431},
		{"too many fields", manyHeaders(120), 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _ := f.raw("/", tt.headers...)
			if status != tt.want {
				t.Errorf("status = %d, want %d", status, tt.want)
			}
		})
	}
}

func manyHeaders(n int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = fmt.Sprintf("X-H%d: v", i)
	}
	return h
}

func TestHtFilesNeverServed(t *testing.T) {
	f := start(t, "root: {root}\n")
	root := filepath.Join(f.dir, "site")
	for _, name := range []string{".htpasswd", ".htaccess", "members/.htgroup"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte("alice:SECRET-HASH"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"/.htpasswd", "/.htaccess", "/members/.htgroup", "/.HTPASSWD", "/%2ehtpasswd", "/members/../.htpasswd"} {
		r, body := f.do("GET", p)
		if r.StatusCode != 403 && r.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 403", p, r.StatusCode)
		}
		if strings.Contains(body, "SECRET-HASH") {
			t.Errorf("GET %s served a credential file", p)
		}
	}
}

func TestUpstreamUnreachableIs502(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f := start(t, "upstream: http://"+addr+"\nrules:\n  - path: /members\n    htpasswd: {htpasswd}\n")
	r, body := f.do("GET", "/members/", "Authorization", basic("alice", "Wonderland-1"))
	if r.StatusCode != 502 {
		t.Fatalf("status = %d, want 502 (body %q)", r.StatusCode, body)
	}
	if r.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("a 502 must not challenge")
	}
}

// TestUpstreamIdentity checks what the upstream sees: the canonical path,
// htgate's identity headers (never the client's), and no Authorization.
func TestUpstreamIdentity(t *testing.T) {
	seen := make(chan *http.Request, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Clone(context.Background())
		io.WriteString(w, "UPSTREAM")
	}))
	defer up.Close()
	f := start(t, "upstream: "+up.URL+"\nrules:\n  - path: /members\n    htpasswd: {htpasswd}\n")
	r, body := f.do("GET", "/members//x/../page?q=1", "Authorization", basic("alice", "Wonderland-1"),
		"Remote-User", "mallory", "X-Remote-User", "mallory", "Connection", "Remote-User", "X-Original-URL", "/admin")
	if r.StatusCode != 200 || body != "UPSTREAM" {
		t.Fatalf("status %d body %q", r.StatusCode, body)
	}
	got := <-seen
	if got.URL.Path != "/members/page" || got.URL.RawQuery != "q=1" {
		t.Errorf("upstream saw %q?%q, want /members/page?q=1", got.URL.Path, got.URL.RawQuery)
	}
	if got.Header.Get("Remote-User") != "alice" || got.Header.Get("X-Remote-User") != "alice" || got.Header.Get("X-Forwarded-User") != "alice" {
		t.Errorf("identity headers = %v", got.Header)
	}
	if got.Header.Get("Authorization") != "" || got.Header.Get("X-Original-URL") != "" {
		t.Errorf("upstream got Authorization or X-Original-URL: %v", got.Header)
	}
	// Anonymous request to a public path: no identity, whatever the client says.
	f.do("GET", "/public", "Remote-User", "mallory", "Remote_User", "mallory")
	got = <-seen
	for k, v := range got.Header {
		if strings.Contains(strings.ToLower(strings.ReplaceAll(k, "_", "-")), "remote-user") {
			t.Errorf("anonymous request reached upstream with %s: %v", k, v)
		}
	}
}

// TestAuthenticatedContentNotCached checks that what an authenticated user
// sees carries Cache-Control: private, no-cache, so that neither a shared
// cache nor the browser after a logout keeps it, and public content does not.
func TestAuthenticatedContentNotCached(t *testing.T) {
	f := start(t, membersConfig)
	r, _ := f.do("GET", "/members/page.html", "Authorization", basic("alice", "Wonderland-1"))
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("protected page: %d, Cache-Control %q; want 200 with private, no-cache", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	if r, _ := f.do("GET", "/"); r.Header.Get("Cache-Control") != "" {
		t.Errorf("public page: Cache-Control %q, want none", r.Header.Get("Cache-Control"))
	}
}
