package policy

import (
	"unicode"
	"unicode/utf8"
)

// foldRune maps r to the representative of its Unicode simple case folding
// orbit (the orbit strings.EqualFold uses): the smallest rune of the orbit,
// lower-cased when that is an ASCII capital. Lower-case ASCII letters and
// runes without case are their own representative. The representative is
// never longer in UTF-8 than r.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	if 'A' <= m && m <= 'Z' {
		m += 'a' - 'A'
	}
	return m
}

// isFolded reports whether foldSegment would return s unchanged. Invalid
// UTF-8 bytes are kept as they are.
func isFolded(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if size > 1 && foldRune(r) != r {
			return false
		}
		i += size
	}
	return true
}

// appendFold appends the case folding of s to dst: every rune replaced by
// its foldRune; invalid UTF-8 bytes are copied unchanged. Two valid UTF-8
// strings fold the same exactly when strings.EqualFold says they are equal.
func appendFold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if size == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, foldRune(r))
		}
		i += size
	}
	return dst
}

// foldSegment returns the case folding of s.
func foldSegment(s string) string {
	if isFolded(s) {
		return s
	}
	return string(appendFold(make([]byte, 0, len(s)), s))
}
