package gateway

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Errors of NormalizePath. They are returned wrapped in a *PathError, so
// test for them with errors.Is. Every one of them means the gateway answers
// 400 with htgate.ReasonBadRequest: the target is ambiguous, and the matcher
// and the upstream could read it differently.
var (
	// ErrNotAbsolute: the path does not start with "/".
	ErrNotAbsolute = errors.New(`path does not start with "/"`)
	// ErrBadEscape: a "%" not followed by two hexadecimal digits.
	ErrBadEscape = errors.New("malformed percent escape")
	// ErrEncodedSlash: "%2F" would be a "/" to some upstreams and data to others.
	ErrEncodedSlash = errors.New("encoded slash (%2F)")
	// ErrBackslash: "\" or "%5C", a path separator to IIS and some upstreams.
	ErrBackslash = errors.New(`backslash ("\" or %5C)`)
	// ErrNUL: "%00" or a raw NUL byte, which ends the path in C upstreams.
	ErrNUL = errors.New("NUL byte (%00)")
	// ErrControl: a control byte (below 0x20, or 0x7F), raw or encoded.
	ErrControl = errors.New("control character")
	// ErrDoubleEncoding: an encoded "%" followed by two hexadecimal digits
	// ("%252F"), which an upstream that decodes twice reads differently.
	ErrDoubleEncoding = errors.New("double percent-encoding (%25XX)")
	// ErrInvalidUTF8: the decoded path is not valid UTF-8; this includes
	// overlong forms such as %C0%AE for "." and %C0%AF for "/", and surrogates.
	ErrInvalidUTF8 = errors.New("invalid UTF-8 (or overlong encoding)")
	// ErrDotParams: a "." or ".." segment with ;parameters ("/..;/admin"):
	// Tomcat reads it as a dot segment, other servers as a name, so the
	// matcher and the upstream could disagree.
	ErrDotParams = errors.New("dot segment with ;parameters")
)

// PathError is the error NormalizePath returns. It never quotes the path
// itself, so it is safe to log and to show to the client.
type PathError struct {
	Offset int   // byte offset in the escaped path where the problem starts
	Err    error // one of the Err* values above
}

// Error implements error.
func (e *PathError) Error() string {
	return "bad request path: " + e.Err.Error() + " at byte " + strconv.Itoa(e.Offset)
}

// Unwrap returns e.Err, for errors.Is.
func (e *PathError) Unwrap() error { return e.Err }

// stackPath is the size of the decode buffer that NormalizePath keeps on
// the stack; longer paths cost one more allocation.
const stackPath = 256

// NormalizePath returns the one canonical, decoded path that the matcher
// sees, from the escaped path of the request target (r.URL.EscapedPath(),
// still percent-encoded). EscapeCanonical gives the form the upstream gets,
// so that both read the same path.
//
// Every %XX is decoded, except that encoded slashes and backslashes, NUL and
// control bytes, double encoding (%25 followed by two hex digits, also when
// spelled %25%32%66), malformed escapes and anything that does not decode
// to valid UTF-8 (overlong forms, surrogates) are refused with a *PathError.
// A raw backslash or control byte is refused too. Then repeated slashes are
// merged and "." and ".." segments (in any spelling, %2e included) are
// resolved, never above the root: "/../x" is "/x", as Apache does. A
// trailing slash is kept: "/a/", "/a/." and "/a/b/.." are all "/a/".
// Segments with ";params" are left as they are.
//
// The empty path (an absolute-form target "http://host") is "/". Anything
// else not starting with "/" is refused; the caller handles "OPTIONS *".
//
// A path that is already canonical and has no escapes is returned as it is,
// without allocating.
func NormalizePath(raw string) (string, error) {
	if raw == "" {
		return "/", nil
	}
	if raw[0] != '/' {
		return "", &PathError{Offset: 0, Err: ErrNotAbsolute}
	}
	if isCanonical(raw) {
		if err := checkDotParams(raw); err != nil {
			return "", err
		}
		return raw, nil
	}
	var stack [stackPath]byte
	buf := stack[:0]
	if len(raw) > stackPath {
		buf = make([]byte, 0, len(raw))
	}
	buf, err := decodePath(buf, raw)
	if err != nil {
		return "", err
	}
	if err := checkDotParams(string(buf)); err != nil {
		return "", err
	}
	return string(resolveDots(buf)), nil
}

// checkDotParams refuses a segment whose part before ";" is "." or "..".
// It runs on the decoded path, before dot segments are resolved.
func checkDotParams(p string) error {
	if strings.IndexByte(p, ';') < 0 {
		return nil
	}
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		seg := p[start:i]
		if k := strings.IndexByte(seg, ';'); k >= 0 && (seg[:k] == "." || seg[:k] == "..") {
			return &PathError{Offset: start, Err: ErrDotParams}
		}
		start = i + 1
	}
	return nil
}

