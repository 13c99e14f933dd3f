package scheme

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/htgate/htgate"
)

// Errors of ParseBasic. The gateway answers every one of them with a 401 and
// the rule's challenges (reason logon_failed), never with a 400 or a 500.
var (
	// ErrNotBasic means the credentials are not of the Basic scheme (or have
	// no recognisable scheme at all).
	ErrNotBasic = errors.New("scheme: not Basic credentials")
	// ErrMalformed means Basic credentials that do not follow RFC 7617. The
	// returned error is a *MalformedError that matches ErrMalformed with
	// errors.Is and says what was wrong.
	ErrMalformed = errors.New("scheme: malformed credentials")
)

// MalformedError says why credentials were refused. Detail is a fixed phrase
// such as "invalid base64"; it never quotes the credentials.
type MalformedError struct {
	Scheme string // "basic"
	Detail string
}

// Error implements error.
func (e *MalformedError) Error() string {
	return "scheme: malformed " + e.Scheme + " credentials: " + e.Detail
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformedBasic(detail string) error {
	return &MalformedError{Scheme: Basic, Detail: detail}
}

// BasicCredentials are the user-id and password of Basic credentials. User
// never contains ':'; Password may.
type BasicCredentials struct {
	User     string
	Password string
}

// basicStackSize is the decoded length up to which ParseBasic decodes on
// the stack, so that the only allocation is the string holding user and
// password.
const basicStackSize = 256

// ParseBasic parses an Authorization (or Proxy-Authorization) value of the
// Basic scheme, RFC 7617:
//
//   - the scheme name is case-insensitive, followed by one or more SP or
//     HTAB; leading and trailing whitespace is ignored;
//   - the token68 is strict standard base64 (RFC 4648 §4) with the padding
//     browsers send: no URL-safe alphabet, no missing padding, no embedded
//     whitespace or line breaks, no non-zero padding bits, no trailing data;
//   - the decoded user-pass must contain a ':'; the user-id is what comes
//     before the first one and must not be empty; the password is the rest
//     and may be empty or contain ':';
//   - user-id and password must be valid UTF-8 (charset="UTF-8") and
//     contain no control character: C0 (NUL included, which Apache would
//     silently truncate at), DEL or C1.
//
// A value of another scheme returns ErrNotBasic; anything else wrong returns
// a *MalformedError (errors.Is(err, ErrMalformed)). Errors never contain the
// credentials.
func ParseBasic(header string) (BasicCredentials, error) {
	tok, rest, ok := cutScheme(header)
	if !ok || !strings.EqualFold(tok, Basic) {
		return BasicCredentials{}, ErrNotBasic
	}
	if rest == "" {
		return BasicCredentials{}, malformedBasic("missing token")
	}
	// Check the alphabet ourselves: encoding/base64 skips CR and LF even in
	// strict mode, and we want a precise reason.
	pad := 0
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '=':
			pad++
		case pad > 0:
			return BasicCredentials{}, malformedBasic("data after base64 padding")
		case isBase64Std(c):
		case c == ' ' || c == '\t':
			return BasicCredentials{}, malformedBasic("whitespace inside base64")
		case c == '-' || c == '_':
			return BasicCredentials{}, malformedBasic("URL-safe base64 alphabet")
		default:
			return BasicCredentials{}, malformedBasic("invalid base64 character")
		}
	}
	if pad > 2 {
		return BasicCredentials{}, malformedBasic("invalid base64 padding")
	}
	if len(rest)%4 != 0 {
		return BasicCredentials{}, malformedBasic("invalid base64 length")
	}

	var stack [basicStackSize]byte
	var buf []byte
	if n := len(rest) / 4 * 3; n <= len(stack) {
		buf = stack[:n]
	} else {
		buf = make([]byte, n)
	}
	n, ok := decodeBase64(buf, rest, pad)
	if !ok {
		return BasicCredentials{}, malformedBasic("non-canonical base64 padding bits")
	}
	buf = buf[:n]

	colon := -1
	for i, c := range buf {
		if c == ':' {
			colon = i
			break
		}
	}
	switch {
	case colon < 0:
		return BasicCredentials{}, malformedBasic("missing colon between user-id and password")
	case colon == 0:
		return BasicCredentials{}, malformedBasic("empty user-id")
	}
	if d := checkText(buf[:colon]); d != "" {
		return BasicCredentials{}, malformedBasic(d + " in user-id")
	}
	if d := checkText(buf[colon+1:]); d != "" {
		return BasicCredentials{}, malformedBasic(d + " in password")
	}
	s := string(buf)
	return BasicCredentials{User: s[:colon], Password: s[colon+1:]}, nil
}

// checkText returns why b is not acceptable as a user-id or password, or ""
// when it is: it must be valid UTF-8 without control characters.
func checkText(b []byte) string {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return "control character"
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return "invalid UTF-8"
		}
		if r >= 0x80 && r <= 0x9f {
			return "control character"
		}
		i += size
	}
	return ""
}

// decodeBase64 decodes src, already checked to be standard-alphabet base64
// of a length multiple of four ending in pad '=' characters, into dst (at
// least len(src)/4*3 long). ok is false when the bits discarded by the
// padding are not zero (RFC 4648 §3.5 canonical encoding).
func decodeBase64(dst []byte, src string, pad int) (n int, ok bool) {
	for i := 0; i < len(src); i += 4 {
		var v uint32
		for j := range 4 {
			v = v<<6 | uint32(base64Value(src[i+j]))
		}
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	switch pad {
	case 1:
		ok = dst[n-1] == 0
	case 2:
		ok = dst[n-1] == 0 && dst[n-2] == 0
	default:
		ok = true
	}
	return n - pad, ok
}

// base64Value is the value of a standard base64 character; '=' counts 0.
func base64Value(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return 0
}

func isBase64Std(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// BasicChallenge returns the Basic challenge of RFC 7617 for realm, with
// charset="UTF-8" to tell the client how to encode user-id and password:
//
//	Basic realm="...", charset="UTF-8"
func BasicChallenge(realm string) htgate.Challenge {
	return htgate.Challenge{
		Scheme: "Basic",
		Params: []htgate.Param{
			{Name: "realm", Value: realm},
			{Name: "charset", Value: "UTF-8"},
		},
	}
}
