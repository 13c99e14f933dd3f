package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/htgate/htgate"
)

// TableOptions change how a Table matches. The zero value is the default.
type TableOptions struct {
	// CaseSensitive compares path segments exactly. By default (false)
	// segments are compared with Unicode simple case folding, as
	// strings.EqualFold does, so that "/ADMIN" cannot reach an upstream that
	// ignores case (IIS, a case-insensitive file system) unprotected.
	//
	// Security caveat: case-insensitive matching widens every rule, the
	// permissive ones too. With a protected rule "/" and an open rule
	// "/public", the request "/PUBLIC/x" is matched by "/public"; on a
	// case-sensitive upstream that is a different resource, which "/" was
	// meant to protect. Set CaseSensitive when the upstream is case-sensitive
	// and open rules are nested inside protected ones.
	CaseSensitive bool
}

// Table finds the rule that covers a request. It is a tree keyed by path
// segments, built once and read concurrently without locks; its cost per
// request depends on the depth of the path, not the number of rules.
type Table struct {
	rules         []Rule // in the order given, for Rules and explain
	root          *node
	caseSensitive bool
	hosts         bool // some rule has a Host
}

// node is one path segment of the tree.
type node struct {
	parent   *node
	children map[string]*node // keyed by folded segment (exact when case-sensitive)
	rule     *Rule            // host-less rule whose path ends here
	hosts    map[string]*Rule // rules with a Host whose path ends here
}

// NewTable builds a Table with the default options; see NewTableWith.
func NewTable(rules []Rule) (*Table, error) {
	return NewTableWith(rules, TableOptions{})
}

