package scheme

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// basicTests is the table of TestParseBasic; FuzzParseBasic is seeded from it.
var basicTests = []struct {
	name   string
	header string
	want   BasicCredentials
	err    error // ErrNotBasic, ErrMalformed or nil
}{
	{"valid", "Basic " + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"rfc7617 example", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", BasicCredentials{"Aladdin", "open sesame"}, nil},
	{"lower-case scheme", "basic " + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"upper-case scheme", "BASIC " + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"mixed-case scheme", "bAsIc " + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"two spaces", "Basic  " + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"tab", "Basic\t" + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"space and tabs", "Basic \t \t" + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"trailing spaces", "Basic " + b64("alice:secret") + "   ", BasicCredentials{"alice", "secret"}, nil},
	{"trailing tab", "Basic " + b64("alice:secret") + "\t", BasicCredentials{"alice", "secret"}, nil},
	{"leading space", "  Basic " + b64("alice:secret"), BasicCredentials{"alice", "secret"}, nil},
	{"utf-8 user", "Basic " + b64("josé:pässwörd"), BasicCredentials{"josé", "pässwörd"}, nil},
	{"cyrillic", "Basic " + b64("иван:пароль"), BasicCredentials{"иван", "пароль"}, nil},
	{"emoji password", "Basic " + b64("bob:🔑🔑"), BasicCredentials{"bob", "🔑🔑"}, nil},
	{"colons in password", "Basic " + b64("alice:c:olon:pw"), BasicCredentials{"alice", "c:olon:pw"}, nil},
	{"password only colon", "Basic " + b64("alice::"), BasicCredentials{"alice", ":"}, nil},
	{"empty password", "Basic " + b64("alice:"), BasicCredentials{"alice", ""}, nil},
	{"padding 1", "Basic " + b64("ab:cd"), BasicCredentials{"ab", "cd"}, nil},
	{"padding 2", "Basic " + b64("a:bcd"), BasicCredentials{"a", "bcd"}, nil},
	{"no padding needed", "Basic " + b64("ab:c"), BasicCredentials{"ab", "c"}, nil},
	{"spaces in password", "Basic " + b64("alice: s p "), BasicCredentials{"alice", " s p "}, nil},
	{"long credentials", "Basic " + b64("u:"+strings.Repeat("p", 1000)), BasicCredentials{"u", strings.Repeat("p", 1000)}, nil},
	{"plus and slash", "Basic " + b64("\u00fb\u00ef:\u00ff?>"), BasicCredentials{"\u00fb\u00ef", "\u00ff?>"}, nil},

	{"empty", "", BasicCredentials{}, ErrNotBasic},
	{"only spaces", "   ", BasicCredentials{}, ErrNotBasic},
	{"bearer", "Bearer abc.def", BasicCredentials{}, ErrNotBasic},
	{"digest", `Digest username="alice"`, BasicCredentials{}, ErrNotBasic},
	{"basicx", "Basicx " + b64("alice:secret"), BasicCredentials{}, ErrNotBasic},
	{"no space", "Basic" + b64("alice:secret"), BasicCredentials{}, ErrNotBasic},
	{"colon after scheme", "Basic:" + b64("alice:secret"), BasicCredentials{}, ErrNotBasic},
	{"scheme only", "Basic", BasicCredentials{}, ErrMalformed},
	{"scheme and spaces", "Basic   ", BasicCredentials{}, ErrMalformed},
	{"missing padding", "Basic " + strings.TrimRight(b64("ab:cd"), "="), BasicCredentials{}, ErrMalformed},
	{"too much padding", "Basic " + b64("ab:cd") + "=", BasicCredentials{}, ErrMalformed},
	{"padding in the middle", "Basic YW==YWJj", BasicCredentials{}, ErrMalformed},
	{"four padding", "Basic ====", BasicCredentials{}, ErrMalformed},
	{"three padding", "Basic YW===", BasicCredentials{}, ErrMalformed},
	{"non-zero padding bits", "Basic YR==", BasicCredentials{}, ErrMalformed},
	{"url-safe alphabet", "Basic " + base64.URLEncoding.EncodeToString([]byte("\u00fb\u00ef:\u00ff?>")), BasicCredentials{}, ErrMalformed},
	{"raw url no padding", "Basic " + base64.RawURLEncoding.EncodeToString([]byte("alice:secret!")), BasicCredentials{}, ErrMalformed},
	{"embedded space", "Basic YWxp ZTpzZWNyZXQ=", BasicCredentials{}, ErrMalformed},
	{"embedded CRLF", "Basic YWxp\r\nZTpzZWNyZXQ=", BasicCredentials{}, ErrMalformed},
	{"embedded LF", "Basic YWxpZTpz\nZWNyZXQ=", BasicCredentials{}, ErrMalformed},
	{"trailing garbage", "Basic " + b64("alice:secret") + " extra", BasicCredentials{}, ErrMalformed},
	{"trailing comma", "Basic " + b64("alice:secret") + ",", BasicCredentials{}, ErrMalformed},
	{"two credentials", "Basic " + b64("alice:secret") + ", Basic " + b64("bob:x"), BasicCredentials{}, ErrMalformed},
	{"not base64", "Basic alice:secret", BasicCredentials{}, ErrMalformed},
	{"quoted", `Basic "` + b64("alice:secret") + `"`, BasicCredentials{}, ErrMalformed},
	{"missing colon", "Basic " + b64("alicesecret"), BasicCredentials{}, ErrMalformed},
	{"empty user", "Basic " + b64(":secret"), BasicCredentials{}, ErrMalformed},
	{"only colon", "Basic " + b64(":"), BasicCredentials{}, ErrMalformed},
	{"empty decoded", "Basic " + b64(""), BasicCredentials{}, ErrMalformed},
	{"NUL in user", "Basic " + b64("admin\x00evil:secret"), BasicCredentials{}, ErrMalformed},
	{"NUL in password", "Basic " + b64("alice:sec\x00ret"), BasicCredentials{}, ErrMalformed},
	{"CR LF in user", "Basic " + b64("alice\r\nX-Injected: 1:secret"), BasicCredentials{}, ErrMalformed},
	{"LF in password", "Basic " + b64("alice:sec\nret"), BasicCredentials{}, ErrMalformed},
	{"tab in user", "Basic " + b64("ali\tce:secret"), BasicCredentials{}, ErrMalformed},
	{"DEL in password", "Basic " + b64("alice:secret\x7f"), BasicCredentials{}, ErrMalformed},
	{"C1 control in user", "Basic " + b64("alice\u0085:secret"), BasicCredentials{}, ErrMalformed},
	{"latin-1 user", "Basic " + b64("jos\xe9:secret"), BasicCredentials{}, ErrMalformed},
	{"invalid utf-8 password", "Basic " + b64("alice:\xff\xfe"), BasicCredentials{}, ErrMalformed},
	{"overlong utf-8", "Basic " + b64("alice:\xc0\xaf"), BasicCredentials{}, ErrMalformed},
	{"surrogate utf-8", "Basic " + b64("alice:\xed\xa0\x80"), BasicCredentials{}, ErrMalformed},
	{"NUL in header", "Basic\x00" + b64("alice:secret"), BasicCredentials{}, ErrNotBasic},
}

func TestParseBasic(t *testing.T) {
	for _, tt := range basicTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBasic(tt.header)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("ParseBasic(%q) error = %v, want %v", tt.header, err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseBasic(%q) mismatch (-want +got):\n%s", tt.header, diff)
			}
			if err != nil {
				checkErrorHidesSecret(t, err, tt.header)
			}
		})
	}
}

