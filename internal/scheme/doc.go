// Package scheme parses the credentials a client presents in an
// Authorization or Proxy-Authorization header and produces the challenge
// values the responder sends back. It owns the wire format of each scheme
// (Basic now; Digest, Bearer and the session cookie later), not the
// verification of secrets, which belongs to the credential sources.
//
// Every parse error is a sentinel (or wraps one) so that the gateway can
// answer any of them with a 401 and the rule's challenges, never with a 400
// or a 500. Errors never quote the header value: it carries a secret.
//
// It imports the standard library and the root htgate package only.
package scheme
