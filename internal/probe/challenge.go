package probe

import (
	"fmt"
	"strings"

	"github.com/htgate/htgate"
)

// Param is one auth-param of a challenge (RFC 9110 §11.2).
type Param struct {
	// Name is the parameter name, lower-cased (names are case-insensitive).
	Name string `json:"name"`
	// Value is the value with quoted-string escapes removed.
	Value string `json:"value"`
	// Quoted reports whether the server sent the value as a quoted-string
	// rather than a bare token.
	Quoted bool `json:"quoted,omitempty"`
}

// Challenge is one challenge of a WWW-Authenticate or Proxy-Authenticate
// header field: an auth-scheme followed by either a token68 or a list of
// auth-params (RFC 9110 §11.2).
type Challenge struct {
	// Scheme is the auth-scheme as the server spelled it ("Basic",
	// "Bearer", "Digest"); compare it with Is, which ignores case.
	Scheme string `json:"scheme"`
	// Token68 is the token68 form of the challenge ("Negotiate abc=="),
	// empty when the challenge has auth-params or nothing after the scheme.
	Token68 string `json:"token68,omitempty"`
	// Params are the auth-params in the order the server sent them.
	Params []Param `json:"params,omitempty"`
	// Raw is the text of the challenge as received, from the scheme to the
	// end of its last element.
	Raw string `json:"raw"`
}

// Is reports whether the challenge's scheme is scheme, ignoring case.
func (c Challenge) Is(scheme string) bool { return strings.EqualFold(c.Scheme, scheme) }

// Param returns the value of the first auth-param called name (matched
// without regard to case) and whether there was one.
func (c Challenge) Param(name string) (string, bool) {
	for _, p := range c.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// String formats the challenge back into header syntax: quoted values as
// quoted-strings (through htgate.QuoteString), token values bare.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteByte(' ')
		b.WriteString(c.Token68)
		return b.String()
	}
	for i, p := range c.Params {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		if p.Quoted {
			b.WriteString(htgate.QuoteString(p.Value))
		} else {
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// SyntaxError reports where a challenge header value stops following the
// RFC 9110 grammar.
type SyntaxError struct {
	// Field is the 0-based index of the header value (header line) among
	// those given to ParseChallenges.
	Field int
	// Offset is the 0-based byte offset of the problem within that value.
	Offset int
	// Msg says what was expected and what was found.
	Msg string
}

// Error implements error; positions are printed 1-based.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("header line %d, character %d: %s", e.Field+1, e.Offset+1, e.Msg)
}

// ParseChallenges parses the values of WWW-Authenticate or
// Proxy-Authenticate header lines into challenges (RFC 9110 §11.2, §11.6.1):
// several challenges per value and across values, auth-params with tokens
// or quoted-strings (names lower-cased, escapes removed, optional
// whitespace around "="), token68, and empty list elements. Because a comma
// separates both auth-params and challenges, an element after a comma is a
// parameter of the current challenge when it has the form name=value, and
// starts a new challenge otherwise.
//
// Parsing goes on after a syntax error: the challenges and parameters that
// could be read are returned together with the first *SyntaxError.
func ParseChallenges(headerValues []string) ([]Challenge, error) {
	var out []Challenge
	var first *SyntaxError
	for i, v := range headerValues {
		p := challengeParser{s: v, field: i}
		p.parse()
		out = append(out, p.out...)
		if first == nil && p.err != nil {
			first = p.err
		}
	}
	if first != nil {
		return out, first
	}
	return out, nil
}

type challengeParser struct {
	s     string
	pos   int
	field int
	out   []Challenge
	err   *SyntaxError
}

func (p *challengeParser) eof() bool { return p.pos >= len(p.s) }

func (p *challengeParser) fail(at int, format string, args ...any) {
	if p.err == nil {
		p.err = &SyntaxError{Field: p.field, Offset: at, Msg: fmt.Sprintf(format, args...)}
	}
}

// describe names the byte at i for an error message.
func (p *challengeParser) describe(i int) string {
	if i >= len(p.s) {
		return "the end of the value"
	}
	c := p.s[i]
	switch {
	case c == '"':
		return `a '"'`
	case c >= 0x21 && c < 0x7f:
		return fmt.Sprintf("%q", string(c))
	default:
		return fmt.Sprintf("byte 0x%02X", c)
	}
}

func (p *challengeParser) skipWS() int {
	n := 0
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
		n++
	}
	return n
}

// skipListSep skips optional whitespace and any number of commas: the empty
// list elements RFC 9110 §5.6.1 tells recipients to accept.
func (p *challengeParser) skipListSep() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', ',':
			p.pos++
		default:
			return
		}
	}
}

// skipItem recovers from a syntax error: it advances to the next comma that
// is not inside a quoted-string, or to the end.
func (p *challengeParser) skipItem() {
	inQuote := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case inQuote && c == '\\':
			p.pos++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ',':
			return
		}
		p.pos++
	}
	if p.pos > len(p.s) {
		p.pos = len(p.s)
	}
}

// atElementEnd reports whether only whitespace separates i from a comma or
// the end of the value.
func (p *challengeParser) atElementEnd(i int) bool {
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t') {
		i++
	}
	return i >= len(p.s) || p.s[i] == ','
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

// tokenEnd returns the end of the token starting at i (i itself when there
// is none).
func (p *challengeParser) tokenEnd(i int) int {
	for i < len(p.s) && isTchar(p.s[i]) {
		i++
	}
	return i
}

func (p *challengeParser) parse() {
	for {
		p.skipListSep()
		if p.eof() {
			return
		}
		p.challenge()
	}
}

