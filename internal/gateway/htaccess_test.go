package gateway

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/htaccess"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/upstream"
)

// htUsers are the accounts of the test htpasswd file.
var htUsers = map[string]string{"alice": "Wonderland-1", "bob": "b0b pass", "carol": "c:olon"}

// syncBuffer is a log sink that tests can read while the server writes.
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

// htSite is a docroot with .htaccess files behind a gateway on a real
// listener.
type htSite struct {
	srv     *httptest.Server
	gw      *Gateway
	docroot string
	auth    string
	log     *syncBuffer
}

// newHTSite writes files (paths relative to the docroot; "@AUTH@" stands
// for the directory of the credential files) and starts the gateway.
func newHTSite(t *testing.T, files map[string]string, p *Policy) *htSite {
	t.Helper()
	base := t.TempDir()
	s := &htSite{docroot: filepath.Join(base, "docroot"), auth: filepath.Join(base, "auth"), log: &syncBuffer{}}
	var users, digests strings.Builder
	for u, pw := range htUsers {
		h, err := passwd.Hash(passwd.FormatBcrypt, []byte(pw), passwd.HashOptions{BcryptCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&users, "%s:%s\n", u, h)
		sum := md5.Sum([]byte(u + ":Digest Realm:" + pw))
		fmt.Fprintf(&digests, "%s:Digest Realm:%s\n", u, hex.EncodeToString(sum[:]))
	}
	writeFile(t, filepath.Join(s.auth, "users"), users.String())
	writeFile(t, filepath.Join(s.auth, "users.htdigest"), digests.String())
	writeFile(t, filepath.Join(s.auth, "groups"), "admins: alice\nstaff: bob alice\n")
	for name, data := range files {
		writeFile(t, filepath.Join(s.docroot, name), strings.ReplaceAll(data, "@AUTH@", s.auth))
	}
	writeFile(t, filepath.Join(s.docroot, "index.html"), "MARKER:index\n")
	logger := slog.New(slog.NewJSONHandler(s.log, nil))
	responder, err := respond.New(respond.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	static, err := upstream.NewStatic(s.docroot, upstream.StaticOptions{Logger: logger, OnStatus: func(w http.ResponseWriter, r *http.Request, status int) {
		if s.gw.ServeErrorDocument(w, r, status) {
			return
		}
		reason := htgate.ReasonNotFound
		if status != http.StatusNotFound {
			reason = htgate.ReasonConfigDenied
		}
		responder.Error(w, r, status, reason, RefIDOf(w))
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { static.Close() })
	loader, err := htaccess.NewLoader(s.docroot, htaccess.LoaderOptions{Recheck: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loader.Close() })
	if p == nil {
		p = &Policy{}
	}
	s.gw = New(p, Options{
		Backend: static, Responder: responder, Logger: logger, AccessLog: true,
		HTAccess: &HTAccess{Loader: loader, Resolver: staticResolver{}},
	})
	s.srv = httptest.NewServer(s.gw)
	t.Cleanup(s.srv.Close)
	return s
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// staticResolver answers DNS without the network: 127.0.0.1 is localhost.
type staticResolver struct{}

func (staticResolver) HostName(a netip.Addr) string {
	if a.IsLoopback() {
		return "localhost"
	}
	return ""
}
func (staticResolver) Addrs(string) []netip.Addr { return nil }

type htResponse struct {
	status int
	header http.Header
	body   string
}

// do sends one request; user "" sends no credentials, and a user not in
// htUsers sends the password "wrong".
func (s *htSite) do(t *testing.T, method, path, user string) htResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		pw, ok := htUsers[user]
		if !ok {
			user, pw = strings.TrimSuffix(user, "!"), "wrong"
		}
		req.SetBasicAuth(user, pw)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return htResponse{resp.StatusCode, resp.Header, string(body)}
}

const basicMembers = `AuthType Basic
AuthName "Members"
AuthBasicProvider file
AuthUserFile @AUTH@/users
AuthGroupFile @AUTH@/groups
Require valid-user
ErrorDocument 403 "members only MARKER:m403"
`

var htFiles = map[string]string{
	".htaccess":                 "ErrorDocument 404 /404.html\nRedirect /old /index.html\n",
	"404.html":                  "MARKER:custom404\n",
	"members/.htaccess":         basicMembers,
	"members/page.html":         "MARKER:members\n",
	"members/admins/.htaccess":  "Require group admins\n",
	"members/admins/page.html":  "MARKER:admins\n",
	"members/open/.htaccess":    "Require all granted\n",
	"members/open/page.html":    "MARKER:open\n",
	"members/forbid/.htaccess":  "AuthzSendForbiddenOnFailure On\nRequire user alice\n",
	"members/forbid/page.html":  "MARKER:forbid\n",
	"members/moved/.htaccess":   "Redirect /members/moved/x /index.html\n",
	"denied/.htaccess":          "Require all denied\nErrorDocument 403 \"nope MARKER:d403\"\n",
	"denied/page.html":          "MARKER:denied\n",
	"broken/.htaccess":          "AuthType Basic\nAuthName x\nFrobnicate on\n",
	"broken/page.html":          "MARKER:broken\n",
	"broken/sub/.htaccess":      "Require all granted\n",
	"broken/sub/page.html":      "MARKER:broken-sub\n",
	"missing-file/.htaccess":    "AuthType Basic\nAuthName \"Missing\"\nAuthUserFile @AUTH@/no-such-file\nRequire valid-user\n",
	"missing-file/page.html":    "MARKER:missing-file\n",
	"ip/.htaccess":              "AuthType Basic\nAuthName IP\nAuthUserFile @AUTH@/users\nRequire ip 10.0.0.0/8\n",
	"ip/page.html":              "MARKER:ip\n",
	"host/.htaccess":            "Require host localhost\n",
	"host/page.html":            "MARKER:host\n",
	"files/.htaccess":           "AuthType Basic\nAuthName Files\nAuthUserFile @AUTH@/users\n<Files \"private.html\">\nRequire user bob\n</Files>\n",
	"files/private.html":        "MARKER:private\n",
	"files/public.html":         "MARKER:public\n",
	"limit/.htaccess":           "AuthType Basic\nAuthName Limit\nAuthUserFile @AUTH@/users\n<LimitExcept GET>\nRequire valid-user\n</LimitExcept>\n",
	"limit/page.html":           "MARKER:limit\n",
	"digest/.htaccess":          "AuthType Digest\nAuthName \"Digest Realm\"\nAuthUserFile @AUTH@/users.htdigest\nRequire valid-user\n",
	"digest/page.html":          "MARKER:digest\n",
	"custom401/.htaccess":       basicMembers + "ErrorDocument 401 /401.html\n",
	"custom401/page.html":       "MARKER:custom401-page\n",
	"401.html":                  "MARKER:custom401\n",
	"index-files/.htaccess":     "DirectoryIndex start.html\n",
	"index-files/start.html":    "MARKER:start\n",
	"members/sub/dir/deep.html": "MARKER:deep\n",
	"expr/.htaccess":            "Require expr %{REQUEST_METHOD} == 'GET' && %{QUERY_STRING} !~ /debug/\n",
	"expr/page.html":            "MARKER:expr\n",
	"members/.htpasswd":         "x:y\n",
}

func TestHTAccessEndToEnd(t *testing.T) {
	s := newHTSite(t, htFiles, nil)
	tests := []struct {
		method, path, user string
		status             int
		realm              string // of the one challenge; "" for none
		location           string
		body               string // substring of the body
	}{
		{"GET", "/", "", 200, "", "", "MARKER:index"},
		{"GET", "/missing.html", "", 404, "", "", "MARKER:custom404"},
		{"GET", "/old?a=1", "", 302, "", "/index.html?a=1", ""},
		{"GET", "/members/page.html", "", 401, "Members", "", ""},
		{"GET", "/members/page.html", "alice", 200, "", "", "MARKER:members"},
		{"HEAD", "/members/page.html", "alice", 200, "", "", ""},
		{"GET", "/members/page.html", "alice!", 401, "Members", "", ""},
		{"GET", "/members/page.html", "nobody!", 401, "Members", "", ""},
		{"GET", "/members/missing.html", "", 401, "Members", "", ""},
		{"GET", "/members/missing.html", "alice", 404, "", "", "MARKER:custom404"},
		{"GET", "/members", "", 401, "Members", "", ""},
		{"GET", "/members", "alice", 301, "", "/members/", ""},
		{"GET", "/members/", "alice", 404, "", "", "MARKER:custom404"},
		{"GET", "/members/sub/dir/deep.html", "", 401, "Members", "", ""},
		{"GET", "/members/admins/page.html", "bob", 401, "Members", "", ""},
		{"GET", "/members/admins/page.html", "alice", 200, "", "", "MARKER:admins"},
		{"GET", "/members/forbid/page.html", "bob", 403, "", "", "MARKER:m403"},
		{"GET", "/members/forbid/page.html", "alice", 200, "", "", "MARKER:forbid"},
		{"GET", "/members/open/page.html", "", 200, "", "", "MARKER:open"},
		{"GET", "/members/open/page.html", "alice!", 200, "", "", "MARKER:open"},
		{"GET", "/members/moved/x", "", 401, "Members", "", ""},
		{"GET", "/members/moved/x", "alice", 302, "", "/index.html", ""},
		{"GET", "/members/.htaccess", "alice", 403, "", "", "MARKER:m403"},
		{"GET", "/members/.htpasswd", "", 403, "", "", ""},
		{"GET", "/denied/page.html", "", 403, "", "", "MARKER:d403"},
		{"GET", "/denied/page.html", "alice", 403, "", "", "MARKER:d403"},
		{"GET", "/broken/page.html", "", 500, "", "", ""},
		{"GET", "/broken/page.html", "alice", 500, "", "", ""},
		{"GET", "/broken/missing.html", "", 500, "", "", ""},
		{"GET", "/broken/sub/page.html", "", 500, "", "", ""},
		{"GET", "/missing-file/page.html", "", 401, "Missing", "", ""},
		{"GET", "/missing-file/page.html", "alice", 500, "", "", ""},
		{"GET", "/ip/page.html", "", 403, "", "", ""},
		{"GET", "/ip/page.html", "alice", 403, "", "", ""},
		{"GET", "/host/page.html", "", 200, "", "", "MARKER:host"},
		{"GET", "/files/public.html", "", 200, "", "", "MARKER:public"},
		{"GET", "/files/private.html", "", 401, "Files", "", ""},
		{"GET", "/files/private.html", "alice", 401, "Files", "", ""},
		{"GET", "/files/private.html", "bob", 200, "", "", "MARKER:private"},
		{"GET", "/limit/page.html", "", 200, "", "", "MARKER:limit"},
		{"POST", "/limit/page.html", "", 401, "Limit", "", ""},
		{"POST", "/limit/page.html", "carol", 200, "", "", "MARKER:limit"},
		{"PUT", "/limit/page.html", "carol", 405, "", "", ""},
		{"FOO", "/limit/page.html", "carol", 501, "", "", ""},
		{"OPTIONS", "/limit/page.html", "carol", 200, "", "", ""},
		{"TRACE", "/limit/page.html", "", 405, "", "", ""},
		{"GET", "/custom401/page.html", "", 401, "Members", "", "MARKER:custom401"},
		{"GET", "/index-files/", "", 200, "", "", "MARKER:start"},
		{"GET", "/expr/page.html", "", 200, "", "", "MARKER:expr"},
		{"GET", "/expr/page.html?debug=1", "", 403, "", "", ""},
		{"POST", "/expr/page.html", "", 403, "", "", ""},
		{"GET", "/members/%c0%afx", "", 401, "Members", "", ""},
		{"GET", "/members/%c0%afx", "alice", 404, "", "", "MARKER:custom404"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.user, func(t *testing.T) {
			got := s.do(t, tt.method, tt.path, tt.user)
			if got.status != tt.status {
				t.Fatalf("%s %s as %q: status %d, want %d (body %.200q)", tt.method, tt.path, tt.user, got.status, tt.status, got.body)
			}
			challenges := got.header.Values("WWW-Authenticate")
			switch {
			case tt.realm == "" && len(challenges) > 0:
				t.Errorf("unexpected challenges %q", challenges)
			case tt.realm != "" && (len(challenges) != 1 || challenges[0] != `Basic realm="`+tt.realm+`"`):
				t.Errorf("challenges %q, want one Basic realm=%q without charset (as Apache)", challenges, tt.realm)
			}
			if loc := got.header.Get("Location"); loc != tt.location {
				t.Errorf("Location %q, want %q", loc, tt.location)
			}
			if !strings.Contains(got.body, tt.body) {
				t.Errorf("body %.200q, want it to contain %q", got.body, tt.body)
			}
			if tt.status == 405 || tt.status == 501 || tt.method == "OPTIONS" && tt.status == 200 {
				if allow := got.header.Get("Allow"); allow == "" {
					t.Error("no Allow header")
				}
			}
		})
	}
	logs := s.log.String()
	for _, pw := range htUsers {
		if strings.Contains(logs, pw) {
			t.Errorf("a password is in the log:\n%s", logs)
		}
	}
	if strings.Contains(logs, base64.StdEncoding.EncodeToString([]byte("alice:Wonderland-1"))) {
		t.Error("an Authorization value is in the log")
	}
	if !strings.Contains(logs, "broken/.htaccess:3") {
		t.Errorf("the log does not name the broken directive's file and line:\n%s", logs)
	}
	if !strings.Contains(logs, "no-such-file") {
		t.Errorf("the log does not name the missing AuthUserFile:\n%s", logs)
	}
}

// TestHTAccessUnknownDirectiveNeverOpens replaces a protecting .htaccess
// by one with an unknown directive: the folder must answer 500 to every
// request, credentials or not, and protect again once fixed.
func TestHTAccessUnknownDirectiveNeverOpens(t *testing.T) {
	s := newHTSite(t, htFiles, nil)
	if got := s.do(t, "GET", "/members/page.html", ""); got.status != 401 {
		t.Fatalf("before: %d", got.status)
	}
	writeFile(t, filepath.Join(s.docroot, "members/.htaccess"), strings.ReplaceAll(basicMembers, "@AUTH@", s.auth)+"Header set X-Frame-Options DENY\n")
	for _, user := range []string{"", "alice", "alice!"} {
		for _, p := range []string{"/members/page.html", "/members/open/page.html", "/members/missing", "/members/", "/members/.htaccess"} {
			if got := s.do(t, "GET", p, user); got.status != 500 || strings.Contains(got.body, "MARKER:") {
				t.Errorf("GET %s as %q with a broken .htaccess: %d %.80q, want 500 and no content", p, user, got.status, got.body)
			}
		}
	}
	writeFile(t, filepath.Join(s.docroot, "members/.htaccess"), strings.ReplaceAll(basicMembers, "@AUTH@", s.auth))
	if got := s.do(t, "GET", "/members/page.html", ""); got.status != 401 {
		t.Errorf("after the fix: %d, want 401", got.status)
	}
	if got := s.do(t, "GET", "/members/page.html", "alice"); got.status != 200 {
		t.Errorf("after the fix as alice: %d, want 200", got.status)
	}
}

// TestHTAccessAndYAMLRule checks that a YAML rule and a .htaccess on the
// same path must both allow.
func TestHTAccessAndYAMLRule(t *testing.T) {
	var s *htSite
	files := map[string]string{
		"both/.htaccess": "AuthType Basic\nAuthName \"Both\"\nAuthUserFile @AUTH@/users\nRequire user alice bob\n",
		"both/page.html": "MARKER:both\n",
	}
	// The YAML rule reads the same htpasswd file and admits alice and carol.
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	var b strings.Builder
	for u, pw := range htUsers {
		h, _ := passwd.Hash(passwd.FormatBcrypt, []byte(pw), passwd.HashOptions{BcryptCost: 4})
		fmt.Fprintf(&b, "%s:%s\n", u, h)
	}
	writeFile(t, users, b.String())
	f, err := passwd.OpenHtpasswd(users, nil)
	if err != nil {
		t.Fatal(err)
	}
	table, err := policy.NewTable([]policy.Rule{{ID: "r1", Path: "/both", Realm: "YAML", Schemes: []string{"basic"}, Source: users,
		Require: policy.Expr{Kind: policy.User, Args: []string{"alice", "carol"}}}})
	if err != nil {
		t.Fatal(err)
	}
	s = newHTSite(t, files, &Policy{Rules: table, Credentials: map[string]CredentialSource{users: HtpasswdSource{File: f}}})
	tests := []struct {
		user   string
		status int
	}{{"", 401}, {"alice", 200}, {"bob", 403}, {"carol", 401}}
	for _, tt := range tests {
		if got := s.do(t, "GET", "/both/page.html", tt.user); got.status != tt.status {
			t.Errorf("as %q: %d, want %d", tt.user, got.status, tt.status)
		}
	}
}

// TestHTAccessDigest authenticates with Digest against an htdigest file
// named by a .htaccess, computing the response as a client does.
func TestHTAccessDigest(t *testing.T) {
	s := newHTSite(t, htFiles, nil)
	first := s.do(t, "GET", "/digest/page.html", "")
	if first.status != 401 {
		t.Fatalf("first: %d", first.status)
	}
	ch := first.header.Get("WWW-Authenticate")
	m := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(ch)
	if !strings.HasPrefix(ch, `Digest realm="Digest Realm"`) || !strings.Contains(ch, "algorithm=MD5") || m == nil {
		t.Fatalf("challenge %q", ch)
	}
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	answer := func(user, pw, nc string) int {
		ha1 := h(user + ":Digest Realm:" + pw)
		ha2 := h("GET:/digest/page.html")
		resp := h(ha1 + ":" + m[1] + ":" + nc + ":c0ffee:auth:" + ha2)
		req, _ := http.NewRequest("GET", s.srv.URL+"/digest/page.html", nil)
		req.Header.Set("Authorization", fmt.Sprintf(`Digest username="%s", realm="Digest Realm", nonce="%s", uri="/digest/page.html", algorithm=MD5, response="%s", qop=auth, nc=%s, cnonce="c0ffee"`, user, m[1], resp, nc))
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if got := answer("alice", "Wonderland-1", "00000001"); got != 200 {
		t.Errorf("alice: %d, want 200", got)
	}
	if got := answer("alice", "wrong", "00000002"); got != 401 {
		t.Errorf("wrong password: %d, want 401", got)
	}
}

func BenchmarkHTAccessServeHTTP(b *testing.B) {
	t := &testing.T{}
	_ = t
	dir := b.TempDir()
	writeFileB(b, filepath.Join(dir, "a/b/.htaccess"), "Require all granted\n")
	writeFileB(b, filepath.Join(dir, "a/b/page.html"), "x")
	responder, _ := respond.New(respond.Options{})
	static, _ := upstream.NewStatic(dir, upstream.StaticOptions{})
	defer static.Close()
	loader, _ := htaccess.NewLoader(dir, htaccess.LoaderOptions{})
	defer loader.Close()
	g := New(&Policy{}, Options{Backend: static, Responder: responder, HTAccess: &HTAccess{Loader: loader}})
	req := httptest.NewRequest("GET", "/a/b/page.html", nil)
	b.ReportAllocs()
	for b.Loop() {
		g.ServeHTTP(httptest.NewRecorder(), req)
	}
}

func writeFileB(b *testing.B, path, data string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
}
