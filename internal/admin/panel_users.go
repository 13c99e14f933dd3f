package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/htgate/htgate/internal/store"
)

// usersData is the data of the Users and Groups pages and their detail
// pages.
type usersData struct {
	Users  []store.User
	Groups []store.Group
	Next   string
	User   store.User
	Group  store.Group
	Others []store.Group // groups the user is not in
	Sole   []store.URL
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, p *principal) {
	s.usersPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	users, err := s.st.ListUsers(r.Context(), store.Page{After: r.URL.Query().Get("after"), Limit: panelPage + 1})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	d := usersData{Users: users}
	if len(users) > panelPage {
		d.Users, d.Next = users[:panelPage], users[panelPage-1].Name
	}
	v.Title, v.Nav, v.Data = "Users", "users", d
	s.render(w, r, p, status, "users", v)
}

// repeated checks that a password was typed the same twice.
func repeated(r *http.Request, field, again string) error {
	if pw := r.PostForm.Get(field); pw != "" && pw != r.PostForm.Get(again) {
		return invalid(again, "the two passwords differ: type the same password twice")
	}
	return nil
}

func (s *Server) doAddUser(w http.ResponseWriter, r *http.Request, p *principal) {
	f := r.PostForm
	in := newUser{Name: strings.TrimSpace(f.Get("name")), DisplayName: strings.TrimSpace(f.Get("display_name")), Password: f.Get("password")}
	if err := repeated(r, "password", "password2"); err != nil {
		s.formFailed(w, r, p, invalidError(append(fields(validateNewUser(in)), fields(err)...)), s.usersPage)
		return
	}
	u, err := s.addUser(r.Context(), in)
	if err != nil {
		s.formFailed(w, r, p, err, s.usersPage)
		return
	}
	s.done(w, r, p, "/users", fmt.Sprintf("User %s added.", u.Name))
}

