package scheme

import (
	"errors"
	"strings"
	"testing"
)

var bearerTests = []struct {
	in      string
	want    string
	wantErr error
}{
	{"Bearer abc", "abc", nil},
	{"bearer abc", "abc", nil},
	{"BEARER\tabc ", "abc", nil},
	{"Bearer mF_9.B5f-4.1JqM", "mF_9.B5f-4.1JqM", nil},
	{"Bearer a+b/c~==", "a+b/c~==", nil},
	{"Bearer htg_0123456789", "htg_0123456789", nil},
	{"Bearer", "", ErrMalformed},
	{"Bearer ", "", ErrMalformed},
	{"Bearer =", "", ErrMalformed},
	{"Bearer ==abc", "", ErrMalformed},
	{"Bearer ab=c", "", ErrMalformed},
	{"Bearer a b", "", ErrMalformed},
	{"Bearer a,b", "", ErrMalformed},
	{"Bearer realm=\"x\"", "", ErrMalformed},
	{"Bearer abc\x00", "", ErrMalformed},
	{"Bearer \xffabc", "", ErrMalformed},
	{"Basic abc", "", ErrNotBearer},
	{"Bearer:abc", "", ErrNotBearer},
	{"", "", ErrNotBearer},
}

func TestParseBearer(t *testing.T) {
	for _, tt := range bearerTests {
		got, err := ParseBearer(tt.in)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("ParseBearer(%q) = %q, %v, want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "abc") {
			t.Errorf("ParseBearer(%q): error %q quotes the token", tt.in, err)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, tt := range bearerTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tok, err := ParseBearer(in)
		if err != nil {
			if tok != "" {
				t.Fatalf("ParseBearer(%q) = %q with error %v", in, tok, err)
			}
			return
		}
		if !isB64token(tok) || strings.ContainsAny(tok, " \t,\"") {
			t.Fatalf("ParseBearer(%q) = %q, not a b64token", in, tok)
		}
		again, err := ParseBearer("Bearer " + tok)
		if err != nil || again != tok {
			t.Fatalf("ParseBearer(Bearer %q) = %q, %v: not stable", tok, again, err)
		}
	})
}

func TestTokenRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != TokenLen || !strings.HasPrefix(tok, TokenPrefix) {
			t.Fatalf("NewToken() = %q: want %d characters starting with %s", tok, TokenLen, TokenPrefix)
		}
		if err := CheckToken(tok); err != nil {
			t.Fatalf("CheckToken(%q) = %v, want nil", tok, err)
		}
		if _, err := ParseBearer("Bearer " + tok); err != nil {
			t.Fatalf("ParseBearer(Bearer %q) = %v", tok, err)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
		// Every single-character typo is caught by the checksum or the alphabet.
		for i := len(TokenPrefix); i < len(tok); i++ {
			for _, c := range []byte{'0', 'z', 'Q', '_'} {
				if tok[i] == c {
					continue
				}
				typo := tok[:i] + string(c) + tok[i+1:]
				if err := CheckToken(typo); !errors.Is(err, ErrTokenFormat) {
					t.Fatalf("CheckToken(%q) = %v, want ErrTokenFormat", typo, err)
				}
			}
		}
	}
}

var checkTokenTests = []string{"", "htg_", "htg_abc", "HTG_" + strings.Repeat("0", 49), "htg_" + strings.Repeat("0", 49), "htg_" + strings.Repeat("0", 48) + "-"}

func TestCheckTokenRefuses(t *testing.T) {
	for _, in := range checkTokenTests {
		if err := CheckToken(in); !errors.Is(err, ErrTokenFormat) {
			t.Errorf("CheckToken(%q) = %v, want ErrTokenFormat", in, err)
		}
	}
}

func FuzzCheckToken(f *testing.F) {
	for _, in := range checkTokenTests {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if CheckToken(in) == nil && (len(in) != TokenLen || !strings.HasPrefix(in, TokenPrefix)) {
			t.Fatalf("CheckToken(%q) accepted a token of the wrong shape", in)
		}
	})
}

func TestBearerChallenge(t *testing.T) {
	for _, tt := range []struct{ code, desc, scope, want string }{
		{"", "", "", `Bearer realm="r"`},
		{BearerInvalidToken, "The access token expired", "", `Bearer realm="r", error="invalid_token", error_description="The access token expired"`},
		{BearerInsufficientScope, "x", "/a /b", `Bearer realm="r", error="insufficient_scope", error_description="x", scope="/a /b"`},
	} {
		if got := BearerChallenge("r", tt.code, tt.desc, tt.scope).String(); got != tt.want {
			t.Errorf("BearerChallenge(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func BenchmarkCheckToken(b *testing.B) {
	tok, _ := NewToken()
	b.ReportAllocs()
	for b.Loop() {
		_ = CheckToken(tok)
	}
}
