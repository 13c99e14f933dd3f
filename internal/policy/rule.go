package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/htgate/htgate"
)

// Rule protects every path under Path (on Host, if set).
type Rule struct {
	// ID names the rule in logs and explain.
	ID string
	// Origin says where the rule was defined, e.g. "htgate.yaml rules[1]".
	Origin string
	// Host restricts the rule to one host: a lower-case name or bracketed
	// IPv6 literal without port, compared exactly (case-insensitively, port
	// and trailing dot of the request's host removed). Empty means any host.
	Host string
	// Path is the canonical path prefix the rule protects, matched by whole
	// segments: "/members" and "/members/" both protect "/members",
	// "/members/" and "/members/x", but not "/membership". "/" protects
	// everything.
	Path string
	// Realm is the realm of the challenges.
	Realm string
	// Schemes lists the accepted authentication schemes, lower-case, e.g.
	// ["basic"].
	Schemes []string
	// Source is the key of the credential source, e.g. an htpasswd path.
	Source string
	// GroupSource is the key of the group source, or empty.
	GroupSource string
	// Require says who may enter. The zero Expr is "valid-user".
	Require Expr
	// PassAuthorization forwards the client's Authorization header upstream.
	PassAuthorization bool

	// DigestSource is the key of the rule's Digest credential source (an
	// htdigest file path) in the gateway's Policy.Digests. Required when
	// Schemes contains "digest"; Source is then only for "basic".
	DigestSource string
	// DigestAlgorithms lists the Digest algorithms offered and accepted, in
	// order of preference, each one of DigestAlgorithmNames ("SHA-256",
	// "SHA-256-sess", "MD5", "MD5-sess"; canonical spelling). Empty: for
	// Apache rules "MD5" (AuthDigestAlgorithm's default); for htgate's own
	// rules the algorithms the source can verify for every user of the
	// realm, SHA-256 before MD5 (an htdigest file written by Apache's tool
	// holds MD5 only).
	DigestAlgorithms []string
	// DigestQop lists the accepted qop values: "auth" (the default when
	// empty) and/or "none", which also accepts RFC 2069 responses without
	// qop, nc and cnonce (MD5 only; Apache's AuthDigestQop none). "auth-int"
	// is not supported.
	DigestQop []string
	// NonceLifetime is how long a Digest nonce is accepted after it was
	// issued. Zero means DefaultNonceLifetime (Apache's
	// AuthDigestNonceLifetime default, 300 s); a negative value, Apache's
	// "never expires", means MaxNonceLifetime.
	NonceLifetime time.Duration
	// DigestDomain lists the URIs of the protection space sent as the
	// Digest challenge's domain parameter (AuthDigestDomain), in order.
	DigestDomain []string
	// Apache makes the rule answer the way Apache httpd 2.4 does where
	// htgate's own rules differ; the .htaccess loader sets it. For Digest:
	// the challenge is mod_auth_digest's (one challenge, algorithm from
	// DigestAlgorithms[0], no opaque unless the client sent a foreign one,
	// no charset, no userhash), and userhash credentials are refused.
	Apache bool

	// ref is the reference a Table makes once for its copy of the rule.
	ref *htgate.RuleRef
}

// Digest algorithm names as DigestAlgorithms holds them (RFC 7616 §6.1).
const (
	DigestMD5        = "MD5"
	DigestMD5Sess    = "MD5-sess"
	DigestSHA256     = "SHA-256"
	DigestSHA256Sess = "SHA-256-sess"
)

// DigestAlgorithmNames are the Digest algorithms htgate implements, in its
// order of preference.
var DigestAlgorithmNames = []string{DigestSHA256, DigestSHA256Sess, DigestMD5, DigestMD5Sess}

// CanonicalDigestAlgorithm returns the canonical spelling of a Digest
// algorithm name, compared case-insensitively, and false for an unknown one.
func CanonicalDigestAlgorithm(name string) (string, bool) {
	for _, a := range DigestAlgorithmNames {
		if strings.EqualFold(a, name) {
			return a, true
		}
	}
	return "", false
}

