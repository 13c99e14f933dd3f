package scheme

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/htgate/htgate"
)

// rfc2617 is the example of RFC 2617 §3.5 (password "Circle Of Life").
const rfc2617 = `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`

// rfc7616 is the SHA-256 example of RFC 7616 §3.9.1 (password "Circle of Life").
const rfc7616 = `Digest username="Mufasa",
 realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`

var mufasa2617 = DigestCredentials{
	Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
	URI: "/dir/index.html", Qop: "auth", NC: "00000001", Count: 1, Cnonce: "0a4f113b",
	Response: "6629fae49393a05397450978507c4ef1", Opaque: "5ccc069c403ebaf9f0171e9517f40e41",
}

// minimal is a valid set of parameters that tests vary.
const minimal = `username="u", realm="r", nonce="n", uri="/", response="0123abcd"`

var minimalCreds = DigestCredentials{Username: "u", Realm: "r", Nonce: "n", URI: "/", Response: "0123abcd"}

func with(f func(*DigestCredentials)) DigestCredentials {
	c := minimalCreds
	f(&c)
	return c
}

// digestTests is the table of TestParseDigest; FuzzParseDigest is seeded
// from it.
var digestTests = []struct {
	name   string
	header string
	want   DigestCredentials
	err    error // ErrNotDigest, ErrMalformed or nil
}{
	{"rfc2617", rfc2617, mufasa2617, nil},
	{"rfc7616 folded", strings.ReplaceAll(rfc7616, "\n", ""), DigestCredentials{
		Username: "Mufasa", Realm: "http-auth@example.org", URI: "/dir/index.html", Algorithm: "SHA-256",
		Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", NC: "00000001", Count: 1,
		Cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", Qop: "auth",
		Response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		Opaque:   "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
	}, nil},
	{"minimal rfc2069", "Digest " + minimal, minimalCreds, nil},
	{"lower-case scheme", "digest " + minimal, minimalCreds, nil},
	{"upper-case names", `Digest USERNAME="u", Realm="r", NONCE="n", Uri="/", RESPONSE="0123abcd"`, minimalCreds, nil},
	{"no spaces", `Digest username="u",realm="r",nonce="n",uri="/",response="0123abcd"`, minimalCreds, nil},
	{"spaces around =", `Digest username = "u" , realm= "r",nonce ="n", uri="/",	response="0123abcd"`, minimalCreds, nil},
	{"token values", `Digest username=u, realm=r, nonce=n, uri="/", response=0123abcd`, minimalCreds, nil},
	{"quoted tokens", "Digest " + minimal + `, qop="auth", nc="00000002", cnonce="c", algorithm="MD5"`,
		with(func(c *DigestCredentials) {
			c.Qop, c.NC, c.Count, c.Cnonce, c.Algorithm = "auth", "00000002", 2, "c", "MD5"
		}), nil},
	{"nc hex", "Digest " + minimal + `, qop=auth, nc=0000ffFF, cnonce="c"`,
		with(func(c *DigestCredentials) { c.Qop, c.NC, c.Count, c.Cnonce = "auth", "0000ffFF", 0xffff, "c" }), nil},
	{"escapes", `Digest username="a\"b\\c", realm="say \"hi\"", nonce="n", uri="/", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.Username, c.Realm = `a"b\c`, `say "hi"` }), nil},
	{"escaped ordinary char", `Digest username="\a\l\i\c\e", realm="r", nonce="n", uri="/", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.Username = "alice" }), nil},
	{"utf-8 username", `Digest username="josé", realm="Digest Realm", nonce="n", uri="/", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.Username, c.Realm = "josé", "Digest Realm" }), nil},
	{"username* rfc7616", `Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="r", nonce="n", uri="/", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.Username = "Jäsøn Doe" }), nil},
	{"username* language", `Digest username*=utf-8'en'alice, realm="r", nonce="n", uri="/", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.Username = "alice" }), nil},
	{"userhash", `Digest username="5a0b", userhash=true, realm="r", nonce="n", uri="/", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.Username, c.Userhash = "5a0b", true }), nil},
	{"userhash false", `Digest username="u", userhash=FALSE, realm="r", nonce="n", uri="/", response="0123abcd"`, minimalCreds, nil},
	{"unknown params ignored", "Digest " + minimal + `, foo=bar, x-y="z, w"`, minimalCreds, nil},
	{"empty realm", `Digest username="u", realm="", nonce="n", uri="/", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.Realm = "" }), nil},
	{"absolute uri", `Digest username="u", realm="r", nonce="n", uri="http://h/x?a=b", response="0123abcd"`,
		with(func(c *DigestCredentials) { c.URI = "http://h/x?a=b" }), nil},
	{"trailing whitespace", "Digest " + minimal + " \t", minimalCreds, nil},
	{"upper-case response kept", `Digest username="u", realm="r", nonce="n", uri="/", response="0123ABCD"`,
		with(func(c *DigestCredentials) { c.Response = "0123ABCD" }), nil},

	{"basic", "Basic YWxpY2U6c2VjcmV0", DigestCredentials{}, ErrNotDigest},
	{"empty", "", DigestCredentials{}, ErrNotDigest},
	{"digestx", "Digestx " + minimal, DigestCredentials{}, ErrNotDigest},
	{"no space", `Digest,username="u"`, DigestCredentials{}, ErrNotDigest},
	{"scheme only", "Digest", DigestCredentials{}, ErrMalformed},
	{"garbage", "Digest garbage", DigestCredentials{}, ErrMalformed},
	{"missing username", `Digest realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"missing realm", `Digest username="u", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"missing nonce", `Digest username="u", realm="r", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"missing uri", `Digest username="u", realm="r", nonce="n", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"missing response", `Digest username="u", realm="r", nonce="n", uri="/"`, DigestCredentials{}, ErrMalformed},
	{"missing cnonce", "Digest " + minimal + ", qop=auth, nc=00000001", DigestCredentials{}, ErrMalformed},
	{"missing nc", "Digest " + minimal + `, qop=auth, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"nc without qop", "Digest " + minimal + ", nc=00000001", DigestCredentials{}, ErrMalformed},
	{"cnonce without qop", "Digest " + minimal + `, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"short nc", "Digest " + minimal + `, qop=auth, nc=1, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"long nc", "Digest " + minimal + `, qop=auth, nc=000000001, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"non-hex nc", "Digest " + minimal + `, qop=auth, nc=0000000g, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"signed nc", "Digest " + minimal + `, qop=auth, nc=+0000001, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"empty cnonce", "Digest " + minimal + `, qop=auth, nc=00000001, cnonce=""`, DigestCredentials{}, ErrMalformed},
	{"empty qop", "Digest " + minimal + `, qop="", nc=00000001, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"qop not a token", "Digest " + minimal + `, qop="a b", nc=00000001, cnonce="c"`, DigestCredentials{}, ErrMalformed},
	{"empty algorithm", "Digest " + minimal + `, algorithm=""`, DigestCredentials{}, ErrMalformed},
	{"algorithm not a token", "Digest " + minimal + `, algorithm="MD 5"`, DigestCredentials{}, ErrMalformed},
	{"empty nonce", `Digest username="u", realm="r", nonce="", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"empty uri", `Digest username="u", realm="r", nonce="n", uri="", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"empty username", `Digest username="", realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"empty response", `Digest username="u", realm="r", nonce="n", uri="/", response=""`, DigestCredentials{}, ErrMalformed},
	{"non-hex response", `Digest username="u", realm="r", nonce="n", uri="/", response="xyz"`, DigestCredentials{}, ErrMalformed},
	{"duplicate", "Digest " + minimal + `, username="v"`, DigestCredentials{}, ErrMalformed},
	{"duplicate other case", "Digest " + minimal + `, Realm="r"`, DigestCredentials{}, ErrMalformed},
	{"duplicate unknown", "Digest " + minimal + `, foo=1, FOO=2`, DigestCredentials{}, ErrMalformed},
	{"username and username*", "Digest " + minimal + `, username*=UTF-8''u`, DigestCredentials{}, ErrMalformed},
	{"username* quoted", `Digest username*="UTF-8''u", realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"username* latin1", `Digest username*=ISO-8859-1''J%E4s, realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"username* bad escape", `Digest username*=UTF-8''J%C, realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"username* invalid utf-8", `Digest username*=UTF-8''%FF, realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"username* no quotes", `Digest username*=UTF-8alice, realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"username* with userhash", `Digest username*=UTF-8''u, userhash=true, realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"username* control", `Digest username*=UTF-8''a%00b, realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"userhash bogus", "Digest " + minimal + ", userhash=yes", DigestCredentials{}, ErrMalformed},
	{"trailing comma", "Digest " + minimal + ",", DigestCredentials{}, ErrMalformed},
	{"empty element", `Digest username="u",, realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"leading comma", `Digest , ` + minimal, DigestCredentials{}, ErrMalformed},
	{"no comma", `Digest username="u" realm="r", nonce="n", uri="/", response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"unterminated quote", `Digest username="u, realm="r", nonce="n", uri="/", response="0123abcd`, DigestCredentials{}, ErrMalformed},
	{"backslash at end", `Digest username="u\`, DigestCredentials{}, ErrMalformed},
	{"no value", `Digest username, realm="r"`, DigestCredentials{}, ErrMalformed},
	{"empty value", `Digest username=, realm="r"`, DigestCredentials{}, ErrMalformed},
	{"value with slash token", `Digest username="u", realm="r", nonce="n", uri=/, response="0123abcd"`, DigestCredentials{}, ErrMalformed},
	{"NUL in quoted", "Digest username=\"a\x00b\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0123abcd\"", DigestCredentials{}, ErrMalformed},
	{"CR in quoted", "Digest username=\"a\rb\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0123abcd\"", DigestCredentials{}, ErrMalformed},
	{"escaped NUL", "Digest username=\"a\\\x00b\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0123abcd\"", DigestCredentials{}, ErrMalformed},
	{"C1 in username", "Digest username=\"a\u0085b\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0123abcd\"", DigestCredentials{}, ErrMalformed},
	{"invalid utf-8 username", "Digest username=\"a\xffb\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0123abcd\"", DigestCredentials{}, ErrMalformed},
	{"latin1 realm", "Digest username=\"u\", realm=\"caf\xe9\", nonce=\"n\", uri=\"/\", response=\"0123abcd\"", DigestCredentials{}, ErrMalformed},
	{"DEL in uri", "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"/\x7f\", response=\"0123abcd\"", DigestCredentials{}, ErrMalformed},
	{"two credentials", "Digest " + minimal + ", Digest " + minimal, DigestCredentials{}, ErrMalformed},
	{"too many params", "Digest " + minimal + manyParams(40), DigestCredentials{}, ErrMalformed},
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(", p")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString("=1")
	}
	return b.String()
}

