package upstream

import (
	"fmt"
	"net/http"
	"strings"
)

// Header names htgate sets on the outgoing request.
const (
	headerRemoteUser      = "Remote-User"
	headerXRemoteUser     = "X-Remote-User"
	headerXForwardedUser  = "X-Forwarded-User"
	headerRemoteGroups    = "Remote-Groups"
	headerRequestID       = "X-Request-Id"
	headerRealIP          = "X-Real-Ip"
	headerXForwardedFor   = "X-Forwarded-For"
	headerAuthorization   = "Authorization"
	headerProxyAuthz      = "Proxy-Authorization"
	headerXOriginalURL    = "X-Original-Url"
	headerXRewriteURL     = "X-Rewrite-Url"
	headerForwarded       = "Forwarded"
	prefixXForwarded      = "X-Forwarded-"
	prefixRemote          = "Remote-"
	prefixXRemote         = "X-Remote-"
	prefixXOriginal       = "X-Original-"
	maxHeaderNameLenGuard = 256
)

// foldByte maps a header-name byte to its folded form: ASCII letters to
// lower case, digits kept, every other byte to '-'. Two names that fold to
// the same string are one header to a CGI, PHP or WSGI upstream, which turn
// both '-' and '_' (and, in Apache's http2env, any other non-alphanumeric
// byte) into '_'.
func foldByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return c
	default:
		return '-'
	}
}

// foldName returns the folded form of a header name (see foldByte), with
// surrounding spaces and tabs removed.
func foldName(s string) string {
	s = trimOWS(s)
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		b[i] = foldByte(s[i])
	}
	return string(b)
}

// trimOWS removes spaces and horizontal tabs around s.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// foldEqual reports whether key folds to folded, which is already folded.
// It does not allocate.
func foldEqual(key, folded string) bool {
	if len(key) != len(folded) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if foldByte(key[i]) != folded[i] {
			return false
		}
	}
	return true
}

// foldHasPrefix reports whether key, folded, starts with prefix, which is
// already folded. It does not allocate.
func foldHasPrefix(key, prefix string) bool {
	return len(key) >= len(prefix) && foldEqual(key[:len(prefix)], prefix)
}

// nameSet matches header names in any letter case and with any
// non-alphanumeric byte in place of '-', against exact names and prefixes.
type nameSet struct {
	exact    map[int][]string // folded names by length
	prefixes []string         // folded prefixes
}

// newNameSet builds a nameSet from exact names and prefixes.
func newNameSet(exact, prefixes []string) nameSet {
	s := nameSet{exact: make(map[int][]string)}
	for _, n := range exact {
		f := foldName(n)
		s.exact[len(f)] = append(s.exact[len(f)], f)
	}
	for _, p := range prefixes {
		s.prefixes = append(s.prefixes, foldName(p))
	}
	return s
}

// has reports whether the header name key is in the set. It does not
// allocate.
func (s nameSet) has(key string) bool {
	key = trimOWS(key)
	for _, f := range s.exact[len(key)] {
		if foldEqual(key, f) {
			return true
		}
	}
	for _, p := range s.prefixes {
		if foldHasPrefix(key, p) {
			return true
		}
	}
	return false
}

// strippedNames are the exact header names removed from every outgoing
// request in any spelling, besides the configured identity headers.
func strippedNames() []string {
	return []string{
		headerRemoteUser, headerXRemoteUser, headerXForwardedUser, headerRemoteGroups,
		headerXOriginalURL, headerXRewriteURL,
		headerProxyAuthz, headerRequestID, headerRealIP, headerForwarded,
	}
}

// strippedPrefixes are the header-name prefixes removed from every outgoing
// request in any spelling: forwarding and identity conventions of other
// proxies (X-Forwarded-Email, Remote-Email, X-Original-URI, ...) that an
// upstream might trust.
func strippedPrefixes() []string {
	return []string{prefixXForwarded, prefixRemote, prefixXRemote, prefixXOriginal}
}

// reservedNames may not be configured as identity headers: setting them to
// a user name would break the request or forge a different meaning.
func reservedNames() []string {
	return []string{
		"Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Upgrade",
		"Te", "Trailer", "Keep-Alive", "Proxy-Connection", "Cookie", "Expect",
		headerAuthorization, headerProxyAuthz, headerRequestID, headerRealIP, headerForwarded,
		headerXForwardedFor, "X-Forwarded-Host", "X-Forwarded-Proto", headerRemoteGroups,
	}
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > maxHeaderNameLenGuard {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// identityHeaders returns the canonical names htgate sets to the user name:
// the three built-in ones followed by the configured extras, deduplicated
// by folded form. It fails on an invalid or reserved name.
func identityHeaders(extra []string) ([]string, error) {
	names := []string{headerRemoteUser, headerXRemoteUser, headerXForwardedUser}
	seen := map[string]bool{}
	for _, n := range names {
		seen[foldName(n)] = true
	}
	reserved := newNameSet(reservedNames(), nil)
	for _, n := range extra {
		if !validHeaderName(n) {
			return nil, fmt.Errorf("identity header %q: not a valid header name", n)
		}
		if reserved.has(n) {
			return nil, fmt.Errorf("identity header %q: reserved header", n)
		}
		f := foldName(n)
		if seen[f] {
			continue
		}
		seen[f] = true
		names = append(names, http.CanonicalHeaderKey(n))
	}
	return names, nil
}

// validHeaderValue reports whether s can be sent as a header value without
// being rejected or reinterpreted: no control bytes, no leading or trailing
// white space, not empty.
func validHeaderValue(s string) bool {
	if s == "" || trimOWS(s) != s {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
