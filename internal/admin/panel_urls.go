package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/htgate/htgate/internal/store"
)

// panelPage is the number of rows of a panel listing.
const panelPage = 50

// pickLimit bounds the users and groups offered in a grant form's list.
const pickLimit = 200

// schemeChoices are the schemes the URL forms offer, with a hint each.
var schemeChoices = []struct{ Name, Label, Hint string }{
	{store.SchemeBasic, "Basic", "The browser's sign-in dialog; every client supports it. Use it over HTTPS."},
	{store.SchemeDigest, "Digest", "The password never crosses the network. Works for users imported from an htdigest file of this realm."},
	{store.SchemeBearer, "Bearer", "API tokens. Not enforced by this version yet: a URL that offers only Bearer or Form refuses everyone."},
	{store.SchemeForm, "Form", "A sign-in page and a session cookie. Not enforced by this version yet."},
}

// urlsData is the data of the Protected URLs page.
type urlsData struct {
	URLs    []store.URL
	Next    string // the ?after= of the next page
	Schemes []string
	Choices any
}

func (s *Server) showURLs(w http.ResponseWriter, r *http.Request, p *principal) {
	s.urlsPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) urlsPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	after := r.URL.Query().Get("after")
	urls, err := s.st.ListURLs(r.Context(), store.Page{After: after, Limit: panelPage + 1})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	d := urlsData{URLs: urls, Schemes: []string{store.SchemeBasic}, Choices: schemeChoices}
	if len(urls) > panelPage {
		d.URLs, d.Next = urls[:panelPage], urls[panelPage-1].URLKey.String()
	}
	if r.Method == http.MethodPost {
		d.Schemes = r.PostForm["schemes"]
	}
	v.Title, v.Nav, v.Data = "Protected URLs", "urls", d
	s.render(w, r, p, status, "urls", v)
}

func (s *Server) doProtect(w http.ResponseWriter, r *http.Request, p *principal) {
	f := r.PostForm
	u, err := s.protect(r.Context(), newURL{Host: strings.TrimSpace(f.Get("host")), Path: strings.TrimSpace(f.Get("path")), Realm: f.Get("realm"), Schemes: f["schemes"]})
	if err != nil {
		s.formFailed(w, r, p, err, s.urlsPage)
		return
	}
	s.done(w, r, p, "/access?"+keyQuery(u.URLKey), fmt.Sprintf("%s is protected. Now choose who may enter.", shownKey(u.URLKey)))
}

// keyQuery is the query string naming a protected URL in panel links.
func keyQuery(k store.URLKey) string {
	return url.Values{"host": {k.Host}, "path": {k.Path}}.Encode()
}

// shownKey is a protected URL as the panel shows it.
func shownKey(k store.URLKey) string { return k.Host + k.Path }

// formKey reads the host and path of a panel form or query.
func formKey(r *http.Request) (store.URLKey, error) {
	return urlKey(r.Form.Get("host"), r.Form.Get("path"))
}

// urlData is the data of the edit and access pages of one URL.
type urlData struct {
	URL     store.URL
	Schemes []string
	Choices any
	Users   []store.User
	Groups  []store.Group
	Granted map[string]bool // "user alice", "group staff", "valid-user"
	Sole    []store.URL     // the user removal's confirmation page
	Name    string
}

// loadURL reads the URL a page is about; it renders the error page and
// returns false when there is none.
func (s *Server) loadURL(w http.ResponseWriter, r *http.Request) (store.URL, bool) {
	key, err := formKey(r)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "This address names no protected URL. Pick one from the list of protected URLs.")
		return store.URL{}, false
	}
	u, err := s.st.URL(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("%s is not protected (any more). Pick one from the list of protected URLs.", shownKey(key)))
		return store.URL{}, false
	}
	if err != nil {
		s.fail(w, r, false, err)
		return store.URL{}, false
	}
	return u, true
}

func (s *Server) showURLEdit(w http.ResponseWriter, r *http.Request, p *principal) {
	s.urlEditPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) urlEditPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	u, ok := s.loadURL(w, r)
	if !ok {
		return
	}
	d := urlData{URL: u, Schemes: u.Schemes, Choices: schemeChoices}
	if r.Method == http.MethodPost {
		d.Schemes = r.PostForm["schemes"]
	} else {
		v.Form = url.Values{"realm": {u.Realm}}
	}
	v.Title, v.Nav, v.Data = "Edit "+shownKey(u.URLKey), "urls", d
	s.render(w, r, p, status, "url_edit", v)
}

