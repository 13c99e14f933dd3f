package app

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// digestRealm is the realm of the Digest areas of these tests.
const digestRealm = "Digest Realm"

// digestUsers are written with Apache's htdigest, so the tests also prove
// that htgate reads what Apache writes.
var digestUsers = []struct{ user, password string }{
	{"alice", "Wonderland-1"},
	{"bob", "b0b pass w/ space"},
	{"carol", "c:olon:pw"},
	{"jos\u00e9", "p\u00e4ssw\u00f6rd-\u00fc"},
}

// writeHtdigest creates an htdigest file with Apache's tool (MD5) and, when
// sha256 is set, adds a SHA-256 line for every user (htgate's extension).
func writeHtdigest(t *testing.T, dir string, sha256Lines bool) string {
	t.Helper()
	path := filepath.Join(dir, "users.htdigest")
	for i, u := range digestUsers {
		args := []string{path, digestRealm, u.user}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		cmd := exec.Command("htdigest", args...)
		cmd.Stdin = strings.NewReader(u.password + "\n" + u.password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("htdigest (Debian's apache2-utils, installed by .ci/run) failed: %v\n%s", err, out)
		}
	}
	if sha256Lines {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range digestUsers {
			fmt.Fprintf(f, "%s:%s:%s\n", u.user, digestRealm, hexOf("SHA-256", u.user+":"+digestRealm+":"+u.password))
		}
		f.Close()
	}
	return path
}

func hexOf(alg, s string) string {
	var h hash.Hash = md5.New()
	if strings.HasPrefix(strings.ToUpper(alg), "SHA-256") {
		h = sha256.New()
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// digestChallenge is one parsed Digest challenge.
type digestChallenge map[string]string

// parseDigestChallenges reads the Digest challenges of a response.
func parseDigestChallenges(t *testing.T, resp *http.Response) []digestChallenge {
	t.Helper()
	var out []digestChallenge
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		name, rest, _ := strings.Cut(v, " ")
		if !strings.EqualFold(name, "Digest") {
			continue
		}
		c := digestChallenge{}
		for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimLeft(rest, " ,") {
			key, after, ok := strings.Cut(rest, "=")
			if !ok {
				t.Fatalf("malformed challenge %q", v)
			}
			if strings.HasPrefix(after, `"`) {
				var b strings.Builder
				i := 1
				for ; i < len(after) && after[i] != '"'; i++ {
					if after[i] == '\\' {
						i++
					}
					b.WriteByte(after[i])
				}
				c[strings.ToLower(key)], rest = b.String(), after[i+1:]
				continue
			}
			end := strings.IndexByte(after, ',')
			if end < 0 {
				end = len(after)
			}
			c[strings.ToLower(key)], rest = after[:end], after[end:]
		}
		out = append(out, c)
	}
	return out
}

// digestSession is an HTTP client that answers Digest challenges the way a
// browser does: it keeps the nonce and counts its uses.
type digestSession struct {
	t              *testing.T
	f              *fixture
	user, password string
	algorithm      string // the challenge to answer; "" takes the first
	userhash       bool

	mu     sync.Mutex
	c      digestChallenge
	nc     int
	cnonce string
}

// challenge fetches a fresh challenge from path.
func (s *digestSession) challenge(path string) {
	s.t.Helper()
	resp, _ := s.f.do("GET", path)
	if resp.StatusCode != http.StatusUnauthorized {
		s.t.Fatalf("GET %s without credentials = %d, want 401", path, resp.StatusCode)
	}
	s.pick(parseDigestChallenges(s.t, resp))
}

func (s *digestSession) pick(cs []digestChallenge) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		if s.algorithm == "" || strings.EqualFold(c["algorithm"], s.algorithm) {
			s.c, s.nc = c, 0
			b := make([]byte, 8)
			rand.Read(b)
			s.cnonce = hex.EncodeToString(b)
			return
		}
	}
	s.t.Fatalf("no %q challenge among %v", s.algorithm, cs)
}

