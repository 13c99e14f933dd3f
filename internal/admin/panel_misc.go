package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate/internal/store"
)

func (s *Server) showPassword(w http.ResponseWriter, r *http.Request, p *principal) {
	s.passwordPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	v.Title, v.Nav = "Change your password", "password"
	s.render(w, r, p, status, "password", v)
}

func (s *Server) doPassword(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := repeated(r, "new_password", "new_password2"); err != nil {
		s.formFailed(w, r, p, err, s.passwordPage)
		return
	}
	err := s.changeOwnPassword(r, p, passwordChange{Current: r.PostForm.Get("current_password"), New: r.PostForm.Get("new_password")})
	if err != nil {
		s.formFailed(w, r, p, err, s.passwordPage)
		return
	}
	s.done(w, r, p, "/password", "Your password was changed. Your other sessions were signed out.")
}

// tokensData is the data of the Tokens page.
type tokensData struct {
	Tokens  []tokenRow
	Secret  string // a token just issued, shown once
	Expires []struct{ Value, Label string }
}

// tokenRow is a token with its state for people.
type tokenRow struct {
	store.Token
	State     string
	Revocable bool
}

// tokenExpiries are the expiry choices of the token form.
var tokenExpiries = []struct{ Value, Label string }{
	{"720h", "in 30 days"}, {"2160h", "in 90 days"}, {"8760h", "in 1 year"}, {"0", "never"},
}

func (s *Server) showTokens(w http.ResponseWriter, r *http.Request, p *principal) {
	s.tokensPage(w, r, p, http.StatusOK, &view{})
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request, p *principal, status int, v *view) {
	ts, err := s.st.ListTokens(r.Context(), store.TokenFilter{})
	if err != nil {
		s.fail(w, r, false, err)
		return
	}
	now := s.now()
	d := tokensData{Expires: tokenExpiries}
	for _, t := range ts {
		row := tokenRow{Token: t, State: "active", Revocable: p.canWrite() || t.Admin == p.name}
		switch {
		case !t.Revoked.IsZero():
			row.State, row.Revocable = "revoked "+t.Revoked.UTC().Format("2006-01-02"), false
		case !t.Expires.IsZero() && !now.Before(t.Expires):
			row.State, row.Revocable = "expired", false
		}
		d.Tokens = append(d.Tokens, row)
	}
	if p.sess != nil && r.Method == http.MethodGet {
		d.Secret = s.sessions.takeSecret(p.sess)
	}
	if r.Method == http.MethodGet {
		v.Form = url.Values{"expires_in": {"720h"}}
	}
	v.Title, v.Nav, v.Data = "API tokens", "tokens", d
	s.render(w, r, p, status, "tokens", v)
}

func (s *Server) doIssueToken(w http.ResponseWriter, r *http.Request, p *principal) {
	in := newToken{Name: strings.TrimSpace(r.PostForm.Get("name")), ExpiresIn: r.PostForm.Get("expires_in"), ReadOnly: r.PostForm.Get("read_only") == "yes"}
	if in.Name == "" {
		s.formFailed(w, r, p, invalid("name", "say what the token is for, such as \"backup script\""), s.tokensPage)
		return
	}
	t, secret, err := s.issueToken(r.Context(), p.name, in)
	if err != nil {
		s.formFailed(w, r, p, err, s.tokensPage)
		return
	}
	s.sessions.setSecret(p.sess, secret)
	s.done(w, r, p, "/tokens", fmt.Sprintf("Token %s (%s) issued. Copy it now: it is shown only this once.", t.ID, t.Name))
}

func (s *Server) doRevokeToken(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PostForm.Get("id")
	if err := s.revokeToken(r.Context(), p, id); err != nil {
		s.formFailed(w, r, p, err, s.tokensPage)
		return
	}
	s.done(w, r, p, "/tokens", fmt.Sprintf("Token %s revoked: it no longer works.", id))
}

// auditData is the data of the Audit log page.
type auditData struct {
	Events []store.AuditEvent
	Older  string // link to the next (older) page
}

// panelTime is the format of the audit filter's datetime-local fields.
const panelTime = "2006-01-02T15:04"

func (s *Server) showAudit(w http.ResponseWriter, r *http.Request, p *principal) {
	q := r.URL.Query()
	v := &view{Title: "Audit log", Nav: "audit", Errors: map[string]string{}}
	f := store.AuditFilter{
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Target: strings.TrimSpace(q.Get("target")), Client: strings.TrimSpace(q.Get("client")),
		Reason: strings.TrimSpace(q.Get("reason")), Limit: panelPage + 1,
	}
	for _, tf := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if val := q.Get(tf.name); val != "" {
			t, err := time.ParseInLocation(panelTime, val, time.UTC)
			if err != nil {
				v.Errors[tf.name] = "a date and time such as 2026-01-02T15:04"
				continue
			}
			*tf.t = t
		}
	}
	if b := q.Get("before"); b != "" {
		if id, err := strconv.ParseInt(b, 10, 64); err == nil && id > 0 {
			f.BeforeID = id
		}
	}
	status := http.StatusOK
	var d auditData
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		evs, err := s.st.AuditEvents(r.Context(), f)
		if err != nil {
			s.fail(w, r, false, err)
			return
		}
		d.Events = evs
		if len(evs) > panelPage {
			d.Events = evs[:panelPage]
			nq := url.Values{}
			for k, vs := range q {
				if k != "before" && len(vs) > 0 && vs[0] != "" {
					nq.Set(k, vs[0])
				}
			}
			nq.Set("before", strconv.FormatInt(evs[panelPage-1].ID, 10))
			d.Older = "/audit?" + nq.Encode()
		}
	}
	v.Form, v.Data = q, d
	s.render(w, r, p, status, "audit", v)
}