// loadUser reads the user a page or form is about.
func (s *Server) loadUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	name := r.Form.Get("name")
	u, err := s.st.User(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		s.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no user named %q (any more). Pick one from the list of users.", name))
		return store.User{}, false
	}
	if err != nil {
		s.fail(w, r, false, err)
		return store.User{}, false
	}
	return u, true
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, p *principal) {
	s.userPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	u, ok := s.loadUser(w, r)
	if !ok {
		return
	}
	groups, err := s.st.ListGroups(r.Context(), store.Page{Limit: pickLimit})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	d := usersData{User: u}
	for _, g := range groups {
		if !contains(u.Groups, g.Name) {
			d.Others = append(d.Others, g)
		}
	}
	if r.Method == http.MethodGet {
		v.Form = url.Values{}
	}
	v.Title, v.Nav, v.Data = "User "+u.Name, "users", d
	s.render(w, r, p, status, "user", v)
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func (s *Server) doUserPassword(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := repeated(r, "password", "password2"); err != nil {
		s.formFailed(w, r, p, err, s.userPage)
		return
	}
	u, err := s.setUserPassword(r.Context(), r.PostForm.Get("name"), r.PostForm.Get("password"))
	if err != nil {
		s.formFailed(w, r, p, err, s.userPage)
		return
	}
	s.done(w, r, p, "/users/edit?"+url.Values{"name": {u.Name}}.Encode(), fmt.Sprintf("Password of %s changed.", u.Name))
}

func (s *Server) doLock(w http.ResponseWriter, r *http.Request, p *principal) {
	lock := r.URL.Path == "/users/lock"
	u, err := s.updateUser(r.Context(), r.PostForm.Get("name"), userPatch{Locked: &lock})
	if err != nil {
		s.formFailed(w, r, p, err, s.userPage)
		return
	}
	msg := fmt.Sprintf("User %s unlocked: they can sign in again.", u.Name)
	if lock {
		msg = fmt.Sprintf("User %s locked: they cannot sign in until unlocked.", u.Name)
	}
	s.done(w, r, p, "/users/edit?"+url.Values{"name": {u.Name}}.Encode(), msg)
}

func (s *Server) doRemoveUser(w http.ResponseWriter, r *http.Request, p *principal) {
	u, ok := s.loadUser(w, r)
	if !ok {
		return
	}
	force := r.PostForm.Get("confirm") == "yes"
	err := s.removeUser(r.Context(), u.Name, force)
	var he *httpError
	if errors.As(err, &he) && he.kind == "sole-access" {
		s.render(w, r, p, http.StatusOK, "user_remove", &view{Title: "Remove " + u.Name + "?", Nav: "users",
			Data: usersData{User: u, Sole: he.soleAccess}})
		return
	}
	if err != nil {
		s.formFailed(w, r, p, err, s.userPage)
		return
	}
	s.done(w, r, p, "/users", fmt.Sprintf("User %s removed.", u.Name))
}

func (s *Server) showGroups(w http.ResponseWriter, r *http.Request, p *principal) {
	s.groupsPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	groups, err := s.st.ListGroups(r.Context(), store.Page{After: r.URL.Query().Get("after"), Limit: panelPage + 1})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	d := usersData{Groups: groups}
	if len(groups) > panelPage {
		d.Groups, d.Next = groups[:panelPage], groups[panelPage-1].Name
	}
	v.Title, v.Nav, v.Data = "Groups", "groups", d
	s.render(w, r, p, status, "groups", v)
}

func (s *Server) doAddGroup(w http.ResponseWriter, r *http.Request, p *principal) {
	g, err := s.addGroup(r.Context(), strings.TrimSpace(r.PostForm.Get("name")))
	if err != nil {
		s.formFailed(w, r, p, err, s.groupsPage)
		return
	}
	s.done(w, r, p, "/groups/edit?"+url.Values{"name": {g.Name}}.Encode(), fmt.Sprintf("Group %s added. Now add its members.", g.Name))
}

func (s *Server) showGroup(w http.ResponseWriter, r *http.Request, p *principal) {
	s.groupPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	name := r.Form.Get("name")
	if name == "" {
		name = r.Form.Get("group")
	}
	g, err := s.st.Group(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		s.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no group named %q (any more). Pick one from the list of groups.", name))
		return
	}
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	users, err := s.st.ListUsers(r.Context(), store.Page{Limit: pickLimit})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	if r.Method == http.MethodGet {
		v.Form = url.Values{}
	}
	v.Title, v.Nav, v.Data = "Group "+g.Name, "groups", usersData{Group: g, Users: users}
	s.render(w, r, p, status, "group", v)
}

func (s *Server) doRemoveGroup(w http.ResponseWriter, r *http.Request, p *principal) {
	name := r.PostForm.Get("name")
	if err := s.st.RemoveGroup(r.Context(), name); err != nil {
		s.formFailed(w, r, p, err, s.groupPage)
		return
	}
	s.done(w, r, p, "/groups", fmt.Sprintf("Group %s removed, with its grants.", name))
}

func (s *Server) doAddMember(w http.ResponseWriter, r *http.Request, p *principal) {
	group, user := r.PostForm.Get("group"), strings.TrimSpace(r.PostForm.Get("user"))
	back := r.PostForm.Get("back")
	show := s.groupPage
	if back == "user" {
		show = s.userPage
	}
	if _, err := s.st.Group(r.Context(), group); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = invalid("group", "there is no group named %q", group)
		}
		s.formFailed(w, r, p, err, show)
		return
	}
	if err := s.addMember(r.Context(), group, user); err != nil {
		s.formFailed(w, r, p, err, show)
		return
	}
	s.done(w, r, p, memberBack(back, group, user), fmt.Sprintf("%s added to group %s.", user, group))
}

func (s *Server) doRemoveMember(w http.ResponseWriter, r *http.Request, p *principal) {
	group, user, back := r.PostForm.Get("group"), r.PostForm.Get("user"), r.PostForm.Get("back")
	if err := s.st.RemoveMember(r.Context(), group, user); err != nil {
		s.fail(w, r, false, err)
		return
	}
	s.done(w, r, p, memberBack(back, group, user), fmt.Sprintf("%s removed from group %s.", user, group))
}

// memberBack is the page to return to after a membership change: the
// user's page or the group's.
func memberBack(back, group, user string) string {
	if back == "user" {
		return "/users/edit?" + url.Values{"name": {user}}.Encode()
	}
	return "/groups/edit?" + url.Values{"name": {group}}.Encode()
}
