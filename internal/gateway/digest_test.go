package gateway

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/guard"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/respond"
)

// fakeDigests is a Digest source built from an htdigest text.
type fakeDigests struct {
	snap *passwd.Htdigest
	err  error
}

func (f *fakeDigests) Current() (DigestSnapshot, uint64, error) {
	if f.err != nil {
		return nil, 0, f.err
	}
	return f.snap, 1, nil
}

func digestFile(t testing.TB, lines ...string) *fakeDigests {
	t.Helper()
	h, errs, err := passwd.ParseHtdigest(strings.NewReader(strings.Join(lines, "\n")+"\n"), "users.htdigest")
	if err != nil || len(errs) > 0 {
		t.Fatalf("ParseHtdigest: %v %v", err, errs)
	}
	return &fakeDigests{snap: h}
}

func ha1Line(alg, user, realm, pw string) string {
	return user + ":" + realm + ":" + passwd.DigestHA1(alg, user, realm, pw)
}

// memNonces is a minimal state.Nonces for the gateway's tests (the real
// one, state/memory, passes statetest.RunNonces).
type memNonces struct {
	mu   sync.Mutex
	last map[string]uint64
	err  error
}

func (m *memNonces) Use(_ context.Context, nonce string, nc uint64, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	if ttl <= 0 {
		return false, errors.New("bad ttl")
	}
	if m.last == nil {
		m.last = map[string]uint64{}
	}
	if nc <= m.last[nonce] {
		return false, nil
	}
	m.last[nonce] = nc
	return true, nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// challenge is a parsed Digest challenge.
type challenge map[string]string

// parseChallenges reads the Digest challenges of WWW-Authenticate values
// (one challenge per field line, as the gateway writes them).
func parseChallenges(t testing.TB, values []string) []challenge {
	t.Helper()
	var out []challenge
	for _, v := range values {
		schemeName, rest, _ := strings.Cut(v, " ")
		if !strings.EqualFold(schemeName, "Digest") {
			continue
		}
		c := challenge{}
		for rest != "" {
			rest = strings.TrimLeft(rest, " ,")
			name, after, ok := strings.Cut(rest, "=")
			if !ok {
				t.Fatalf("bad challenge %q", v)
			}
			var val string
			if strings.HasPrefix(after, `"`) {
				var b strings.Builder
				i := 1
				for ; i < len(after) && after[i] != '"'; i++ {
					if after[i] == '\\' {
						i++
					}
					b.WriteByte(after[i])
				}
				val, rest = b.String(), after[i+1:]
			} else {
				end := strings.IndexByte(after, ',')
				if end < 0 {
					end = len(after)
				}
				val, rest = after[:end], after[end:]
			}
			c[strings.ToLower(name)] = val
		}
		out = append(out, c)
	}
	return out
}

// digestClient computes Authorization values as a browser would.
type digestClient struct {
	user, password string
	c              challenge
	nc             int
	// Knobs for negative tests.
	realm, uri, hashURI, method, algorithm, qop, opaque, nonce string
	noQop, userhash, omitOpaque                                bool
}

func hexHash(alg string, s string) string {
	var h hash.Hash = md5.New()
	if strings.HasPrefix(strings.ToUpper(alg), "SHA-256") {
		h = sha256.New()
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func (dc *digestClient) authorization(method, uri string) string {
	dc.nc++
	pick := func(knob, def string) string {
		if knob != "" {
			return knob
		}
		return def
	}
	alg := pick(dc.algorithm, dc.c["algorithm"])
	realm := pick(dc.realm, dc.c["realm"])
	nonce := pick(dc.nonce, dc.c["nonce"])
	hashURI := pick(dc.hashURI, pick(dc.uri, uri))
	nc := fmt.Sprintf("%08x", dc.nc)
	cnonce := "0a4f113b"
	qop := pick(dc.qop, "auth")
	ha1 := hexHash(alg, dc.user+":"+realm+":"+dc.password)
	if strings.HasSuffix(strings.ToLower(alg), "-sess") {
		ha1 = hexHash(alg, ha1+":"+nonce+":"+cnonce)
	}
	ha2 := hexHash(alg, pick(dc.method, method)+":"+hashURI)
	var resp string
	if dc.noQop {
		resp = hexHash(alg, ha1+":"+nonce+":"+ha2)
	} else {
		resp = hexHash(alg, strings.Join([]string{ha1, nonce, nc, cnonce, qop, ha2}, ":"))
	}
	user := `username="` + dc.user + `"`
	if dc.userhash {
		user = `username="` + hexHash(alg, dc.user+":"+realm) + `", userhash=true`
	}
	s := fmt.Sprintf(`Digest %s, realm="%s", nonce="%s", uri="%s", response="%s"`, user, realm, nonce, pick(dc.uri, uri), resp)
	if alg != "" {
		s += ", algorithm=" + alg
	}
	if !dc.noQop {
		s += fmt.Sprintf(`, qop=%s, nc=%s, cnonce="%s"`, qop, nc, cnonce)
	}
	if op := pick(dc.opaque, dc.c["opaque"]); op != "" && !dc.omitOpaque {
		s += `, opaque="` + op + `"`
	}
	return s
}

// digestGateway runs one gateway with Digest rules over an htdigest file.
type digestGateway struct {
	g      *Gateway
	clock  *clock
	nonces *memNonces
	guard  *countingGuard
}

func newDigestGateway(t testing.TB, rules []policy.Rule, src *fakeDigests) *digestGateway {
	t.Helper()
	table, err := policy.NewTable(rules)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := respond.New(respond.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dg := &digestGateway{clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, nonces: &memNonces{}, guard: &countingGuard{}}
	basicCreds := &fakeCreds{hashes: map[string]string{"alice": mustHash(t, "basic-pw")}, dummy: mustHash(t, "dummy")}
	dg.g = New(&Policy{
		Rules:       table,
		Credentials: map[string]CredentialSource{"users": basicCreds},
		Digests:     map[string]DigestSource{"users.htdigest": src},
	}, Options{Backend: &okBackend{}, Responder: resp, Now: dg.clock.Now, Nonces: dg.nonces, Guard: dg.guard})
	return dg
}

// get sends a request and returns the status, the Digest challenges and
// the WWW-Authenticate values.
func (dg *digestGateway) get(method, target, auth string) (int, []string) {
	r := httptest.NewRequest(method, target, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	dg.g.ServeHTTP(w, r)
	return w.Code, w.Header().Values("WWW-Authenticate")
}

// countingGuard allows everything and counts what the gateway records.
type countingGuard struct {
	mu                         sync.Mutex
	failures, clientOnly, entr int
}

func (c *countingGuard) Check(context.Context, netip.Addr, string) (guard.Verdict, error) {
	return guard.Verdict{Allowed: true}, nil
}

func (c *countingGuard) Enter(context.Context, netip.Addr, string) (guard.Verdict, *guard.Attempt, error) {
	c.mu.Lock()
	c.entr++
	c.mu.Unlock()
	return guard.Verdict{Allowed: true}, nil, nil // a nil Attempt records nothing
}

func (c *countingGuard) Failure(_ context.Context, _ netip.Addr, user string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures++
	if user == "" {
		c.clientOnly++
	}
	return nil
}

const realm = "Digest Realm"

func nativeRule() policy.Rule {
	return policy.Rule{ID: "d", Path: "/secret", Realm: realm, Schemes: []string{"digest"}, DigestSource: "users.htdigest"}
}

func aliceFile(t testing.TB) *fakeDigests {
	return digestFile(t,
		ha1Line(passwd.DigestMD5, "alice", realm, "Wonderland-1"),
		ha1Line(passwd.DigestSHA256, "alice", realm, "Wonderland-1"),
		ha1Line(passwd.DigestMD5, "josé", realm, "pässwörd-ü"),
		ha1Line(passwd.DigestSHA256, "josé", realm, "pässwörd-ü"),
		ha1Line(passwd.DigestMD5, "olly", "Other Realm", "olly-pw"),
	)
}

// TestDigestChallengeNative checks htgate's own challenges: one per
// algorithm, SHA-256 first, each with qop, a shared nonce, the realm's
// opaque, charset and userhash.
func TestDigestChallengeNative(t *testing.T) {
	dg := newDigestGateway(t, []policy.Rule{nativeRule()}, aliceFile(t))
	status, hdr := dg.get("GET", "/secret/page.html", "")
	if status != 401 || len(hdr) != 2 {
		t.Fatalf("GET without credentials = %d %q, want 401 with two challenges", status, hdr)
	}
	cs := parseChallenges(t, hdr)
	for i, alg := range []string{"SHA-256", "MD5"} {
		c := cs[i]
		if c["algorithm"] != alg || c["realm"] != realm || c["qop"] != "auth" || c["charset"] != "UTF-8" || c["userhash"] != "true" || c["opaque"] == "" || len(c["nonce"]) != 64 || c["stale"] != "" {
			t.Errorf("challenge %d = %v, want algorithm %s with qop, opaque, charset, userhash", i, c, alg)
		}
	}
	if cs[0]["nonce"] != cs[1]["nonce"] || cs[0]["opaque"] != cs[1]["opaque"] {
		t.Errorf("the challenges of one 401 do not share nonce and opaque: %v", cs)
	}
	if !strings.HasPrefix(hdr[0], `Digest realm="Digest Realm", qop="auth", algorithm=SHA-256, nonce="`) {
		t.Errorf("first challenge %q is not in RFC 7616's order", hdr[0])
	}
	_, again := dg.get("GET", "/secret/page.html", "")
	if parseChallenges(t, again)[0]["nonce"] == cs[0]["nonce"] {
		t.Errorf("two 401s carry the same nonce")
	}

	// A file with MD5 entries only offers MD5: a client that picked
	// SHA-256 could never authenticate.
	md5Only := newDigestGateway(t, []policy.Rule{nativeRule()}, digestFile(t, ha1Line(passwd.DigestMD5, "alice", realm, "pw")))
	if _, hdr := md5Only.get("GET", "/secret/", ""); len(hdr) != 1 || parseChallenges(t, hdr)[0]["algorithm"] != "MD5" {
		t.Errorf("MD5-only file: challenges %q, want one MD5 challenge", hdr)
	}
	// Configured algorithms are offered as they are.
	rule := nativeRule()
	rule.DigestAlgorithms = []string{"SHA-256-sess", "MD5-sess"}
	rule.DigestDomain = []string{"/secret/", "/other/"}
	sess := newDigestGateway(t, []policy.Rule{rule}, aliceFile(t))
	if _, hdr := sess.get("GET", "/secret/", ""); len(hdr) != 2 || parseChallenges(t, hdr)[1]["algorithm"] != "MD5-sess" || parseChallenges(t, hdr)[0]["domain"] != "/secret/ /other/" {
		t.Errorf("configured algorithms: challenges %q", hdr)
	}
}

// TestDigestAuthenticate runs the protocol with a client computing real
// responses: each case fetches a fresh challenge, then sends the
// credentials the knobs describe.
func TestDigestAuthenticate(t *testing.T) {
	sessRule := nativeRule()
	sessRule.ID, sessRule.Path = "sess", "/sess"
	sessRule.DigestAlgorithms = []string{"SHA-256-sess", "MD5-sess", "SHA-256", "MD5"}
	qopNone := nativeRule()
	qopNone.ID, qopNone.Path = "none", "/none"
	qopNone.DigestQop = []string{"auth", "none"}
	qopNone.DigestAlgorithms = []string{"MD5"}
	other := nativeRule()
	other.ID, other.Path, other.Realm = "other", "/other", "Other Realm"
	rules := []policy.Rule{nativeRule(), sessRule, qopNone, other}

	tests := []struct {
		name      string
		target    string
		challenge int // which challenge of the 401 the client answers
		client    digestClient
		method    string
		status    int
		reason    htgate.Reason
		stale     bool
	}{
		{"sha-256", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1"}, "GET", 200, "", false},
		{"md5", "/secret/page.html", 1, digestClient{user: "alice", password: "Wonderland-1"}, "GET", 200, "", false},
		{"md5 without algorithm", "/secret/page.html", 1, digestClient{user: "alice", password: "Wonderland-1", algorithm: ""}, "GET", 200, "", false},
		{"utf-8 user", "/secret/page.html", 0, digestClient{user: "josé", password: "pässwörd-ü"}, "GET", 200, "", false},
		{"post", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1"}, "POST", 200, "", false},
		{"userhash sha-256", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", userhash: true}, "GET", 200, "", false},
		{"userhash md5", "/secret/page.html", 1, digestClient{user: "josé", password: "pässwörd-ü", userhash: true}, "GET", 200, "", false},
		{"sha-256-sess", "/sess/x", 0, digestClient{user: "alice", password: "Wonderland-1"}, "GET", 200, "", false},
		{"md5-sess", "/sess/x", 1, digestClient{user: "alice", password: "Wonderland-1"}, "GET", 200, "", false},
		{"rfc 2069 where allowed", "/none/x", 0, digestClient{user: "alice", password: "Wonderland-1", noQop: true}, "GET", 200, "", false},
		{"query in uri", "/secret/page.html?a=1&b=%20", 0, digestClient{user: "alice", password: "Wonderland-1"}, "GET", 200, "", false},
		{"absolute uri for origin-form target", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", uri: "http://example.com/secret/page.html"}, "GET", 200, "", false},
		{"encoded uri", "/secret/page%2Ehtml", 0, digestClient{user: "alice", password: "Wonderland-1", uri: "/secret/page.html"}, "GET", 200, "", false},

		{"wrong password", "/secret/page.html", 0, digestClient{user: "alice", password: "wrong"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"unknown user", "/secret/page.html", 0, digestClient{user: "nobody", password: "Wonderland-1"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"user case", "/secret/page.html", 0, digestClient{user: "Alice", password: "Wonderland-1"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"user of another realm", "/secret/page.html", 1, digestClient{user: "olly", password: "olly-pw"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"userhash unknown", "/secret/page.html", 0, digestClient{user: "nobody", password: "x", userhash: true}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"hash of another method", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", method: "POST"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"wrong realm", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", realm: "Other Realm"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"sess not offered", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", algorithm: "SHA-256-sess"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"unknown algorithm", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", algorithm: "SHA-512-256"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"rfc 2069 not offered", "/secret/page.html", 1, digestClient{user: "alice", password: "Wonderland-1", noQop: true}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"rfc 2069 needs md5", "/none/x", 0, digestClient{user: "alice", password: "Wonderland-1", noQop: true, algorithm: "SHA-256"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"auth-int", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", qop: "auth-int"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"nonce not ours", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093"}, "GET", 401, htgate.ReasonLogonFailed, false},
		{"missing opaque", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", omitOpaque: true}, "GET", 401, htgate.ReasonCredentialsMissing, true},
		{"wrong opaque", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", opaque: "bogus"}, "GET", 401, htgate.ReasonCredentialsMissing, true},

		{"wrong uri", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", uri: "/secret/other.html"}, "GET", 400, htgate.ReasonBadRequest, false},
		{"uri without query", "/secret/page.html?x=1", 0, digestClient{user: "alice", password: "Wonderland-1", uri: "/secret/page.html"}, "GET", 400, htgate.ReasonBadRequest, false},
		{"uri with another query", "/secret/page.html?x=1", 0, digestClient{user: "alice", password: "Wonderland-1", uri: "/secret/page.html?x=2"}, "GET", 400, htgate.ReasonBadRequest, false},
		{"uri of another host", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", uri: "http://evil.example/secret/page.html"}, "GET", 400, htgate.ReasonBadRequest, false},
		{"uri of another port", "/secret/page.html", 0, digestClient{user: "alice", password: "Wonderland-1", uri: "http://example.com:8080/secret/page.html"}, "GET", 400, htgate.ReasonBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dg := newDigestGateway(t, rules, aliceFile(t))
			status, hdr := dg.get("GET", tt.target, "")
			if status != 401 {
				t.Fatalf("GET %s without credentials = %d", tt.target, status)
			}
			cl := tt.client
			cl.c = parseChallenges(t, hdr)[tt.challenge]
			auth := cl.authorization(tt.method, tt.target)
			r := httptest.NewRequest(tt.method, tt.target, nil)
			r.Header.Set("Authorization", auth)
			w := httptest.NewRecorder()
			dg.g.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("%s %s with %q = %d, want %d", tt.method, tt.target, auth, w.Code, tt.status)
			}
			cs := parseChallenges(t, w.Header().Values("WWW-Authenticate"))
			if tt.status == 401 {
				if len(cs) == 0 {
					t.Fatalf("401 without a Digest challenge")
				}
				if got := cs[0]["stale"] == "true"; got != tt.stale {
					t.Errorf("stale = %v, want %v (%v)", got, tt.stale, cs[0])
				}
			} else if len(cs) != 0 {
				t.Errorf("%d with challenges %v", w.Code, cs)
			}
			// The dry run (explain) decides the same.
			r2 := httptest.NewRequest(tt.method, tt.target, nil)
			r2.Header.Set("Authorization", auth)
			d := dg.g.Decide(context.Background(), r2)
			if tt.status != 200 && (d.Status != tt.status || d.Reason != tt.reason) {
				t.Errorf("Decide = %d %q, want %d %q (%s)", d.Status, d.Reason, tt.status, tt.reason, d.Detail)
			}
			if tt.status == 200 && d.Principal != nil && d.Principal.Scheme != "digest" {
				t.Errorf("principal scheme %q, want digest", d.Principal.Scheme)
			}
		})
	}
}

// TestDigestNonceCount checks replay protection: each nonce count is
// accepted once and in increasing order; a replay is refused with
// stale=true and is not counted as a password failure.
func TestDigestNonceCount(t *testing.T) {
	dg := newDigestGateway(t, []policy.Rule{nativeRule()}, aliceFile(t))
	_, hdr := dg.get("GET", "/secret/", "")
	cl := digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(t, hdr)[0]}
	first := cl.authorization("GET", "/secret/")
	if s, _ := dg.get("GET", "/secret/", first); s != 200 {
		t.Fatalf("nc=1: %d, want 200", s)
	}
	failures := dg.guard.failures
	s, hdr := dg.get("GET", "/secret/", first)
	if s != 401 || parseChallenges(t, hdr)[0]["stale"] != "true" {
		t.Errorf("replayed request: %d %q, want 401 with stale=true", s, hdr)
	}
	if dg.guard.failures != failures {
		t.Errorf("a replay counted as a password failure")
	}
	if s, _ := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/")); s != 200 {
		t.Errorf("nc=2: %d, want 200", s)
	}
	cl.nc = 10
	if s, _ := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/")); s != 200 {
		t.Errorf("nc=11 (a gap): %d, want 200", s)
	}
	cl.nc = 4
	if s, _ := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/")); s != 401 {
		t.Errorf("nc=5 after 11: %d, want 401", s)
	}
	// An RFC 2069 response (no count) uses its nonce once.
	rule := nativeRule()
	rule.DigestQop, rule.DigestAlgorithms = []string{"none"}, []string{"MD5"}
	old := newDigestGateway(t, []policy.Rule{rule}, aliceFile(t))
	_, hdr = old.get("GET", "/secret/", "")
	if strings.Contains(hdr[0], "qop") {
		t.Errorf("qop none: challenge %q has a qop", hdr[0])
	}
	cl2 := digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(t, hdr)[0], noQop: true}
	a := cl2.authorization("GET", "/secret/")
	if s, _ := old.get("GET", "/secret/", a); s != 200 {
		t.Errorf("RFC 2069: %d, want 200", s)
	}
	if s, _ := old.get("GET", "/secret/", a); s != 401 {
		t.Errorf("RFC 2069 replayed: %d, want 401", s)
	}
	// A nonce store that fails refuses (fails closed).
	dg.nonces.err = errors.New("redis: connection refused")
	if s, _ := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/")); s != 503 {
		t.Errorf("nonce store down: %d, want 503", s)
	}
}

// TestDigestStaleNonce checks expiry on the injected clock: a right
// response with an expired nonce gets stale=true and a new nonce that
// works; a wrong response with an expired nonce gets no stale.
func TestDigestStaleNonce(t *testing.T) {
	rule := nativeRule()
	rule.NonceLifetime = time.Minute
	dg := newDigestGateway(t, []policy.Rule{rule}, aliceFile(t))
	_, hdr := dg.get("GET", "/secret/", "")
	cl := digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(t, hdr)[0]}
	if s, _ := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/")); s != 200 {
		t.Fatalf("fresh nonce: %d", s)
	}
	dg.clock.Advance(time.Minute + time.Second)
	s, hdr := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/"))
	cs := parseChallenges(t, hdr)
	if s != 401 || cs[0]["stale"] != "true" || cs[0]["nonce"] == cl.c["nonce"] {
		t.Fatalf("expired nonce: %d %v, want 401 with stale=true and a new nonce", s, cs)
	}
	wrong := digestClient{user: "alice", password: "nope", c: cl.c}
	if _, hdr := dg.get("GET", "/secret/", wrong.authorization("GET", "/secret/")); parseChallenges(t, hdr)[0]["stale"] == "true" {
		t.Errorf("a wrong response with an expired nonce got stale=true")
	}
	cl.c, cl.nc = cs[0], 0
	if s, _ := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/")); s != 200 {
		t.Errorf("retry with the new nonce: %d, want 200", s)
	}
	// A nonce minted for another realm is stale too (the client knows the
	// password; it only used the wrong nonce).
	other := nativeRule()
	other.ID, other.Path, other.Realm = "o", "/o", "Other Realm"
	two := newDigestGateway(t, []policy.Rule{nativeRule(), other}, aliceFile(t))
	_, hdr = two.get("GET", "/o/", "")
	foreign := digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(t, hdr)[0], realm: realm, opaque: two.g.opts.DigestKey.Opaque(realm)}
	if s, hdr := two.get("GET", "/secret/", foreign.authorization("GET", "/secret/")); s != 401 || parseChallenges(t, hdr)[0]["stale"] != "true" {
		t.Errorf("nonce of another realm: %d %q, want 401 stale=true", s, hdr)
	}
}

// TestDigestApacheRule checks the answers of a rule from .htaccess against
// what Apache 2.4's mod_auth_digest sent in the conformance goldens.
func TestDigestApacheRule(t *testing.T) {
	rule := policy.Rule{ID: "a", Path: "/secret", Realm: realm, Schemes: []string{"digest"}, DigestSource: "users.htdigest", Apache: true}
	dom := rule
	dom.ID, dom.Path, dom.DigestDomain = "dom", "/domain", []string{"/domain/", "/secret/"}
	file := digestFile(t, ha1Line(passwd.DigestMD5, "alice", realm, "Wonderland-1"))
	dg := newDigestGateway(t, []policy.Rule{rule, dom}, file)

	s, hdr := dg.get("GET", "/secret/page.html", "")
	masked := maskNonce(hdr)
	if s != 401 || len(hdr) != 1 || masked[0] != `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, qop="auth"` {
		t.Fatalf("challenge = %d %q, want Apache's", s, masked)
	}
	if _, hdr := dg.get("GET", "/domain/page.html", ""); maskNonce(hdr)[0] != `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, domain="/domain/ /secret/", qop="auth"` {
		t.Errorf("domain challenge = %q", maskNonce(hdr))
	}
	tests := []struct {
		name   string
		client digestClient
		status int
		want   string // the masked challenge of a 401
	}{
		{"correct", digestClient{user: "alice", password: "Wonderland-1"}, 200, ""},
		{"no algorithm param", digestClient{user: "alice", password: "Wonderland-1"}, 200, ""},
		{"wrong password", digestClient{user: "alice", password: "x"}, 401, `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, qop="auth"`},
		{"md5-sess", digestClient{user: "alice", password: "Wonderland-1", algorithm: "MD5-sess"}, 401, `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, qop="auth"`},
		{"sha-256", digestClient{user: "alice", password: "Wonderland-1", algorithm: "SHA-256"}, 401, `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, qop="auth"`},
		{"no qop", digestClient{user: "alice", password: "Wonderland-1", noQop: true}, 401, `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, qop="auth"`},
		{"userhash", digestClient{user: "alice", password: "Wonderland-1", userhash: true}, 401, `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, qop="auth"`},
		{"wrong opaque", digestClient{user: "alice", password: "Wonderland-1", opaque: "bogus-opaque"}, 401, `Digest realm="Digest Realm", nonce=<masked>, algorithm=MD5, opaque=<masked>, stale=true, qop="auth"`},
		{"wrong uri", digestClient{user: "alice", password: "Wonderland-1", uri: "/secret/other.html"}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fresh := dg.get("GET", "/secret/page.html", "")
			c := parseChallenges(t, fresh)[0]
			cl := tt.client
			cl.c = c
			if tt.name == "no algorithm param" {
				cl.c = challenge{"realm": c["realm"], "nonce": c["nonce"], "qop": "auth"}
			}
			s, hdr := dg.get("GET", "/secret/page.html", cl.authorization("GET", "/secret/page.html"))
			if s != tt.status {
				t.Fatalf("status %d, want %d", s, tt.status)
			}
			if tt.want != "" && (len(hdr) != 1 || maskNonce(hdr)[0] != tt.want) {
				t.Errorf("challenge %q, want %q", maskNonce(hdr), tt.want)
			}
		})
	}
	// After a foreign opaque, the new nonce and opaque work.
	_, hdr = dg.get("GET", "/secret/page.html", "")
	cl := digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(t, hdr)[0], opaque: "bogus-opaque"}
	_, hdr = dg.get("GET", "/secret/page.html", cl.authorization("GET", "/secret/page.html"))
	cl = digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(t, hdr)[0]}
	if s, _ := dg.get("GET", "/secret/page.html", cl.authorization("GET", "/secret/page.html")); s != 200 {
		t.Errorf("after the stale answer with an opaque: %d, want 200", s)
	}
}

var tlsState tls.ConnectionState

func maskNonce(hdr []string) []string {
	out := make([]string, len(hdr))
	for i, h := range hdr {
		for _, p := range []string{"nonce", "opaque"} {
			if j := strings.Index(h, p+`="`); j >= 0 {
				end := strings.IndexByte(h[j+len(p)+2:], '"')
				h = h[:j] + p + "=<masked>" + h[j+len(p)+2+end+1:]
			}
		}
		out[i] = h
	}
	return out
}

// TestBasicAndDigest checks a rule that accepts both schemes: one
// challenge per scheme in the rule's order, and either credential works.
func TestBasicAndDigest(t *testing.T) {
	rule := nativeRule()
	rule.Schemes = []string{"basic", "digest"}
	rule.Source = "users"
	dg := newDigestGateway(t, []policy.Rule{rule}, aliceFile(t))
	s, hdr := dg.get("GET", "/secret/", "")
	if s != 401 || len(hdr) != 3 || !strings.HasPrefix(hdr[0], `Basic realm="Digest Realm", charset="UTF-8"`) || !strings.HasPrefix(hdr[1], "Digest ") {
		t.Fatalf("challenges %d %q, want Basic then two Digest", s, hdr)
	}
	if s, _ := dg.get("GET", "/secret/", basicAuth("alice", "basic-pw")); s != 200 {
		t.Errorf("Basic credentials: %d, want 200", s)
	}
	cl := digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(t, hdr)[0]}
	if s, _ := dg.get("GET", "/secret/", cl.authorization("GET", "/secret/")); s != 200 {
		t.Errorf("Digest credentials: %d, want 200", s)
	}
	if s, _ := dg.get("GET", "/secret/", "Bearer x"); s != 401 {
		t.Errorf("Bearer: %d, want 401", s)
	}
	// A Digest-only rule refuses Basic credentials with its challenge.
	only := newDigestGateway(t, []policy.Rule{nativeRule()}, aliceFile(t))
	if s, hdr := only.get("GET", "/secret/", basicAuth("alice", "basic-pw")); s != 401 || len(hdr) != 2 || !strings.HasPrefix(hdr[0], "Digest ") {
		t.Errorf("Basic to a Digest rule: %d %q", s, hdr)
	}
	// Apache rules send Basic without charset, as mod_auth_basic does.
	ap := policy.Rule{ID: "ap", Path: "/secret", Realm: "R", Source: "users", Apache: true}
	apg := newDigestGateway(t, []policy.Rule{ap}, aliceFile(t))
	if _, hdr := apg.get("GET", "/secret/", ""); len(hdr) != 1 || hdr[0] != `Basic realm="R"` {
		t.Errorf("Apache Basic challenge %q", hdr)
	}
}

func TestDigestSourceErrors(t *testing.T) {
	dg := newDigestGateway(t, []policy.Rule{nativeRule()}, &fakeDigests{err: errors.New("open users.htdigest: permission denied")})
	if s, hdr := dg.get("GET", "/secret/", ""); s != 401 || len(hdr) != 2 {
		t.Errorf("unreadable source, no credentials: %d %q, want 401 with the default challenges", s, hdr)
	}
	auth := `Digest username="alice", realm="Digest Realm", nonce="n", uri="/secret/", response="00", qop=auth, nc=00000001, cnonce="c"`
	if s, _ := dg.get("GET", "/secret/", auth); s != 500 {
		t.Errorf("unreadable source with credentials: %d, want 500", s)
	}
	missing := newDigestGateway(t, []policy.Rule{{ID: "x", Path: "/secret", Realm: realm, Schemes: []string{"digest"}, DigestSource: "nope"}}, aliceFile(t))
	if s, _ := missing.get("GET", "/secret/", auth); s != 500 {
		t.Errorf("source not loaded: %d, want 500", s)
	}
	// Malformed credentials are counted against the client only.
	before := dg.guard.clientOnly
	if s, _ := dg.get("GET", "/secret/", "Digest garbage"); s != 401 {
		t.Errorf("malformed: %d, want 401", s)
	}
	if dg.guard.clientOnly != before+1 {
		t.Errorf("malformed credentials were not counted against the client")
	}
}

func TestDigestURIMatches(t *testing.T) {
	tests := []struct {
		target, host string
		tls          bool
		uri          string
		want         bool
	}{
		{"/a/b", "h", false, "/a/b", true},
		{"/a/b?x=1", "h", false, "/a/b?x=1", true},
		{"/a/b?x=1", "h", false, "/a/b", false},
		{"/a/b", "h", false, "/a/b?x=1", false},
		{"/a/b?", "h", false, "/a/b", false},
		{"/a/b?x=%41", "h", false, "/a/b?x=A", true},
		{"/a%2Fb", "h", false, "/a%2fb", true},
		{"/a/%62", "h", false, "/a/b", true},
		{"/a/b", "h", false, "/a/c", false},
		{"/a/b", "h", false, "/A/b", false},
		{"http://h:8080/a/b", "h:8080", false, "/a/b", true},
		{"/a/b", "h:8080", false, "http://H:8080/a/b", true},
		{"/a/b", "h:8080", false, "http://h/a/b", false},
		{"/a/b", "h", false, "http://h/a/b", true},
		{"/a/b", "h", false, "http://h:80/a/b", true},
		{"/a/b", "h", true, "https://h/a/b", true},
		{"/a/b", "h", false, "http://other/a/b", false},
		{"/a/b", "[::1]:9000", false, "http://[::1]:9000/a/b", true},
		{"/a/b", "h", false, "/a/b#frag", false},
		{"/a/b", "h", false, "http://u@h/a/b", false},
		{"/a/b", "h", false, "%zz", false},
		{"/a/b", "h", false, "mailto:x", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		r.Host = tt.host
		if tt.tls {
			r.TLS = &tlsState
		}
		if got := digestURIMatches(r, tt.uri); got != tt.want {
			t.Errorf("digestURIMatches(%q on %s, %q) = %v, want %v", tt.target, tt.host, tt.uri, got, tt.want)
		}
	}
}

// BenchmarkDigest measures an allowed Digest request through the whole
// decision path (the nonce count is recorded on every request).
func BenchmarkDigest(b *testing.B) {
	dg := newDigestGateway(b, []policy.Rule{nativeRule()}, aliceFile(b))
	dg.g.opts.Guard = nil
	_, hdr := dg.get("GET", "/secret/page.html", "")
	cl := digestClient{user: "alice", password: "Wonderland-1", c: parseChallenges(b, hdr)[0]}
	r := httptest.NewRequest("GET", "/secret/page.html", nil)
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r.Header.Set("Authorization", cl.authorization("GET", "/secret/page.html"))
		b.StartTimer()
		dg.g.ServeHTTP(w, r)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}