// authorization returns the Authorization value for the next request; uri
// is what the client hashes and sends, normally the request target.
func (s *digestSession) authorization(method, uri string, nc int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if nc == 0 {
		s.nc++
		nc = s.nc
	}
	c := s.c
	alg := c["algorithm"]
	ha1 := hexOf(alg, s.user+":"+c["realm"]+":"+s.password)
	if strings.HasSuffix(strings.ToLower(alg), "-sess") {
		ha1 = hexOf(alg, ha1+":"+c["nonce"]+":"+s.cnonce)
	}
	ncs := fmt.Sprintf("%08x", nc)
	resp := hexOf(alg, strings.Join([]string{ha1, c["nonce"], ncs, s.cnonce, "auth", hexOf(alg, method+":"+uri)}, ":"))
	user := `username="` + s.user + `"`
	if s.userhash {
		user = `username="` + hexOf(alg, s.user+":"+c["realm"]) + `", userhash=true`
	}
	a := fmt.Sprintf(`Digest %s, realm="%s", uri="%s", algorithm=%s, nonce="%s", nc=%s, cnonce="%s", qop=auth, response="%s"`,
		user, c["realm"], uri, alg, c["nonce"], ncs, s.cnonce, resp)
	if op := c["opaque"]; op != "" {
		a += `, opaque="` + op + `"`
	}
	return a
}

// get sends an authenticated request; on a stale=true answer it takes the
// new nonce and retries once, as browsers do.
func (s *digestSession) get(method, path string) (*http.Response, string) {
	s.t.Helper()
	resp, body := s.f.do(method, path, "Authorization", s.authorization(method, path, 0))
	if resp.StatusCode == http.StatusUnauthorized {
		if cs := parseDigestChallenges(s.t, resp); len(cs) > 0 && cs[0]["stale"] == "true" {
			s.pick(cs)
			resp, body = s.f.do(method, path, "Authorization", s.authorization(method, path, 0))
		}
	}
	return resp, body
}

// startDigest starts a gateway whose /members area accepts Digest (and
// Basic) with an htdigest file written by Apache's tool.
func startDigest(t *testing.T, extra string, sha256Lines bool) *fixture {
	t.Helper()
	hd := writeHtdigest(t, t.TempDir(), sha256Lines)
	return start(t, `
root: {root}
rules:
  - path: /members
    realm: `+digestRealm+`
    schemes: [digest, basic]
    htpasswd: {htpasswd}
    htdigest: `+hd+`
`+strings.ReplaceAll(extra, "{htdigest}", hd))
}