func TestParseDigest(t *testing.T) {
	for _, tt := range digestTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDigest(tt.header)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("ParseDigest(%q) error = %v, want %v", tt.header, err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDigest(%q) mismatch (-want +got):\n%s", tt.header, diff)
			}
			if err != nil {
				checkErrorHidesSecret(t, err, tt.header)
				if strings.Contains(err.Error(), "0123abcd") || strings.Contains(err.Error(), "Mufasa") {
					t.Errorf("ParseDigest(%q) error %q quotes a value", tt.header, err)
				}
			}
		})
	}
}

func TestParseDigestMalformedDetail(t *testing.T) {
	tests := []struct {
		header, want string
	}{
		{"Digest", "no parameters"},
		{"Digest garbage", `parameter (unknown) has no value`},
		{"Digest " + minimal + ", qop=auth, cnonce=\"c\"", "missing nc"},
		{`Digest username="u", realm="r", nonce="n", uri="/"`, "missing response"},
		{"Digest " + minimal + `, Username="v"`, `parameter "Username" given twice`},
		{"Digest " + minimal + ",", "trailing comma"},
		{`Digest username="u" realm="r"`, `expected a comma after "username"`},
	}
	for _, tt := range tests {
		_, err := ParseDigest(tt.header)
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Errorf("ParseDigest(%q) = %v, want a *MalformedError", tt.header, err)
			continue
		}
		if me.Scheme != Digest || me.Detail != tt.want {
			t.Errorf("ParseDigest(%q) detail = %q (%s), want %q", tt.header, me.Detail, me.Scheme, tt.want)
		}
	}
}

