package scheme

import (
	"strings"
	"testing"
)

var authorizationTests = []struct {
	header, scheme, rest string
}{
	{"Basic YWxpY2U6c2VjcmV0", "basic", "YWxpY2U6c2VjcmV0"},
	{"BASIC YWxpY2U6c2VjcmV0", "basic", "YWxpY2U6c2VjcmV0"},
	{"basic \t YWxpY2U6c2VjcmV0 \t ", "basic", "YWxpY2U6c2VjcmV0"},
	{"  Basic x", "basic", "x"},
	{"Basic", "basic", ""},
	{"Basic   ", "basic", ""},
	{`Digest username="alice", realm="r", uri="/"`, "digest", `username="alice", realm="r", uri="/"`},
	{"Bearer abc.def-ghi_jkl~", "bearer", "abc.def-ghi_jkl~"},
	{"NeGoTiate YII=", "negotiate", "YII="},
	{"NTLM TlRMTVNTUAAB", "ntlm", "TlRMTVNTUAAB"},
	{"X-Custom-Scheme a b  c", "x-custom-scheme", "a b  c"},
	{"Mutual foo", "mutual", "foo"},
	{"", "", ""},
	{"   ", "", ""},
	{"Basic:abc", "", ""},
	{"Basic\x00abc", "", ""},
	{`"Basic" abc`, "", ""},
	{"=abc", "", ""},
	{"Bäsic abc", "", ""},
	{"Basic\r\nabc", "", ""},
}

func TestParseAuthorization(t *testing.T) {
	for _, tt := range authorizationTests {
		scheme, rest := ParseAuthorization(tt.header)
		if scheme != tt.scheme || rest != tt.rest {
			t.Errorf("ParseAuthorization(%q) = %q, %q, want %q, %q", tt.header, scheme, rest, tt.scheme, tt.rest)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, tt := range authorizationTests {
		f.Add(tt.header)
	}
	for _, tt := range basicTests {
		f.Add(tt.header)
	}
	f.Fuzz(func(t *testing.T, header string) {
		scheme, rest := ParseAuthorization(header)
		if scheme == "" {
			if rest != "" {
				t.Fatalf("ParseAuthorization(%q) = %q, %q: rest without scheme", header, scheme, rest)
			}
			return
		}
		if scheme != strings.ToLower(scheme) {
			t.Fatalf("ParseAuthorization(%q) scheme %q is not lower-case", header, scheme)
		}
		for i := 0; i < len(scheme); i++ {
			if !isTchar(scheme[i]) {
				t.Fatalf("ParseAuthorization(%q) scheme %q has a non-token byte", header, scheme)
			}
		}
		if strings.TrimRight(strings.TrimLeft(rest, " \t"), " \t") != rest {
			t.Fatalf("ParseAuthorization(%q) rest %q is not trimmed", header, rest)
		}
		if !strings.HasSuffix(strings.ToLower(strings.TrimRight(header, " \t")), strings.ToLower(rest)) {
			t.Fatalf("ParseAuthorization(%q) rest %q is not the end of the value", header, rest)
		}
		// Formatting back and parsing again gives the same.
		again := scheme
		if rest != "" {
			again += " " + rest
		}
		s2, r2 := ParseAuthorization(again)
		if s2 != scheme || r2 != rest {
			t.Fatalf("ParseAuthorization(%q) = %q, %q, want %q, %q", again, s2, r2, scheme, rest)
		}
	})
}

func BenchmarkParseAuthorization(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if s, _ := ParseAuthorization("Basic YWxpY2U6c2VjcmV0"); s != Basic {
			b.Fatal(s)
		}
	}
}
