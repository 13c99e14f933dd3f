package store

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/htgate/htgate/internal/names"
	"github.com/htgate/htgate/internal/passwd"
)

// Limits of free-text fields, in bytes.
const (
	MaxPathLen  = 2048
	MaxTextLen  = 256 // display names, realms, token names
	MaxScopeLen = 128
)

// UserName returns the canonical form of a user or admin name, or an error
// wrapping ErrInvalid (and names.ErrInvalid).
func UserName(s string) (string, error) {
	n, err := names.User(s)
	if err != nil {
		return "", invalidError{err}
	}
	return n, nil
}

// invalidError is an error of another package that also means ErrInvalid;
// its message is the other error's.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// GroupName returns the canonical form of a group name, or an error
// wrapping ErrInvalid.
func GroupName(s string) (string, error) {
	n, err := names.Group(s)
	if err != nil {
		return "", invalidError{err}
	}
	return n, nil
}

// CanonicalURLKey checks a protected URL's host and path and returns them
// canonical: the host lower-cased without a trailing dot, the path without
// a trailing "/" (except "/"). A path must start with "/" and have no
// empty or dot segments, no ";", "?", "#", "\" or control characters: it
// is compared with the gateway's canonical request paths. A host has no
// port and only letters, digits, '-', '.', '_' (an internationalised name
// in its xn-- form), or is a bracketed IPv6 literal.
func CanonicalURLKey(k URLKey) (URLKey, error) {
	p, err := canonicalPath(k.Path)
	if err != nil {
		return URLKey{}, err
	}
	h, err := canonicalHost(k.Host)
	if err != nil {
		return URLKey{}, err
	}
	return URLKey{Host: h, Path: p}, nil
}

func canonicalPath(p string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: path %q: %s", ErrInvalid, p, why)
	}
	switch {
	case !strings.HasPrefix(p, "/"):
		return bad(`must start with "/"`)
	case len(p) > MaxPathLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxPathLen))
	case !utf8.ValidString(p):
		return bad("not valid UTF-8")
	}
	for _, r := range p {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return bad("contains a control character")
		case r == '?' || r == '#':
			return bad("contains a query or fragment")
		case r == ';':
			return bad(`contains ";"`)
		case r == '\\':
			return bad(`contains "\"`)
		case r == '%':
			return bad(`contains "%": give the path decoded, as the gateway compares it`)
		}
	}
	if p == "/" {
		return p, nil
	}
	trimmed := strings.TrimSuffix(p, "/")
	for _, s := range strings.Split(trimmed[1:], "/") {
		switch s {
		case "":
			return bad(`contains "//"`)
		case ".", "..":
			return bad("contains a dot segment")
		}
	}
	return trimmed, nil
}

func canonicalHost(h string) (string, error) {
	if h == "" {
		return "", nil
	}
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: host %q: %s", ErrInvalid, h, why)
	}
	c := strings.TrimSuffix(strings.ToLower(h), ".")
	switch {
	case c == "":
		return bad("empty")
	case len(c) > 253+2:
		return bad("too long")
	case c[0] == '[':
		if c[len(c)-1] != ']' || strings.Count(c, "]") != 1 || len(c) < 4 {
			return bad("not a bracketed IPv6 literal (no port allowed)")
		}
		for i := 1; i < len(c)-1; i++ {
			if !isHex(c[i]) && c[i] != ':' && c[i] != '.' {
				return bad("not a bracketed IPv6 literal")
			}
		}
		return c, nil
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		switch {
		case 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '.', b == '_':
		case b == ':':
			return bad("has a port (protected URLs match any port)")
		case b >= utf8.RuneSelf:
			return bad("not ASCII (write an internationalised name in its xn-- form)")
		default:
			return bad("invalid character")
		}
	}
	return c, nil
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f'
}

// Schemes accepted in URL.Schemes, in the order listings show them.
var knownSchemes = []string{SchemeBasic, SchemeDigest, SchemeBearer, SchemeForm}

// CanonicalSchemes lower-cases and checks a scheme list, dropping
// duplicates; an empty list means ["basic"]. An unknown scheme is
// ErrInvalid.
func CanonicalSchemes(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if !slices.Contains(knownSchemes, s) {
			return nil, fmt.Errorf("%w: scheme %q: want basic, digest, bearer or form", ErrInvalid, s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = append(out, SchemeBasic)
	}
	return out, nil
}

// CheckText checks a one-line free-text field (a display name, realm or
// token name): valid UTF-8, no control characters, at most MaxTextLen
// bytes. field names it in the error.
func CheckText(field, s string) error {
	if len(s) > MaxTextLen {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalid, field, MaxTextLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, field)
		}
	}
	return nil
}

// CheckHash checks a password hash: "" (no password) or a hash that
// passwd.Check accepts (a known format within the cost limits).
func CheckHash(hash string) error {
	if hash == "" {
		return nil
	}
	if err := passwd.Check(hash); err != nil {
		return fmt.Errorf("%w: password hash: %w", ErrInvalid, err)
	}
	return nil
}

// CheckHA1 checks an htdigest secret and returns its algorithm: 32
// lower-case hex digits are DigestMD5, 64 DigestSHA256. algorithm, when
// not "", must agree.
func CheckHA1(algorithm, ha1 string) (string, error) {
	want := ""
	switch len(ha1) {
	case 32:
		want = DigestMD5
	case 64:
		want = DigestSHA256
	default:
		return "", fmt.Errorf("%w: htdigest hash: want 32 (MD5) or 64 (SHA-256) hex digits", ErrInvalid)
	}
	if _, err := hex.DecodeString(ha1); err != nil || strings.ToLower(ha1) != ha1 {
		return "", fmt.Errorf("%w: htdigest hash: want lower-case hex digits", ErrInvalid)
	}
	if algorithm != "" && algorithm != want {
		return "", fmt.Errorf("%w: htdigest hash: %d hex digits is not %s", ErrInvalid, len(ha1), algorithm)
	}
	return want, nil
}

// CheckTokenHash checks a token hash: 64 lower-case hex digits (SHA-256).
func CheckTokenHash(h string) error {
	if len(h) != 64 || strings.ToLower(h) != h {
		return fmt.Errorf("%w: token hash: want 64 lower-case hex digits (SHA-256)", ErrInvalid)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return fmt.Errorf("%w: token hash: want 64 lower-case hex digits (SHA-256)", ErrInvalid)
	}
	return nil
}

// CheckScopes checks token scopes: tokens of printable ASCII without
// spaces, at most MaxScopeLen bytes each.
func CheckScopes(scopes []string) error {
	for _, s := range scopes {
		if s == "" || len(s) > MaxScopeLen {
			return fmt.Errorf("%w: scope %q: empty or too long", ErrInvalid, s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\' {
				return fmt.Errorf("%w: scope %q: printable ASCII without spaces, quotes or backslashes", ErrInvalid, s)
			}
		}
	}
	return nil
}

// CheckRole checks an admin role; "" means RoleAdmin.
func CheckRole(r Role) (Role, error) {
	switch r {
	case "":
		return RoleAdmin, nil
	case RoleAdmin, RoleViewer:
		return r, nil
	}
	return "", fmt.Errorf("%w: role %q: want admin or viewer", ErrInvalid, r)
}