func TestDigestResponse(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		password string
		method   string
	}{
		{"rfc2617 md5", rfc2617, "Circle Of Life", "GET"},
		{"rfc7616 sha-256", strings.ReplaceAll(rfc7616, "\n", ""), "Circle of Life", "GET"},
		// RFC 7616 §3.9.1's MD5 variant of the same exchange.
		{"rfc7616 md5", `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`, "Circle of Life", "GET"},
		// Computed with Python's hashlib (independent of this code):
		// RFC 2069 (no qop) and the -sess variants.
		{"rfc2069", `Digest username="alice", realm="Digest Realm", nonce="abc", uri="/secret/page.html", response="` + pyRFC2069 + `"`, "Wonderland-1", "GET"},
		{"md5-sess", `Digest username="alice", realm="Digest Realm", nonce="abc", uri="/x", algorithm=MD5-sess, qop=auth, nc=00000001, cnonce="cn", response="` + pyMD5Sess + `"`, "Wonderland-1", "GET"},
		{"sha-256-sess", `Digest username="alice", realm="Digest Realm", nonce="abc", uri="/x", algorithm=SHA-256-sess, qop=auth, nc=00000002, cnonce="cn", response="` + pySHA256Sess + `"`, "Wonderland-1", "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseDigest(tt.header)
			if err != nil {
				t.Fatal(err)
			}
			alg, ok := ParseDigestAlgorithm(c.Algorithm)
			if !ok {
				t.Fatalf("ParseDigestAlgorithm(%q) failed", c.Algorithm)
			}
			ha1 := alg.Base().H(c.Username, c.Realm, tt.password)
			if got := DigestResponse(&c, alg, ha1, tt.method); got != c.Response {
				t.Errorf("DigestResponse(%s) = %q, want %q", tt.name, got, c.Response)
			}
			if !VerifyDigest(&c, alg, ha1, tt.method) {
				t.Errorf("VerifyDigest(%s) = false, want true", tt.name)
			}
			if VerifyDigest(&c, alg, alg.Base().H(c.Username, c.Realm, tt.password+"x"), tt.method) {
				t.Errorf("VerifyDigest(%s) with a wrong password = true", tt.name)
			}
			if VerifyDigest(&c, alg, ha1, "HEAD") {
				t.Errorf("VerifyDigest(%s) with another method = true", tt.name)
			}
			upper := c
			upper.Response = strings.ToUpper(c.Response)
			if upper.Response != c.Response && VerifyDigest(&upper, alg, ha1, tt.method) {
				t.Errorf("VerifyDigest(%s) accepted upper-case hex", tt.name)
			}
		})
	}
}