// Nonce lifetimes of Digest rules.
const (
	// DefaultNonceLifetime is the lifetime of a rule whose NonceLifetime
	// is zero: Apache's default.
	DefaultNonceLifetime = 300 * time.Second
	// MaxNonceLifetime bounds every nonce's lifetime, "never expires"
	// included, so that the nonce-count records that protect against
	// replay never need to outlive it.
	MaxNonceLifetime = 24 * time.Hour
)

// EffectiveNonceLifetime is the lifetime nonces of the rule really have.
func (r *Rule) EffectiveNonceLifetime() time.Duration {
	switch {
	case r.NonceLifetime == 0:
		return DefaultNonceLifetime
	case r.NonceLifetime < 0 || r.NonceLifetime > MaxNonceLifetime:
		return MaxNonceLifetime
	}
	return r.NonceLifetime
}

// HasScheme reports whether the rule accepts the scheme (lower-case name).
// A rule that lists no scheme accepts Basic.
func (r *Rule) HasScheme(name string) bool {
	if len(r.Schemes) == 0 {
		return name == "basic"
	}
	for _, s := range r.Schemes {
		if s == name {
			return true
		}
	}
	return false
}

// Ref returns the reference of the rule a Decision carries; nil for a nil
// rule. A rule in a Table returns the one reference the Table made for it
// (callers must not modify it); any other rule gets a new one.
func (r *Rule) Ref() *htgate.RuleRef {
	if r == nil {
		return nil
	}
	if r.ref != nil {
		return r.ref
	}
	return &htgate.RuleRef{ID: r.ID, Origin: r.Origin, Host: r.Host, Path: r.Path, Realm: r.Realm}
}

// Errors of NewTable, each wrapped in a *RuleError.
var (
	ErrDuplicateRule = errors.New("another rule has the same host and path")
	ErrInvalidPath   = errors.New("invalid path")
	ErrInvalidHost   = errors.New("invalid host")
)

// RuleError is a problem with the rule at Index of the slice given to
// NewTable. Err wraps ErrDuplicateRule, ErrInvalidPath, ErrInvalidHost or
// ErrInvalidRequire.
type RuleError struct {
	Index  int
	ID     string
	Origin string
	Err    error
}

// Error implements error.
func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString("rule ")
	if e.Origin != "" {
		b.WriteString(e.Origin)
	} else {
		b.WriteString("#" + strconv.Itoa(e.Index))
	}
	if e.ID != "" {
		b.WriteString(" (" + e.ID + ")")
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns Err.
func (e *RuleError) Unwrap() error { return e.Err }

// checkPath validates a rule path and returns its segments.
func checkPath(p string) ([]string, error) {
	bad := func(why string) ([]string, error) {
		return nil, fmt.Errorf("%w %q: %s", ErrInvalidPath, p, why)
	}
	if !strings.HasPrefix(p, "/") {
		return bad(`does not start with "/"`)
	}
	if !utf8.ValidString(p) {
		return bad("not valid UTF-8")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return bad("contains a control character")
		}
		switch r {
		case '?', '#':
			return bad("contains a query or fragment")
		case ';':
			return bad(`contains ";" (path parameters are ignored when matching)`)
		case '\\':
			return bad(`contains "\"`)
		}
	}
	if strings.Contains(p, "//") {
		return bad(`contains "//"`)
	}
	trimmed := strings.TrimSuffix(p[1:], "/")
	if trimmed == "" {
		return nil, nil
	}
	segs := strings.Split(trimmed, "/")
	for _, s := range segs {
		switch s {
		case "":
			return bad(`contains "//"`)
		case ".", "..":
			return bad("contains a dot segment")
		}
	}
	return segs, nil
}

// canonicalHost validates a rule host and returns it lower-cased without a
// trailing dot.
func canonicalHost(h string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrInvalidHost, h, why)
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" {
		return bad("empty")
	}
	if h[0] == '[' {
		if h[len(h)-1] != ']' || strings.Count(h, "]") != 1 {
			return bad("not a bracketed IPv6 literal (no port allowed)")
		}
		return h, nil
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_':
		case c == ':':
			return bad("has a port (rules match any port)")
		case c >= utf8.RuneSelf:
			return bad("not ASCII (write an internationalised name in its xn-- form)")
		default:
			return bad("invalid character")
		}
	}
	return h, nil
}