// checkErrorHidesSecret fails when the error text quotes any part of the
// credentials.
func checkErrorHidesSecret(t *testing.T, err error, header string) {
	t.Helper()
	_, rest := ParseAuthorization(header)
	msg := err.Error()
	if len(rest) >= 4 && strings.Contains(msg, rest) {
		t.Errorf("error %q quotes the credentials", msg)
	}
	if dec, derr := base64.StdEncoding.DecodeString(rest); derr == nil && len(dec) >= 4 && strings.Contains(msg, string(dec)) {
		t.Errorf("error %q quotes the decoded credentials", msg)
	}
}

func TestParseBasicMalformedDetail(t *testing.T) {
	tests := []struct {
		header string
		want   string
	}{
		{"Basic " + b64("alicesecret"), "missing colon between user-id and password"},
		{"Basic " + b64(":x"), "empty user-id"},
		{"Basic " + b64("a\x00b:x"), "control character in user-id"},
		{"Basic " + b64("a:\xff"), "invalid UTF-8 in password"},
		{"Basic YWxp ZTpzZWNyZXQ=", "whitespace inside base64"},
		{"Basic YR==", "non-canonical base64 padding bits"},
		{"Basic YWJj-_-_", "URL-safe base64 alphabet"},
		{"Basic YWJjZA", "invalid base64 length"},
		{"Basic", "missing token"},
	}
	for _, tt := range tests {
		_, err := ParseBasic(tt.header)
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Errorf("ParseBasic(%q) = %v, want a *MalformedError", tt.header, err)
			continue
		}
		if me.Detail != tt.want {
			t.Errorf("ParseBasic(%q) detail = %q, want %q", tt.header, me.Detail, tt.want)
		}
		if me.Scheme != Basic {
			t.Errorf("ParseBasic(%q) scheme = %q, want %q", tt.header, me.Scheme, Basic)
		}
	}
}

