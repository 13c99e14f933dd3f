package scheme

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNotDigest means the credentials are not of the Digest scheme (or have
// no recognisable scheme at all).
var ErrNotDigest = errors.New("scheme: not Digest credentials")

// DigestCredentials are the parameters of Digest credentials (RFC 7616
// §3.4). Every field holds the value as the client sent it, quoted-string
// escapes removed; the ones the request-digest covers (nonce, nc, cnonce,
// qop, uri) must be hashed exactly as they are.
type DigestCredentials struct {
	// Username is the user name: the username parameter, or the decoded
	// username* (RFC 8187) when the client used that. With Userhash it is
	// the hex hash H(user ":" realm) instead, which the credential source
	// resolves.
	Username string
	// Userhash reports userhash=true.
	Userhash bool
	// Realm, Nonce, URI and Response (the request-digest, in hex) are
	// always present; Nonce and URI are never empty.
	Realm    string
	Nonce    string
	URI      string
	Response string
	// Algorithm is the algorithm parameter as sent, "" when absent (which
	// means MD5). See ParseDigestAlgorithm.
	Algorithm string
	// Qop is the qop parameter as sent; "" for an RFC 2069 response, which
	// then has no NC and no Cnonce.
	Qop string
	// NC is the nonce count as sent (8 hex digits) and Count its value;
	// "" and 0 without qop.
	NC    string
	Count uint64
	// Cnonce is the client nonce; "" without qop.
	Cnonce string
	// Opaque is the opaque parameter as sent, "" when absent.
	Opaque string
}

// digestMaxParams bounds the auth-params of one credentials value.
const digestMaxParams = 32

// ParseDigest parses an Authorization (or Proxy-Authorization) value of the
// Digest scheme, RFC 7616 §3.4, strictly:
//
//   - the scheme name is case-insensitive and followed by a comma-separated
//     list of auth-params "name=value" (RFC 9110 §11.2); names are
//     case-insensitive tokens, each may appear once; values are tokens or
//     quoted-strings (either is accepted for every parameter, as RFC 9110
//     asks of recipients), except username*, which is an RFC 8187
//     ext-value token; white space may surround "=" and ","; empty list
//     elements, a trailing comma and unknown bytes are errors; unknown
//     parameters are ignored;
//   - username (or username*, never both), realm, nonce, uri and response
//     are required; with qop, cnonce and nc are required, and without qop
//     they must be absent; nc is 8 hex digits; response is hex; userhash
//     is true or false;
//   - values must be valid UTF-8 without control characters; username*
//     must be UTF-8 (RFC 8187 percent-encoding) and is not allowed with
//     userhash=true.
//
// A value of another scheme returns ErrNotDigest; anything else wrong
// returns a *MalformedError (errors.Is(err, ErrMalformed)) whose detail
// names the parameter, never its value.
func ParseDigest(header string) (DigestCredentials, error) {
	tok, rest, ok := cutScheme(header)
	if !ok || !strings.EqualFold(tok, Digest) {
		return DigestCredentials{}, ErrNotDigest
	}
	if rest == "" {
		return DigestCredentials{}, malformedDigest("no parameters")
	}
	var (
		c                 DigestCredentials
		seen              [digestMaxParams]string
		nseen             int
		has               digestSeen
		extUser, userhash string
	)
	p := paramParser{s: rest}
	for {
		name, value, quoted, err := p.next()
		if err != "" {
			return DigestCredentials{}, malformedDigest(err)
		}
		if name == "" {
			break
		}
		for _, s := range seen[:nseen] {
			if strings.EqualFold(s, name) {
				return DigestCredentials{}, malformedDigest("parameter " + safeName(name) + " given twice")
			}
		}
		if nseen == len(seen) {
			return DigestCredentials{}, malformedDigest("too many parameters")
		}
		seen[nseen] = name
		nseen++
		switch strings.ToLower(name) {
		case "username":
			c.Username, has.username = value, true
		case "username*":
			if quoted {
				return DigestCredentials{}, malformedDigest("username* is quoted (an RFC 8187 ext-value is a token)")
			}
			extUser, has.extUser = value, true
		case "userhash":
			userhash = value
			has.userhash = true
		case "realm":
			c.Realm, has.realm = value, true
		case "nonce":
			c.Nonce, has.nonce = value, true
		case "uri":
			c.URI, has.uri = value, true
		case "response":
			c.Response, has.response = value, true
		case "algorithm":
			c.Algorithm, has.algorithm = value, true
		case "qop":
			c.Qop, has.qop = value, true
		case "nc":
			c.NC, has.nc = value, true
		case "cnonce":
			c.Cnonce, has.cnonce = value, true
		case "opaque":
			c.Opaque = value
		}
	}
	if err := c.finish(has, extUser, userhash); err != "" {
		return DigestCredentials{}, malformedDigest(err)
	}
	return c, nil
}

// digestSeen records which parameters were present.
type digestSeen struct {
	username, extUser, userhash, realm, nonce, uri, response, algorithm, qop, nc, cnonce bool
}

// finish checks the presence and form of the parameters once all are read.
func (c *DigestCredentials) finish(has digestSeen, extUser, userhash string) string {
	switch {
	case has.username && has.extUser:
		return "both username and username*"
	case !has.username && !has.extUser:
		return "missing username"
	case !has.realm:
		return "missing realm"
	case !has.nonce:
		return "missing nonce"
	case !has.uri:
		return "missing uri"
	case !has.response:
		return "missing response"
	}
	if has.userhash {
		switch {
		case strings.EqualFold(userhash, "true"):
			c.Userhash = true
		case strings.EqualFold(userhash, "false"):
		default:
			return "userhash is neither true nor false"
		}
	}
	if has.extUser {
		if c.Userhash {
			return "username* with userhash=true"
		}
		u, ok := decodeExtValue(extUser)
		if !ok {
			return "username* is not a UTF-8 ext-value (RFC 8187)"
		}
		c.Username = u
	}
	if c.Username == "" {
		return "empty username"
	}
	if d := checkText([]byte(c.Username)); d != "" {
		return d + " in username"
	}
	if d := checkText([]byte(c.Realm)); d != "" {
		return d + " in realm"
	}
	if c.Nonce == "" {
		return "empty nonce"
	}
	if d := checkText([]byte(c.Nonce)); d != "" {
		return d + " in nonce"
	}
	if c.URI == "" {
		return "empty uri"
	}
	if d := checkText([]byte(c.URI)); d != "" {
		return d + " in uri"
	}
	if d := checkText([]byte(c.Opaque)); d != "" {
		return d + " in opaque"
	}
	if !isHex(c.Response) || c.Response == "" {
		return "response is not hex"
	}
	if has.algorithm && !isToken(c.Algorithm) {
		return "algorithm is not a token"
	}
	if !has.qop {
		if has.nc || has.cnonce {
			return "nc or cnonce without qop"
		}
		return ""
	}
	switch {
	case !isToken(c.Qop):
		return "qop is not a token"
	case !has.cnonce:
		return "missing cnonce"
	case !has.nc:
		return "missing nc"
	case c.Cnonce == "":
		return "empty cnonce"
	}
	if d := checkText([]byte(c.Cnonce)); d != "" {
		return d + " in cnonce"
	}
	if len(c.NC) != 8 || !isHex(c.NC) {
		return "nc is not 8 hex digits"
	}
	n, err := strconv.ParseUint(c.NC, 16, 64)
	if err != nil {
		return "nc is not 8 hex digits"
	}
	c.Count = n
	return ""
}

func malformedDigest(detail string) error {
	return &MalformedError{Scheme: Digest, Detail: detail}
}

// safeName names a parameter in an error: known names are quoted, others
// are not named at all, since the text of the header may be a secret.
func safeName(name string) string {
	switch strings.ToLower(name) {
	case "username", "username*", "userhash", "realm", "nonce", "uri", "response",
		"algorithm", "qop", "nc", "cnonce", "opaque":
		return strconv.Quote(name)
	}
	return "(unknown)"
}

// paramParser reads the auth-params of a credentials value, RFC 9110 §11.2:
// #auth-param with OWS/BWS, token or quoted-string values.
type paramParser struct {
	s          string
	i          int
	afterComma bool // the last thing read was a comma
}

// next returns the next parameter, or an empty name at the end of the
// list. err, when not empty, says what was wrong.
func (p *paramParser) next() (name, value string, quoted bool, err string) {
	p.skipWS()
	if p.i == len(p.s) {
		if p.afterComma {
			return "", "", false, "trailing comma"
		}
		return "", "", false, ""
	}
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		if p.s[p.i] == ',' {
			return "", "", false, "empty list element"
		}
		return "", "", false, "expected a parameter name"
	}
	name = p.s[start:p.i]
	p.skipWS()
	if p.i == len(p.s) || p.s[p.i] != '=' {
		return "", "", false, "parameter " + safeName(name) + " has no value"
	}
	p.i++
	p.skipWS()
	if p.i == len(p.s) {
		return "", "", false, "parameter " + safeName(name) + " has no value"
	}
	if p.s[p.i] == '"' {
		v, ok := p.quotedString()
		if !ok {
			return "", "", false, "invalid quoted-string in " + safeName(name)
		}
		value, quoted = v, true
	} else {
		vs := p.i
		for p.i < len(p.s) && isTchar(p.s[p.i]) {
			p.i++
		}
		if p.i == vs {
			return "", "", false, "parameter " + safeName(name) + " has an invalid value"
		}
		value = p.s[vs:p.i]
	}
	p.skipWS()
	p.afterComma = false
	if p.i < len(p.s) {
		if p.s[p.i] != ',' {
			return "", "", false, "expected a comma after " + safeName(name)
		}
		p.i++
		p.afterComma = true
	}
	return name, value, quoted, ""
}

