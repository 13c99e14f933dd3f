package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/store"
)

func TestPanelRedirectsToLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/users?after=x").want(t, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "/login?next=%2Fusers%3Fafter%3Dx" {
		t.Errorf("Location = %q", got)
	}
	// After the login the browser goes where it wanted to.
	page := b.get("/login?next=%2Fusers%3Fafter%3Dx")
	r = b.post("/login", url.Values{"csrf": {csrfOf(t, page.body)}, "name": {rootName}, "password": {rootPassword}, "next": {"/users?after=x"}}).want(t, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "/users?after=x" {
		t.Errorf("after login: Location = %q", got)
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/urls"},
		{"/users", "/users"},
		{"/users?after=b", "/users?after=b"},
		{"//evil.example/", "/urls"},
		{"/\\evil.example", "/urls"},
		{"https://evil.example/", "/urls"},
		{"javascript:alert(1)", "/urls"},
		{"/login", "/urls"},
		{"/logout?x", "/urls"},
		{"/a\r\nSet-Cookie: x", "/urls"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/users", "//x", "/\\x", "http://x/", "/%2F%2Fx", "/\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := safeNext(in)
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Errorf("safeNext(%q) = %q: not a local path", in, got)
		}
		// What a browser resolves it to stays on this server.
		base, _ := url.Parse("http://admin.test/login")
		if r := base.ResolveReference(u); r.Host != "admin.test" {
			t.Errorf("safeNext(%q) = %q resolves to host %q", in, got, r.Host)
		}
	})
}

func TestLoginRefusesForgedForm(t *testing.T) {
	e := newEnv(t)
	form := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "name": {rootName}, "password": {rootPassword}}
	}
	t.Run("no token", func(t *testing.T) {
		b := e.browser()
		b.get("/login")
		b.post("/login", form("")).want(t, http.StatusForbidden)
	})
	t.Run("token of another browser", func(t *testing.T) {
		other := e.browser()
		tok := csrfOf(t, other.get("/login").body)
		b := e.browser()
		b.get("/login")
		b.post("/login", form(tok)).want(t, http.StatusForbidden)
	})
	t.Run("other origin", func(t *testing.T) {
		b := e.browser()
		tok := csrfOf(t, b.get("/login").body)
		b.origin = "http://evil.example"
		b.post("/login", form(tok)).want(t, http.StatusForbidden)
	})
	t.Run("no origin nor referer", func(t *testing.T) {
		b := e.browser()
		tok := csrfOf(t, b.get("/login").body)
		b.origin = ""
		b.post("/login", form(tok)).want(t, http.StatusForbidden)
	})
	t.Run("wrong password", func(t *testing.T) {
		b := e.browser()
		tok := csrfOf(t, b.get("/login").body)
		f := form(tok)
		f.Set("password", "nope")
		r := b.post("/login", f).want(t, http.StatusUnauthorized)
		if b.sessionCookie() != "" {
			t.Error("a failed login set a session cookie")
		}
		if strings.Contains(r.body, "nope") {
			t.Error("the page shows the password typed")
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		b := e.browser()
		tok := csrfOf(t, b.get("/login").body)
		f := form(tok)
		f.Set("name", "nobody")
		b.post("/login", f).want(t, http.StatusUnauthorized)
	})
	t.Run("locked admin", func(t *testing.T) {
		e := newEnv(t)
		locked := true
		if _, err := e.st.UpdateAdmin(context.Background(), rootName, store.AdminUpdate{Locked: &locked}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		tok := csrfOf(t, b.get("/login").body)
		b.post("/login", form(tok)).want(t, http.StatusUnauthorized)
	})
}

func TestPanelCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	csrf := b.login(rootName, rootPassword)
	add := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "name": {"alice"}, "password": {"alice-password"}, "password2": {"alice-password"}}
	}
	b.post("/users", add("")).want(t, http.StatusForbidden)
	b.post("/users", add("forged")).want(t, http.StatusForbidden)
	other := e.browser()
	b.post("/users", add(other.login(viewerName, viewerPassword))).want(t, http.StatusForbidden)
	b.origin = "http://evil.example"
	b.post("/users", add(csrf)).want(t, http.StatusForbidden)
	b.origin = ""
	b.post("/users", add(csrf)).want(t, http.StatusForbidden)
	if _, err := e.st.User(context.Background(), "alice"); err == nil {
		t.Fatal("a refused POST added the user")
	}
	// A Referer of this server stands in for a missing Origin.
	req, _ := http.NewRequest("POST", e.ts.URL+"/users", strings.NewReader(add(csrf).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", e.ts.URL+"/users")
	r := b.do(req).want(t, http.StatusSeeOther)
	if r.Header.Get("Location") != "/users" {
		t.Errorf("Location = %q", r.Header.Get("Location"))
	}
	if !strings.Contains(b.get("/users").body, "User alice added.") {
		t.Error("no confirmation after adding a user")
	}
	// Cross-site fetch metadata is refused whatever the token.
	req, _ = http.NewRequest("POST", e.ts.URL+"/users", strings.NewReader(add(csrf).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	b.do(req).want(t, http.StatusForbidden)
}

func TestSessionFixation(t *testing.T) {
	e := newEnv(t)
	// The attacker signs in and plants their session id in the victim's
	// browser, which then shows the login form.
	attacker := e.browser()
	attacker.login(rootName, rootPassword)
	planted := attacker.sessionCookie()
	victim := e.browser()
	tok := csrfOf(t, victim.get("/login").body)
	u, _ := url.Parse(e.ts.URL)
	victim.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})

	victim.post("/login", url.Values{"csrf": {tok}, "name": {viewerName}, "password": {viewerPassword}}).want(t, http.StatusSeeOther)
	got := victim.sessionCookie()
	if got == "" || got == planted {
		t.Fatalf("session id after login = %q, planted %q: it must be new", got, planted)
	}
	if e.srv.sessions.get(planted) != nil {
		t.Error("the session planted before the login still lives")
	}
	if s := e.srv.sessions.get(got); s == nil || s.admin != viewerName {
		t.Errorf("session after login = %+v", s)
	}
	attacker.get("/urls").want(t, http.StatusSeeOther)
}

func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	page := b.get("/login")
	r := b.post("/login", url.Values{"csrf": {csrfOf(t, page.body)}, "name": {rootName}, "password": {rootPassword}}).want(t, http.StatusSeeOther)
	var found bool
	for _, c := range r.Cookies() {
		if c.Name != sessionCookie {
			continue
		}
		found = true
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || len(c.Value) < 40 {
			t.Errorf("session cookie = %+v", c)
		}
	}
	if !found {
		t.Fatal("no session cookie")
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	csrf := b.login(rootName, rootPassword)
	value := b.sessionCookie()
	b.post("/logout", url.Values{}).want(t, http.StatusForbidden) // no token: refused, still signed in
	b.get("/urls").want(t, http.StatusOK)
	r := b.post("/logout", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther)
	if r.Header.Get("Location") != "/login?out=1" {
		t.Errorf("Location = %q", r.Header.Get("Location"))
	}
	b.get("/urls").want(t, http.StatusSeeOther)
	// The old cookie, replayed, is dead on the server too.
	replay := e.browser()
	u, _ := url.Parse(e.ts.URL)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: value}})
	replay.get("/urls").want(t, http.StatusSeeOther)
	if api := (api{e: e}); true {
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/me", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		res, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("API with a logged-out cookie: %d", res.StatusCode)
		}
		_ = api
	}
}