// TestDigestEndToEnd authenticates with a real HTTP client computing
// Digest responses over a real listener: every algorithm, UTF-8 users,
// userhash, and the refusals of RFC 7616 and mod_auth_digest.
func TestDigestEndToEnd(t *testing.T) {
	f := startDigest(t, `
  - path: /admin
    realm: `+digestRealm+`
    schemes: [digest]
    htdigest: {htdigest}
    digest_algorithms: [SHA-256-sess, MD5-sess]
`, true)

	// The challenges: Digest (SHA-256 first, then MD5) then Basic.
	resp, _ := f.do("GET", "/members/page.html")
	got := resp.Header.Values("WWW-Authenticate")
	if resp.StatusCode != 401 || len(got) != 3 || !strings.HasPrefix(got[0], `Digest realm="Digest Realm", qop="auth", algorithm=SHA-256, nonce="`) ||
		!strings.Contains(got[1], "algorithm=MD5,") || got[2] != `Basic realm="Digest Realm", charset="UTF-8"` {
		t.Fatalf("challenges = %d %q", resp.StatusCode, got)
	}
	cs := parseDigestChallenges(t, resp)
	for _, c := range cs {
		if c["qop"] != "auth" || c["opaque"] == "" || c["charset"] != "UTF-8" || c["userhash"] != "true" {
			t.Errorf("challenge %v lacks qop, opaque, charset or userhash", c)
		}
	}

	for _, tt := range []struct {
		name, path, alg string
		user, pw        string
		userhash        bool
	}{
		{"SHA-256", "/members/page.html", "SHA-256", "alice", "Wonderland-1", false},
		{"MD5", "/members/page.html", "MD5", "alice", "Wonderland-1", false},
		{"MD5 with spaces", "/members/page.html", "MD5", "bob", "b0b pass w/ space", false},
		{"SHA-256 with colons", "/members/page.html", "SHA-256", "carol", "c:olon:pw", false},
		{"UTF-8", "/members/caf%C3%A9.txt", "SHA-256", "jos\u00e9", "p\u00e4ssw\u00f6rd-\u00fc", false},
		{"userhash SHA-256", "/members/page.html", "SHA-256", "jos\u00e9", "p\u00e4ssw\u00f6rd-\u00fc", true},
		{"userhash MD5", "/members/page.html", "MD5", "alice", "Wonderland-1", true},
		{"SHA-256-sess", "/admin/", "SHA-256-sess", "alice", "Wonderland-1", false},
		{"MD5-sess", "/admin/", "MD5-sess", "bob", "b0b pass w/ space", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &digestSession{t: t, f: f, user: tt.user, password: tt.pw, algorithm: tt.alg, userhash: tt.userhash}
			s.challenge(tt.path)
			for i := range 3 { // the same nonce, counting up
				resp, body := s.get("GET", tt.path)
				if resp.StatusCode != 200 || !strings.Contains(body, secretMarker) {
					t.Fatalf("request %d: %d %q", i+1, resp.StatusCode, body)
				}
			}
		})
	}

	// Refusals, each with a fresh nonce.
	fresh := func(alg string) *digestSession {
		s := &digestSession{t: t, f: f, user: "alice", password: "Wonderland-1", algorithm: alg}
		s.challenge("/members/page.html")
		return s
	}
	refusals := []struct {
		name   string
		header func() string
		status int
		stale  bool
	}{
		{"wrong password", func() string {
			s := fresh("SHA-256")
			s.password = "wrong"
			return s.authorization("GET", "/members/page.html", 0)
		}, 401, false},
		{"unknown user", func() string {
			s := fresh("MD5")
			s.user = "nobody"
			return s.authorization("GET", "/members/page.html", 0)
		}, 401, false},
		{"wrong uri", func() string { return fresh("SHA-256").authorization("GET", "/members/index.html", 0) }, 400, false},
		{"wrong realm", func() string {
			s := fresh("SHA-256")
			s.c["realm"] = "Other Realm"
			return s.authorization("GET", "/members/page.html", 0)
		}, 401, false},
		{"missing nc", func() string {
			a := fresh("SHA-256").authorization("GET", "/members/page.html", 0)
			i := strings.Index(a, ", nc=")
			return a[:i] + a[i+len(", nc=00000001"):]
		}, 401, false},
		{"missing response", func() string {
			a := fresh("SHA-256").authorization("GET", "/members/page.html", 0)
			return a[:strings.Index(a, ", response=")]
		}, 401, false},
		{"forged nonce", func() string {
			s := fresh("SHA-256")
			s.c["nonce"] = strings.Repeat("A", 64)
			return s.authorization("GET", "/members/page.html", 0)
		}, 401, true},
		{"upper-case response", func() string {
			a := fresh("MD5").authorization("GET", "/members/page.html", 0)
			i := strings.Index(a, `response="`) + len(`response="`)
			return a[:i] + strings.ToUpper(a[i:i+32]) + a[i+32:]
		}, 401, false},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do("GET", "/members/page.html", "Authorization", tt.header())
			if resp.StatusCode != tt.status || strings.Contains(body, secretMarker) {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			cs := parseDigestChallenges(t, resp)
			if tt.status == 401 && (len(cs) != 2 || (cs[0]["stale"] == "true") != tt.stale) {
				t.Errorf("challenges %v, want two with stale=%v", cs, tt.stale)
			}
			if tt.status == 400 && len(cs) != 0 {
				t.Errorf("400 with challenges %v", cs)
			}
		})
	}

	// An absolute-form request target matches an origin-form uri.
	s := fresh("SHA-256")
	status, body := f.raw(f.base+"/members/page.html", "Authorization: "+s.authorization("GET", "/members/page.html", 0))
	if status != 200 || !strings.Contains(body, secretMarker) {
		t.Errorf("absolute-form target: %d", status)
	}
	// Basic still works in the same area.
	if resp, _ := f.do("GET", "/members/page.html", "Authorization", basic("alice", "Wonderland-1")); resp.StatusCode != 200 {
		t.Errorf("Basic in a Basic+Digest area: %d", resp.StatusCode)
	}

	// Nothing secret reaches the log.
	logs := f.logs.String()
	for _, secret := range []string{"Wonderland-1", "response=", "cnonce", hexOf("MD5", "alice:"+digestRealm+":Wonderland-1")} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
	if !strings.Contains(logs, `"user":"alice"`) {
		t.Errorf("log lacks the Digest user")
	}
}

