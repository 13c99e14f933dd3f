package htaccess

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits of Parse. A file over them is refused with a *SyntaxError, so
// that the directory answers 500 rather than half-read.
const (
	// MaxFileSize bounds the size of one .htaccess file.
	MaxFileSize = 1 << 20
	// MaxLineLength bounds one logical line (continuations joined), as
	// Apache's MAX_STRING_LEN does.
	MaxLineLength = 8192
	// MaxNesting bounds how deeply containers may nest.
	MaxNesting = 32
)

// SyntaxError is a problem in a .htaccess file: a malformed line, an
// unbalanced container, or a directive that is unknown, not allowed here
// or has invalid arguments. Apache refuses every request below such a file
// with 500; so does the gateway.
type SyntaxError struct {
	File string // the file's path (or the name given to Parse)
	Line int    // 1-based line of the directive; 0 for the whole file
	Msg  string
}

// Error implements error: "file:line: msg".
func (e *SyntaxError) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Directive is one directive of a file, or one container with the
// directives inside it.
type Directive struct {
	// Name is the directive's name as written, without the "<" of a
	// container: "AuthType", "Files". Names compare case-insensitively.
	Name string
	// Raw is the argument text after the name, leading and trailing blanks
	// removed; for a container, the text before its closing ">".
	Raw string
	// Args are the words of Raw as Apache reads them (ap_getword_conf):
	// separated by blanks, a word in double or single quotes may contain
	// blanks, and a backslash escapes the quote character or a backslash.
	// An empty quoted word ("") is kept as an empty string.
	Args []string
	// Line is the 1-based line the directive starts on.
	Line int
	// Container is true for <Name ...> ... </Name>.
	Container bool
	// Children are the directives inside a container.
	Children []*Directive
}

// File is a parsed .htaccess file.
type File struct {
	// Name is the path the file was read from.
	Name string
	// Directives are the file's top-level directives, in order.
	Directives []*Directive
}

// Parse reads an .htaccess file with Apache's configuration syntax: one
// directive per line; a line ending in a backslash continues on the next;
// blank lines and lines whose first non-blank character is "#" are
// ignored (a "#" later on a line is an ordinary character, as in Apache);
// containers <Name args> ... </Name> nest, with case-insensitive names.
// name is used in errors. It checks the syntax only; Compile checks the
// directives.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name}
	if len(data) > MaxFileSize {
		return nil, &SyntaxError{File: name, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	type open struct {
		d    *Directive
		list *[]*Directive
	}
	stack := []open{{list: &f.Directives}}
	lines := newLineReader(data)
	for {
		text, lineNo, err := lines.next()
		if err != "" {
			return nil, &SyntaxError{File: name, Line: lineNo, Msg: err}
		}
		if lineNo == 0 {
			break
		}
		if text == "" || text[0] == '#' {
			continue
		}
		word, rest := nextWord(text)
		top := &stack[len(stack)-1]
		switch {
		case strings.HasPrefix(word, "</"):
			closeName := strings.TrimSuffix(word[2:], ">")
			if len(stack) == 1 {
				return nil, &SyntaxError{File: name, Line: lineNo, Msg: fmt.Sprintf("</%s> without matching <%s> section", closeName, closeName)}
			}
			if !strings.EqualFold(closeName, top.d.Name) {
				return nil, &SyntaxError{File: name, Line: lineNo, Msg: fmt.Sprintf("expected </%s> but saw </%s>", top.d.Name, closeName)}
			}
			stack = stack[:len(stack)-1]
		case len(word) > 1 && word[0] == '<':
			d, msg := openContainer(word, rest, lineNo)
			if msg != "" {
				return nil, &SyntaxError{File: name, Line: lineNo, Msg: msg}
			}
			if len(stack) > MaxNesting {
				return nil, &SyntaxError{File: name, Line: lineNo, Msg: fmt.Sprintf("containers nested more than %d deep", MaxNesting)}
			}
			*top.list = append(*top.list, d)
			stack = append(stack, open{d: d, list: &d.Children})
		default:
			d := &Directive{Name: word, Raw: rest, Args: splitWords(rest), Line: lineNo}
			*top.list = append(*top.list, d)
		}
	}
	if len(stack) > 1 {
		d := stack[len(stack)-1].d
		return nil, &SyntaxError{File: name, Line: d.Line, Msg: fmt.Sprintf("<%s> was not closed", d.Name)}
	}
	return f, nil
}

// openContainer reads the opening line of a container: word is the first
// word ("<Files" or "<RequireAll>"), rest what follows it.
func openContainer(word, rest string, line int) (*Directive, string) {
	name := word[1:]
	if strings.HasSuffix(name, ">") {
		// "<RequireAll>": the name carries the closing ">". Apache then
		// reads the arguments as empty, whatever follows.
		name = strings.TrimSuffix(name, ">")
		rest = ""
	} else {
		end := strings.LastIndexByte(rest, '>')
		if end < 0 {
			return nil, fmt.Sprintf("<%s> directive missing closing '>'", name)
		}
		rest = strings.TrimRight(rest[:end], blanks)
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == ':' || r == '.')
	}) >= 0 {
		return nil, fmt.Sprintf("malformed container %q", word)
	}
	return &Directive{Name: name, Raw: rest, Args: splitWords(rest), Line: line, Container: true}, ""
}