// Expected responses computed with Python's hashlib:
//
//	H = lambda s: hashlib.md5(s.encode()).hexdigest()
//	ha1 = H("alice:Digest Realm:Wonderland-1")
//	pyRFC2069 = H(ha1 + ":abc:" + H("GET:/secret/page.html"))
//	pyMD5Sess = H(H(ha1 + ":abc:cn") + ":abc:00000001:cn:auth:" + H("GET:/x"))
//	S = lambda s: hashlib.sha256(s.encode()).hexdigest()
//	pySHA256Sess = S(S(S("alice:Digest Realm:Wonderland-1") + ":abc:cn") + ":abc:00000002:cn:auth:" + S("POST:/x"))
const (
	pyRFC2069    = "a7648f6cdc40e2a49baaf24677498bfb"
	pyMD5Sess    = "8407119a3a60025ac06623e1660566e3"
	pySHA256Sess = "536ae684bc979ee69403e6da189d6d12534bc444f9305f14d441ac514fb25b03"
)

func TestParseDigestAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want DigestAlgorithm
		ok   bool
	}{
		{"", DigestMD5, true},
		{"MD5", DigestMD5, true},
		{"md5", DigestMD5, true},
		{"MD5-SESS", DigestMD5Sess, true},
		{"sha-256", DigestSHA256, true},
		{"SHA-256-sess", DigestSHA256Sess, true},
		{"SHA-512-256", 0, false},
		{"SHA256", 0, false},
		{"bogus", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseDigestAlgorithm(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseDigestAlgorithm(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	for a := DigestMD5; a <= DigestSHA256Sess; a++ {
		if back, ok := ParseDigestAlgorithm(a.String()); !ok || back != a {
			t.Errorf("ParseDigestAlgorithm(%q) = %v, %v, want %v", a.String(), back, ok, a)
		}
		if got := len(a.H("x")); got != a.HexLen() {
			t.Errorf("len(%v.H) = %d, want HexLen %d", a, got, a.HexLen())
		}
	}
}

func TestDigestChallenge(t *testing.T) {
	tests := []struct {
		name  string
		realm string
		o     DigestChallengeOptions
		want  []string
	}{
		{"apache default", "Digest Realm", DigestChallengeOptions{Nonce: "N", Qop: []string{"auth"}, Apache: true},
			[]string{`Digest realm="Digest Realm", nonce="N", algorithm=MD5, qop="auth"`}},
		{"apache stale opaque domain", "R", DigestChallengeOptions{Nonce: "N", Opaque: "O", Stale: true, Domain: []string{"/domain/", "/secret/"}, Qop: []string{"auth"}, Apache: true},
			[]string{`Digest realm="R", nonce="N", algorithm=MD5, opaque="O", domain="/domain/ /secret/", stale=true, qop="auth"`}},
		{"apache qop none md5-sess", "R", DigestChallengeOptions{Algorithms: []DigestAlgorithm{DigestMD5Sess}, Nonce: "N", Qop: []string{"none"}, Apache: true},
			[]string{`Digest realm="R", nonce="N", algorithm=MD5-sess`}},
		{"htgate", "Members", DigestChallengeOptions{
			Algorithms: []DigestAlgorithm{DigestSHA256, DigestMD5}, Nonce: "N", Opaque: "O", Qop: []string{"auth"}, Charset: true, Userhash: true,
		}, []string{
			`Digest realm="Members", qop="auth", algorithm=SHA-256, nonce="N", opaque="O", charset=UTF-8, userhash=true`,
			`Digest realm="Members", qop="auth", algorithm=MD5, nonce="N", opaque="O", charset=UTF-8, userhash=true`,
		}},
		{"htgate stale", "a \"quoted\" realm", DigestChallengeOptions{Algorithms: []DigestAlgorithm{DigestSHA256Sess}, Nonce: "N", Qop: []string{"auth"}, Stale: true},
			[]string{`Digest realm="a \"quoted\" realm", qop="auth", algorithm=SHA-256-sess, nonce="N", stale=true`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range DigestChallenge(tt.realm, tt.o) {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DigestChallenge(%q) mismatch (-want +got):\n%s", tt.realm, diff)
			}
		})
	}
}

func TestNonceKey(t *testing.T) {
	k, err := NewNonceKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const life = 5 * time.Minute
	n := k.Mint(now, "R", "O")
	if len(n) != NonceLen || NonceLen != 64 {
		t.Fatalf("len(Mint) = %d, NonceLen = %d, want 64", len(n), NonceLen)
	}
	if n2 := k.Mint(now, "R", "O"); n2 == n {
		t.Errorf("two nonces minted at the same instant are equal")
	}
	other, _ := NewNonceKey(nil)
	flipped := []byte(n)
	if flipped[30] == 'A' { // another character of the alphabet
		flipped[30] = 'B'
	} else {
		flipped[30] = 'A'
	}
	tests := []struct {
		name          string
		key           *NonceKey
		nonce, realm  string
		opaque        string
		at            time.Time
		lifetime      time.Duration
		want          NonceState
		wantIssueTime bool
	}{
		{"fresh", k, n, "R", "O", now, life, NonceValid, true},
		{"at the end of its life", k, n, "R", "O", now.Add(life), life, NonceValid, true},
		{"expired", k, n, "R", "O", now.Add(life + time.Nanosecond), life, NonceExpired, true},
		{"never expires", k, n, "R", "O", now.Add(1000 * time.Hour), 0, NonceValid, true},
		{"small skew", k, n, "R", "O", now.Add(-NonceClockSkew), life, NonceValid, true},
		{"from the future", k, n, "R", "O", now.Add(-NonceClockSkew - time.Second), life, NonceExpired, true},
		{"other realm", k, n, "R2", "O", now, life, NonceForged, false},
		{"realm case", k, n, "r", "O", now, life, NonceForged, false},
		{"other opaque", k, n, "R", "", now, life, NonceForged, false},
		{"other key", other, n, "R", "O", now, life, NonceForged, false},
		{"tampered", k, string(flipped), "R", "O", now, life, NonceForged, false},
		{"short", k, n[:63], "R", "O", now, life, NonceMalformed, false},
		{"long", k, n + "A", "R", "O", now, life, NonceMalformed, false},
		{"empty", k, "", "R", "O", now, life, NonceMalformed, false},
		{"not base64url", k, strings.Repeat("+", 64), "R", "O", now, life, NonceMalformed, false},
		{"apache nonce", k, "AAAAAAAAAAA0123456789abcdef0123456789abcdef01234567", "R", "O", now, life, NonceMalformed, false},
	}
	for _, tt := range tests {
		got, issued := tt.key.Check(tt.nonce, tt.realm, tt.opaque, tt.at, tt.lifetime)
		if got != tt.want {
			t.Errorf("%s: Check = %v, want %v", tt.name, got, tt.want)
		}
		if tt.wantIssueTime && !issued.Equal(now) {
			t.Errorf("%s: issue time = %v, want %v", tt.name, issued, now)
		}
	}

	// A configured secret gives the same key on every node.
	a, err := NewNonceKey([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewNonceKey([]byte("0123456789abcdef"))
	if st, _ := b.Check(a.Mint(now, "R", ""), "R", "", now, life); st != NonceValid {
		t.Errorf("a nonce of one node checked on another with the same secret: %v, want valid", st)
	}
	if a.Opaque("R") != b.Opaque("R") || a.Opaque("R") == a.Opaque("R2") || len(a.Opaque("R")) != 22 {
		t.Errorf("Opaque: %q %q %q", a.Opaque("R"), b.Opaque("R"), a.Opaque("R2"))
	}
	if _, err := NewNonceKey([]byte("short")); err == nil {
		t.Errorf("NewNonceKey with a 5-byte secret: no error")
	}
}

func FuzzParseDigest(f *testing.F) {
	for _, tt := range digestTests {
		f.Add(tt.header)
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := ParseDigest(header)
		if err != nil {
			if c != (DigestCredentials{}) {
				t.Fatalf("ParseDigest(%q) = %+v with error %v", header, c, err)
			}
			if !errors.Is(err, ErrNotDigest) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseDigest(%q) error %v is not a sentinel", header, err)
			}
			return
		}
		if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
			t.Fatalf("ParseDigest(%q) = %+v: a required value is empty", header, c)
		}
		for _, s := range []string{c.Username, c.Realm, c.Nonce, c.URI, c.Response, c.Cnonce, c.Opaque, c.Qop, c.NC, c.Algorithm} {
			if !acceptable(s) {
				t.Fatalf("ParseDigest(%q) accepted %q", header, s)
			}
		}
		if (c.Qop == "") != (c.NC == "") || (c.Qop == "") != (c.Cnonce == "") || (c.NC == "" && c.Count != 0) {
			t.Fatalf("ParseDigest(%q) = %+v: inconsistent qop, nc and cnonce", header, c)
		}
		// Round trip: the same credentials written by a client parse back
		// to the same.
		back, err := ParseDigest(formatDigest(c))
		if err != nil {
			t.Fatalf("ParseDigest(formatDigest(%+v)) = %v", c, err)
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("round trip of %q mismatch (-first +second):\n%s", header, diff)
		}
	})
}

// formatDigest writes credentials the way a client would.
func formatDigest(c DigestCredentials) string {
	p := []htgate.Param{
		{Name: "username", Value: c.Username},
		{Name: "realm", Value: c.Realm},
		{Name: "nonce", Value: c.Nonce},
		{Name: "uri", Value: c.URI},
		{Name: "response", Value: c.Response},
	}
	if c.Userhash {
		p = append(p, htgate.Param{Name: "userhash", Value: "true", Token: true})
	}
	if c.Algorithm != "" {
		p = append(p, htgate.Param{Name: "algorithm", Value: c.Algorithm})
	}
	if c.Opaque != "" {
		p = append(p, htgate.Param{Name: "opaque", Value: c.Opaque})
	}
	if c.Qop != "" {
		p = append(p, htgate.Param{Name: "qop", Value: c.Qop}, htgate.Param{Name: "nc", Value: c.NC, Token: true}, htgate.Param{Name: "cnonce", Value: c.Cnonce})
	}
	return htgate.Challenge{Scheme: "Digest", Params: p}.String()
}

func BenchmarkParseDigest(b *testing.B) {
	h := strings.ReplaceAll(rfc7616, "\n", "")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDigest(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDigest(b *testing.B) {
	c, err := ParseDigest(strings.ReplaceAll(rfc7616, "\n", ""))
	if err != nil {
		b.Fatal(err)
	}
	ha1 := DigestSHA256.H("Mufasa", "http-auth@example.org", "Circle of Life")
	b.ReportAllocs()
	for b.Loop() {
		if !VerifyDigest(&c, DigestSHA256, ha1, "GET") {
			b.Fatal("mismatch")
		}
	}
}

func BenchmarkNonceCheck(b *testing.B) {
	k, _ := NewNonceKey(nil)
	now := time.Now()
	n := k.Mint(now, "realm", "opaque")
	b.ReportAllocs()
	for b.Loop() {
		if st, _ := k.Check(n, "realm", "opaque", now, time.Minute); st != NonceValid {
			b.Fatal(st)
		}
	}
}
