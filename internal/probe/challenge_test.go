package probe

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ch builds a challenge for the table; raw is filled in by the test from
// the want when it is empty, so only cases that care spell it out.
func ch(scheme string, params ...string) Challenge {
	c := Challenge{Scheme: scheme}
	for i := 0; i+1 < len(params); i += 2 {
		name, quoted := params[i], false
		if strings.HasPrefix(name, "q:") {
			name, quoted = name[2:], true
		}
		c.Params = append(c.Params, Param{Name: name, Value: params[i+1], Quoted: quoted})
	}
	return c
}

func t68(scheme, tok string) Challenge { return Challenge{Scheme: scheme, Token68: tok} }

type challengeCase struct {
	name    string
	in      []string
	want    []Challenge
	wantErr int // -1: no error; otherwise the 0-based offset of the error
}

var challengeCases = []challengeCase{
	{"empty", []string{""}, nil, -1},
	{"no values", nil, nil, -1},
	{"only commas", []string{" , ,, "}, nil, -1},
	{"basic", []string{`Basic realm="Admin"`}, []Challenge{ch("Basic", "q:realm", "Admin")}, -1},
	{"basic charset", []string{`Basic realm="Admin area", charset="UTF-8"`},
		[]Challenge{ch("Basic", "q:realm", "Admin area", "q:charset", "UTF-8")}, -1},
	{"bare scheme", []string{"Bearer"}, []Challenge{ch("Bearer")}, -1},
	{"names lower-cased", []string{`Basic REALM="x", Charset=UTF-8`},
		[]Challenge{ch("Basic", "q:realm", "x", "charset", "UTF-8")}, -1},
	{"scheme case kept", []string{`bAsIc realm=x`}, []Challenge{ch("bAsIc", "realm", "x")}, -1},
	{"BWS around equals", []string{`Basic realm = "x" ,charset= UTF-8`},
		[]Challenge{ch("Basic", "q:realm", "x", "charset", "UTF-8")}, -1},
	{"escaped quotes", []string{`Basic realm="say \"hi\" \\ there"`},
		[]Challenge{ch("Basic", "q:realm", `say "hi" \ there`)}, -1},
	{"escaped ordinary char", []string{`Basic realm="\a\b"`}, []Challenge{ch("Basic", "q:realm", "ab")}, -1},
	{"empty quoted", []string{`Basic realm=""`}, []Challenge{ch("Basic", "q:realm", "")}, -1},
	{"comma inside quotes", []string{`Digest realm="a, b", qop="auth,auth-int", nonce="n"`},
		[]Challenge{ch("Digest", "q:realm", "a, b", "q:qop", "auth,auth-int", "q:nonce", "n")}, -1},
	{"token68 negotiate", []string{"Negotiate abc=="}, []Challenge{t68("Negotiate", "abc==")}, -1},
	{"token68 with slash and plus", []string{"Negotiate YIIB+/xyz="}, []Challenge{t68("Negotiate", "YIIB+/xyz=")}, -1},
	{"token68 no padding", []string{"Foo abc"}, []Challenge{t68("Foo", "abc")}, -1},
	{"token68 then challenge", []string{"Negotiate abc=, Basic realm=x"},
		[]Challenge{t68("Negotiate", "abc="), ch("Basic", "realm", "x")}, -1},
	{"microsoft negotiate ntlm", []string{"Negotiate, NTLM"}, []Challenge{ch("Negotiate"), ch("NTLM")}, -1},
	{"microsoft two lines", []string{"Negotiate", "NTLM"}, []Challenge{ch("Negotiate"), ch("NTLM")}, -1},
	{"stray commas", []string{`Basic realm="a",, Bearer`}, []Challenge{ch("Basic", "q:realm", "a"), ch("Bearer")}, -1},
	{"leading and trailing commas", []string{`, Basic realm="a" ,`}, []Challenge{ch("Basic", "q:realm", "a")}, -1},
	{"rfc 9110 example", []string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
		[]Challenge{ch("Newauth", "q:realm", "apps", "type", "1", "q:title", `Login to "apps"`), ch("Basic", "q:realm", "simple")}, -1},
	{"several lines several challenges", []string{`Basic realm="a"`, `Digest realm="b", nonce="n", Bearer realm="c"`},
		[]Challenge{ch("Basic", "q:realm", "a"), ch("Digest", "q:realm", "b", "q:nonce", "n"), ch("Bearer", "q:realm", "c")}, -1},
	{"apache digest", []string{`Digest realm="private", nonce="sSpMvOgPBgA=e1f4fca5b16f4bd4e8b9d8bb3a4c1e9a40bc02e9", algorithm=MD5, qop="auth"`},
		[]Challenge{ch("Digest", "q:realm", "private", "q:nonce", "sSpMvOgPBgA=e1f4fca5b16f4bd4e8b9d8bb3a4c1e9a40bc02e9", "algorithm", "MD5", "q:qop", "auth")}, -1},
	{"rfc 7616 sha-256 and md5", []string{`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
		`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`},
		[]Challenge{
			ch("Digest", "q:realm", "http-auth@example.org", "q:qop", "auth, auth-int", "algorithm", "SHA-256", "q:nonce", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "q:opaque", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
			ch("Digest", "q:realm", "http-auth@example.org", "q:qop", "auth, auth-int", "algorithm", "MD5", "q:nonce", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "q:opaque", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
		}, -1},
	{"nginx basic", []string{`Basic realm="Restricted"`}, []Challenge{ch("Basic", "q:realm", "Restricted")}, -1},
	{"caddy basic", []string{`Basic realm="restricted"`}, []Challenge{ch("Basic", "q:realm", "restricted")}, -1},
	{"github bearer invalid token", []string{`Bearer realm="GitHub", error="invalid_token", error_description="The access token expired"`},
		[]Challenge{ch("Bearer", "q:realm", "GitHub", "q:error", "invalid_token", "q:error_description", "The access token expired")}, -1},
	{"docker registry bearer", []string{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"`},
		[]Challenge{ch("Bearer", "q:realm", "https://auth.docker.io/token", "q:service", "registry.docker.io", "q:scope", "repository:library/ubuntu:pull")}, -1},
	{"azure bearer", []string{`Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token", error_description="The access token is missing or invalid."`},
		[]Challenge{ch("Bearer", "q:authorization_uri", "https://login.microsoftonline.com/common/oauth2/authorize", "q:error", "invalid_token", "q:error_description", "The access token is missing or invalid.")}, -1},
	{"insufficient scope", []string{`Bearer error="insufficient_scope", scope="read write"`},
		[]Challenge{ch("Bearer", "q:error", "insufficient_scope", "q:scope", "read write")}, -1},
	{"bare scheme then params after comma", []string{`Basic, realm="x"`}, []Challenge{ch("Basic", "q:realm", "x")}, -1},
	{"tab as whitespace", []string{"Basic\trealm=x"}, []Challenge{ch("Basic", "realm", "x")}, -1},
	{"obs-text kept", []string{"Basic realm=\"caf\xc3\xa9\""}, []Challenge{ch("Basic", "q:realm", "caf\xc3\xa9")}, -1},
	{"duplicate param kept", []string{`Basic realm=a, realm=b`}, []Challenge{ch("Basic", "realm", "a", "realm", "b")}, -1},

	// Errors: what could be read is still returned.
	{"unterminated quote", []string{`Basic realm="Admin`}, []Challenge{ch("Basic")}, 12},
	{"missing comma", []string{`Basic realm="a" charset="UTF-8"`}, []Challenge{ch("Basic", "q:realm", "a")}, 16},
	{"missing scheme", []string{`realm="x"`}, nil, 5},
	{"leading quote", []string{`"Basic"`}, nil, 0},
	{"no space after scheme", []string{`Basic"x"`}, []Challenge{ch("Basic")}, 5},
	{"token68 that looks like a param without value", []string{`Basic realm=, Bearer`}, []Challenge{t68("Basic", "realm="), ch("Bearer")}, -1},
	{"missing value", []string{`Basic charset=UTF-8, realm=, Bearer`}, []Challenge{ch("Basic", "charset", "UTF-8"), ch("Bearer")}, 27},
	{"bad value after comma keeps going", []string{`Basic realm=x, charset=@, Bearer`}, []Challenge{ch("Basic", "realm", "x"), ch("Bearer")}, 23},
	{"control char in quotes", []string{"Basic realm=\"a\x01b\""}, []Challenge{ch("Basic")}, 14},
	{"non-ascii scheme", []string{"B\xc3\xa4sic realm=x"}, []Challenge{ch("B")}, 1},
	{"error on second line", []string{`Basic realm=x`, `Bearer realm="`}, []Challenge{ch("Basic", "realm", "x"), ch("Bearer")}, 13},
	{"trailing backslash", []string{`Basic realm="a\`}, []Challenge{ch("Basic")}, 14},
	{"garbage then good", []string{`@@@, Basic realm=x`}, []Challenge{ch("Basic", "realm", "x")}, 0},
}

func TestParseChallenges(t *testing.T) {
	ignoreRaw := cmpopts.IgnoreFields(Challenge{}, "Raw")
	for _, tc := range challengeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseChallenges(tc.in)
			if diff := cmp.Diff(tc.want, got, ignoreRaw, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseChallenges(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			if tc.wantErr < 0 {
				if err != nil {
					t.Errorf("ParseChallenges(%q) error = %v, want nil", tc.in, err)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseChallenges(%q) error = %v, want a *SyntaxError", tc.in, err)
			}
			if se.Offset != tc.wantErr {
				t.Errorf("ParseChallenges(%q) error at %d (%v), want at %d", tc.in, se.Offset, se, tc.wantErr)
			}
		})
	}
}

func TestParseChallengesRaw(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`Basic realm="a", charset="UTF-8", Bearer realm="b" ,`, []string{`Basic realm="a", charset="UTF-8"`, `Bearer realm="b"`}},
		{`Negotiate abc==, NTLM`, []string{"Negotiate abc==", "NTLM"}},
		{`Basic realm="a" junk, Bearer`, []string{`Basic realm="a" junk`, "Bearer"}},
	}
	for _, tt := range tests {
		cs, _ := ParseChallenges([]string{tt.in})
		var got []string
		for _, c := range cs {
			got = append(got, c.Raw)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseChallenges(%q) raw mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestChallengeParam(t *testing.T) {
	cs, err := ParseChallenges([]string{`Digest Realm="r", NONCE=abc`})
	if err != nil || len(cs) != 1 {
		t.Fatalf("ParseChallenges = %v, %v", cs, err)
	}
	c := cs[0]
	for _, name := range []string{"realm", "REALM", "Realm"} {
		if v, ok := c.Param(name); !ok || v != "r" {
			t.Errorf("Param(%q) = %q, %v, want %q, true", name, v, ok, "r")
		}
	}
	if v, ok := c.Param("opaque"); ok {
		t.Errorf("Param(%q) = %q, true, want false", "opaque", v)
	}
	if !c.Is("digest") || c.Is("basic") {
		t.Errorf("Is mismatch for %q", c.Scheme)
	}
}

func TestChallengeString(t *testing.T) {
	tests := []struct {
		in   Challenge
		want string
	}{
		{ch("Basic", "q:realm", `a "b" \c`, "q:charset", "UTF-8"), `Basic realm="a \"b\" \\c", charset="UTF-8"`},
		{ch("Digest", "algorithm", "SHA-256", "stale", "true"), `Digest algorithm=SHA-256, stale=true`},
		{t68("Negotiate", "abc=="), "Negotiate abc=="},
		{ch("NTLM"), "NTLM"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Challenge.String(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// formatChallenges is the simple formatter of the round-trip property.
func formatChallenges(cs []Challenge) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

func FuzzParseChallenges(f *testing.F) {
	for _, tc := range challengeCases {
		f.Add(strings.Join(tc.in, "\n"))
	}
	ignoreRaw := cmpopts.IgnoreFields(Challenge{}, "Raw")
	f.Fuzz(func(t *testing.T, s string) {
		// Newlines separate header lines, as a server's several fields.
		lines := strings.Split(s, "\n")
		cs, _ := ParseChallenges(lines)
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("ParseChallenges(%q) returned a challenge without a scheme", s)
			}
			if c.Token68 != "" && len(c.Params) > 0 {
				t.Fatalf("ParseChallenges(%q) returned a challenge with both token68 and params", s)
			}
		}
		formatted := formatChallenges(cs)
		again, err := ParseChallenges([]string{formatted})
		if err != nil {
			t.Fatalf("ParseChallenges(%q) -> %q does not re-parse: %v", s, formatted, err)
		}
		if diff := cmp.Diff(cs, again, ignoreRaw, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip of %q via %q mismatch (-first +second):\n%s", s, formatted, diff)
		}
		if formatChallenges(again) != formatted {
			t.Fatalf("formatting is not stable for %q", formatted)
		}
	})
}

func BenchmarkParseChallenges(b *testing.B) {
	in := []string{`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Basic realm="x", charset="UTF-8"`}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseChallenges(in); err != nil {
			b.Fatal(err)
		}
	}
}