func (s *Server) doURLEdit(w http.ResponseWriter, r *http.Request, p *principal) {
	key, err := formKey(r)
	if err != nil {
		s.formFailed(w, r, p, err, s.urlEditPage)
		return
	}
	realm := r.PostForm.Get("realm")
	schemes := r.PostForm["schemes"]
	if len(schemes) == 0 {
		s.formFailed(w, r, p, invalid("schemes", "choose at least one scheme"), s.urlEditPage)
		return
	}
	u, err := s.updateURL(r.Context(), key, urlPatch{Realm: &realm, Schemes: schemes})
	if err != nil {
		s.formFailed(w, r, p, err, s.urlEditPage)
		return
	}
	s.done(w, r, p, "/urls", fmt.Sprintf("Saved %s: schemes %s.", shownKey(u.URLKey), strings.Join(u.Schemes, ", ")))
}

func (s *Server) doUnprotect(w http.ResponseWriter, r *http.Request, p *principal) {
	u, ok := s.loadURL(w, r)
	if !ok {
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		s.render(w, r, p, http.StatusOK, "url_remove", &view{Title: "Remove protection of " + shownKey(u.URLKey) + "?", Nav: "urls", Data: urlData{URL: u}})
		return
	}
	if err := s.st.Unprotect(r.Context(), u.URLKey); err != nil {
		s.fail(w, r, false, err)
		return
	}
	s.done(w, r, p, "/urls", fmt.Sprintf("%s is no longer protected: anyone can open it.", shownKey(u.URLKey)))
}

func (s *Server) showAccess(w http.ResponseWriter, r *http.Request, p *principal) {
	s.accessPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) accessPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	u, ok := s.loadURL(w, r)
	if !ok {
		return
	}
	users, err := s.st.ListUsers(r.Context(), store.Page{Limit: pickLimit})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	groups, err := s.st.ListGroups(r.Context(), store.Page{Limit: pickLimit})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	d := urlData{URL: u, Users: users, Groups: groups, Granted: make(map[string]bool)}
	for _, g := range u.Grants {
		d.Granted[g.String()] = true
	}
	if r.Method == http.MethodGet {
		v.Form = url.Values{}
	}
	v.Title, v.Nav, v.Data = "Manage access to "+shownKey(u.URLKey), "urls", d
	s.render(w, r, p, status, "access", v)
}

// grantOf reads a grant form: kind, and the name from the field named
// after the kind ("user" or "group").
func grantOf(r *http.Request) grantInput {
	kind := r.PostForm.Get("kind")
	return grantInput{Kind: kind, Name: strings.TrimSpace(r.PostForm.Get(kind))}
}

// grantWho describes a grant for confirmations.
func grantWho(g store.Grant) string {
	switch g.Kind {
	case store.GrantValidUser:
		return "Every signed-in user"
	case store.GrantGroup:
		return "Members of " + g.Name
	}
	return g.Name
}

func (s *Server) doGrant(w http.ResponseWriter, r *http.Request, p *principal) {
	key, err := formKey(r)
	if err != nil {
		s.formFailed(w, r, p, err, s.accessPage)
		return
	}
	in := grantOf(r)
	g, err := s.grant(r.Context(), key, in)
	if err != nil {
		// The forms name their field after the kind: "user", "group".
		fe := fields(err)
		for i := range fe {
			if fe[i].Field == "name" {
				fe[i].Field = in.Kind
			}
		}
		s.formFailed(w, r, p, err, s.accessPage)
		return
	}
	s.done(w, r, p, "/access?"+keyQuery(key), fmt.Sprintf("%s may now enter %s.", grantWho(g), shownKey(key)))
}

func (s *Server) doRevoke(w http.ResponseWriter, r *http.Request, p *principal) {
	key, err := formKey(r)
	if err != nil {
		s.formFailed(w, r, p, err, s.accessPage)
		return
	}
	g, err := s.revoke(r.Context(), key, grantInput{Kind: r.PostForm.Get("kind"), Name: r.PostForm.Get("name")})
	if err != nil {
		s.formFailed(w, r, p, err, s.accessPage)
		return
	}
	s.done(w, r, p, "/access?"+keyQuery(key), fmt.Sprintf("%s may no longer enter %s.", grantWho(g), shownKey(key)))
}