// clock is a settable clock for session lifetimes.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSessionLifetimes(t *testing.T) {
	c := &clock{t: time.Now()}
	e := newEnv(t, func(o *Options) {
		o.Now = c.now
		o.SessionIdle = 10 * time.Minute
		o.SessionLifetime = 25 * time.Minute
	})
	b := e.browser()
	b.login(rootName, rootPassword)
	for range 2 {
		c.add(9 * time.Minute)
		b.get("/urls").want(t, http.StatusOK) // used within the idle time
	}
	c.add(8 * time.Minute) // 26 minutes after the login
	b.get("/urls").want(t, http.StatusSeeOther)

	b.login(rootName, rootPassword)
	c.add(11 * time.Minute)
	r := b.get("/urls").want(t, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("Location = %q", r.Header.Get("Location"))
	}
}

func TestSessionsBounded(t *testing.T) {
	c := &clock{t: time.Now()}
	ss := newSessions(time.Hour, time.Hour, 3, c.now)
	var values []string
	for range 5 {
		v, _ := ss.create("a")
		values = append(values, v)
		c.add(time.Second)
	}
	if ss.len() != 3 {
		t.Errorf("%d sessions, want 3", ss.len())
	}
	if ss.get(values[0]) != nil || ss.get(values[4]) == nil {
		t.Error("the least recently used session was not the one evicted")
	}
}

