package htaccess

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/htgate/htgate/internal/policy"
)

// MaxConditionLength bounds the source of a Require expr condition.
const MaxConditionLength = 4096

// exprVars are the ap_expr variables htgate can answer for a request;
// the gateway's Facts.Var supplies them (REMOTE_USER and REMOTE_ADDR come
// from the facts themselves). Any HTTP_* request header is accepted too.
var exprVars = map[string]bool{
	"REQUEST_METHOD": true, "REQUEST_SCHEME": true, "REQUEST_URI": true, "DOCUMENT_URI": true,
	"QUERY_STRING": true, "THE_REQUEST": true, "REMOTE_ADDR": true, "REMOTE_PORT": true,
	"REMOTE_USER": true, "SERVER_NAME": true, "SERVER_PORT": true, "SERVER_PROTOCOL": true,
	"HTTPS": true, "IPV6": true, "CONN_REMOTE_ADDR": true, "IS_SUBREQ": true, "CONTENT_TYPE": true,
	"AUTH_TYPE": true, "SERVER_SOFTWARE": true, "API_VERSION": true, "REMOTE_HOST": true,
	"REMOTE_IDENT": true, "SERVER_ADMIN": true, "DOCUMENT_ROOT": true, "CONTEXT_PREFIX": true,
	"CONTEXT_DOCUMENT_ROOT": true, "HANDLER": true, "HTTP2": true, "PATH_INFO": true,
	"REQUEST_FILENAME": true, "SCRIPT_FILENAME": true, "LAST_MODIFIED": true, "SCRIPT_USER": true,
	"SCRIPT_GROUP": true, "REQUEST_STATUS": true, "REQUEST_LOG_ID": true, "CONN_LOG_ID": true,
	"TIME_YEAR": true, "TIME_MON": true, "TIME_DAY": true, "TIME_HOUR": true, "TIME_MIN": true,
	"TIME_SEC": true, "TIME_WDAY": true, "TIME": true,
}

// condition is a compiled Require expr: the subset of Apache's ap_expr
// language htgate implements. See parseCondition.
type condition struct {
	src  string
	root condNode
	user bool // reads REMOTE_USER
}

var _ policy.Condition = (*condition)(nil)

func (c *condition) Match(f *policy.Facts) bool { return c.root.eval(f) }
func (c *condition) NeedsUser() bool            { return c.user }
func (c *condition) String() string             { return c.src }

type condNode interface{ eval(f *policy.Facts) bool }
type valueNode interface{ value(f *policy.Facts) string }

// parseCondition compiles a Require expr condition. htgate implements:
// true, false, !, &&, ||, parentheses; string comparison == = != < <= >
// >=; integer comparison -eq -ne -lt -le -gt -ge; =~ and !~ with /regex/
// or m#regex# (flag i); "in {a, b}"; -ipmatch, -strmatch, -strcmatch,
// -fnmatch; the unary -n, -z, -T and -R; words that are numbers, quoted
// strings (with %{VAR} inside), %{VAR}, %{req:Header}, %{http:Header},
// %{env:Name}, the functions req(), http(), env(), tolower(), toupper(),
// and "." concatenation. Anything else (file tests, other functions,
// unknown variables) is an error, so that a condition htgate cannot
// evaluate refuses rather than guesses.
func parseCondition(src string) (policy.Condition, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, errors.New("empty expression")
	}
	if len(src) > MaxConditionLength {
		return nil, fmt.Errorf("expression longer than %d bytes", MaxConditionLength)
	}
	// Apache accepts the expression in quotes as one word.
	if len(src) >= 2 && (src[0] == '"' && src[len(src)-1] == '"' || src[0] == '\'' && src[len(src)-1] == '\'') {
		if w, rest := nextWord(src); rest == "" {
			src = w
		}
	}
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks, c: &condition{src: src}}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	p.c.root = root
	return p.c, nil
}

type tokKind uint8