func (p *paramParser) skipWS() {
	for p.i < len(p.s) && isWS(p.s[p.i]) {
		p.i++
	}
}

// quotedString reads a quoted-string starting at the opening DQUOTE and
// returns its unescaped content. Without escapes it is a substring of the
// input (no allocation).
func (p *paramParser) quotedString() (string, bool) {
	p.i++ // opening DQUOTE
	start := p.i
	var b []byte // nil until the first escape
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if b == nil {
				return p.s[start : p.i-1], true
			}
			return string(b), true
		case c == '\\':
			if p.i+1 == len(p.s) {
				return "", false
			}
			e := p.s[p.i+1]
			if !isQuotedPairChar(e) {
				return "", false
			}
			if b == nil {
				b = append(make([]byte, 0, len(p.s)-start), p.s[start:p.i]...)
			}
			b = append(b, e)
			p.i += 2
		case isQdtext(c):
			if b != nil {
				b = append(b, c)
			}
			p.i++
		default:
			return "", false
		}
	}
	return "", false // no closing DQUOTE
}

// isQdtext reports whether c may appear unescaped in a quoted-string:
// HTAB, SP, VCHAR except DQUOTE and backslash, obs-text.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash.
func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeExtValue decodes an RFC 8187 ext-value of charset UTF-8:
// charset "'" [ language ] "'" value-chars, value-chars being attr-chars
// and %-escapes; the result must be valid UTF-8.
func decodeExtValue(v string) (string, bool) {
	charset, rest, ok := strings.Cut(v, "'")
	if !ok || !strings.EqualFold(charset, "UTF-8") {
		return "", false
	}
	lang, enc, ok := strings.Cut(rest, "'")
	if !ok {
		return "", false
	}
	for i := 0; i < len(lang); i++ {
		if c := lang[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return "", false
		}
	}
	b := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch {
		case c == '%':
			if i+2 >= len(enc) || !isHex(enc[i+1:i+3]) {
				return "", false
			}
			n, _ := strconv.ParseUint(enc[i+1:i+3], 16, 8)
			b = append(b, byte(n))
			i += 2
		case isAttrChar(c):
			b = append(b, c)
		default:
			return "", false
		}
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// isAttrChar is RFC 8187's attr-char: ALPHA / DIGIT / "!" / "#" / "$" /
// "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~".
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '&', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
