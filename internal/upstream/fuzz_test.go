package upstream

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// cgiName is how CGI, PHP and WSGI see a header name: upper case with '-'
// turned into '_'.
func cgiName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

// isTokenOf reports whether s consists of letters, digits, '-' and '_' only.
func isTokenOf(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// FuzzHeaderName checks the allocation-free matcher against a plain
// reference, and that no CGI spelling of a stripped name gets through.
func FuzzHeaderName(f *testing.F) {
	for _, s := range spoofSpellings {
		f.Add(s)
	}
	for _, s := range []string{"", " ", "Remote-User ", "X-Forwarded-", "Accept", "X-Forwarded", "remote", "Remote-", "\x00", "é"} {
		f.Add(s)
	}
	p, err := NewProxy(&url.URL{Scheme: "http", Host: "h"}, ProxyOptions{IdentityHeaders: []string{"X-Auth-User"}})
	if err != nil {
		f.Fatal(err)
	}
	exact := append(strippedNames(), p.setNames...)
	prefixes := strippedPrefixes()
	f.Fuzz(func(t *testing.T, key string) {
		got := p.strip.has(key)

		// Reference: fold byte by byte with strings functions.
		k := strings.Trim(key, " \t")
		var b strings.Builder
		for i := 0; i < len(k); i++ {
			c := k[i]
			if isTokenOf(string(c)) && c != '-' && c != '_' {
				b.WriteString(strings.ToLower(string(c)))
			} else {
				b.WriteByte('-')
			}
		}
		folded := b.String()
		want := false
		for _, n := range exact {
			if folded == strings.ToLower(n) {
				want = true
			}
		}
		for _, pre := range prefixes {
			if strings.HasPrefix(folded, strings.ToLower(pre)) {
				want = true
			}
		}
		if got != want {
			t.Errorf("strip.has(%q) = %v, want %v", key, got, want)
		}

		// Security property: a CGI upstream must not see any stripped name.
		if isTokenOf(key) {
			for _, n := range exact {
				if cgiName(key) == cgiName(n) && !got {
					t.Errorf("strip.has(%q) = false, but CGI reads it as %s", key, cgiName(n))
				}
			}
			for _, pre := range prefixes {
				if strings.HasPrefix(cgiName(key), cgiName(pre)) && !got {
					t.Errorf("strip.has(%q) = false, but CGI reads it as %s*", key, cgiName(pre))
				}
			}
		}
	})
}

// FuzzOutgoingPath checks that an accepted Request goes upstream with an
// escaped path that decodes to exactly the canonical path under the base.
func FuzzOutgoingPath(f *testing.F) {
	seeds := []struct{ base, path, escaped string }{
		{"", "/", "/"},
		{"/base", "/a b/c?d/é", "/a%20b/c%3Fd/%C3%A9"},
		{"/base/", "/x", ""},
		{"", "/~user/", "/%7Euser/"},
		{"", "/admin", "/public"},
		{"", "/a/b", "/a%2Fb"},
		{"/sp ace", "/100%", "/100%25"},
		{"/%41", "/x", "/x"},
	}
	for _, s := range seeds {
		f.Add(s.base, s.path, s.escaped)
	}
	f.Fuzz(func(t *testing.T, base, path, escaped string) {
		target, err := url.Parse("http://upstream.test" + base)
		if err != nil || target.Host != "upstream.test" {
			return
		}
		p, err := NewProxy(target, ProxyOptions{})
		if err != nil {
			return
		}
		out, raw, err := p.outgoingPath(Request{Path: path, EscapedPath: escaped})
		if err != nil {
			return
		}
		u := url.URL{Path: out, RawPath: raw}
		if u.EscapedPath() != raw {
			t.Fatalf("outgoingPath(%q, %q, %q): EscapedPath %q != raw %q", base, path, escaped, u.EscapedPath(), raw)
		}
		dec, err := url.PathUnescape(raw)
		if err != nil || dec != out {
			t.Fatalf("outgoingPath(%q, %q, %q): raw %q decodes to %q (%v), want %q", base, path, escaped, raw, dec, err, out)
		}
		if !strings.HasPrefix(raw, strings.TrimSuffix(target.EscapedPath(), "/")) {
			t.Fatalf("outgoingPath(%q, %q, %q) = %q, outside the base", base, path, escaped, raw)
		}
		wantPath := path
		if wantPath == "" {
			wantPath = "/"
		}
		if !strings.HasSuffix(out, wantPath) {
			t.Fatalf("outgoingPath(%q, %q, %q) = %q, not ending in the canonical path", base, path, escaped, out)
		}
		if hasAmbiguousEscape(raw) {
			t.Fatalf("outgoingPath(%q, %q, %q) = %q holds an ambiguous escape", base, path, escaped, raw)
		}
	})
}

// FuzzStaticPath serves arbitrary paths from a docroot that holds .ht*
// files and links to a secret outside it: no answer may carry a secret.
func FuzzStaticPath(f *testing.F) {
	for _, p := range []string{
		"/", "/file.txt", "/.htpasswd", "/sub/.HTACCESS", "/.htgroup", "/escape", "/escdir/secret.txt",
		"/../outside/secret.txt", "/sub/../.htpasswd", "/./.htpasswd", "//.htpasswd", "/sub/uplink",
		"/abs", "/loop", "/.HtDigest", "/noindex/", "/sub", "/escdir/dir/", "\x00",
	} {
		f.Add(p)
	}
	s := newTestStatic(f, newDocroot(f), StaticOptions{Listing: true})
	r := httptest.NewRequest("GET", "/", nil)
	f.Fuzz(func(t *testing.T, p string) {
		w := httptest.NewRecorder()
		s.Serve(w, r, Request{Path: p})
		if strings.Contains(w.Body.String(), "SECRET") {
			t.Fatalf("Serve(Path %q) = %d with a secret: %q", p, w.Code, w.Body.String())
		}
		if hasHTSegment(p) && w.Code != 403 {
			t.Fatalf("Serve(Path %q) = %d, want 403", p, w.Code)
		}
	})
}
