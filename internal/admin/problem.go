package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate/internal/store"
)

// FieldError is one validation error, naming the field of the request
// (JSON member or form field) it is about.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// invalidError is a request that failed validation: 422 with the fields.
type invalidError []FieldError

func (e invalidError) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// invalid returns an invalidError for one field.
func invalid(field, format string, args ...any) error {
	return invalidError{{Field: field, Message: fmt.Sprintf(format, args...)}}
}

// fields returns the field errors of err, or nil.
func fields(err error) []FieldError {
	var ie invalidError
	if errors.As(err, &ie) {
		return ie
	}
	return nil
}

// httpError is an error with a status and a problem type.
type httpError struct {
	status int
	kind   string // the problem type's last part: urn:htgate:admin:<kind>
	detail string
	// soleAccess lists the protected URLs that only the user to remove
	// may enter (kind "sole-access").
	soleAccess []store.URL
	// retryAfter sets Retry-After (kind "too-many-requests").
	retryAfter time.Duration
}

func (e *httpError) Error() string { return e.detail }

var (
	errCSRF = &httpError{status: http.StatusForbidden, kind: "csrf",
		detail: "the request did not come from this panel's own page (missing or wrong CSRF token, or another Origin): reload the page and try again"}
	errReadOnly = &httpError{status: http.StatusForbidden, kind: "forbidden",
		detail: "your admin account (or token) is read-only: ask an admin to make the change"}
	errUnavailable = &httpError{status: http.StatusServiceUnavailable, kind: "unavailable",
		detail: "the store could not be read or written; try again, and see the server log with the reference id"}
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type       string       `json:"type"`
	Title      string       `json:"title"`
	Status     int          `json:"status"`
	Detail     string       `json:"detail,omitempty"`
	Instance   string       `json:"instance,omitempty"`
	RefID      string       `json:"ref_id,omitempty"`
	Errors     []FieldError `json:"errors,omitempty"`
	SoleAccess []store.URL  `json:"sole_access,omitempty"`
}

// classify turns any error of an operation into a status, a problem type,
// a detail for people and the field errors. Store sentinels map to 404,
// 409 and 422; anything else is an internal error, logged.
func (s *Server) classify(r *http.Request, err error) (status int, kind, detail string, fe []FieldError, sole []store.URL) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.kind, he.detail, nil, he.soleAccess
	case fields(err) != nil:
		return http.StatusUnprocessableEntity, "validation", "the request has invalid fields", fields(err), nil
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not-found", storeMessage(err), nil, nil
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, "conflict", storeMessage(err), nil, nil
	case errors.Is(err, store.ErrInvalid):
		return http.StatusUnprocessableEntity, "validation", storeMessage(err), nil, nil
	}
	s.errorf(r, err, "request failed")
	return http.StatusInternalServerError, "internal", "something went wrong on the server; the log has the details under the reference id", nil, nil
}

// storeMessage is a store error's message for people: the store's own
// wording, which names the thing, without the "store:" prefix.
func storeMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "store: ")
}

// fail answers a failed request: problem+json for the API, an HTML page
// for the panel.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, api bool, err error) {
	status, kind, detail, fe, sole := s.classify(r, err)
	var he *httpError
	if errors.As(err, &he) && he.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((he.retryAfter+time.Second-1)/time.Second)))
	}
	if !api {
		s.errorPage(w, r, status, detail)
		return
	}
	s.writeProblem(w, r, problem{
		Type: "urn:htgate:admin:" + kind, Title: http.StatusText(status), Status: status,
		Detail: detail, Errors: fe, SoleAccess: sole,
	})
}

// writeProblem writes p as application/problem+json.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p problem) {
	p.RefID = refOf(r)
	p.Instance = "urn:htgate:ref:" + p.RefID
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(p)
}

// writeJSON writes v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// apiFallback answers /api/ paths no route matches: 405 with Allow when
// the path exists with other methods, else 404.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.mux.Handler(probe); pat != "" && pat != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeProblem(w, r, problem{Type: "urn:htgate:admin:method-not-allowed", Title: http.StatusText(http.StatusMethodNotAllowed),
			Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed here; use " + strings.Join(allow, ", ")})
		return
	}
	s.writeProblem(w, r, problem{Type: "urn:htgate:admin:not-found", Title: http.StatusText(http.StatusNotFound),
		Status: http.StatusNotFound, Detail: "no such API endpoint; see /api/openapi.json"})
}
