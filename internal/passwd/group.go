package passwd

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Groups is an immutable snapshot of an Apache group file
// (AuthGroupFile): lines "group: user1 user2 ...". It is safe for concurrent
// use.
//
// It reads the file the way mod_authz_groupfile does: lines are trimmed and
// may be continued with a trailing backslash, blank lines and lines starting
// with '#' are ignored, the group name is the text before the first ':', and
// members are separated by white space; a member may be quoted with " or '
// (a backslash before the quote character escapes it). Several lines for
// the same group add members. A line without ':', with an empty group name,
// with white space in the group name or with a NUL byte is reported as a
// LineError and adds no member, and so is a comment that a trailing
// backslash continues over the following lines.
type Groups struct {
	name    string
	names   []string            // groups in file order
	members map[string][]string // group -> members in file order, no duplicates
	of      map[string][]string // user -> groups, sorted
	errs    []*LineError
}

// ParseGroups reads a group file. name is used in LineErrors. The error is
// non-nil only if r cannot be read or holds more than MaxFileSize bytes.
func ParseGroups(r io.Reader, name string) (*Groups, []*LineError, error) {
	data, err := readAll(r, name)
	if err != nil {
		return nil, nil, err
	}
	g := &Groups{name: name, members: make(map[string][]string), of: make(map[string][]string)}
	seen := make(map[[2]string]bool) // {group, user}
	for l := range configLines(data, 0) {
		lineErr := func(msg string) {
			g.errs = append(g.errs, &LineError{File: name, Line: l.num, Msg: msg})
		}
		if msg := swallowedByComment(l); msg != "" {
			lineErr(msg)
			continue
		}
		text := l.text
		if text == "" || text[0] == '#' {
			continue
		}
		group, members, problem := SplitGroupLine(text)
		if problem != "" {
			lineErr(problem)
			continue
		}
		if _, known := g.members[group]; !known {
			g.names = append(g.names, group)
			g.members[group] = nil
		}
		for _, w := range members {
			if seen[[2]string{group, w}] {
				continue
			}
			seen[[2]string{group, w}] = true
			g.members[group] = append(g.members[group], w)
			g.of[w] = append(g.of[w], group)
		}
	}
	for _, gs := range g.of {
		slices.Sort(gs)
	}
	return g, g.errs, nil
}

// SplitGroupLine reads one line of a group file, "group: member member
// ...", as mod_authz_groupfile does: members are separated by white space
// or quoted with " or '; repeated colons after the name are skipped. A
// line it cannot read gets a problem text (for a LineError) instead.
// Blank and comment lines are the caller's to skip.
func SplitGroupLine(text string) (group string, members []string, problem string) {
	group, rest, found := strings.Cut(text, ":")
	switch {
	case strings.IndexByte(text, 0) >= 0:
		return "", nil, "NUL byte in line"
	case !found:
		return "", nil, "missing ':' after the group name"
	case group == "":
		return "", nil, "empty group name"
	case strings.IndexFunc(group, isSpace) >= 0:
		return "", nil, fmt.Sprintf("group name %q contains white space", group)
	}
	rest = strings.TrimLeft(rest, ":") // ap_getword skips repeated separators
	for {
		var w string
		w, rest = confWord(rest)
		if w == "" && rest == "" {
			break
		}
		if w != "" {
			members = append(members, w)
		}
	}
	return group, members, ""
}

// confWord returns the next word of s as Apache's ap_getword_conf does:
// white space separates words; a word starting with " or ' runs to the
// matching quote (or the end), and a backslash before that quote character
// stands for the quote itself.
func confWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, isSpace)
	if s == "" {
		return "", ""
	}
	if q := s[0]; q == '"' || q == '\'' {
		var b strings.Builder
		i := 1
		for i < len(s) && s[i] != q {
			if s[i] == '\\' && i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i += 2
				continue
			}
			b.WriteByte(s[i])
			i++
		}
		if i < len(s) {
			i++ // the closing quote
		}
		return b.String(), strings.TrimLeftFunc(s[i:], isSpace)
	}
	end := strings.IndexFunc(s, isSpace)
	if end < 0 {
		return s, ""
	}
	return s[:end], strings.TrimLeftFunc(s[end:], isSpace)
}

// Name returns the name the snapshot was parsed with.
func (g *Groups) Name() string { return g.name }

// Of returns the groups user belongs to, sorted.
func (g *Groups) Of(user string) []string {
	return slices.Clone(g.of[user])
}

// Has reports whether user is a member of group, without allocating.
func (g *Groups) Has(user, group string) bool {
	_, found := slices.BinarySearch(g.of[user], group)
	return found
}

// Members returns the members of group in file order, without duplicates.
func (g *Groups) Members(group string) []string {
	return slices.Clone(g.members[group])
}

// Names returns the groups in file order, including groups without members.
func (g *Groups) Names() []string {
	return slices.Clone(g.names)
}

// LineErrors returns the problems found while parsing, in file order.
func (g *Groups) LineErrors() []*LineError {
	return slices.Clone(g.errs)
}