// TestParseBasicDecodesLikeStdlib checks the hand-written decoder against
// encoding/base64 for every length around the stack buffer size.
func TestParseBasicDecodesLikeStdlib(t *testing.T) {
	for n := 0; n < basicStackSize+10; n++ {
		pass := make([]byte, n)
		for i := range pass {
			pass[i] = byte(' ' + (i*7+n)%95)
		}
		h := "Basic " + b64("user:"+string(pass))
		got, err := ParseBasic(h)
		if err != nil {
			t.Fatalf("ParseBasic(%q) error: %v", h, err)
		}
		if got.User != "user" || got.Password != string(pass) {
			t.Fatalf("ParseBasic(%q) = %q, %q, want %q, %q", h, got.User, got.Password, "user", pass)
		}
	}
}

func TestBasicChallenge(t *testing.T) {
	tests := []struct{ realm, want string }{
		{"Members", `Basic realm="Members", charset="UTF-8"`},
		{`say "hi"`, `Basic realm="say \"hi\"", charset="UTF-8"`},
		{"", `Basic realm="", charset="UTF-8"`},
		{"Зона", `Basic realm="Зона", charset="UTF-8"`},
	}
	for _, tt := range tests {
		if got := BasicChallenge(tt.realm).String(); got != tt.want {
			t.Errorf("BasicChallenge(%q) = %q, want %q", tt.realm, got, tt.want)
		}
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		field  string
		want   string
		err    error
	}{
		{"none", http.Header{}, "Authorization", "", nil},
		{"one", http.Header{"Authorization": {"Basic abc="}}, "Authorization", "Basic abc=", nil},
		{"empty value", http.Header{"Authorization": {""}}, "Authorization", "", nil},
		{"two lines", http.Header{"Authorization": {"Basic abc=", "Basic def="}}, "Authorization", "", ErrMultipleCredentials},
		{"two identical lines", http.Header{"Authorization": {"Basic abc=", "Basic abc="}}, "Authorization", "", ErrMultipleCredentials},
		{"non-canonical name", http.Header{"Authorization": {"Basic abc="}}, "authorization", "Basic abc=", nil},
		{"proxy", http.Header{"Proxy-Authorization": {"Basic abc="}, "Authorization": {"Bearer x"}}, "Proxy-Authorization", "Basic abc=", nil},
		{"proxy two", http.Header{"Proxy-Authorization": {"a", "b"}}, "Proxy-Authorization", "", ErrMultipleCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Credentials(tt.header, tt.field)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Credentials(%v, %q) error = %v, want %v", tt.header, tt.field, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Credentials(%v, %q) = %q, want %q", tt.header, tt.field, got, tt.want)
			}
		})
	}
}