const (
	tWord   tokKind = iota // bare word: operator, keyword, function name, number
	tString                // quoted string (raw content)
	tVar                   // %{...} (content)
	tRegex                 // /.../ or m#...# (pattern, with flags applied)
	tPunct                 // ( ) { } , . ! && || == != =~ !~ < <= > >= =
)

type token struct {
	kind tokKind
	text string
}

func lexExpr(s string) ([]token, error) {
	var toks []token
	afterMatch := false // the previous token was =~ or !~: a regex may follow
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isBlank(c):
			i++
			continue
		case c == '%' && i+1 < len(s) && s[i+1] == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return nil, errors.New("unterminated %{")
			}
			toks = append(toks, token{tVar, s[i+2 : i+j]})
			i += j + 1
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				return nil, errors.New("unterminated string")
			}
			toks = append(toks, token{tString, b.String()})
			i = j + 1
		case afterMatch && (c == '/' || c == 'm' && i+1 < len(s) && !isWordChar(s[i+1])):
			delim := byte('/')
			j := i + 1
			if c == 'm' {
				delim = s[i+1]
				j = i + 2
			}
			k := strings.IndexByte(s[j:], delim)
			if k < 0 {
				return nil, errors.New("unterminated regular expression")
			}
			pat := s[j : j+k]
			i = j + k + 1
			for i < len(s) && s[i] == 'i' {
				pat = "(?i)" + pat
				i++
			}
			toks = append(toks, token{tRegex, pat})
		case strings.ContainsRune("(){},.", rune(c)):
			toks = append(toks, token{tPunct, string(c)})
			i++
		case strings.ContainsRune("!=<>&|", rune(c)):
			op := string(c)
			if i+1 < len(s) {
				two := s[i : i+2]
				switch two {
				case "&&", "||", "==", "!=", "=~", "!~", "<=", ">=":
					op = two
				}
			}
			if op == "&" || op == "|" {
				return nil, fmt.Errorf("unknown operator %q", op)
			}
			toks = append(toks, token{tPunct, op})
			i += len(op)
		case isWordChar(c) || c == '-':
			j := i + 1
			for j < len(s) && isWordChar(s[j]) {
				j++
			}
			toks = append(toks, token{tWord, s[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
		last := toks[len(toks)-1]
		afterMatch = last.kind == tPunct && (last.text == "=~" || last.text == "!~")
	}
	return toks, nil
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

type exprParser struct {
	toks []token
	pos  int
	c    *condition
}

const maxExprDepth = 32

func (p *exprParser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *exprParser) isPunct(s string) bool {
	t, ok := p.peek()
	return ok && t.kind == tPunct && t.text == s
}

func (p *exprParser) or(depth int) (condNode, error) {
	if depth > maxExprDepth {
		return nil, errors.New("expression nested too deeply")
	}
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.isPunct("||") {
		p.pos++
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = orNode{left, right}
	}
	return left, nil
}

func (p *exprParser) and(depth int) (condNode, error) {
	left, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.isPunct("&&") {
		p.pos++
		right, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		left = andNode{left, right}
	}
	return left, nil
}

func (p *exprParser) unary(depth int) (condNode, error) {
	if depth > maxExprDepth {
		return nil, errors.New("expression nested too deeply")
	}
	t, ok := p.peek()
	if !ok {
		return nil, errors.New("unexpected end of expression")
	}
	switch {
	case t.kind == tPunct && t.text == "!":
		p.pos++
		n, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case t.kind == tPunct && t.text == "(":
		p.pos++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.isPunct(")") {
			return nil, errors.New("missing )")
		}
		p.pos++
		return n, nil
	case t.kind == tWord && (t.text == "true" || t.text == "false"):
		p.pos++
		return constNode(t.text == "true"), nil
	case t.kind == tWord && strings.HasPrefix(t.text, "-"):
		p.pos++
		arg, err := p.word(depth)
		if err != nil {
			return nil, err
		}
		switch t.text {
		case "-n":
			return predNode{arg, func(s string) bool { return s != "" }}, nil
		case "-z":
			return predNode{arg, func(s string) bool { return s == "" }}, nil
		case "-T":
			return predNode{arg, func(s string) bool {
				switch strings.ToLower(s) {
				case "", "0", "off", "false", "no":
					return false
				}
				return true
			}}, nil
		case "-R":
			return p.ipmatch(remoteAddr{}, arg)
		}
		return nil, fmt.Errorf("unary operator %s is not supported by htgate", t.text)
	}
	return p.comparison(depth)
}

func (p *exprParser) comparison(depth int) (condNode, error) {
	left, err := p.word(depth)
	if err != nil {
		return nil, err
	}
	t, ok := p.peek()
	if !ok {
		return nil, errors.New("a comparison is missing its operator")
	}
	p.pos++
	switch {
	case t.kind == tPunct && (t.text == "=~" || t.text == "!~"):
		r, ok := p.peek()
		if !ok || r.kind != tRegex {
			return nil, errors.New("=~ needs a /regex/")
		}
		p.pos++
		re, err := regexp.Compile(r.text)
		if err != nil {
			return nil, fmt.Errorf("bad regular expression: %v", err)
		}
		return regexNode{left, re, t.text == "!~"}, nil
	case t.kind == tPunct && strings.Contains("== = != < <= > >=", t.text):
		right, err := p.word(depth)
		if err != nil {
			return nil, err
		}
		return strCmp{left, right, t.text}, nil
	case t.kind == tWord && t.text == "in":
		if !p.isPunct("{") {
			return nil, errors.New("in needs { list }")
		}
		p.pos++
		var list []valueNode
		for {
			w, err := p.word(depth)
			if err != nil {
				return nil, err
			}
			list = append(list, w)
			if p.isPunct(",") {
				p.pos++
				continue
			}
			if p.isPunct("}") {
				p.pos++
				break
			}
			return nil, errors.New("in: missing }")
		}
		return inNode{left, list}, nil
	case t.kind == tWord:
		right, err := p.word(depth)
		if err != nil {
			return nil, err
		}
		switch t.text {
		case "-eq", "-ne", "-lt", "-le", "-gt", "-ge":
			return intCmp{left, right, t.text}, nil
		case "-ipmatch":
			return p.ipmatch(left, right)
		case "-strmatch", "-strcmatch", "-fnmatch":
			return globNode{left, right, t.text == "-strcmatch"}, nil
		}
	}
	return nil, fmt.Errorf("operator %q is not supported by htgate", t.text)
}

// ipmatch compiles "word -ipmatch 'net'": the network must be a constant.
func (p *exprParser) ipmatch(addr, network valueNode) (condNode, error) {
	lit, ok := network.(literal)
	if !ok {
		return nil, errors.New("-ipmatch needs a constant network")
	}
	e, err := policy.ParseRequire("ip " + string(lit))
	if err != nil || len(e.Nets) != 1 {
		return nil, fmt.Errorf("-ipmatch: %q is not a network", string(lit))
	}
	return ipNode{addr, e.Nets[0]}, nil
}

// word reads a word, with "." concatenation.
func (p *exprParser) word(depth int) (valueNode, error) {
	w, err := p.atom(depth)
	if err != nil {
		return nil, err
	}
	for p.isPunct(".") {
		p.pos++
		r, err := p.atom(depth)
		if err != nil {
			return nil, err
		}
		w = concat{w, r}
	}
	return w, nil
}

func (p *exprParser) atom(depth int) (valueNode, error) {
	if depth > maxExprDepth {
		return nil, errors.New("expression nested too deeply")
	}
	t, ok := p.peek()
	if !ok {
		return nil, errors.New("unexpected end of expression")
	}
	p.pos++
	switch t.kind {
	case tString:
		return p.interpolate(t.text)
	case tVar:
		return p.variable(t.text)
	case tWord:
		if _, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return literal(t.text), nil
		}
		if p.isPunct("(") {
			p.pos++
			arg, err := p.word(depth + 1)
			if err != nil {
				return nil, err
			}
			if !p.isPunct(")") {
				return nil, fmt.Errorf("%s( is missing )", t.text)
			}
			p.pos++
			return p.function(t.text, arg)
		}
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}

// interpolate reads a quoted string, in which %{...} is replaced.
func (p *exprParser) interpolate(s string) (valueNode, error) {
	var parts []valueNode
	for {
		i := strings.Index(s, "%{")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, errors.New("unterminated %{ in string")
		}
		if i > 0 {
			parts = append(parts, literal(s[:i]))
		}
		v, err := p.variable(s[i+2 : i+j])
		if err != nil {
			return nil, err
		}
		parts = append(parts, v)
		s = s[i+j+1:]
	}
	if s != "" || len(parts) == 0 {
		parts = append(parts, literal(s))
	}
	w := parts[0]
	for _, x := range parts[1:] {
		w = concat{w, x}
	}
	return w, nil
}

func (p *exprParser) variable(name string) (valueNode, error) {
	if fn, arg, ok := strings.Cut(name, ":"); ok {
		return p.function(fn, literal(arg))
	}
	switch {
	case name == "REMOTE_USER":
		p.c.user = true
		return remoteUser{}, nil
	case name == "REMOTE_ADDR":
		return remoteAddr{}, nil
	case exprVars[name] || strings.HasPrefix(name, "HTTP_") && len(name) > 5:
		return varNode(name), nil
	}
	return nil, fmt.Errorf("variable %%{%s} is not supported by htgate", name)
}

func (p *exprParser) function(name string, arg valueNode) (valueNode, error) {
	switch strings.ToLower(name) {
	case "req", "http", "req_novary":
		return headerNode{arg}, nil
	case "resp", "note", "osenv":
		return literal(""), nil
	case "escape":
		return mapNode{arg, func(s string) string { return escapePath(s) }}, nil
	case "unescape":
		return mapNode{arg, unescapeURL}, nil
	case "base64":
		return mapNode{arg, func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }}, nil
	case "unbase64":
		return mapNode{arg, func(s string) string {
			b, _ := base64.StdEncoding.DecodeString(s)
			return string(b)
		}}, nil
	case "md5":
		return mapNode{arg, func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }}, nil
	case "sha1":
		return mapNode{arg, func(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }}, nil
	case "env", "reqenv":
		return envNode{arg}, nil
	case "tolower":
		return mapNode{arg, strings.ToLower}, nil
	case "toupper":
		return mapNode{arg, strings.ToUpper}, nil
	}
	return nil, fmt.Errorf("function %s is not supported by htgate", name)
}