// challenge parses one challenge starting at p.pos (not at a comma).
func (p *challengeParser) challenge() {
	start := p.pos
	end := p.tokenEnd(start)
	if end == start {
		p.fail(start, "expected an auth-scheme (a word such as Basic or Bearer), found %s", p.describe(start))
		p.skipItem()
		return
	}
	c := Challenge{Scheme: p.s[start:end]}
	p.pos = end
	sp := p.skipWS()
	switch {
	case p.eof() || p.s[p.pos] == ',':
		// A bare scheme; parameters may still follow after the comma.
	case p.s[p.pos] == '=':
		// "name=value" where a scheme belongs: not a challenge at all.
		p.fail(p.pos, "found the auth-param %q where an auth-scheme was expected (is the scheme name missing?)", c.Scheme)
		p.skipItem()
		return
	case sp == 0:
		p.fail(p.pos, "expected a space after the auth-scheme %q, found %s", c.Scheme, p.describe(p.pos))
		p.skipItem()
		end = p.pos
	default:
		if prm, ok, errAt, msg := p.param(); ok {
			c.Params = append(c.Params, prm)
		} else if t, ok := p.token68(); ok {
			c.Token68 = t
		} else {
			if msg == "" {
				errAt, msg = p.pos, fmt.Sprintf("expected an auth-param (name=value) or a token68 after %q, found %s", c.Scheme, p.describe(p.pos))
			}
			p.fail(errAt, "%s", msg)
			p.skipItem()
		}
		end = p.pos
	}
	// The rest of the list: ", name=value" elements belong to this
	// challenge; anything else after a comma starts the next one.
	for {
		p.skipWS()
		if p.eof() {
			break
		}
		if p.s[p.pos] != ',' {
			p.fail(p.pos, "expected a comma before %s (are two parameters missing the comma between them?)", p.describe(p.pos))
			p.skipItem()
			end = p.pos
			continue
		}
		p.skipListSep()
		if p.eof() || c.Token68 != "" {
			break
		}
		save := p.pos
		prm, ok, errAt, msg := p.param()
		if ok {
			c.Params = append(c.Params, prm)
			end = p.pos
			continue
		}
		if msg != "" {
			// name = <bad value>: certainly a parameter, since a
			// challenge cannot start with "token =".
			p.fail(errAt, "%s", msg)
			p.skipItem()
			end = p.pos
			continue
		}
		p.pos = save
		break
	}
	c.Raw = strings.TrimRight(p.s[start:end], " \t,")
	p.out = append(p.out, c)
}

// param tries to read "name BWS = BWS (token / quoted-string)" at p.pos. On
// success it advances p.pos past the value. When the input has the form
// "name =" but the value is malformed it returns ok false with an error
// position and message; when it does not even have that form msg is empty.
// On failure p.pos is unchanged.
func (p *challengeParser) param() (prm Param, ok bool, errAt int, msg string) {
	start := p.pos
	nameEnd := p.tokenEnd(start)
	if nameEnd == start {
		return Param{}, false, 0, ""
	}
	i := nameEnd
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t') {
		i++
	}
	if i >= len(p.s) || p.s[i] != '=' {
		return Param{}, false, 0, ""
	}
	i++
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t') {
		i++
	}
	name := strings.ToLower(p.s[start:nameEnd])
	if i < len(p.s) && p.s[i] == '"' {
		v, next, errAt, msg := p.quoted(i)
		if msg != "" {
			return Param{}, false, errAt, msg
		}
		p.pos = next
		return Param{Name: name, Value: v, Quoted: true}, true, 0, ""
	}
	vEnd := p.tokenEnd(i)
	if vEnd == i {
		return Param{}, false, i, fmt.Sprintf("expected a value (a token or a quoted-string) for %q, found %s", name, p.describe(i))
	}
	p.pos = vEnd
	return Param{Name: name, Value: p.s[i:vEnd]}, true, 0, ""
}

// quoted reads the quoted-string starting with the DQUOTE at i.
func (p *challengeParser) quoted(i int) (v string, next, errAt int, msg string) {
	open := i
	i++
	var b strings.Builder
	for i < len(p.s) {
		c := p.s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, 0, ""
		case c == '\\':
			if i+1 >= len(p.s) {
				return "", 0, i, "a backslash ends the value inside a quoted-string"
			}
			e := p.s[i+1]
			if !isQdtextOrPair(e) {
				return "", 0, i + 1, fmt.Sprintf("%s cannot be escaped in a quoted-string", p.describe(i+1))
			}
			b.WriteByte(e)
			i += 2
		case isQdtextOrPair(c):
			b.WriteByte(c)
			i++
		default:
			return "", 0, i, fmt.Sprintf("%s is not allowed in a quoted-string", p.describe(i))
		}
	}
	return "", 0, open, "the quoted-string that starts here is never closed"
}

// isQdtextOrPair reports whether c may appear in a quoted-string, either
// as qdtext or escaped: HTAB, SP, VCHAR and obs-text.
func isQdtextOrPair(c byte) bool {
	return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f)
}

// token68 tries to read a token68 that makes up the whole element at p.pos.
func (p *challengeParser) token68() (string, bool) {
	start := p.pos
	i := start
	for i < len(p.s) && isToken68Char(p.s[i]) {
		i++
	}
	if i == start {
		return "", false
	}
	for i < len(p.s) && p.s[i] == '=' {
		i++
	}
	if !p.atElementEnd(i) {
		return "", false
	}
	p.pos = i
	return p.s[start:i], true
}
