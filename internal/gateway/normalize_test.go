package gateway

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

// normalizeTests is the table for TestNormalizePath, FuzzNormalizePath's
// seeds and the benchmarks. want is the canonical path; err, when set, is
// the error NormalizePath must return instead.
var normalizeTests = []struct {
	in   string
	want string
	err  error
}{
	// Already canonical.
	{in: "/", want: "/"},
	{in: "/a", want: "/a"},
	{in: "/a/", want: "/a/"},
	{in: "/a/b/c.html", want: "/a/b/c.html"},
	{in: "/members/index.html", want: "/members/index.html"},
	{in: "/a;b=c/d", want: "/a;b=c/d"},
	{in: "/admin;jsessionid=1", want: "/admin;jsessionid=1"},
	{in: "/..;/admin", err: ErrDotParams},
	{in: "/x/%2e%2e;a/admin", err: ErrDotParams},
	{in: "/.;x/admin", err: ErrDotParams},
	{in: "/a;b/c", want: "/a;b/c"},
	{in: "/...;x/admin", want: "/...;x/admin"},
	{in: "/.../a", want: "/.../a"},
	{in: "/..a/.b/a..", want: "/..a/.b/a.."},
	{in: "/~user/+x/@y/!$&'()*,=:", want: "/~user/+x/@y/!$&'()*,=:"},
	{in: "/\u00e9t\u00e9", want: "/\u00e9t\u00e9"},
	{in: "", want: "/"},

	// Percent-decoding.
	{in: "/%61dmin", want: "/admin"},
	{in: "/%41DMIN", want: "/ADMIN"},
	{in: "/adm%69n/", want: "/admin/"},
	{in: "/%7euser", want: "/~user"},
	{in: "/a%20b", want: "/a b"},
	{in: "/a%3Fb", want: "/a?b"},
	{in: "/a%23b", want: "/a#b"},
	{in: "/a%3bb", want: "/a;b"},
	{in: "/100%25", want: "/100%"},
	{in: "/a%25zz", want: "/a%zz"},
	{in: "/a%25x1", want: "/a%x1"},
	{in: "/%C3%A9t%C3%A9", want: "/\u00e9t\u00e9"},
	{in: "/%e2%82%ac", want: "/\u20ac"},
	{in: "/%F0%9F%98%80", want: "/\U0001F600"},

	// Slashes and dot segments.
	{in: "//", want: "/"},
	{in: "///a", want: "/a"},
	{in: "/a//b", want: "/a/b"},
	{in: "/a///b//", want: "/a/b/"},
	{in: "/.", want: "/"},
	{in: "/./", want: "/"},
	{in: "/..", want: "/"},
	{in: "/../", want: "/"},
	{in: "/../x", want: "/x"},
	{in: "/../../x/..", want: "/"},
	{in: "/a/./b", want: "/a/b"},
	{in: "/a/.", want: "/a/"},
	{in: "/a/..", want: "/"},
	{in: "/a/b/..", want: "/a/"},
	{in: "/a/b/../", want: "/a/"},
	{in: "/a/x/../b", want: "/a/b"},
	{in: "/a/b/../../../../c", want: "/c"},
	{in: "/a/./././b/./", want: "/a/b/"},
	{in: "/a/.//../b", want: "/b"},
	{in: "/a//..//b", want: "/b"},

	// Encoded dots are dots.
	{in: "/%2e", want: "/"},
	{in: "/%2E%2E/x", want: "/x"},
	{in: "/a/%2e%2e/b", want: "/b"},
	{in: "/a/.%2e/b", want: "/b"},
	{in: "/a/%2e./b", want: "/b"},
	{in: "/admin/%2e/", want: "/admin/"},
	{in: "/public/%2E%2E/admin", want: "/admin"},
	{in: "/%61dmin/../%61dmin/./x", want: "/admin/x"},

	// Refused.
	{in: "a", err: ErrNotAbsolute},
	{in: "*", err: ErrNotAbsolute},
	{in: "http://x/", err: ErrNotAbsolute},
	{in: "%2Fadmin", err: ErrNotAbsolute},
	{in: "/a%2Fb", err: ErrEncodedSlash},
	{in: "/a%2fb", err: ErrEncodedSlash},
	{in: "/..%2fadmin", err: ErrEncodedSlash},
	{in: "/a%5Cb", err: ErrBackslash},
	{in: "/a%5cb", err: ErrBackslash},
	{in: "/a\\b", err: ErrBackslash},
	{in: "/..\\admin", err: ErrBackslash},
	{in: "/a%00", err: ErrNUL},
	{in: "/a\x00b", err: ErrNUL},
	{in: "/a%0d%0aSet-Cookie:x", err: ErrControl},
	{in: "/a%09", err: ErrControl},
	{in: "/a%7f", err: ErrControl},
	{in: "/a\tb", err: ErrControl},
	{in: "/a\x7f", err: ErrControl},
	{in: "/a%252Fb", err: ErrDoubleEncoding},
	{in: "/a%252fb", err: ErrDoubleEncoding},
	{in: "/%252e%252e/admin", err: ErrDoubleEncoding},
	{in: "/a%25%32%46b", err: ErrDoubleEncoding},
	{in: "/a%2541", err: ErrDoubleEncoding},
	{in: "/a%", err: ErrBadEscape},
	{in: "/a%4", err: ErrBadEscape},
	{in: "/a%zz", err: ErrBadEscape},
	{in: "/a%%41", err: ErrBadEscape},
	{in: "/a%g0", err: ErrBadEscape},
	{in: "/a%C0%AE%C0%AE/x", err: ErrInvalidUTF8},
	{in: "/%C0%AF", err: ErrInvalidUTF8},
	{in: "/%c0%ae", err: ErrInvalidUTF8},
	{in: "/%E0%80%AE", err: ErrInvalidUTF8},
	{in: "/%F0%80%80%AF", err: ErrInvalidUTF8},
	{in: "/%ED%A0%80", err: ErrInvalidUTF8},
	{in: "/%C3", err: ErrInvalidUTF8},
	{in: "/%FF", err: ErrInvalidUTF8},
	{in: "/\xc0\xae", err: ErrInvalidUTF8},
	{in: "/\xff", err: ErrInvalidUTF8},
}