// Value nodes.

type literal string

func (l literal) value(*policy.Facts) string { return string(l) }

type concat struct{ a, b valueNode }

func (c concat) value(f *policy.Facts) string { return c.a.value(f) + c.b.value(f) }

type varNode string

func (v varNode) value(f *policy.Facts) string {
	if f.Var == nil {
		return ""
	}
	return f.Var(string(v))
}

type remoteUser struct{}

func (remoteUser) value(f *policy.Facts) string {
	if !f.Authenticated {
		return ""
	}
	return f.User
}

type remoteAddr struct{}

func (remoteAddr) value(f *policy.Facts) string {
	if !f.Client.IsValid() {
		return ""
	}
	return f.Client.Unmap().String()
}

type headerNode struct{ name valueNode }

func (h headerNode) value(f *policy.Facts) string {
	if f.Var == nil {
		return ""
	}
	return f.Var("HTTP:" + h.name.value(f))
}

type envNode struct{ name valueNode }

func (e envNode) value(f *policy.Facts) string {
	if f.Env == nil {
		return ""
	}
	v, _ := f.Env(e.name.value(f))
	return v
}

type mapNode struct {
	a  valueNode
	fn func(string) string
}

func (m mapNode) value(f *policy.Facts) string { return m.fn(m.a.value(f)) }

