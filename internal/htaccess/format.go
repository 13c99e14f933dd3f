package htaccess

import "strings"

// Format writes the directives back in Apache's syntax, one a line, with
// containers indented and arguments quoted where they need it. Parsing
// the result gives the same directives (names, arguments, nesting).
func (f *File) Format() string {
	var b strings.Builder
	formatList(&b, f.Directives, 0)
	return b.String()
}

func formatList(b *strings.Builder, ds []*Directive, depth int) {
	for _, d := range ds {
		b.WriteString(strings.Repeat("  ", depth))
		if d.Container {
			b.WriteByte('<')
			b.WriteString(quoteArg(d.Name))
			for _, a := range d.Args {
				b.WriteByte(' ')
				b.WriteString(quoteArg(a))
			}
			b.WriteString(">\n")
			formatList(b, d.Children, depth+1)
			b.WriteString(strings.Repeat("  ", depth))
			b.WriteString("</")
			b.WriteString(quoteArg(d.Name))
			b.WriteString(">\n")
			continue
		}
		b.WriteString(quoteArg(d.Name))
		for _, a := range d.Args {
			b.WriteByte(' ')
			b.WriteString(quoteArg(a))
		}
		b.WriteByte('\n')
	}
}

// quoteArg quotes a word when reading it back needs it.
func quoteArg(s string) string {
	needs := s == "" || s[0] == '"' || s[0] == '\'' || s[0] == '#' || s[0] == '<' ||
		strings.HasSuffix(s, "\\") || strings.ContainsAny(s, " \t\n\v\f\r>\\")
	if !needs {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