// TestDigestReplay checks nonce-count tracking over the wire: a request
// replayed byte for byte, and an old count, are refused; the next count is
// accepted.
func TestDigestReplay(t *testing.T) {
	f := startDigest(t, "", false)
	s := &digestSession{t: t, f: f, user: "alice", password: "Wonderland-1"}
	s.challenge("/members/page.html")
	if got := s.c["algorithm"]; got != "MD5" {
		t.Fatalf("an MD5-only file offers %q, want MD5 only", got)
	}
	first := s.authorization("GET", "/members/page.html", 0)
	if resp, _ := f.do("GET", "/members/page.html", "Authorization", first); resp.StatusCode != 200 {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	resp, body := f.do("GET", "/members/page.html", "Authorization", first)
	if resp.StatusCode != 401 || strings.Contains(body, secretMarker) {
		t.Fatalf("replayed request: %d, want 401", resp.StatusCode)
	}
	if cs := parseDigestChallenges(t, resp); len(cs) == 0 || cs[0]["stale"] != "true" {
		t.Errorf("replay answer %v, want stale=true (the client retries with a new nonce)", cs)
	}
	if resp, _ := f.do("GET", "/members/page.html", "Authorization", s.authorization("GET", "/members/page.html", 5)); resp.StatusCode != 200 {
		t.Errorf("nc=5: %d, want 200", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/members/page.html", "Authorization", s.authorization("GET", "/members/page.html", 3)); resp.StatusCode != 401 {
		t.Errorf("nc=3 after 5: %d, want 401", resp.StatusCode)
	}
	// Concurrent replays of one new count: exactly one gets through.
	next := s.authorization("GET", "/members/page.html", 6)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 8 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", f.base+"/members/page.html", nil)
			req.Header.Set("Authorization", next)
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of 8 concurrent copies of one request were accepted, want 1", ok)
	}
}

// TestDigestStaleNonce checks expiry with a short lifetime: a right
// response with an expired nonce gets stale=true, and the new nonce works
// without asking for the password again.
func TestDigestStaleNonce(t *testing.T) {
	// A one-second nonce lifetime, like the conformance scenario's
	// AuthDigestNonceLifetime 1.
	f := startDigestWith(t, "    nonce_lifetime: 1s\n")
	s := &digestSession{t: t, f: f, user: "alice", password: "Wonderland-1"}
	s.challenge("/members/page.html")
	if resp, _ := f.do("GET", "/members/page.html", "Authorization", s.authorization("GET", "/members/page.html", 0)); resp.StatusCode != 200 {
		t.Fatalf("fresh nonce: %d", resp.StatusCode)
	}
	time.Sleep(2100 * time.Millisecond)
	old := s.c["nonce"]
	resp, _ := f.do("GET", "/members/page.html", "Authorization", s.authorization("GET", "/members/page.html", 0))
	cs := parseDigestChallenges(t, resp)
	if resp.StatusCode != 401 || len(cs) == 0 || cs[0]["stale"] != "true" || cs[0]["nonce"] == old {
		t.Fatalf("expired nonce: %d %v, want 401 with stale=true and a new nonce", resp.StatusCode, cs)
	}
	s.pick(cs)
	if resp, body := f.do("GET", "/members/page.html", "Authorization", s.authorization("GET", "/members/page.html", 0)); resp.StatusCode != 200 || !strings.Contains(body, secretMarker) {
		t.Errorf("with the new nonce: %d, want 200", resp.StatusCode)
	}
	// A wrong password with an expired nonce is not stale: the user must
	// be asked again.
	time.Sleep(1100 * time.Millisecond)
	s.password = "wrong"
	resp, _ = f.do("GET", "/members/page.html", "Authorization", s.authorization("GET", "/members/page.html", 0))
	if cs := parseDigestChallenges(t, resp); resp.StatusCode != 401 || len(cs) == 0 || cs[0]["stale"] == "true" {
		t.Errorf("wrong password, expired nonce: %d %v, want 401 without stale", resp.StatusCode, cs)
	}
}

func startDigestWith(t *testing.T, ruleExtra string) *fixture {
	t.Helper()
	hd := writeHtdigest(t, t.TempDir(), false)
	return start(t, `
root: {root}
rules:
  - path: /members
    realm: `+digestRealm+`
    schemes: [digest]
    htdigest: `+hd+`
`+ruleExtra)
}
