// Package scheme parses the credentials a client presents in an
// Authorization or Proxy-Authorization header and produces the challenge
// values the responder sends back. It owns the wire format of each scheme
// (Basic, Digest and Bearer, with the format of htgate's tokens), and for
// Digest also the protocol's arithmetic: the request-digest of RFC 7616
// and the server nonces, which carry their issue time and are
// authenticated with a server secret. It does not own the secrets
// themselves (passwords, H(A1) values), which belong to the credential
// sources.
//
// Every parse error is a sentinel (or wraps one) so that the gateway can
// answer any of them with a 401 and the rule's challenges, never with a 400
// or a 500. Errors never quote the header value: it carries a secret.
//
// It imports the standard library and the root htgate package only.
package scheme
