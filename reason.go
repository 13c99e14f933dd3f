package htgate

// Reason is a stable, machine-readable code for the outcome of a request.
// It is always written to the audit and access logs and shown by explain;
// it reaches the client only as far as it is safe (see respond).
type Reason string

// Reason codes. The empty Reason means the request was allowed.
const (
	ReasonNone                Reason = ""
	ReasonCredentialsMissing  Reason = "credentials_missing"  // 401: the rule needs credentials and none were sent
	ReasonLogonFailed         Reason = "logon_failed"         // 401.1: unknown user, wrong password or malformed credentials
	ReasonConfigDenied        Reason = "config_denied"        // 401.2 / 403: the configuration refuses everyone here
	ReasonACLDenied           Reason = "acl_denied"           // 403: the user is known but not allowed
	ReasonLockedOut           Reason = "locked_out"           // 401: the account is locked by an administrator (only said when the password is right)
	ReasonTooManyRequests     Reason = "too_many_requests"    // 429: per-client rate or concurrency limit
	ReasonTokenExpired        Reason = "token_expired"        // 401: Bearer token past its expiry
	ReasonTokenRevoked        Reason = "token_revoked"        // 401: Bearer token revoked
	ReasonInsufficientScope   Reason = "insufficient_scope"   // 403: Bearer token valid but not for this URL
	ReasonBadRequest          Reason = "bad_request"          // 400: ambiguous or malformed request target or framing
	ReasonHeadersTooLarge     Reason = "headers_too_large"    // 431: a header field or the header block is too large
	ReasonMethodNotAllowed    Reason = "method_not_allowed"   // 405: a method htgate refuses everywhere (TRACE)
	ReasonUpstreamUnavailable Reason = "upstream_unavailable" // 502: the upstream could not be reached
	ReasonServerError         Reason = "server_error"         // 500: htgate could not decide (e.g. unreadable credential file)
	ReasonNotFound            Reason = "not_found"            // 404: the docroot has no such file
)

// Allowed reports whether r is the reason of an allowed request.
func (r Reason) Allowed() bool { return r == ReasonNone }
