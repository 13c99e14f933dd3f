// Package probe is the client-side troubleshooter behind "htgate probe URL":
// it requests a URL the way a client would, follows redirects itself
// (recording each hop and detecting loops), parses every WWW-Authenticate
// and Proxy-Authenticate challenge per RFC 9110 §11, records TLS facts,
// optionally retries with credentials (Basic, Digest per RFC 7616, or a
// Bearer token), and turns what it saw into findings, each with a stable
// id, a severity and a fix hint written for the person running it.
//
// It works against any site, not just htgate, so it has its own challenge
// grammar (ParseChallenges) and its own Digest client. It never sends
// credentials or the caller's Authorization and Cookie headers to a host
// other than the one it was asked to probe, and no password, token or
// Authorization value ever appears in a Report.
//
// Package probe imports the standard library and the root package htgate
// only; it never imports gateway, store or scheme.
package probe