// blanks are the characters apr_isspace accepts.
const blanks = " \t\n\v\f\r"

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// nextWord returns the first word of s as Apache's ap_getword_conf reads
// it, and the rest of s after the blanks that follow the word.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	s = s[i:]
	if s == "" {
		return "", ""
	}
	var end int
	if q := s[0]; q == '"' || q == '\'' {
		j := 1
		for j < len(s) && s[j] != q {
			if s[j] == '\\' && j+1 < len(s) && (s[j+1] == q || s[j+1] == '\\') {
				j += 2
			} else {
				j++
			}
		}
		word = unescapeWord(s[1:min(j, len(s))], q)
		if j < len(s) {
			j++ // the closing quote
		}
		end = j
	} else {
		j := 0
		for j < len(s) && !isBlank(s[j]) {
			j++
		}
		word = unescapeWord(s[:j], 0)
		end = j
	}
	rest = s[end:]
	i = 0
	for i < len(rest) && isBlank(rest[i]) {
		i++
	}
	return word, rest[i:]
}

// unescapeWord is Apache's substring_conf: a backslash before a backslash
// or before the quote character stands for that character.
func unescapeWord(s string, quote byte) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || quote != 0 && s[i+1] == quote) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitWords returns every word of s (see Directive.Args).
func splitWords(s string) []string {
	var words []string
	for s != "" {
		var w string
		w, s = nextWord(s)
		words = append(words, w)
	}
	return words
}

// lineReader yields the logical lines of a file: continuations joined,
// leading and trailing blanks removed.
type lineReader struct {
	data []byte
	pos  int
	line int // physical lines consumed
}

func newLineReader(data []byte) *lineReader { return &lineReader{data: data} }

// next returns the next logical line and the number of its first physical
// line; lineNo is 0 at the end of the data. err is set for a line that is
// too long or holds a NUL byte.
func (r *lineReader) next() (text string, lineNo int, err string) {
	if r.pos >= len(r.data) {
		return "", 0, ""
	}
	start := r.line + 1
	var b []byte
	for r.pos < len(r.data) {
		end := r.pos
		for end < len(r.data) && r.data[end] != '\n' {
			end++
		}
		phys := r.data[r.pos:end]
		r.line++
		if end < len(r.data) {
			end++ // the newline
		}
		r.pos = end
		if n := len(phys); n > 0 && phys[n-1] == '\r' {
			phys = phys[:n-1]
		}
		cont := false
		if n := len(phys); n > 0 && phys[n-1] == '\\' && (n < 2 || phys[n-2] != '\\') {
			phys = phys[:n-1]
			cont = r.pos < len(r.data)
		}
		b = append(b, phys...)
		if len(b) > MaxLineLength {
			return "", start, fmt.Sprintf("line longer than %d bytes", MaxLineLength)
		}
		if !cont {
			break
		}
	}
	for _, c := range b {
		if c == 0 {
			return "", start, "NUL byte in line"
		}
	}
	return strings.Trim(string(b), blanks), start, ""
}
