// Package gateway is the request path of DESIGN §2 as an http.Handler: one
// file per step (limits, normalize, clientip, match, guard, authn, authz,
// forward) and one htgate.Decision that travels through and records why.
// Besides Basic and Digest, authn accepts Bearer tokens (bearer.go, looked
// up by SHA-256 in a TokenSource) and form-login sessions (form.go: the
// login and logout endpoints under ReservedPrefix, sessions in a
// state.Sessions under the SHA-256 of their ids). The same decision steps
// also answer nginx, Caddy and Traefik through the forward-auth endpoint
// (verify.go) and, with Options.ProxyAuth, a forward proxy's requests
// (forwardproxy.go).
// It imports policy, scheme, passwd, respond and upstream, and the state
// and guard interfaces it is given implementations of; it never imports a
// store or state driver.
package gateway