func TestPanelViewerReadOnly(t *testing.T) {
	e := newEnv(t)
	root := e.browser()
	csrf := root.login(rootName, rootPassword)
	root.post("/users", url.Values{"csrf": {csrf}, "name": {"alice"}, "password": {"alice-password"}, "password2": {"alice-password"}}).want(t, http.StatusSeeOther)

	v := e.browser()
	vcsrf := v.login(viewerName, viewerPassword)
	page := v.get("/users").want(t, http.StatusOK)
	if strings.Contains(page.body, `action="/users"`) {
		t.Error("a viewer is offered the add-user form")
	}
	if !strings.Contains(page.body, "read only") {
		t.Error("the viewer is not told they are read-only")
	}
	forms := []struct {
		path string
		form url.Values
	}{
		{"/users", url.Values{"name": {"bob"}, "password": {"bob-password"}, "password2": {"bob-password"}}},
		{"/users/lock", url.Values{"name": {"alice"}}},
		{"/users/remove", url.Values{"name": {"alice"}, "confirm": {"yes"}}},
		{"/users/password", url.Values{"name": {"alice"}, "password": {"x-password"}, "password2": {"x-password"}}},
		{"/urls", url.Values{"path": {"/x"}}},
		{"/groups", url.Values{"name": {"g"}}},
		{"/access/grant", url.Values{"path": {"/x"}, "kind": {"valid-user"}}},
	}
	for _, f := range forms {
		f.form.Set("csrf", vcsrf)
		v.post(f.path, f.form).want(t, http.StatusForbidden)
	}
	u, err := e.st.User(context.Background(), "alice")
	if err != nil || u.Locked {
		t.Errorf("alice after the viewer's attempts: %+v, %v", u, err)
	}
	// Their own password and tokens are theirs to manage.
	v.get("/password").want(t, http.StatusOK)
	v.post("/tokens", url.Values{"csrf": {vcsrf}, "name": {"mine"}, "expires_in": {"720h"}}).want(t, http.StatusSeeOther)
	if page := v.get("/tokens").body; !strings.Contains(page, TokenPrefix) {
		t.Error("the new token is not shown")
	}
	ts, _ := e.st.ListTokens(context.Background(), store.TokenFilter{Admin: viewerName})
	if len(ts) != 1 {
		t.Fatalf("viewer tokens = %+v", ts)
	}
}

func TestPanelFlow(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	csrf := b.login(rootName, rootPassword)
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	follow := func(r resp) string {
		t.Helper()
		loc := r.Header.Get("Location")
		if loc == "" {
			t.Fatalf("no redirect: %d\n%s", r.StatusCode, r.body)
		}
		return b.get(loc).want(t, http.StatusOK).body
	}
	contains := func(page string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("page lacks %q", w)
			}
		}
	}

	// Errors are shown next to their fields, with the values kept.
	r := b.post("/users", form("name", "bad name", "display_name", "Bad", "password", "short", "password2", "other")).want(t, http.StatusUnprocessableEntity)
	contains(r.body, `id="f-name-error"`, `aria-invalid="true"`, "is not a valid user name", `id="f-password-error"`, "at least 8", `id="f-password2-error"`, `value="Bad"`)
	if strings.Contains(r.body, `value="short"`) {
		t.Error("a password was sent back in the form")
	}

	contains(follow(b.post("/users", form("name", "alice", "password", "alice-password", "password2", "alice-password")).want(t, http.StatusSeeOther)), "User alice added.")
	contains(follow(b.post("/users", form("name", "bob", "password", "bob-password", "password2", "bob-password"))), "User bob added.")
	r = b.post("/users", form("name", "Alice", "password", "alice-password", "password2", "alice-password")).want(t, http.StatusUnprocessableEntity)
	contains(r.body, "exists already")

	page := follow(b.post("/urls", form("path", "/members", "realm", "Members", "schemes", "basic")))
	contains(page, "/members is protected. Now choose who may enter.", "Nobody may enter yet", "Allow a user")
	r = b.post("/urls", form("path", "members")).want(t, http.StatusUnprocessableEntity)
	contains(r.body, `id="f-path-error"`)

	contains(follow(b.post("/access/grant", form("path", "/members", "kind", "user", "user", "alice"))), "alice may now enter /members.")
	r = b.post("/access/grant", form("path", "/members", "kind", "user", "user", "carol")).want(t, http.StatusUnprocessableEntity)
	contains(r.body, `id="f-user-error"`, "no user named")

	contains(follow(b.post("/groups", form("name", "staff"))), "Group staff added.")
	contains(follow(b.post("/groups/members/add", form("group", "staff", "user", "bob"))), "bob added to group staff.")
	contains(follow(b.post("/access/grant", form("path", "/members", "kind", "group", "group", "staff"))), "Members of staff may now enter /members.")
	contains(follow(b.post("/access/revoke", form("path", "/members", "kind", "group", "name", "staff"))), "Members of staff may no longer enter /members.")
	contains(follow(b.post("/access/grant", form("path", "/members", "kind", "valid-user"))), "Every signed-in user may now enter /members.")
	contains(follow(b.post("/access/revoke", form("path", "/members", "kind", "valid-user"))), "may no longer enter")

	contains(follow(b.post("/urls/edit", form("path", "/members", "realm", "Staff", "schemes", "basic", "schemes", "digest"))), "Saved /members: schemes basic, digest.")
	r = b.post("/urls/edit", form("path", "/members", "realm", "Staff")).want(t, http.StatusUnprocessableEntity)
	contains(r.body, "Choose at least one scheme.")

	contains(follow(b.post("/users/lock", form("name", "alice"))), "User alice locked")
	contains(follow(b.post("/users/unlock", form("name", "alice"))), "User alice unlocked")
	contains(follow(b.post("/users/password", form("name", "alice", "password", "new-alice-pw", "password2", "new-alice-pw"))), "Password of alice changed.")

	// alice is the only one allowed into /members: removing her asks first.
	r = b.post("/users/remove", form("name", "alice")).want(t, http.StatusOK)
	contains(r.body, "alice is the only user allowed into this protected URL", "/members", `name="confirm" value="yes"`, "Remove alice anyway")
	if _, err := e.st.User(context.Background(), "alice"); err != nil {
		t.Fatalf("alice was removed without confirmation: %v", err)
	}
	contains(follow(b.post("/users/remove", form("name", "alice", "confirm", "yes"))), "User alice removed.")
	// bob is allowed nowhere alone: removed at once.
	contains(follow(b.post("/users/remove", form("name", "bob"))), "User bob removed.")

	r = b.post("/urls/remove", form("path", "/members")).want(t, http.StatusOK)
	contains(r.body, "without signing in", "Remove protection")
	contains(follow(b.post("/urls/remove", form("path", "/members", "confirm", "yes"))), "/members is no longer protected")

	contains(follow(b.post("/tokens", form("name", "backup", "expires_in", "720h"))), "issued", TokenPrefix)
	if page := b.get("/tokens").body; strings.Contains(page, TokenPrefix+"") && strings.Contains(page, "Your new token") {
		t.Error("the token is shown a second time")
	}
	ts, _ := e.st.ListTokens(context.Background(), store.TokenFilter{})
	contains(follow(b.post("/tokens/revoke", form("id", ts[0].ID))), "revoked")

	r = b.post("/password", form("current_password", "wrong", "new_password", "new-root-pw", "new_password2", "new-root-pw")).want(t, http.StatusUnprocessableEntity)
	contains(r.body, "This is not your current password.")
	contains(follow(b.post("/password", form("current_password", rootPassword, "new_password", "new-root-pw", "new_password2", "new-root-pw"))), "Your password was changed.")

	audit := b.get("/audit?actor=root&action=user.add").want(t, http.StatusOK).body
	contains(audit, "user.add", "alice", "bob", "127.0.0.1")
	b.get("/audit?since=yesterday").want(t, http.StatusUnprocessableEntity)
}

