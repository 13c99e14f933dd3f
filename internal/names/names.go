package names

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/secure/precis"
)

// ErrInvalid is wrapped by every error of User and Group: the name is not
// allowed by RFC 8265 (empty, white space, control or symbol characters,
// mixed directions) or by htgate (a colon, longer than MaxLen bytes).
var ErrInvalid = errors.New("invalid name")

// MaxLen is the longest name, in bytes after normalisation.
const MaxLen = 256

// User returns the canonical form of a user name: RFC 8265 UsernameCaseMapped
// (width mapping, lower case, NFC, the IdentifierClass repertoire), and in
// addition no ':' (it separates the user from the password in Basic
// credentials, RFC 7617, and the user from the hash in htpasswd files) and
// at most MaxLen bytes. Canonical names are fixed points: User(User(s)) ==
// User(s).
//
// Names of lower-case ASCII letters, digits, '.', '-' and '_' are returned as
// they are without running the PRECIS machinery, which keeps the request
// path cheap for the common case.
func User(s string) (string, error) {
	return canonical("user", s)
}

// Group returns the canonical form of a group name, with the same rules as
// User.
func Group(s string) (string, error) {
	return canonical("group", s)
}

func canonical(kind, s string) (string, error) {
	if fastPath(s) {
		return s, nil
	}
	if s == "" {
		return "", fmt.Errorf("%w: empty %s name", ErrInvalid, kind)
	}
	if len(s) > 4*MaxLen {
		return "", fmt.Errorf("%w: %s name longer than %d bytes", ErrInvalid, kind, MaxLen)
	}
	if strings.IndexByte(s, ':') >= 0 {
		return "", fmt.Errorf("%w: %s name %q contains ':'", ErrInvalid, kind, s)
	}
	out, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", fmt.Errorf("%w: %s name %q is not allowed by RFC 8265 (letters, digits and symbols without spaces): %v", ErrInvalid, kind, s, err)
	}
	if out == "" {
		return "", fmt.Errorf("%w: empty %s name", ErrInvalid, kind)
	}
	if len(out) > MaxLen {
		return "", fmt.Errorf("%w: %s name longer than %d bytes", ErrInvalid, kind, MaxLen)
	}
	if strings.IndexByte(out, ':') >= 0 {
		// Width mapping turns U+FF1A FULLWIDTH COLON into ':'.
		return "", fmt.Errorf("%w: %s name %q contains ':'", ErrInvalid, kind, s)
	}
	return out, nil
}

// fastPath reports whether s is a non-empty name made only of characters
// that UsernameCaseMapped leaves unchanged and that need no context rule.
func fastPath(s string) bool {
	if s == "" || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
