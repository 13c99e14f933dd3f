package passwd

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"strings"
)

// MaxFileSize is the largest credential file ParseHtpasswd and ParseGroups
// read; a larger file is an error, not a truncated snapshot.
const MaxFileSize = 64 << 20

// htpasswdMaxLine is the longest line mod_authn_file reads: its buffer is
// MAX_STRING_LEN (8192) bytes including the line feed and the final NUL.
const htpasswdMaxLine = 8190

// LineError is a problem with one line of a credential file. The line it
// names never matches anything.
type LineError struct {
	File string // the name given to the parser, usually the path
	Line int    // 1-based
	Msg  string
	// Err, if not nil, is a sentinel that classifies the problem
	// (ErrMissingColon, ErrEmptyHash); the message already says it.
	Err error
}

// Error returns "file:line: msg".
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Unwrap returns the classifying sentinel, if any.
func (e *LineError) Unwrap() error { return e.Err }

// readAll reads r up to MaxFileSize bytes.
func readAll(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("read %s: file is larger than %d bytes", name, MaxFileSize)
	}
	return data, nil
}

// configLine is one logical line of an Apache configuration-style file.
type configLine struct {
	num     int    // number of its first physical line
	last    int    // number of its last physical line (after continuations)
	text    string // trimmed of leading and trailing white space
	tooLong bool   // longer than the reader's limit; text is empty
}

// configLines yields the logical lines of data the way Apache's
// ap_cfg_getline reads them: lines end at LF (a CR before it goes with the
// trailing white space), a line whose last character before the line end is
// a backslash continues on the next line (the backslash and line end are
// removed), and leading and trailing white space is trimmed. maxLen > 0 flags
// logical lines longer than maxLen bytes.
func configLines(data []byte, maxLen int) iter.Seq[configLine] {
	return func(yield func(configLine) bool) {
		num := 0
		for len(data) > 0 {
			num++
			l := configLine{num: num}
			var buf []byte
			for {
				line, rest, found := bytes.Cut(data, []byte{'\n'})
				data = rest
				content := line
				if found {
					content = bytes.TrimSuffix(content, []byte{'\r'})
				}
				if found && len(content) > 0 && content[len(content)-1] == '\\' {
					buf = append(buf, content[:len(content)-1]...)
					if len(data) == 0 {
						break
					}
					num++
					continue
				}
				if buf == nil {
					buf = line // no copy for the common case
				} else {
					buf = append(buf, line...)
				}
				break
			}
			l.last = num
			if maxLen > 0 && len(bytes.TrimSuffix(buf, []byte{'\r'})) > maxLen {
				l.tooLong = true
			} else {
				l.text = string(bytes.TrimFunc(buf, isSpace))
			}
			if !yield(l) {
				return
			}
		}
	}
}

// swallowedByComment returns the message for a comment that a trailing
// backslash continues onto following lines, or "" if l is not one.
func swallowedByComment(l configLine) string {
	if l.last == l.num || !strings.HasPrefix(l.text, "#") {
		return ""
	}
	return fmt.Sprintf("comment ends with a backslash, so Apache reads lines %d to %d as one comment", l.num, l.last)
}

// isSpace is C's isspace in the C locale, which Apache's trimming uses.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
