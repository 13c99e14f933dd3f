package admin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate/internal/store"
)

// routeTable lists every route of the API and the panel. The OpenAPI test
// checks that every API route here is in openapi.json.
func (s *Server) routeTable() []route {
	api := func(method, pattern string, a access, h func(http.ResponseWriter, *http.Request, *principal)) route {
		return route{method: method, pattern: pattern, access: a, api: true, h: h}
	}
	return append([]route{
		api("GET", "/api/openapi.json", public, s.apiOpenAPI),
		api("GET", "/api/me", read, s.apiMe),
		api("PUT", "/api/me/password", self, s.apiMyPassword),

		api("GET", "/api/users", read, s.apiListUsers),
		api("POST", "/api/users", write, s.apiAddUser),
		api("GET", "/api/users/{name}", read, s.apiUser),
		api("PATCH", "/api/users/{name}", write, s.apiPatchUser),
		api("PUT", "/api/users/{name}/password", write, s.apiUserPassword),
		api("DELETE", "/api/users/{name}", write, s.apiRemoveUser),

		api("GET", "/api/groups", read, s.apiListGroups),
		api("POST", "/api/groups", write, s.apiAddGroup),
		api("GET", "/api/groups/{name}", read, s.apiGroup),
		api("DELETE", "/api/groups/{name}", write, s.apiRemoveGroup),
		api("PUT", "/api/groups/{name}/members/{user}", write, s.apiAddMember),
		api("DELETE", "/api/groups/{name}/members/{user}", write, s.apiRemoveMember),

		api("GET", "/api/urls", read, s.apiListURLs),
		api("POST", "/api/urls", write, s.apiProtect),
		api("GET", "/api/urls/{host}/{path...}", read, s.apiURL),
		api("PATCH", "/api/urls/{host}/{path...}", write, s.apiPatchURL),
		api("DELETE", "/api/urls/{host}/{path...}", write, s.apiUnprotect),
		api("POST", "/api/grants/{host}/{path...}", write, s.apiGrant),
		api("DELETE", "/api/grants/{host}/{path...}", write, s.apiRevoke),

		api("GET", "/api/tokens", read, s.apiListTokens),
		api("POST", "/api/tokens", sessionSelf, s.apiIssueToken),
		api("DELETE", "/api/tokens/{id}", self, s.apiRevokeToken),

		api("GET", "/api/audit", read, s.apiAudit),

		api("GET", "/metrics", public, s.serveHealth),
		api("GET", "/healthz", public, s.serveHealth),
		api("GET", "/readyz", public, s.serveHealth),
	}, s.panelRoutes()...)
}

// Page sizes of API listings.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// list is a page of a listing: the items and, when there are more, the
// cursor of the next page.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageOf reads ?limit= and ?cursor=.
func pageOf(r *http.Request) (limit int, after string, err error) {
	q := r.URL.Query()
	limit = defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return 0, "", invalid("limit", "a number from 1 to %d", maxLimit)
		}
		limit = n
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return 0, "", invalid("cursor", "not a cursor of this API: pass next_cursor as it was given")
		}
		after = string(b)
	}
	return limit, after, nil
}

// cursor encodes a listing position.
func cursor(after string) string { return base64.RawURLEncoding.EncodeToString([]byte(after)) }

// paged cuts items (fetched with limit+1) to limit and sets the cursor
// and a Link header to the next page.
func paged[T any](w http.ResponseWriter, r *http.Request, items []T, limit int, key func(T) string) list[T] {
	out := list[T]{Items: items}
	if out.Items == nil {
		out.Items = []T{}
	}
	if len(items) > limit {
		out.Items = items[:limit]
		out.NextCursor = cursor(key(items[limit-1]))
		q := r.URL.Query()
		q.Set("cursor", out.NextCursor)
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		w.Header().Set("Link", "<"+u.String()+`>; rel="next"`)
	}
	return out
}

