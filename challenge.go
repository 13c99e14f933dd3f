package htgate

import "strings"

// Param is one auth-param of a challenge (RFC 9110 §11.2). Token params are
// written bare (algorithm=SHA-256, stale=true); all others as quoted-strings.
type Param struct {
	Name  string
	Value string
	Token bool
}

// Challenge is one challenge of a WWW-Authenticate or Proxy-Authenticate
// header: a scheme and its ordered parameters.
type Challenge struct {
	Scheme string
	Params []Param
}

// String formats the challenge per RFC 9110 §11.2, escaping quoted-strings.
// It is the one formatter every challenge goes through.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	for i, p := range c.Params {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		if p.Token {
			b.WriteString(p.Value)
			continue
		}
		b.WriteString(QuoteString(p.Value))
	}
	return b.String()
}

// QuoteString returns s as an RFC 9110 quoted-string: DQUOTE and backslash
// are escaped; control characters other than HTAB, which a quoted-string
// cannot carry, are dropped so that a value can never split a header.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			// dropped: not representable
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