// NewTableWith checks rules and builds their Table. It reports every problem
// it finds, each as a *RuleError, joined with errors.Join: a path that does
// not start with "/" or is not canonical (empty or dot segments, ";", "?",
// "#", "\", control characters), a Host with a port or invalid characters,
// an invalid Require (see Expr.Validate), and two rules with the same host
// and path (after case folding, unless opts.CaseSensitive; a trailing "/"
// does not make a path different). The rules are copied.
func NewTableWith(rules []Rule, opts TableOptions) (*Table, error) {
	t := &Table{
		rules:         make([]Rule, len(rules)),
		root:          &node{},
		caseSensitive: opts.CaseSensitive,
	}
	copy(t.rules, rules)
	var errs []error
	fail := func(i int, err error) {
		errs = append(errs, &RuleError{Index: i, ID: rules[i].ID, Origin: rules[i].Origin, Err: err})
	}
	for i := range t.rules {
		r := &t.rules[i]
		segs, err := checkPath(r.Path)
		if err != nil {
			fail(i, err)
			continue
		}
		host := ""
		if r.Host != "" {
			if host, err = canonicalHost(r.Host); err != nil {
				fail(i, err)
				continue
			}
		}
		if err := r.Require.Validate(); err != nil {
			fail(i, err)
			continue
		}
		n := t.root
		for _, s := range segs {
			if !t.caseSensitive {
				s = foldSegment(s)
			}
			c := n.children[s]
			if c == nil {
				if n.children == nil {
					n.children = make(map[string]*node)
				}
				c = &node{parent: n}
				n.children[s] = c
			}
			n = c
		}
		var prev *Rule
		if host == "" {
			prev = n.rule
		} else {
			prev = n.hosts[host]
		}
		if prev != nil {
			fail(i, fmt.Errorf("%w (%s)", ErrDuplicateRule, describeRule(prev)))
			continue
		}
		if host == "" {
			n.rule = r
		} else {
			if n.hosts == nil {
				n.hosts = make(map[string]*Rule)
			}
			n.hosts[host] = r
			t.hosts = true
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i := range t.rules {
		r := &t.rules[i]
		r.ref = nil
		r.ref = r.Ref()
	}
	return t, nil
}

func describeRule(r *Rule) string {
	s := r.Path
	if r.Host != "" {
		s = r.Host + s
	}
	if r.ID != "" {
		s = r.ID + " " + s
	}
	if r.Origin != "" {
		s += " at " + r.Origin
	}
	return s
}

// Rules returns a copy of the rules of t in the order they were given.
func (t *Table) Rules() []Rule {
	if t == nil {
		return nil
	}
	out := make([]Rule, len(t.rules))
	copy(out, t.rules)
	return out
}

// segBufSize is the length up to which Match folds a segment or host on
// the stack.
const segBufSize = 256

// Match returns the rule that covers the canonical path on host, or nil when
// none does. The returned Rule belongs to t and must not be modified.
//
// The rule with the longest path wins, compared by whole segments: "/admin"
// covers "/admin", "/admin/" and "/admin/x" but not "/administrator", and
// "/" covers everything. Path length is compared first: a deeper rule
// without a Host beats a shallower rule with one. Among rules of the same
// path, the one for the request's host beats the one for any host. Host is
// compared case-insensitively after removing a ":port" and a trailing dot.
//
// Path segments are compared with case folding unless the table is
// case-sensitive (see TableOptions). A segment's path parameters (";..."
// as Tomcat and other servlet containers strip them) are ignored:
// "/members;x/page" is covered by "/members". Empty segments are skipped,
// "." is ignored and ".." goes up one segment, so that a path the normaliser
// missed is matched as most servers would resolve it. Note that a segment
// such as "..;x" is also read as ".." (Tomcat's reading): the normaliser
// should refuse such paths, since other upstreams read them literally.
//
// Match does not allocate unless a segment that needs folding or the host
// is longer than 256 bytes.
func (t *Table) Match(host, path string) *Rule {
	if t == nil {
		return nil
	}
	n, off := t.root, 0 // off counts segments below n that are not in the tree
	for i := 0; i < len(path); {
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		seg := path[i:j]
		i = j + 1
		if k := strings.IndexByte(seg, ';'); k >= 0 {
			seg = seg[:k]
		}
		if !t.caseSensitive {
			seg = trimWindowsSuffix(seg)
		}
		switch seg {
		case "", ".":
			continue
		case "..":
			if off > 0 {
				off--
			} else if n.parent != nil {
				n = n.parent
			}
			continue
		}
		if off > 0 {
			off++
			continue
		}
		if c := t.child(n, seg); c != nil {
			n = c
		} else {
			off = 1
		}
	}
	if !t.hosts {
		for ; n != nil; n = n.parent {
			if n.rule != nil {
				return n.rule
			}
		}
		return nil
	}
	var buf [segBufSize]byte
	h := hostKey(buf[:0], host)
	for ; n != nil; n = n.parent {
		if n.hosts != nil {
			if r := n.hosts[string(h)]; r != nil {
				return r
			}
		}
		if n.rule != nil {
			return n.rule
		}
	}
	return nil
}

// trimWindowsSuffix drops trailing dots and spaces from a segment, as
// Windows file systems and IIS do ("members." and "members " open
// "members"), so that such a spelling cannot pass a rule in the lenient,
// case-insensitive mode. "." and ".." and a segment of only dots and spaces
// are left alone.
func trimWindowsSuffix(seg string) string {
	if seg == "." || seg == ".." || len(seg) == 0 {
		return seg
	}
	if c := seg[len(seg)-1]; c != '.' && c != ' ' {
		return seg
	}
	if t := strings.TrimRight(seg, ". "); t != "" {
		return t
	}
	return seg
}

// child returns the child of n for the request segment seg.
func (t *Table) child(n *node, seg string) *node {
	if n.children == nil {
		return nil
	}
	if t.caseSensitive || isFolded(seg) {
		return n.children[seg]
	}
	var buf [segBufSize]byte
	return n.children[string(appendFold(buf[:0], seg))]
}

// hostKey appends to dst the request host as rules store it: lower-case,
// without port or trailing dot.
func hostKey(dst []byte, host string) []byte {
	switch {
	case strings.HasPrefix(host, "["):
		if k := strings.IndexByte(host, ']'); k >= 0 {
			host = host[:k+1]
		}
	case strings.Count(host, ":") == 1:
		host = host[:strings.IndexByte(host, ':')]
	}
	host = strings.TrimSuffix(host, ".")
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Evaluate matches host and path and evaluates the Require of the rule
// against f, returning the rule (nil when none covers the path), the result
// and the trace: one "match" step, then one "authz" step per evaluated
// clause. When no rule covers the path the result is Granted: nothing
// protects it. explain uses it; the gateway calls Match and Expr.Evaluate
// itself to avoid building the trace.
func (t *Table) Evaluate(host, path string, f Facts) (*Rule, Result, []htgate.TraceStep) {
	r := t.Match(host, path)
	if r == nil {
		return nil, Granted, []htgate.TraceStep{{Step: "match", Outcome: htgate.OutcomeSkip, Detail: "no rule covers " + path}}
	}
	trace := []htgate.TraceStep{{Step: "match", Outcome: htgate.OutcomeInfo, Detail: "rule " + describeRule(r)}}
	res := r.Require.Evaluate(f, func(detail string, res Result) {
		trace = append(trace, htgate.TraceStep{Step: "authz", Outcome: outcomeOf(res), Detail: detail})
	})
	return r, res, trace
}

// outcomeOf maps a clause result to a trace outcome.
func outcomeOf(r Result) htgate.Outcome {
	switch r {
	case Granted:
		return htgate.OutcomePass
	case Neutral:
		return htgate.OutcomeInfo
	}
	return htgate.OutcomeFail
}
