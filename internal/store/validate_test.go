package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/htgate/htgate/internal/policy"
)

var urlKeyTests = []struct {
	host, path         string
	wantHost, wantPath string
	ok                 bool
}{
	{"", "/", "", "/", true},
	{"", "/members", "", "/members", true},
	{"", "/members/", "", "/members", true},
	{"Example.COM.", "/a/b/", "example.com", "/a/b", true},
	{"[::1]", "/caf\u00e9", "[::1]", "/caf\u00e9", true},
	{"xn--bcher-kva.example", "/x", "xn--bcher-kva.example", "/x", true},
	{"", "", "", "", false},
	{"", "members", "", "", false},
	{"", "//", "", "", false},
	{"", "/a//b", "", "", false},
	{"", "/a/./b", "", "", false},
	{"", "/a/..", "", "", false},
	{"", "/a;b", "", "", false},
	{"", "/a?b", "", "", false},
	{"", "/a#b", "", "", false},
	{"", "/a\\b", "", "", false},
	{"", "/a%2fb", "", "", false},
	{"", "/a\x00", "", "", false},
	{"", "/a\u0085", "", "", false},
	{"", "/\xff", "", "", false},
	{"", "/" + strings.Repeat("a", MaxPathLen), "", "", false},
	{"host:80", "/", "", "", false},
	{"b\u00fccher.example", "/", "", "", false},
	{"[::1", "/", "", "", false},
	{"[::1]:80", "/", "", "", false},
	{"a b", "/", "", "", false},
	{".", "/", "", "", false},
}

func TestCanonicalURLKey(t *testing.T) {
	for _, tt := range urlKeyTests {
		got, err := CanonicalURLKey(URLKey{Host: tt.host, Path: tt.path})
		if (err == nil) != tt.ok || got.Host != tt.wantHost || got.Path != tt.wantPath {
			t.Errorf("CanonicalURLKey(%q, %q) = %q, %q, %v, want %q, %q (ok %v)", tt.host, tt.path, got.Host, got.Path, err, tt.wantHost, tt.wantPath, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("CanonicalURLKey(%q, %q): error %v does not wrap ErrInvalid", tt.host, tt.path, err)
		}
	}
}

func TestParseURLKey(t *testing.T) {
	for _, k := range []URLKey{{"", "/"}, {"example.com", "/a/b"}, {"[::1]", "/x"}} {
		if got := ParseURLKey(k.String()); got != k {
			t.Errorf("ParseURLKey(%q) = %+v, want %+v", k.String(), got, k)
		}
	}
}

func TestCanonicalSchemes(t *testing.T) {
	tests := []struct {
		in   []string
		want string
		ok   bool
	}{
		{nil, "basic", true},
		{[]string{"Digest", " basic ", "digest", ""}, "digest,basic", true},
		{[]string{"bearer", "form"}, "bearer,form", true},
		{[]string{"ntlm"}, "", false},
	}
	for _, tt := range tests {
		got, err := CanonicalSchemes(tt.in)
		if (err == nil) != tt.ok || strings.Join(got, ",") != tt.want {
			t.Errorf("CanonicalSchemes(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzCanonicalURLKey checks that canonical keys are fixed points and that
// the gateway's rule table accepts every key the store accepts.
func FuzzCanonicalURLKey(f *testing.F) {
	for _, tt := range urlKeyTests {
		f.Add(tt.host, tt.path)
	}
	f.Fuzz(func(t *testing.T, host, path string) {
		k, err := CanonicalURLKey(URLKey{Host: host, Path: path})
		if err != nil {
			return
		}
		again, err := CanonicalURLKey(k)
		if err != nil || again != k {
			t.Fatalf("CanonicalURLKey(CanonicalURLKey(%q, %q)) = %+v, %v, want %+v", host, path, again, err, k)
		}
		if ParseURLKey(k.String()) != k {
			t.Fatalf("ParseURLKey(%q) = %+v, want %+v", k.String(), ParseURLKey(k.String()), k)
		}
		if _, err := policy.NewTable([]policy.Rule{{ID: "m1", Host: k.Host, Path: k.Path}}); err != nil {
			t.Fatalf("the store accepts %+v but the rule table does not: %v", k, err)
		}
	})
}