func TestNormalizePath(t *testing.T) {
	if len(normalizeTests) < 60 {
		t.Fatalf("only %d cases, want at least 60", len(normalizeTests))
	}
	for _, tt := range normalizeTests {
		got, err := NormalizePath(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("NormalizePath(%q) = %q, %v; want error %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestNormalizePathErrorText checks that the error names the problem and
// its position but never quotes the (hostile) path.
func TestNormalizePathErrorText(t *testing.T) {
	_, err := NormalizePath("/secret%2Fpart")
	var pe *PathError
	if !errors.As(err, &pe) {
		t.Fatalf("NormalizePath error %v is not a *PathError", err)
	}
	if pe.Offset != 7 {
		t.Errorf("Offset = %d, want 7", pe.Offset)
	}
	want := "bad request path: encoded slash (%2F) at byte 7"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	for _, tt := range normalizeTests {
		if _, err := NormalizePath(tt.in); err != nil && len(tt.in) > 6 && strings.Contains(err.Error(), tt.in[1:]) {
			t.Errorf("NormalizePath(%q) error %q quotes the path", tt.in, err)
		}
	}
}

// checkNormalized asserts the properties every NormalizePath result has,
// and compares it with path.Clean of the decoded input (modulo the
// trailing slash, which path.Clean drops).
func checkNormalized(t *testing.T, in, got string) {
	t.Helper()
	switch {
	case !strings.HasPrefix(got, "/"):
		t.Errorf("NormalizePath(%q) = %q, does not start with /", in, got)
	case strings.Contains(got, "//"), strings.Contains(got, "/./"), strings.Contains(got, "/../"),
		strings.HasSuffix(got, "/.."), strings.HasSuffix(got, "/."):
		t.Errorf("NormalizePath(%q) = %q, has an empty or dot segment", in, got)
	case strings.ContainsAny(got, "\\\x00") || !utf8.ValidString(got):
		t.Errorf("NormalizePath(%q) = %q, has a refused byte", in, got)
	}
	for _, c := range []byte(got) {
		if c < 0x20 || c == 0x7f {
			t.Errorf("NormalizePath(%q) = %q, has a control byte", in, got)
		}
	}

	// Idempotent, through the escaped form the upstream sees.
	esc := EscapeCanonical(got)
	again, err := NormalizePath(esc)
	if err != nil || again != got {
		t.Errorf("NormalizePath(EscapeCanonical(%q) = %q) = %q, %v; want %q", got, esc, again, err, got)
	}
	// The escaped form is what net/url would send for the canonical path.
	u := url.URL{Path: got, RawPath: esc}
	if u.EscapedPath() != esc {
		t.Errorf("EscapeCanonical(%q) = %q is not a valid RawPath (net/url uses %q)", got, esc, u.EscapedPath())
	}
	if strings.ContainsAny(esc, "?# ") {
		t.Errorf("EscapeCanonical(%q) = %q, has a raw ? # or space", got, esc)
	}

	// Differential: path.Clean of the decoded path.
	if in == "" {
		return
	}
	decoded, err := url.PathUnescape(in)
	if err != nil {
		t.Errorf("NormalizePath accepted %q, which url.PathUnescape refuses: %v", in, err)
		return
	}
	want := path.Clean(decoded)
	if got != "/" && strings.HasSuffix(got, "/") {
		got = strings.TrimSuffix(got, "/")
	}
	if got != want {
		t.Errorf("NormalizePath(%q) = %q, path.Clean(decoded) = %q", in, got, want)
	}
}

func TestNormalizePathProperties(t *testing.T) {
	for _, tt := range normalizeTests {
		got, err := NormalizePath(tt.in)
		if err == nil {
			checkNormalized(t, tt.in, got)
		}
	}
}

func TestNormalizePathTrailingSlash(t *testing.T) {
	for _, tt := range normalizeTests {
		got, err := NormalizePath(tt.in)
		if err != nil || tt.in == "" {
			continue
		}
		// A path whose last segment is empty, "." or ".." (in any
		// spelling) names a directory and keeps its trailing slash.
		decoded, _ := url.PathUnescape(tt.in)
		last := decoded[strings.LastIndexByte(decoded, '/')+1:]
		wantSlash := last == "" || last == "." || last == ".."
		if gotSlash := strings.HasSuffix(got, "/"); gotSlash != wantSlash {
			t.Errorf("NormalizePath(%q) = %q, trailing slash %v, want %v", tt.in, got, gotSlash, wantSlash)
		}
	}
}

func TestEscapeCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/a/b;c=d/", "/a/b;c=d/"},
		{"/~u/!$&'()*+,=:@-._", "/~u/!$&'()*+,=:@-._"},
		{"/a b", "/a%20b"},
		{"/a?b#c", "/a%3Fb%23c"},
		{"/100%", "/100%25"},
		{"/a%zz", "/a%25zz"},
		{"/\u00e9", "/%C3%A9"},
		{`/"<>[]^{|}` + "`", "/%22%3C%3E%5B%5D%5E%7B%7C%7D%60"},
	}
	for _, tt := range tests {
		if got := EscapeCanonical(tt.in); got != tt.want {
			t.Errorf("EscapeCanonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := NormalizePath(tt.want); err != nil || back != tt.in {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q", tt.want, back, err, tt.in)
		}
	}
}

func TestNormalizePathAllocs(t *testing.T) {
	for _, in := range []string{"/", "/members/index.html", "/a;b/c/", "/\u00e9t\u00e9/x"} {
		if n := testing.AllocsPerRun(100, func() {
			if _, err := NormalizePath(in); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("NormalizePath(%q) allocates %v times, want 0", in, n)
		}
		if n := testing.AllocsPerRun(100, func() { EscapeCanonical(in[:1]) }); n != 0 {
			t.Errorf("EscapeCanonical(%q) allocates %v times, want 0", in[:1], n)
		}
	}
	// A dirty path costs only the result string.
	if n := testing.AllocsPerRun(100, func() { _, _ = NormalizePath("/a/./%62//../c/") }); n > 1 {
		t.Errorf("NormalizePath(dirty) allocates %v times, want at most 1", n)
	}
}

func FuzzNormalizePath(f *testing.F) {
	for _, tt := range normalizeTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizePath(in)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(in) {
				t.Fatalf("NormalizePath(%q) error %#v is not a *PathError with a valid offset", in, err)
			}
			return
		}
		checkNormalized(t, in, got)
	})
}

func BenchmarkNormalizePath(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"clean", "/members/reports/2024/index.html"},
		{"dirty", "/members//reports/./%32024/../2024/%69ndex.html"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizePath(bm.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