func TestPanelPagesRender(t *testing.T) {
	e := newEnv(t)
	a := e.rootAPI()
	a.call("POST", "/api/users", newUser{Name: "alice", DisplayName: "Alice <Liddell>", Password: "alice-password"}).want(t, http.StatusCreated)
	a.call("POST", "/api/groups", map[string]string{"name": "staff"}).want(t, http.StatusCreated)
	a.call("PUT", "/api/groups/staff/members/alice", nil).want(t, http.StatusNoContent)
	a.call("POST", "/api/urls", newURL{Path: "/members", Host: "example.com"}).want(t, http.StatusCreated)
	pages := []string{"/", "/urls", "/users", "/users/edit?name=alice", "/groups", "/groups/edit?name=staff",
		"/urls/edit?host=example.com&path=%2Fmembers", "/access?host=example.com&path=%2Fmembers", "/password", "/tokens", "/audit"}
	for _, who := range []struct{ name, pw string }{{rootName, rootPassword}, {viewerName, viewerPassword}} {
		b := e.browser()
		b.login(who.name, who.pw)
		for _, p := range pages {
			r := b.get(p)
			if p == "/" {
				r.want(t, http.StatusSeeOther)
				continue
			}
			r.want(t, http.StatusOK)
			if !strings.Contains(r.body, "<h1>") || !strings.Contains(r.body, `<html lang="en">`) {
				t.Errorf("%s as %s: no heading or language", p, who.name)
			}
			if strings.Contains(r.body, "Alice <Liddell>") {
				t.Errorf("%s: display name not escaped", p)
			}
			h := r.Header
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
				t.Errorf("%s: CSP %q", p, csp)
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: headers %v", p, h)
			}
		}
		for _, p := range []string{"/users/edit?name=nobody", "/groups/edit?name=nobody", "/access?path=%2Fnothing", "/nothing"} {
			b.get(p).want(t, http.StatusNotFound)
		}
	}
	b := e.browser()
	r := b.get("/static/style.css").want(t, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style.css Content-Type %q", r.Header.Get("Content-Type"))
	}
	b.get("/static/nothing.css").want(t, http.StatusNotFound)
}