// Condition nodes.

type constNode bool

func (c constNode) eval(*policy.Facts) bool { return bool(c) }

type notNode struct{ a condNode }

func (n notNode) eval(f *policy.Facts) bool { return !n.a.eval(f) }

type andNode struct{ a, b condNode }

func (n andNode) eval(f *policy.Facts) bool { return n.a.eval(f) && n.b.eval(f) }

type orNode struct{ a, b condNode }

func (n orNode) eval(f *policy.Facts) bool { return n.a.eval(f) || n.b.eval(f) }

type predNode struct {
	a  valueNode
	fn func(string) bool
}

func (n predNode) eval(f *policy.Facts) bool { return n.fn(n.a.value(f)) }

type strCmp struct {
	a, b valueNode
	op   string
}

func (n strCmp) eval(f *policy.Facts) bool {
	c := strings.Compare(n.a.value(f), n.b.value(f))
	switch n.op {
	case "==", "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

type intCmp struct {
	a, b valueNode
	op   string
}

func (n intCmp) eval(f *policy.Facts) bool {
	x, err1 := strconv.ParseInt(strings.TrimSpace(n.a.value(f)), 10, 64)
	y, err2 := strconv.ParseInt(strings.TrimSpace(n.b.value(f)), 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	switch n.op {
	case "-eq":
		return x == y
	case "-ne":
		return x != y
	case "-lt":
		return x < y
	case "-le":
		return x <= y
	case "-gt":
		return x > y
	}
	return x >= y
}

type regexNode struct {
	a      valueNode
	re     *regexp.Regexp
	negate bool
}

func (n regexNode) eval(f *policy.Facts) bool { return n.re.MatchString(n.a.value(f)) != n.negate }

type inNode struct {
	a    valueNode
	list []valueNode
}

func (n inNode) eval(f *policy.Facts) bool {
	v := n.a.value(f)
	for _, w := range n.list {
		if w.value(f) == v {
			return true
		}
	}
	return false
}

type ipNode struct {
	a   valueNode
	net netip.Prefix
}

func (n ipNode) eval(f *policy.Facts) bool {
	a, err := netip.ParseAddr(n.a.value(f))
	return err == nil && n.net.Contains(a.Unmap().WithZone(""))
}

type globNode struct {
	a, b  valueNode
	icase bool
}

func (n globNode) eval(f *policy.Facts) bool {
	s, pat := n.a.value(f), n.b.value(f)
	if n.icase {
		s, pat = strings.ToLower(s), strings.ToLower(pat)
	}
	return fnmatch(pat, s)
}

// unescapeURL decodes %XX escapes, leaving malformed ones as they are.
func unescapeURL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// nameList is a Require user or Require group line with %{...}
// variables: expanded for each request and split into names.
type nameList struct {
	src   string
	group bool
	tmpl  valueNode
}

var _ policy.Condition = (*nameList)(nil)

// parseNameList compiles the arguments of Require user or group that
// contain %{...} variables.
func parseNameList(group bool, src string) (policy.Condition, error) {
	if len(src) > MaxConditionLength {
		return nil, fmt.Errorf("longer than %d bytes", MaxConditionLength)
	}
	p := &exprParser{c: &condition{}}
	v, err := p.interpolate(src)
	if err != nil {
		return nil, err
	}
	return &nameList{src: src, group: group, tmpl: v}, nil
}

func (n *nameList) Match(f *policy.Facts) bool {
	if !f.Authenticated {
		return false
	}
	for _, w := range splitWords(n.tmpl.value(f)) {
		if w == "" {
			break
		}
		if n.group {
			for _, g := range f.Groups {
				if g == w {
					return true
				}
			}
		} else if w == f.User {
			return true
		}
	}
	return false
}

func (n *nameList) NeedsUser() bool { return true }

func (n *nameList) String() string {
	if n.group {
		return "group " + n.src
	}
	return "user " + n.src
}
