package app

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const formYAML = `root: {root}
sessions: {idle: 2s, absolute: 1h}
rules:
  - {path: /members, htpasswd: {htpasswd}, schemes: [basic, form]}
`

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formClient is a browser without a cookie jar: the test sees every cookie.
type formClient struct {
	t       *testing.T
	base    string
	cookies map[string]string
}

func newFormClient(t *testing.T, base string) *formClient {
	return &formClient{t: t, base: base, cookies: map[string]string{}}
}

func (c *formClient) send(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", browserAccept)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return resp, string(b)
}

// loginForm opens the login page and returns its CSRF token.
func (c *formClient) loginForm(ret string) string {
	c.t.Helper()
	resp, body := c.send("GET", "/.htgate/login?return="+url.QueryEscape(ret), nil)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		c.t.Fatalf("login page: %d, csrf %v\n%s", resp.StatusCode, m, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "script") {
		c.t.Errorf("login page CSP = %q", csp)
	}
	return m[1]
}

func (c *formClient) login(csrf, ret, user, pw string) *http.Response {
	c.t.Helper()
	resp, _ := c.send("POST", "/.htgate/login", url.Values{"csrf": {csrf}, "return": {ret}, "username": {user}, "password": {pw}})
	return resp
}

func TestFormLogin(t *testing.T) {
	f := start(t, formYAML)
	c := newFormClient(t, f.base)

	// An API client gets the 401 with the challenges.
	resp, _ := f.do("GET", "/members/page.html", "Accept", "*/*")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("API client: %d %q, want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// A browser is sent to the login page with the page it asked for.
	resp, _ = c.send("GET", "/members/page.html?x=1", nil)
	if want := "/.htgate/login?return=%2Fmembers%2Fpage.html%3Fx%3D1"; resp.StatusCode != 303 || resp.Header.Get("Location") != want {
		t.Fatalf("browser: %d Location %q, want 303 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	// A POST is not redirected.
	if resp, _ := c.send("POST", "/members/page.html", url.Values{}); resp.StatusCode != 401 {
		t.Errorf("browser POST: %d, want 401", resp.StatusCode)
	}

	csrf := c.loginForm("/members/page.html?x=1")
	// No CSRF token, or a wrong one: refused, no session.
	for _, bad := range []string{"", csrf + "x", strings.Repeat("A", len(csrf))} {
		if resp := c.login(bad, "/members/page.html", "alice", "Wonderland-1"); resp.StatusCode != 403 || c.cookies["htgate_session"] != "" {
			t.Errorf("login with csrf %q: %d, session %q; want 403 and none", bad, resp.StatusCode, c.cookies["htgate_session"])
		}
	}
	// A CSRF token of another visitor's pre-session is refused too.
	other := newFormClient(t, f.base)
	if resp := other.login(csrf, "/", "alice", "Wonderland-1"); resp.StatusCode != 403 {
		t.Errorf("login with another visitor's csrf: %d, want 403", resp.StatusCode)
	}
	csrf = c.loginForm("/members/page.html")
	// A wrong password: the form again with a generic message.
	resp, body := c.send("POST", "/.htgate/login", url.Values{"csrf": {csrf}, "return": {"/members/page.html"}, "username": {"alice"}, "password": {"wrong"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "not right") || c.cookies["htgate_session"] != "" {
		t.Errorf("wrong password: %d, session %q\n%s", resp.StatusCode, c.cookies["htgate_session"], body)
	}
	// Session fixation: a planted cookie is replaced at sign-in.
	c.cookies["htgate_session"] = "planted-by-attacker-aaaaaaaaaaaaaaaaaaaaaaaa"[:43]
	resp = c.login(csrf, "/members/page.html?x=1", "alice", "Wonderland-1")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/members/page.html?x=1" {
		t.Fatalf("login: %d Location %q, want 303 back", resp.StatusCode, resp.Header.Get("Location"))
	}
	sid := c.cookies["htgate_session"]
	if sid == "" || strings.HasPrefix(sid, "planted") {
		t.Fatalf("session cookie after login = %q, want a new id", sid)
	}
	var setCookie string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "htgate_session=") {
			setCookie = v
		}
	}
	if !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") || !strings.Contains(setCookie, "Path=/") {
		t.Errorf("Set-Cookie = %q, want HttpOnly, SameSite=Lax, Path=/", setCookie)
	}
	resp, body = c.send("GET", "/members/page.html", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, secretMarker) {
		t.Fatalf("with the session: %d %q", resp.StatusCode, body)
	}
	// A second login gives yet another id.
	csrf = c.loginForm("/")
	c.login(csrf, "/", "alice", "Wonderland-1")
	if c.cookies["htgate_session"] == sid {
		t.Error("second login kept the session id")
	}
	sid = c.cookies["htgate_session"]

	// Logout: GET asks, POST without CSRF is refused, POST with it ends the session.
	resp, body = c.send("GET", "/.htgate/logout", nil)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("logout page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := c.send("POST", "/.htgate/logout", url.Values{}); resp.StatusCode != 403 {
		t.Errorf("logout without csrf: %d, want 403", resp.StatusCode)
	}
	if resp, _ := c.send("GET", "/members/page.html", nil); resp.StatusCode != 200 {
		t.Errorf("after a refused logout: %d, want 200", resp.StatusCode)
	}
	if resp, _ := c.send("POST", "/.htgate/logout", url.Values{"csrf": {m[1]}}); resp.StatusCode != 200 || c.cookies["htgate_session"] != "" {
		t.Errorf("logout: %d, cookie %q; want 200 and the cookie cleared", resp.StatusCode, c.cookies["htgate_session"])
	}
	// The session ended in the store: the old cookie is worthless.
	c.cookies["htgate_session"] = sid
	if resp, _ := c.send("GET", "/members/page.html", nil); resp.StatusCode != 303 {
		t.Errorf("old cookie after logout: %d, want 303 to the login page", resp.StatusCode)
	}

	// Idle lifetime (2 s in the configuration).
	csrf = c.loginForm("/")
	c.login(csrf, "/", "alice", "Wonderland-1")
	if resp, _ := c.send("GET", "/members/", nil); resp.StatusCode != 200 {
		t.Fatalf("after login: %d", resp.StatusCode)
	}
	time.Sleep(2500 * time.Millisecond)
	if resp, _ := c.send("GET", "/members/", nil); resp.StatusCode != 303 {
		t.Errorf("after the idle lifetime: %d, want 303", resp.StatusCode)
	}
}

// TestLoginReturnIsSameSite: a hostile return never leaves the site.
func TestLoginReturnIsSameSite(t *testing.T) {
	f := start(t, formYAML)
	for _, ret := range []string{"//evil.example/", "/\\evil.example/", "https://evil.example/", "\\/evil.example", "/\t/evil.example",
		"javascript:alert(1)", "evil.example", "", "/%0d%0aSet-Cookie:x=1", "/\r\nLocation: //evil", "http:/evil.example", "///evil.example"} {
		c := newFormClient(t, f.base)
		csrf := c.loginForm(ret)
		resp := c.login(csrf, ret, "alice", "Wonderland-1")
		loc := resp.Header.Get("Location")
		u, err := url.Parse(loc)
		if resp.StatusCode != 303 || err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(loc, "//") || strings.Contains(loc, "\\") || !strings.HasPrefix(loc, "/") {
			t.Errorf("login with return %q: %d Location %q, want a same-site path", ret, resp.StatusCode, loc)
		}
	}
}

// TestFormLoginGuard: failed logins count in the brute-force guard, and a
// locked-out login gets the 429 page, even with the right password.
func TestFormLoginGuard(t *testing.T) {
	f := start(t, formYAML+"guard: {max_failures_per_client_user: 2}\n")
	c := newFormClient(t, f.base)
	csrf := c.loginForm("/members/")
	for range 2 {
		if resp := c.login(csrf, "/members/", "alice", "wrong"); resp.StatusCode != 200 {
			t.Fatalf("wrong password: %d, want the form again (200)", resp.StatusCode)
		}
	}
	resp, body := c.send("POST", "/.htgate/login", url.Values{"csrf": {csrf}, "return": {"/members/"}, "username": {"alice"}, "password": {"Wonderland-1"}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "<html") || c.cookies["htgate_session"] != "" {
		t.Errorf("locked-out login: %d, Retry-After %q, session %q; want the 429 page and no session", resp.StatusCode, resp.Header.Get("Retry-After"), c.cookies["htgate_session"])
	}
}