// decodeJSON reads a JSON request body into v strictly: application/json,
// at most maxBody bytes, no unknown members, one value. Type errors and
// unknown members are field errors.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, kind: "unsupported-media-type", detail: "send the body as application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
		me *http.MaxBytesError
	)
	switch {
	case err == nil:
		if dec.More() {
			return &httpError{status: http.StatusBadRequest, kind: "bad-request", detail: "the body holds more than one JSON value"}
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return &httpError{status: http.StatusBadRequest, kind: "bad-request", detail: "the body holds more than one JSON value"}
		}
		return nil
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return &httpError{status: http.StatusBadRequest, kind: "bad-request", detail: "the body must be a JSON object"}
		}
		return invalid(field, "want %s", jsonKind(te.Type))
	case errors.As(err, &me):
		return &httpError{status: http.StatusRequestEntityTooLarge, kind: "too-large", detail: "the body is larger than 64 KiB"}
	case errors.As(err, &se), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &httpError{status: http.StatusBadRequest, kind: "bad-request", detail: "the body is not valid JSON"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalid(name, "unknown field")
	}
	return &httpError{status: http.StatusBadRequest, kind: "bad-request", detail: "the body could not be read: " + err.Error()}
}

// jsonKind names a Go type as JSON calls it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

// me is GET /api/me.
type me struct {
	Name     string     `json:"name"`
	Role     store.Role `json:"role"`
	ReadOnly bool       `json:"read_only"`
	Via      string     `json:"via"` // "session" or "token"
	TokenID  string     `json:"token_id,omitempty"`
	// CSRFToken is the session's token for the X-CSRF-Token header of
	// state-changing requests made with the session cookie.
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, p *principal) {
	m := me{Name: p.name, Role: p.role, ReadOnly: !p.canWrite(), Via: "token", TokenID: p.tokenID}
	if p.sess != nil {
		m.Via, m.CSRFToken = "session", p.sess.csrf
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiMyPassword(w http.ResponseWriter, r *http.Request, p *principal) {
	var in passwordChange
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	if err := s.changeOwnPassword(r, p, in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request, _ *principal) {
	limit, after, err := pageOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	users, err := s.st.ListUsers(r.Context(), store.Page{After: after, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, paged(w, r, users, limit, func(u store.User) string { return u.Name }))
}

func (s *Server) apiAddUser(w http.ResponseWriter, r *http.Request, _ *principal) {
	var in newUser
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	u, err := s.addUser(r.Context(), in)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.Header().Set("Location", "/api/users/"+url.PathEscape(u.Name))
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request, _ *principal) {
	u, err := s.st.User(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiPatchUser(w http.ResponseWriter, r *http.Request, _ *principal) {
	var in userPatch
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	u, err := s.updateUser(r.Context(), r.PathValue("name"), in)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiUserPassword(w http.ResponseWriter, r *http.Request, _ *principal) {
	var in struct {
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	if _, err := s.setUserPassword(r.Context(), r.PathValue("name"), in.Password); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiRemoveUser(w http.ResponseWriter, r *http.Request, _ *principal) {
	force, err := boolParam(r, "force")
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	if err := s.removeUser(r.Context(), r.PathValue("name"), force); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// boolParam reads a boolean query parameter ("" is false).
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid(name, "want true or false")
	}
	return b, nil
}

func (s *Server) apiListGroups(w http.ResponseWriter, r *http.Request, _ *principal) {
	limit, after, err := pageOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	groups, err := s.st.ListGroups(r.Context(), store.Page{After: after, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, paged(w, r, groups, limit, func(g store.Group) string { return g.Name }))
}

func (s *Server) apiAddGroup(w http.ResponseWriter, r *http.Request, _ *principal) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	g, err := s.addGroup(r.Context(), in.Name)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.Header().Set("Location", "/api/groups/"+url.PathEscape(g.Name))
	writeJSON(w, http.StatusCreated, g)
}

func (s *Server) apiGroup(w http.ResponseWriter, r *http.Request, _ *principal) {
	g, err := s.st.Group(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, g)
}

func (s *Server) apiRemoveGroup(w http.ResponseWriter, r *http.Request, _ *principal) {
	if err := s.st.RemoveGroup(r.Context(), r.PathValue("name")); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiAddMember(w http.ResponseWriter, r *http.Request, _ *principal) {
	if _, err := s.st.Group(r.Context(), r.PathValue("name")); err != nil {
		s.fail(w, r, true, err)
		return
	}
	if err := s.addMember(r.Context(), r.PathValue("name"), r.PathValue("user")); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiRemoveMember(w http.ResponseWriter, r *http.Request, _ *principal) {
	if err := s.st.RemoveMember(r.Context(), r.PathValue("name"), r.PathValue("user")); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiListURLs(w http.ResponseWriter, r *http.Request, _ *principal) {
	limit, after, err := pageOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	urls, err := s.st.ListURLs(r.Context(), store.Page{After: after, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, paged(w, r, urls, limit, func(u store.URL) string { return u.URLKey.String() }))
}

// anyHost stands for "every host" in the {host} segment of URL paths.
const anyHost = "*"

// keyOf reads the protected URL named by the {host} and {path...}
// segments: /api/urls/*/members is /members on every host,
// /api/urls/example.com/admin is example.com/admin.
func keyOf(r *http.Request) (store.URLKey, error) {
	host := r.PathValue("host")
	if host == anyHost {
		host = ""
	}
	return urlKey(host, "/"+r.PathValue("path"))
}

// urlPath is the API path of a protected URL.
func urlPath(prefix string, k store.URLKey) string {
	host := url.PathEscape(k.Host)
	if k.Host == "" {
		host = anyHost
	}
	segs := strings.Split(strings.TrimPrefix(k.Path, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return prefix + host + "/" + strings.Join(segs, "/")
}

func (s *Server) apiProtect(w http.ResponseWriter, r *http.Request, _ *principal) {
	var in newURL
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	u, err := s.protect(r.Context(), in)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.Header().Set("Location", urlPath("/api/urls/", u.URLKey))
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) apiURL(w http.ResponseWriter, r *http.Request, _ *principal) {
	key, err := keyOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	u, err := s.st.URL(r.Context(), key)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiPatchURL(w http.ResponseWriter, r *http.Request, _ *principal) {
	key, err := keyOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	var in urlPatch
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	u, err := s.updateURL(r.Context(), key, in)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiUnprotect(w http.ResponseWriter, r *http.Request, _ *principal) {
	key, err := keyOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	if err := s.st.Unprotect(r.Context(), key); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGrant(w http.ResponseWriter, r *http.Request, _ *principal) {
	key, err := keyOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	var in grantInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	if _, err := s.grant(r.Context(), key, in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	u, err := s.st.URL(r.Context(), key)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request, _ *principal) {
	key, err := keyOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	q := r.URL.Query()
	if _, err := s.revoke(r.Context(), key, grantInput{Kind: q.Get("kind"), Name: q.Get("name")}); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request, _ *principal) {
	q := r.URL.Query()
	ts, err := s.st.ListTokens(r.Context(), store.TokenFilter{User: q.Get("user"), Admin: q.Get("admin")})
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	if ts == nil {
		ts = []store.Token{}
	}
	writeJSON(w, http.StatusOK, list[store.Token]{Items: ts})
}

// issued is the answer of POST /api/tokens: the token with its secret,
// shown this once.
type issued struct {
	store.Token
	Secret string `json:"token"`
}

func (s *Server) apiIssueToken(w http.ResponseWriter, r *http.Request, p *principal) {
	var in newToken
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, true, err)
		return
	}
	t, secret, err := s.issueToken(r.Context(), p.name, in)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusCreated, issued{Token: t, Secret: secret})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := s.revokeToken(r.Context(), p, r.PathValue("id")); err != nil {
		s.fail(w, r, true, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// auditFilter reads the audit log's filter parameters.
func auditFilter(q url.Values) (store.AuditFilter, error) {
	f := store.AuditFilter{
		Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"),
		Client: q.Get("client"), Reason: q.Get("reason"),
	}
	var fe invalidError
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			fe = append(fe, FieldError{p.name, "an RFC 3339 time such as 2026-01-02T15:04:05Z"})
			continue
		}
		*p.t = t
	}
	if len(fe) > 0 {
		return f, fe
	}
	return f, nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, _ *principal) {
	limit, after, err := pageOf(r)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	f, err := auditFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	if after != "" {
		id, err := strconv.ParseInt(after, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, true, invalid("cursor", "not a cursor of this API: pass next_cursor as it was given"))
			return
		}
		f.BeforeID = id
	}
	f.Limit = limit + 1
	evs, err := s.st.AuditEvents(r.Context(), f)
	if err != nil {
		s.fail(w, r, true, err)
		return
	}
	writeJSON(w, http.StatusOK, paged(w, r, evs, limit, func(e store.AuditEvent) string { return strconv.FormatInt(e.ID, 10) }))
}

// serveHealth serves /metrics, /healthz and /readyz.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request, _ *principal) {
	if s.health != nil {
		s.health.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/metrics" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}
