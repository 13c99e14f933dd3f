package scheme

import (
	"errors"
	"net/http"
	"strings"
)

// ErrMultipleCredentials is returned by Credentials when the request carries
// more than one Authorization (or Proxy-Authorization) field line. Which one
// counts would depend on the hop that reads it, so htgate refuses them all.
var ErrMultipleCredentials = errors.New("scheme: more than one credentials header")

// Credentials returns the single value of the credentials field name
// ("Authorization" or "Proxy-Authorization") of h. A missing field is not an
// error: it returns "" and nil, and the caller decides that credentials are
// missing. More than one field line returns ErrMultipleCredentials.
func Credentials(h http.Header, name string) (value string, err error) {
	v := h.Values(name)
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", ErrMultipleCredentials
	}
}

// ParseAuthorization splits a credentials value (RFC 9110 §11.4) into its
// auth-scheme, lower-cased, and the rest that follows one or more SP or HTAB,
// with trailing whitespace removed. Leading whitespace is skipped. It returns
// two empty strings when the value does not start with a token or when the
// token is followed by something other than whitespace (for example
// "Basic:abc"). It validates nothing of the rest: that is the scheme's job.
//
// The lower-cased scheme is one of the constants below when it is a known
// scheme, so that the common case does not allocate.
func ParseAuthorization(header string) (scheme, rest string) {
	tok, rest, ok := cutScheme(header)
	if !ok {
		return "", ""
	}
	return lowerScheme(tok), rest
}

// Known auth-scheme names as ParseAuthorization returns them.
const (
	Basic     = "basic"
	Digest    = "digest"
	Bearer    = "bearer"
	Negotiate = "negotiate"
	NTLM      = "ntlm"
)

// lowerScheme lower-cases an auth-scheme token without allocating for the
// schemes htgate knows.
func lowerScheme(tok string) string {
	for _, s := range [...]string{Basic, Digest, Bearer, Negotiate, NTLM} {
		if strings.EqualFold(tok, s) {
			return s
		}
	}
	return strings.ToLower(tok)
}

// cutScheme returns the auth-scheme token of v and what follows the
// whitespace after it, trailing whitespace trimmed. ok is false when v does
// not start with a token or the token is not followed by whitespace or the
// end of the value.
func cutScheme(v string) (tok, rest string, ok bool) {
	i := 0
	for i < len(v) && isWS(v[i]) {
		i++
	}
	start := i
	for i < len(v) && isTchar(v[i]) {
		i++
	}
	if i == start {
		return "", "", false
	}
	tok = v[start:i]
	if i < len(v) && !isWS(v[i]) {
		return "", "", false
	}
	for i < len(v) && isWS(v[i]) {
		i++
	}
	end := len(v)
	for end > i && isWS(v[end-1]) {
		end--
	}
	return tok, v[i:end], true
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

// isTchar reports whether c is a tchar of RFC 9110 §5.6.2.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
