// Package gateway is the request path of DESIGN §2 as an http.Handler: one
// file per step (limits, normalize, clientip, match, guard, authn, authz,
// forward) and one htgate.Decision that travels through and records why.
// It imports policy, scheme, passwd, respond and upstream, and the state
// and guard interfaces it is given implementations of; it never imports a
// store or state driver.
package gateway
