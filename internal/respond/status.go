package respond

import (
	"net/http"

	"github.com/htgate/htgate"
)

// StatusFor returns the HTTP status that normally answers reason:
// 401 for missing or failed credentials and for expired or revoked tokens,
// 403 for config_denied, acl_denied and insufficient_scope, 429 for
// locked_out and too_many_requests, 404 for not_found, 400, 431, 405, 502 and 500 for the
// others. It returns 200 for htgate.ReasonNone and 500 for a reason it does
// not know. The gateway normally sets Decision.Status itself; Refuse uses
// StatusFor only when the Decision has no status.
func StatusFor(reason htgate.Reason) int {
	if reason == htgate.ReasonNone {
		return http.StatusOK
	}
	if s, ok := statusOf(reason); ok {
		return s
	}
	return http.StatusInternalServerError
}

// statusOf is StatusFor for the reasons this package knows.
func statusOf(reason htgate.Reason) (int, bool) {
	switch reason {
	case htgate.ReasonCredentialsMissing, htgate.ReasonLogonFailed,
		htgate.ReasonTokenExpired, htgate.ReasonTokenRevoked:
		return http.StatusUnauthorized, true
	case htgate.ReasonConfigDenied, htgate.ReasonACLDenied, htgate.ReasonInsufficientScope:
		return http.StatusForbidden, true
	case htgate.ReasonLockedOut, htgate.ReasonTooManyRequests:
		return http.StatusTooManyRequests, true
	case htgate.ReasonBadRequest:
		return http.StatusBadRequest, true
	case htgate.ReasonHeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge, true
	case htgate.ReasonMethodNotAllowed:
		return http.StatusMethodNotAllowed, true
	case htgate.ReasonUpstreamUnavailable:
		return http.StatusBadGateway, true
	case htgate.ReasonServerError:
		return http.StatusInternalServerError, true
	case htgate.ReasonNotFound:
		return http.StatusNotFound, true
	}
	return 0, false
}
