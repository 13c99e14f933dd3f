package admin

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// panelRoutes are the web panel's pages and forms. Every POST is checked
// for its CSRF token and origin by wrap (the login form by its own
// token), and every one answers with a redirect to a page that confirms
// the change, or with the form again and the errors next to its fields.
func (s *Server) panelRoutes() []route {
	page := func(method, pattern string, a access, h func(http.ResponseWriter, *http.Request, *principal)) route {
		return route{method: method, pattern: pattern, access: a, h: h}
	}
	return []route{
		page("GET", "/static/{file}", public, s.serveStatic),
		page("GET", "/login", public, s.showLogin),
		page("POST", "/login", public, s.doLogin),
		page("POST", "/logout", self, s.doLogout),
		page("GET", "/{$}", read, func(w http.ResponseWriter, r *http.Request, _ *principal) {
			http.Redirect(w, r, "/urls", http.StatusSeeOther)
		}),

		page("GET", "/urls", read, s.showURLs),
		page("POST", "/urls", write, s.doProtect),
		page("GET", "/urls/edit", read, s.showURLEdit),
		page("POST", "/urls/edit", write, s.doURLEdit),
		page("POST", "/urls/remove", write, s.doUnprotect),
		page("GET", "/access", read, s.showAccess),
		page("POST", "/access/grant", write, s.doGrant),
		page("POST", "/access/revoke", write, s.doRevoke),

		page("GET", "/users", read, s.showUsers),
		page("POST", "/users", write, s.doAddUser),
		page("GET", "/users/edit", read, s.showUser),
		page("POST", "/users/password", write, s.doUserPassword),
		page("POST", "/users/lock", write, s.doLock),
		page("POST", "/users/unlock", write, s.doLock),
		page("POST", "/users/remove", write, s.doRemoveUser),

		page("GET", "/groups", read, s.showGroups),
		page("POST", "/groups", write, s.doAddGroup),
		page("GET", "/groups/edit", read, s.showGroup),
		page("POST", "/groups/remove", write, s.doRemoveGroup),
		page("POST", "/groups/members/add", write, s.doAddMember),
		page("POST", "/groups/members/remove", write, s.doRemoveMember),

		page("GET", "/password", self, s.showPassword),
		page("POST", "/password", self, s.doPassword),
		page("GET", "/tokens", read, s.showTokens),
		page("POST", "/tokens", sessionSelf, s.doIssueToken),
		page("POST", "/tokens/revoke", self, s.doRevokeToken),
		page("GET", "/audit", read, s.showAudit),
	}
}

// view is what every page template receives.
type view struct {
	Title    string
	Nav      string // the menu entry to mark as current
	Admin    string // the signed-in admin; "" on the login page
	Role     store.Role
	CanWrite bool
	CSRF     string
	Flash    string // a confirmation of the last change
	Problem  string // an error about the page as a whole
	Errors   map[string]string
	Form     url.Values // values to fill the form with again
	RefID    string
	Data     any
}

// Val returns the form value of a field, to fill a form in again.
func (v *view) Val(field string) string { return v.Form.Get(field) }

// inputView is what the "input" template renders: one labelled field with
// its hint and error.
type inputView struct {
	ID, Name, Label, Type, Value, Error, Hint, Autocomplete, List string
	Required                                                      bool
}

// input describes a labelled form field; opts are "required",
// "hint=...", "ac=..." (autocomplete), "id=...", "list=..." (a datalist),
// "value=..." (a default).
func input(v *view, name, label, typ string, opts ...string) inputView {
	in := inputView{ID: "f-" + name, Name: name, Label: label, Type: typ, Value: v.Val(name), Error: v.Errors[name]}
	if typ == "password" {
		in.Value = "" // never sent back
	}
	for _, o := range opts {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "required":
			in.Required = true
		case "hint":
			in.Hint = val
		case "ac":
			in.Autocomplete = val
		case "id":
			in.ID = val
		case "list":
			in.List = val
		case "value":
			if in.Value == "" {
				in.Value = val
			}
		}
	}
	return in
}

// templateFuncs are the functions the page templates use.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"input": input,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"whenISO":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"stamp":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"shown":    shownKey,
		"link":     link,
		"grantWho": grantWho,
		"join":     strings.Join,
		"has":      contains,
	}
}

