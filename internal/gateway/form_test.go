package gateway

import (
	"crypto/tls"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var safeReturnTests = []struct {
	in   string
	want bool
}{
	{"/", true},
	{"/members/page.html?x=1&y=%2F", true},
	{"/%0d%0aSet-Cookie:x=1", true}, // encoded: a path, not a header
	{"", false},
	{"members", false},
	{"//evil.example/", false},
	{"/\\evil.example/", false},
	{"/a\\b", false},
	{"\\/evil.example", false},
	{"https://evil.example/", false},
	{"http:/evil.example", false},
	{"javascript:alert(1)", false},
	{"/\t/evil.example", false},
	{"/\r\nLocation: //evil", false},
	{"/ a", false},
	{"/\x7f", false},
	{"/" + strings.Repeat("a", 2048), false},
}

func TestSafeReturn(t *testing.T) {
	for _, tt := range safeReturnTests {
		if got := SafeReturn(tt.in); got != tt.want {
			t.Errorf("SafeReturn(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeReturn(f *testing.F) {
	for _, tt := range safeReturnTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !SafeReturn(in) {
			return
		}
		// What a browser would make of the Location: same origin.
		base, _ := url.Parse("https://site.example/login")
		u, err := base.Parse(in)
		if err != nil || u.Host != "site.example" || u.Scheme != "https" {
			t.Fatalf("SafeReturn(%q) = true, but it resolves to %v (%v)", in, u, err)
		}
		if strings.ContainsAny(in, "\\\r\n\t ") {
			t.Fatalf("SafeReturn(%q) = true with a backslash or whitespace", in)
		}
	})
}

func TestWantsLoginPage(t *testing.T) {
	for _, tt := range []struct {
		method, accept string
		want           bool
	}{
		{"GET", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"HEAD", "text/html", true},
		{"GET", "*/*", false},
		{"GET", "", false},
		{"GET", "application/json", false},
		{"GET", "application/json, text/html;q=0.5", false},
		{"GET", "text/html;q=0", false},
		{"POST", "text/html", false},
	} {
		r := httptest.NewRequest(tt.method, "/", nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if got := wantsLoginPage(r); got != tt.want {
			t.Errorf("wantsLoginPage(%s, %q) = %v, want %v", tt.method, tt.accept, got, tt.want)
		}
	}
}

func TestScopeAllows(t *testing.T) {
	for _, tt := range []struct {
		scopes []string
		path   string
		want   bool
	}{
		{nil, "/anything", true},
		{[]string{"/"}, "/x", true},
		{[]string{"/api"}, "/api", true},
		{[]string{"/api"}, "/api/", true},
		{[]string{"/api"}, "/api/v1/x", true},
		{[]string{"/api/"}, "/api/v1", true},
		{[]string{"/api"}, "/apix", false},
		{[]string{"/api"}, "/", false},
		{[]string{"/api"}, "/API/x", false},
		{[]string{"/a", "/b"}, "/b/c", true},
	} {
		if got := ScopeAllows(tt.scopes, tt.path); got != tt.want {
			t.Errorf("ScopeAllows(%q, %q) = %v, want %v", tt.scopes, tt.path, got, tt.want)
		}
	}
}

func TestValidSecret(t *testing.T) {
	s, err := newSecret()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in   string
		want bool
	}{{s, true}, {s[1:], false}, {s[:42] + "=", false}, {"", false}} {
		if got := validSecret(tt.in); got != tt.want {
			t.Errorf("validSecret(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tt := range []struct {
		tls  bool
		name string
	}{{false, "htgate_session"}, {true, "__Host-htgate_session"}} {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		setCookie(w, r, sessionCookie(r), "v", 60)
		got := w.Header().Get("Set-Cookie")
		for _, want := range []string{tt.name + "=v", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=60"} {
			if !strings.Contains(got, want) {
				t.Errorf("TLS %v: Set-Cookie = %q, want %q in it", tt.tls, got, want)
			}
		}
		if strings.Contains(got, "Secure") != tt.tls || strings.Contains(got, "Domain") {
			t.Errorf("TLS %v: Set-Cookie = %q: Secure exactly with TLS, never a Domain", tt.tls, got)
		}
	}
}
