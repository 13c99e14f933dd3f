// Package respond owns every refusal the gateway sends: the status, the
// WWW-Authenticate (or, as a forward proxy, Proxy-Authenticate) challenges,
// Retry-After, the caching and security headers, content negotiation
// between an HTML page for browsers, an RFC 9457 problem+json body for API
// clients and a short text/plain message for everything else, and the
// localisation of all three by Accept-Language.
//
// It reads an htgate.Decision and writes nothing it was not given: the
// Decision carries no password, token or Authorization value, so none can
// reach a page, a body or a log line. The mapping from reason codes to HTTP
// statuses (StatusFor) lives here and only here.
//
// # What the client learns
//
// Every reason code of package htgate (credentials_missing, logon_failed,
// config_denied, acl_denied, locked_out, too_many_requests, token_expired,
// token_revoked, insufficient_scope, bad_request, headers_too_large,
// method_not_allowed, upstream_unavailable, server_error) is safe to show to
// the client as a code, and is shown: in the "reason" member of
// problem+json and on the HTML page. They are safe because the codes are
// coarse by construction: an unknown user, a wrong password and malformed
// credentials are all logon_failed, so no response distinguishes them or
// tells which user names exist, and a lockout reads the same whether it was
// earned by an account or by a client address. A reason this package does
// not know (a code added later without a message) is answered with a
// generic message and no code, so a new internal code never leaks by
// accident.
//
// # Problem details
//
// The problem+json "type" is the URN ProblemTypePrefix + reason, for
// example "urn:htgate:problem:logon_failed"; it is a stable identifier to
// compare, not a document to fetch. Unknown reasons get "about:blank". The
// "instance" is InstancePrefix + the reference id, for example
// "urn:htgate:ref:01J9Z3..."; the bare reference id is also in the
// "ref_id" extension member and in the X-Request-Id header.
//
// # Messages and templates
//
// Messages live in embedded JSON catalogs, one per language (messages/en.json,
// messages/ru.json); a language is added by dropping <tag>.json into
// Options.TemplatesDir/messages/. The HTML page is one embedded
// html/template (templates/page.html) with its stylesheet
// (templates/style.css); both can be overridden from Options.TemplatesDir.
// See Options for the details.
//
// Package respond imports htgate, the standard library and golang.org/x/text.
package respond