// link returns path with the non-empty query parameters kv (name,
// value, name, value...).
func link(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// parsePages parses each page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(templateFuncs()).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("admin: template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes a page. p may be nil (login and error pages).
func (s *Server) render(w http.ResponseWriter, r *http.Request, p *principal, status int, page string, v *view) {
	v.RefID = refOf(r)
	if p != nil {
		v.Admin, v.Role, v.CanWrite = p.name, p.role, p.canWrite()
		if p.sess != nil {
			v.CSRF = p.sess.csrf
			if v.Flash == "" && r.Method == http.MethodGet {
				v.Flash = s.sessions.takeFlash(p.sess)
			}
		}
	}
	if v.Form == nil {
		v.Form = r.Form
	}
	t := s.pages[page]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.errorf(r, err, "render "+page)
		http.Error(w, "internal error, reference "+refOf(r), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage renders an error that is not about a form's field.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, detail string) {
	p, _, _ := s.authenticate(r, false)
	s.render(w, r, p, status, "error", &view{Title: http.StatusText(status), Problem: detail})
}

// panelFallback answers paths that are neither a page nor the API.
func (s *Server) panelFallback(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is no page at this address. Use the menu to find your way.")
}

// formFailed answers a form that failed: its fields' errors on the form
// page again (422), or any other error on an error page.
func (s *Server) formFailed(w http.ResponseWriter, r *http.Request, p *principal, err error, show func(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view)) {
	fe := fields(err)
	if fe == nil {
		status, _, detail, _, _ := s.classify(r, err)
		if status == http.StatusNotFound || status == http.StatusConflict || status == http.StatusUnprocessableEntity || status == http.StatusTooManyRequests {
			show(w, r, p, status, &view{Problem: detail})
			return
		}
		s.fail(w, r, false, err)
		return
	}
	v := &view{Errors: make(map[string]string)}
	for _, f := range fe {
		if _, dup := v.Errors[f.Field]; !dup {
			v.Errors[f.Field] = sentence(f.Message)
		}
	}
	show(w, r, p, http.StatusUnprocessableEntity, v)
}

// sentence turns a field message of the API ("use at least 8
// characters") into a sentence for the panel ("Use at least 8
// characters.").
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// done confirms a change on the next page.
func (s *Server) done(w http.ResponseWriter, r *http.Request, p *principal, to, msg string) {
	if p.sess != nil {
		s.sessions.setFlash(p.sess, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request, _ *principal) {
	name := r.PathValue("file")
	data, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(data)
}

// loginData is the login page's data.
type loginData struct {
	Next    string
	Notice  string
	Retry   string
	Invalid bool
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, _ *principal) {
	if p, _, err := s.authenticate(r, false); err == nil && p != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := loginData{Next: safeNext(r.URL.Query().Get("next"))}
	switch {
	case r.URL.Query().Get("expired") != "":
		d.Notice = "Your session has ended. Sign in again."
	case r.URL.Query().Get("out") != "":
		d.Notice = "You are signed out."
	}
	s.renderLogin(w, r, http.StatusOK, d, nil)
}

// renderLogin renders the login form with a fresh pre-login cookie when
// there is none: the form's token is bound to it.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData, v *view) {
	name := s.cookieName(r, loginCookie, loginCookieSecure)
	value := ""
	if c, err := r.Cookie(name); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		value = c.Value
	} else {
		value = newRefID() + newRefID() + newRefID()
		http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: s.secureRequest(r), MaxAge: 3600})
	}
	if v == nil {
		v = &view{}
	}
	v.Title, v.CSRF, v.Data = "Sign in", s.loginToken(value), d
	if v.Form == nil {
		v.Form = url.Values{"name": {r.PostFormValue("name")}}
	}
	s.render(w, r, nil, status, "login", v)
}

// safeNext returns a local path to go to after the login: next if it is
// a path of this server, else /urls.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t\\") {
		return "/urls"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "/login" || u.Path == "/logout" {
		return "/urls"
	}
	return next
}

func (s *Server) doLogin(w http.ResponseWriter, r *http.Request, _ *principal) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	d := loginData{Next: safeNext(r.PostForm.Get("next"))}
	if !s.sameOrigin(r) || !s.validLoginToken(r) {
		d.Notice = "The sign-in form had expired or did not come from this panel. Sign in again."
		s.renderLogin(w, r, http.StatusForbidden, d, nil)
		return
	}
	name, password := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("password")
	if name == "" || password == "" {
		v := &view{Errors: map[string]string{}}
		if name == "" {
			v.Errors["name"] = "Enter your admin name."
		}
		if password == "" {
			v.Errors["password"] = "Enter your password."
		}
		s.renderLogin(w, r, http.StatusUnprocessableEntity, d, v)
		return
	}
	a, ok, retry, err := s.verifyAdmin(r, name, []byte(password))
	switch {
	case err != nil:
		s.errorf(r, err, "login")
		s.errorPage(w, r, http.StatusServiceUnavailable, "Signing in is not possible right now: the server could not check the password. Try again; the server log has the details under the reference id.")
		return
	case retry > 0:
		w.Header().Set("Retry-After", fmt.Sprint(int((retry+time.Second-1)/time.Second)))
		d.Retry = roundUp(retry)
		s.audit(r, name, "admin.login.refused", name, "locked out for "+d.Retry)
		s.renderLogin(w, r, http.StatusTooManyRequests, d, nil)
		return
	case !ok:
		s.audit(r, name, "admin.login.failed", name, "wrong name or password")
		d.Invalid = true
		w.Header().Set("WWW-Authenticate", htgate.Challenge{Scheme: "Form", Params: []htgate.Param{{Name: "realm", Value: adminRealm}}}.String())
		s.renderLogin(w, r, http.StatusUnauthorized, d, nil)
		return
	}
	// A new session id at every login: end whatever session came with
	// the request, so that an id planted before the login is worthless.
	if c, err := r.Cookie(s.cookieName(r, sessionCookie, sessionCookieSecure)); err == nil {
		if old := s.sessions.get(c.Value); old != nil {
			s.sessions.end(old)
		}
	}
	value, _ := s.sessions.create(a.Name)
	secure := s.secureRequest(r)
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r, sessionCookie, sessionCookieSecure), Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure})
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r, loginCookie, loginCookieSecure), Value: "", Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure, MaxAge: -1})
	s.audit(r, a.Name, "admin.login", a.Name, "role "+string(a.Role))
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *Server) doLogout(w http.ResponseWriter, r *http.Request, p *principal) {
	if p.sess == nil {
		s.fail(w, r, false, errors.New("logout without a session"))
		return
	}
	s.sessions.end(p.sess)
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r, sessionCookie, sessionCookieSecure), Value: "", Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureRequest(r), MaxAge: -1})
	s.audit(r, p.name, "admin.logout", p.name, "")
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}