// TestCredentialsFromRequest checks that net/http keeps repeated field
// lines apart, so that Credentials sees them.
func TestCredentialsFromRequest(t *testing.T) {
	r, err := http.NewRequest("GET", "http://127.0.0.1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Add("authorization", "Basic "+b64("alice:a"))
	r.Header.Add("AUTHORIZATION", "Basic "+b64("bob:b"))
	if _, err := Credentials(r.Header, "Authorization"); !errors.Is(err, ErrMultipleCredentials) {
		t.Errorf("Credentials(two lines) error = %v, want %v", err, ErrMultipleCredentials)
	}
}

func FuzzParseBasic(f *testing.F) {
	for _, tt := range basicTests {
		f.Add(tt.header)
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := ParseBasic(header)
		if err != nil {
			if c != (BasicCredentials{}) {
				t.Fatalf("ParseBasic(%q) = %+v with error %v", header, c, err)
			}
			if !errors.Is(err, ErrNotBasic) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseBasic(%q) error %v is not a sentinel", header, err)
			}
			return
		}
		if c.User == "" || strings.Contains(c.User, ":") {
			t.Fatalf("ParseBasic(%q) accepted user %q", header, c.User)
		}
		for _, s := range []string{c.User, c.Password} {
			if !utf8.ValidString(s) {
				t.Fatalf("ParseBasic(%q) accepted invalid UTF-8 %q", header, s)
			}
			if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }) {
				t.Fatalf("ParseBasic(%q) accepted control character in %q", header, s)
			}
		}
		// Round trip: what a browser would send for these credentials
		// parses back to the same.
		enc := "Basic " + b64(c.User+":"+c.Password)
		back, err := ParseBasic(enc)
		if err != nil {
			t.Fatalf("ParseBasic(%q) (round trip of %q) error: %v", enc, header, err)
		}
		if back != c {
			t.Fatalf("ParseBasic(%q) = %+v, want %+v", enc, back, c)
		}
		// Strict base64: the accepted token is the canonical encoding.
		if _, rest := ParseAuthorization(header); rest != b64(c.User+":"+c.Password) {
			t.Fatalf("ParseBasic(%q) accepted non-canonical base64 %q", header, rest)
		}
	})
}

// FuzzParseBasicUserPass encodes the input as a browser would and checks
// that ParseBasic accepts it exactly when it is an acceptable user-pass, and
// splits it at the first colon.
func FuzzParseBasicUserPass(f *testing.F) {
	for _, s := range []string{"alice:secret", "josé:pässwörd", "a:c:olon:pw", "a:", ":pw", "nocolon", "a\x00:b", "a:\xff", "a\u0085:b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, userPass string) {
		header := "Basic " + b64(userPass)
		c, err := ParseBasic(header)
		user, pass, ok := strings.Cut(userPass, ":")
		valid := ok && user != "" && acceptable(user) && acceptable(pass)
		if valid != (err == nil) {
			t.Fatalf("ParseBasic(%q) (user-pass %q) error = %v, want valid = %v", header, userPass, err, valid)
		}
		if valid && (c.User != user || c.Password != pass) {
			t.Fatalf("ParseBasic(%q) = %q, %q, want %q, %q", header, c.User, c.Password, user, pass)
		}
	})
}

// acceptable is the specification of a user-id or password: UTF-8 without
// C0, DEL or C1 control characters.
func acceptable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f })
}

func BenchmarkParseBasic(b *testing.B) {
	h := "Basic " + b64("alice:correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		c, err := ParseBasic(h)
		if err != nil || c.User != "alice" {
			b.Fatal(c, err)
		}
	}
}