// isCanonical reports whether raw (which starts with "/") needs neither
// decoding nor dot or slash resolution, nor refusal: it is its own
// canonical form.
func isCanonical(raw string) bool {
	ascii := true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if '0' <= c && c < 0x7f && c != '\\' {
			continue // letters, digits and most punctuation: the common case
		}
		switch {
		case c == '%', c == '\\', c < 0x20, c == 0x7f:
			return false
		case c >= 0x80:
			ascii = false
		case c == '/':
			// The segment after this slash must not be empty, "." or "..",
			// except that an empty last segment is a trailing slash.
			rest := raw[i+1:]
			if len(rest) > 0 && rest[0] == '/' {
				return false
			}
			if dotSegment(rest) {
				return false
			}
		}
	}
	return ascii || utf8.ValidString(raw)
}

// dotSegment reports whether s starts with a "." or ".." segment.
func dotSegment(s string) bool {
	if len(s) == 0 || s[0] != '.' {
		return false
	}
	if len(s) == 1 || s[1] == '/' {
		return true
	}
	return s[1] == '.' && (len(s) == 2 || s[2] == '/')
}

// decodePath appends the percent-decoded raw to buf, refusing what
// NormalizePath refuses, and checks that the result is valid UTF-8.
func decodePath(buf []byte, raw string) ([]byte, error) {
	sawPercent := false // a decoded "%" is in buf
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return nil, &PathError{Offset: i, Err: ErrBadEscape}
			}
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			switch {
			case c == '/':
				return nil, &PathError{Offset: i, Err: ErrEncodedSlash}
			case c == '%':
				sawPercent = true
			}
			if err := refusedByte(c); err != nil {
				return nil, &PathError{Offset: i, Err: err}
			}
			i += 2
		default:
			if err := refusedByte(c); err != nil {
				return nil, &PathError{Offset: i, Err: err}
			}
		}
		buf = append(buf, c)
	}
	if sawPercent {
		// A decoded "%" must not start something that decodes again:
		// "%2541" and "%25%34%31" both decode to "%41".
		for j := 0; j+2 < len(buf); j++ {
			if buf[j] == '%' && isHex(buf[j+1]) && isHex(buf[j+2]) {
				return nil, &PathError{Offset: escapedOffset(raw, j), Err: ErrDoubleEncoding}
			}
		}
	}
	if !utf8.Valid(buf) {
		bad := 0
		for bad < len(buf) {
			r, size := utf8.DecodeRune(buf[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		return nil, &PathError{Offset: escapedOffset(raw, bad), Err: ErrInvalidUTF8}
	}
	return buf, nil
}

// refusedByte returns the error for a byte that may not appear in a path,
// raw or decoded, or nil.
func refusedByte(c byte) error {
	switch {
	case c == 0:
		return ErrNUL
	case c < 0x20, c == 0x7f:
		return ErrControl
	case c == '\\':
		return ErrBackslash
	}
	return nil
}

// escapedOffset maps an offset in the decoded path back to raw.
func escapedOffset(raw string, decoded int) int {
	i := 0
	for n := 0; n < decoded && i < len(raw); n++ {
		if raw[i] == '%' {
			i += 3
		} else {
			i++
		}
	}
	return i
}

// resolveDots merges repeated slashes and resolves "." and ".." segments
// of the decoded path p (which starts with "/") in place, keeping a
// trailing slash, and returns the result.
func resolveDots(p []byte) []byte {
	out := p[:1] // "/"; out never grows past the read position
	i := 1
	for i <= len(p) {
		// The segment is p[i:j].
		j := i
		for j < len(p) && p[j] != '/' {
			j++
		}
		seg := p[i:j]
		last := j >= len(p)
		switch {
		case len(seg) == 0:
			// "//" or the trailing slash: out already ends with "/".
		case len(seg) == 1 && seg[0] == '.':
			// out ends with "/", which stays as the trailing slash if last.
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			// Drop the last segment of out, never the root.
			if len(out) > 1 {
				k := len(out) - 2 // out ends with "/"
				for out[k] != '/' {
					k--
				}
				out = out[:k+1]
			}
		default:
			out = append(out, seg...)
			if !last {
				out = append(out, '/')
			}
		}
		i = j + 1
	}
	return out
}

// EscapeCanonical returns the escaped form of a canonical path, for the
// request line to the upstream. It escapes "%" (as %25), "?", "#", space,
// non-ASCII bytes and the other characters RFC 3986 does not allow raw in a
// path; "/" and the sub-delimiters (including ";") stay as they are, so
// the upstream splits segments and parameters where the matcher did.
// NormalizePath(EscapeCanonical(c)) == c for every canonical c. The result
// is a valid url.URL.RawPath for c. Without anything to escape, c itself is
// returned without allocating.
func EscapeCanonical(canonical string) string {
	n := 0
	for i := 0; i < len(canonical); i++ {
		if shouldEscapePath(canonical[i]) {
			n++
		}
	}
	if n == 0 {
		return canonical
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(canonical)+2*n)
	for i := 0; i < len(canonical); i++ {
		c := canonical[i]
		if shouldEscapePath(c) {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// shouldEscapePath reports whether c is not a pchar or "/" (RFC 3986 §3.3).
func shouldEscapePath(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	}
	switch c {
	case '-', '.', '_', '~', // unreserved
		'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', // sub-delims
		':', '@', '/':
		return false
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
