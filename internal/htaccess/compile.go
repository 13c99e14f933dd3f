package htaccess

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate/internal/policy"
)

// Compile checks the directives of f as an Apache with opts would when it
// reads the file (modules loaded, AllowOverride classes, arguments) and
// returns what the file sets. The first problem is returned as a
// *SyntaxError with the directive's line; Apache answers 500 for every
// request below such a file, and so does the gateway.
func Compile(f *File, opts Options) (*Section, error) {
	c := &compiler{opts: opts, file: f.Name, table: directives}
	sec := newSection(f.Name)
	x := ctx{sec: sec, top: sec, override: opts.override(), limited: allMethods}
	if err := c.walk(f.Directives, x); err != nil {
		return nil, err
	}
	return sec, nil
}

type compiler struct {
	opts  Options
	file  string
	table map[string]spec // directives (a field, so that <IfDirective> can read it)
}

// ctx is the context a directive is read in, as Apache's cmd_parms.
type ctx struct {
	sec      *Section   // where directives go (a <Files> block's own section inside one)
	top      *Section   // the file's section: <Files> blocks are added to it
	override Override   // the classes allowed here
	limited  methodMask // Apache's cmd->limited: the methods of the enclosing <Limit>
	authz    *authzNode // the Require container being read, nil at the top level
	inFiles  bool
}

func (c *compiler) errf(d *Directive, format string, args ...any) error {
	return &SyntaxError{File: c.file, Line: d.Line, Msg: fmt.Sprintf(format, args...)}
}

func (c *compiler) where(d *Directive) string { return c.file + ":" + strconv.Itoa(d.Line) }

func (c *compiler) walk(ds []*Directive, x ctx) error {
	for _, d := range ds {
		if err := c.directive(d, x); err != nil {
			return err
		}
	}
	return nil
}

// displayName is the directive's name as Apache's messages write it.
func displayName(d *Directive) string {
	if d.Container {
		return "<" + d.Name
	}
	return d.Name
}

func (c *compiler) directive(d *Directive, x ctx) error {
	key := strings.ToLower(d.Name)
	if d.Container {
		key = "<" + key
	}
	sp, ok := c.table[key]
	if !ok || sp.module == modAccessCompat && !c.opts.AccessCompat {
		if m, known := unsupportedModules[key]; known {
			return c.errf(d, "Invalid command '%s': %s is not available (htgate emulates an Apache without it)", displayName(d), m)
		}
		return c.errf(d, "Invalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", displayName(d))
	}
	switch {
	case sp.server:
		return c.errf(d, "%s not allowed here", displayName(d))
	case sp.always:
	case x.override&sp.class == 0:
		return c.errf(d, "%s not allowed here (AllowOverride %s)", displayName(d), c.opts.override())
	}
	if sp.fn == nil {
		return c.errf(d, "%s is not supported by htgate", displayName(d))
	}
	return sp.fn(c, d, x)
}

// Argument checks, with Apache's messages.

func (c *compiler) take1(d *Directive) (string, error) {
	if len(d.Args) != 1 || d.Args[0] == "" {
		return "", c.errf(d, "%s takes one argument", d.Name)
	}
	return d.Args[0], nil
}

func (c *compiler) take2(d *Directive) (string, string, error) {
	if len(d.Args) != 2 || d.Args[0] == "" || d.Args[1] == "" {
		return "", "", c.errf(d, "%s takes two arguments", d.Name)
	}
	return d.Args[0], d.Args[1], nil
}

func (c *compiler) take12(d *Directive) (string, string, error) {
	if len(d.Args) < 1 || len(d.Args) > 2 || d.Args[0] == "" {
		return "", "", c.errf(d, "%s takes 1-2 arguments", d.Name)
	}
	if len(d.Args) == 2 {
		return d.Args[0], d.Args[1], nil
	}
	return d.Args[0], "", nil
}

// iterate is Apache's ITERATE: at least one word; reading stops at an
// empty one.
func (c *compiler) iterate(d *Directive) ([]string, error) {
	var out []string
	for _, w := range d.Args {
		if w == "" {
			break
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, c.errf(d, "%s requires at least one argument", d.Name)
	}
	return out, nil
}

func (c *compiler) flag(d *Directive) (bool, error) {
	if len(d.Args) == 1 {
		switch strings.ToLower(d.Args[0]) {
		case "on":
			return true, nil
		case "off":
			return false, nil
		}
	}
	return false, c.errf(d, "%s must be On or Off", d.Name)
}

func noArgsContainer(c *compiler, d *Directive) error {
	if d.Raw != "" {
		return c.errf(d, "<%s> directive doesn't take additional arguments", d.Name)
	}
	return nil
}

// credentialPath resolves an AuthUserFile or AuthGroupFile argument.
func (c *compiler) credentialPath(d *Directive) (*fileRef, error) {
	p, err := c.take1(d)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(p) && c.opts.ServerRoot == "" {
		// Apache resolves it against its ServerRoot, which htgate does
		// not know: like a missing file, it fails only when a password
		// is checked (500), after a 401 for requests without one.
		return &fileRef{path: p, where: c.where(d), relative: true}, nil
	}
	p, err = c.resolve(d, p)
	if err != nil {
		return nil, err
	}
	return &fileRef{path: p, where: c.where(d)}, nil
}

// resolve makes p absolute against ServerRoot, as ap_server_root_relative.
func (c *compiler) resolve(d *Directive, p string) (string, error) {
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	if c.opts.ServerRoot == "" {
		return "", c.errf(d, "%s %q is relative: Apache resolves it against its ServerRoot, which htgate does not know; write an absolute path", d.Name, p)
	}
	return filepath.Join(c.opts.ServerRoot, p), nil
}

// mod_authn_core

func setAuthType(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	if strings.EqualFold(v, "None") {
		v = ""
	}
	x.sec.authType = &v
	return nil
}

func setAuthName(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	realm := realmOf(v)
	x.sec.authName = &realm
	return nil
}

// realmOf is the realm a client reads from Apache's challenge for an
// AuthName argument: Apache escapes bare double quotes (ap_escape_quotes)
// and sends the rest as it is inside the quoted-string, so a backslash
// escapes the character after it ("back\slash" reads as "backslash").
func realmOf(arg string) string {
	if strings.IndexByte(arg, '\\') < 0 {
		return arg
	}
	var b strings.Builder
	for i := 0; i < len(arg); i++ {
		if arg[i] == '\\' && i+1 < len(arg) {
			i++
		}
		b.WriteByte(arg[i])
	}
	return b.String()
}

func (s *Section) ensureDigest() *digestConf {
	if s.digest == nil {
		s.digest = newDigestConf()
	}
	return s.digest
}

// mod_authn_file, mod_authz_groupfile

func setUserFile(c *compiler, d *Directive, x ctx) error {
	f, err := c.credentialPath(d)
	if err != nil {
		return err
	}
	x.sec.userFile = f
	return nil
}

func setGroupFile(c *compiler, d *Directive, x ctx) error {
	f, err := c.credentialPath(d)
	if err != nil {
		return err
	}
	x.sec.groupFile = f
	return nil
}

// mod_auth_basic

func (s *Section) ensureBasic() *basicConf {
	if s.basic == nil {
		s.basic = &basicConf{authoritative: -1}
	}
	return s.basic
}

func setBasicProvider(c *compiler, d *Directive, x ctx) error {
	ws, err := c.iterate(d)
	if err != nil {
		return err
	}
	b := x.sec.ensureBasic()
	for _, w := range ws {
		if w != "file" {
			return c.errf(d, "Unknown Authn provider: %s", w)
		}
		b.providers = append(b.providers, w)
	}
	return nil
}

func setBasicAuthoritative(c *compiler, d *Directive, x ctx) error {
	v, err := c.flag(d)
	if err != nil {
		return err
	}
	b := x.sec.ensureBasic()
	b.authoritative = 0
	if v {
		b.authoritative = 1
	}
	return nil
}

// mod_auth_digest

func setDigestProvider(c *compiler, d *Directive, x ctx) error {
	ws, err := c.iterate(d)
	if err != nil {
		return err
	}
	dc := x.sec.ensureDigest()
	for _, w := range ws {
		if w != "file" {
			return c.errf(d, "Unknown Authn provider: %s", w)
		}
		dc.providers = append(dc.providers, w)
	}
	return nil
}

func setDigestQop(c *compiler, d *Directive, x ctx) error {
	ws, err := c.iterate(d)
	if err != nil {
		return err
	}
	dc := x.sec.ensureDigest()
	for _, w := range ws {
		if !strings.EqualFold(w, "auth") {
			// Apache 2.4.71: "AuthDigestQop is deprecated: only 'auth'
			// is supported".
			return c.errf(d, "AuthDigestQop is deprecated: only 'auth' is supported")
		}
	}
	dc.qop = []string{"auth"}
	return nil
}

func setNonceLifetime(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > int64(24*time.Hour/time.Second) {
		return c.errf(d, "Invalid time in AuthDigestNonceLifetime: %s", v)
	}
	x.sec.ensureDigest().lifetime = time.Duration(n) * time.Second
	return nil
}

func setNcCheck(c *compiler, d *Directive, x ctx) error {
	v, err := c.flag(d)
	if err != nil {
		return err
	}
	x.sec.ensureDigest().ncCheck = v
	return nil
}

func setDigestAlgorithm(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	switch {
	case strings.EqualFold(v, "MD5"):
		x.sec.ensureDigest().algorithm = "MD5"
		return nil
	case strings.EqualFold(v, "MD5-sess"):
		return c.errf(d, "AuthDigestAlgorithm: ERROR: algorithm `MD5-sess' is not fully implemented")
	}
	return c.errf(d, "Unsupported algorithm in AuthDigestAlgorithm: %s", v)
}

func setDigestDomain(c *compiler, d *Directive, x ctx) error {
	ws, err := c.iterate(d)
	if err != nil {
		return err
	}
	dc := x.sec.ensureDigest()
	dc.domain = append(dc.domain, ws...)
	return nil
}

func nonceFormat(c *compiler, d *Directive, _ ctx) error {
	return c.errf(d, "AuthDigestNonceFormat is not implemented")
}

// mod_authz_core

func (s *Section) ensureAuthz() *authzConf {
	if s.authz == nil {
		s.authz = newAuthzConf()
	}
	return s.authz
}

// parent returns the container a Require in context x is added to,
// creating the section's implicit top-level RequireAny when needed.
func (x ctx) parent() *authzNode {
	if x.authz != nil {
		return x.authz
	}
	a := x.sec.ensureAuthz()
	if a.section == nil {
		a.section = &authzNode{op: opOr}
	}
	return a.section
}

func addRequire(c *compiler, d *Directive, x ctx) error {
	name, args := nextWord(d.Raw)
	negate := false
	if strings.EqualFold(name, "not") {
		negate = true
		name, args = nextWord(args)
	}
	clause, err := c.provider(d, name, args)
	if err != nil {
		return err
	}
	x.sec.ensureAuthz()
	parent := x.parent()
	if negate && parent.op == opOr {
		return c.errf(d, "negative Require directive has no effect in %s directive", containerName(parent, x.authz == nil))
	}
	node := &authzNode{negate: negate, limited: x.limited, clause: clause}
	parent.limited |= node.limited
	parent.children = append(parent.children, node)
	return nil
}

func containerName(n *authzNode, top bool) string {
	switch {
	case top:
		return "<RequireAny>"
	case n.op == opAnd:
		return "<RequireAll>"
	case n.negate:
		return "<RequireNone>"
	}
	return "<RequireAny>"
}

// provider parses a Require line's provider and arguments into a clause,
// as the authz providers of the emulated modules parse them.
func (c *compiler) provider(d *Directive, name, args string) (*policy.Expr, error) {
	words := func() []string {
		var out []string
		for _, w := range splitWords(args) {
			if w == "" {
				break
			}
			out = append(out, w)
		}
		return out
	}
	noExpr := func() error {
		if strings.Contains(args, "%{") {
			return c.errf(d, "Require %s: %%{...} variables are not supported by htgate", name)
		}
		return nil
	}
	switch name {
	case "all":
		switch {
		case strings.EqualFold(args, "granted"):
			return &policy.Expr{Kind: policy.AllGranted}, nil
		case strings.EqualFold(args, "denied"):
			return &policy.Expr{Kind: policy.AllDenied}, nil
		}
		return nil, c.errf(d, "Argument for 'Require all' must be 'granted' or 'denied'")
	case "valid-user":
		return &policy.Expr{Kind: policy.ValidUser}, nil
	case "user", "group":
		if strings.Contains(args, "%{") {
			cond, err := parseNameList(name == "group", args)
			if err != nil {
				return nil, c.errf(d, "Cannot parse expression in require line: %v", err)
			}
			return &policy.Expr{Kind: policy.Cond, Cond: cond}, nil
		}
		fallthrough
	case "host", "forward-dns", "env":
		if err := noExpr(); err != nil {
			return nil, err
		}
		kind := map[string]policy.Kind{"user": policy.User, "group": policy.Group, "host": policy.Host,
			"forward-dns": policy.ForwardDNS, "env": policy.Env}[name]
		return &policy.Expr{Kind: kind, Args: words()}, nil
	case "local":
		return &policy.Expr{Kind: policy.Local}, nil
	case "ip":
		ws := words()
		if len(ws) == 0 {
			return nil, c.errf(d, "'require ip' requires an argument")
		}
		e := &policy.Expr{Kind: policy.IP}
		for _, w := range ws {
			p, err := policy.ParseRequire("ip " + w)
			if err != nil || len(p.Nets) != 1 || strings.ContainsAny(w, "\"'") {
				return nil, c.errf(d, "ip address '%s' appears to be invalid", w)
			}
			e.Nets = append(e.Nets, p.Nets[0])
		}
		return e, nil
	case "method":
		ws := words()
		e := &policy.Expr{Kind: policy.Method}
		for _, w := range ws {
			n := MethodNumber(w)
			if n == methodInvalid {
				return nil, c.errf(d, "Invalid Method '%s'", w)
			}
			e.Args = append(e.Args, methodName(n))
		}
		return e, nil
	case "expr":
		cond, err := parseCondition(args)
		if err != nil {
			return nil, c.errf(d, "Cannot parse expression in require line: %v", err)
		}
		return &policy.Expr{Kind: policy.Cond, Cond: cond}, nil
	case "":
		return nil, c.errf(d, "Require requires arguments")
	}
	return nil, c.errf(d, "Unknown Authz provider: %s", name)
}

func requireSection(c *compiler, d *Directive, x ctx) error {
	if err := noArgsContainer(c, d); err != nil {
		return err
	}
	node := &authzNode{}
	switch strings.ToLower(d.Name) {
	case "requireall":
		node.op = opAnd
	case "requireany":
		node.op = opOr
	default: // RequireNone
		node.op, node.negate = opOr, true
	}
	inner := x
	inner.authz = node
	inner.override = OverrideAuthConfig
	inner.limited = x.limited &^ requireBit
	if err := c.walk(d.Children, inner); err != nil {
		return err
	}
	if len(node.children) == 0 {
		return c.errf(d, "<%s> directive contains no authorization directives", d.Name)
	}
	x.sec.ensureAuthz()
	parent := x.parent()
	if node.negate && parent.op == opOr {
		return c.errf(d, "<%s> directive has no effect in %s directive", d.Name, containerName(parent, x.authz == nil))
	}
	parent.limited |= node.limited
	parent.children = append(parent.children, node)
	return nil
}

func setAuthMerging(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	var op mergeOp
	switch strings.ToLower(v) {
	case "off":
		op = mergeOff
	case "and":
		op = mergeAnd
	case "or":
		op = mergeOr
	default:
		return c.errf(d, "AuthMerging must be one of: Off | And | Or")
	}
	x.sec.ensureAuthz().op = op
	return nil
}

func setForbiddenOnFailure(c *compiler, d *Directive, x ctx) error {
	v, err := c.flag(d)
	if err != nil {
		return err
	}
	a := x.sec.ensureAuthz()
	a.forbiddenOnFail = 0
	if v {
		a.forbiddenOnFail = 1
	}
	return nil
}

// core: <Limit>, <LimitExcept>

func limitSection(c *compiler, d *Directive, x ctx) error {
	except := strings.EqualFold(d.Name, "LimitExcept")
	ms := strings.Fields(d.Raw)
	if len(ms) == 0 {
		return c.errf(d, "<%s> directive requires additional arguments", d.Name)
	}
	var limited methodMask
	for _, m := range ms {
		n := MethodNumber(m)
		switch {
		case n == MethodNumber("TRACE") && !except:
			return c.errf(d, "TRACE cannot be controlled by <Limit>, see TraceEnable")
		case n == methodInvalid:
			return c.errf(d, "Could not register method '%s' for <%s from .htaccess configuration", m, d.Name)
		}
		limited |= 1 << uint(n)
	}
	if except {
		limited = ^limited
	}
	switch {
	case x.limited&limited == 0:
		return c.errf(d, "<%s> directive excludes all methods", d.Name)
	case x.limited&limited == x.limited:
		return c.errf(d, "<%s> directive specifies methods already excluded", d.Name)
	}
	inner := x
	inner.limited = x.limited & limited
	return c.walk(d.Children, inner)
}

// core: <Files>, <FilesMatch>

func filesSectionFn(c *compiler, d *Directive, x ctx) error {
	if x.limited != allMethods {
		return c.errf(d, "<%s> cannot occur within <Limit> section", d.Name)
	}
	if x.inFiles {
		return c.errf(d, "<%s> inside <Files> is not supported by htgate (Apache ignores it)", d.Name)
	}
	pattern, rest := nextWord(d.Raw)
	if pattern == "" {
		return c.errf(d, "<%s > directive requires additional arguments", d.Name)
	}
	fs := &filesSection{sec: newSection(c.file), where: c.where(d)}
	isRegex := strings.EqualFold(d.Name, "FilesMatch")
	if !isRegex && pattern == "~" {
		isRegex = true
		pattern, _ = nextWord(rest)
	}
	if isRegex {
		re, err := compileRegex(pattern)
		if err != nil {
			return c.errf(d, "Regex could not be compiled: %v", err)
		}
		fs.re = re
	} else {
		pattern = filepath.Clean(pattern)
		if pattern == "." {
			pattern = ""
		}
		fs.glob = strings.ContainsAny(pattern, "*?[\\")
	}
	fs.pattern = pattern
	inner := ctx{sec: fs.sec, top: x.top, override: x.override, limited: allMethods, inFiles: true}
	if err := c.walk(d.Children, inner); err != nil {
		return err
	}
	x.top.files = append(x.top.files, fs)
	return nil
}

// compileRegex compiles an Apache (PCRE, POSIX extended flavour) regular
// expression with Go's RE2 syntax, which accepts the common subset.
func compileRegex(s string) (*regexp.Regexp, error) {
	return regexp.Compile(s)
}

// core: conditional sections

func (c *compiler) condArg(d *Directive) (string, bool, error) {
	arg, _ := nextWord(d.Raw)
	if arg == "" {
		return "", false, c.errf(d, "<%s> directive requires additional arguments", d.Name)
	}
	not := false
	if arg[0] == '!' {
		not, arg = true, arg[1:]
	}
	return arg, not, nil
}

func ifModule(c *compiler, d *Directive, x ctx) error {
	arg, not, err := c.condArg(d)
	if err != nil {
		return err
	}
	if c.opts.hasModule(arg) != not {
		return c.walk(d.Children, x)
	}
	return nil
}

func ifDefine(c *compiler, d *Directive, x ctx) error {
	arg, not, err := c.condArg(d)
	if err != nil {
		return err
	}
	defined := false
	for _, n := range c.opts.Defines {
		if n == arg {
			defined = true
		}
	}
	if defined != not {
		return c.walk(d.Children, x)
	}
	return nil
}

func ifDirective(c *compiler, d *Directive, x ctx) error {
	arg, not, err := c.condArg(d)
	if err != nil {
		return err
	}
	key := strings.ToLower(arg)
	if strings.HasPrefix(key, "<") {
		key = strings.TrimSuffix(key, ">")
	}
	sp, ok := c.table[key]
	exists := ok && (sp.module != modAccessCompat || c.opts.AccessCompat)
	if exists != not {
		return c.walk(d.Children, x)
	}
	return nil
}

func ifSection(c *compiler, d *Directive, x ctx) error {
	arg, not, err := c.condArg(d)
	if err != nil {
		return err
	}
	sp, ok := c.table["<"+strings.ToLower(strings.TrimPrefix(arg, "<"))]
	exists := ok && (sp.module != modAccessCompat || c.opts.AccessCompat)
	if exists != not {
		return c.walk(d.Children, x)
	}
	return nil
}

func ifFile(c *compiler, d *Directive, x ctx) error {
	arg, not, err := c.condArg(d)
	if err != nil {
		return err
	}
	p := arg
	if !filepath.IsAbs(p) {
		if c.opts.ServerRoot == "" {
			return c.errf(d, "<IfFile %s>: relative path and no ServerRoot", arg)
		}
		p = filepath.Join(c.opts.ServerRoot, p)
	}
	_, statErr := os.Stat(p)
	if (statErr == nil) != not {
		return c.walk(d.Children, x)
	}
	return nil
}

func ifVersion(c *compiler, d *Directive, x ctx) error {
	ok, err := versionMatches(d.Args, ApacheVersion)
	if err != nil {
		return c.errf(d, "%v", err)
	}
	if ok {
		return c.walk(d.Children, x)
	}
	return nil
}

// versionMatches evaluates the arguments of <IfVersion [[!]op] version>.
func versionMatches(args []string, have string) (bool, error) {
	var op, v string
	switch len(args) {
	case 1:
		op, v = "=", args[0]
	case 2:
		op, v = args[0], args[1]
	default:
		return false, fmt.Errorf("<IfVersion> takes 1-2 arguments")
	}
	not := strings.HasPrefix(op, "!")
	op = strings.TrimPrefix(op, "!")
	if strings.HasPrefix(v, "/") && strings.HasSuffix(v, "/") && len(v) >= 2 {
		op, v = "~", v[1:len(v)-1]
	}
	var res bool
	if op == "~" {
		re, err := regexp.Compile(v)
		if err != nil {
			return false, fmt.Errorf("<IfVersion>: bad regex %q", v)
		}
		res = re.MatchString(have)
	} else {
		want, ok1 := parseVersion(v)
		got, _ := parseVersion(have)
		if !ok1 {
			return false, fmt.Errorf("<IfVersion>: bad version %q", v)
		}
		cmp := 0
		for i := range 3 {
			if got[i] != want[i] {
				cmp = 1
				if got[i] < want[i] {
					cmp = -1
				}
				break
			}
		}
		switch op {
		case "=", "==":
			res = cmp == 0
		case ">":
			res = cmp > 0
		case ">=":
			res = cmp >= 0
		case "<":
			res = cmp < 0
		case "<=":
			res = cmp <= 0
		default:
			return false, fmt.Errorf("<IfVersion>: unknown operator %q", op)
		}
	}
	return res != not, nil
}

// parseVersion reads "2", "2.4" or "2.4.71"; missing parts are 0.
func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func unsupportedIf(c *compiler, d *Directive, _ ctx) error {
	return c.errf(d, "<%s> sections are not supported by htgate", d.Name)
}

// core: ErrorDocument, Options and friends

func setErrorDocument(c *compiler, d *Directive, x ctx) error {
	code, msg, err := c.take2(d)
	if err != nil {
		return err
	}
	n, convErr := strconv.Atoi(leadingDigits(code))
	if convErr != nil || n < 100 || n > 599 || http.StatusText(n) == "" {
		return c.errf(d, "Unsupported HTTP response code %s", code)
	}
	doc := ErrorDocument{Value: msg, Where: c.where(d)}
	switch {
	case strings.EqualFold(msg, "default"):
		doc.Kind = DocDefault
	case strings.ContainsRune(msg, ' '):
		doc.Kind = DocText
	case msg[0] == '/':
		doc.Kind = DocLocal
	case isURL(msg):
		doc.Kind = DocRemote
	default:
		doc.Kind = DocText
	}
	if n == http.StatusUnauthorized && doc.Kind == DocRemote {
		// Apache: "cannot use a full URL in a 401 ErrorDocument directive
		// --- ignoring!" The inherited 401 document stays in force.
		return nil
	}
	if x.sec.errorDocs == nil {
		x.sec.errorDocs = make(map[int]ErrorDocument)
	}
	x.sec.errorDocs[n] = doc
	return nil
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// isURL is Apache's ap_is_url: a scheme of letters, digits, "+", "-" and
// "." followed by ":".
func isURL(u string) bool {
	i := strings.IndexByte(u, ':')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		ch := u[j]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '-' || ch == '.') {
			return false
		}
	}
	return true
}

var optionNames = map[string]bool{
	"none": true, "all": true, "indexes": true, "includes": true, "includesnoexec": true,
	"followsymlinks": true, "symlinksifownermatch": true, "execcgi": true, "multiviews": true,
}

func setOptions(c *compiler, d *Directive, x ctx) error {
	signed, plain := 0, 0
	for _, w := range d.Args {
		if w == "" {
			break
		}
		action := byte(0)
		if w[0] == '+' || w[0] == '-' {
			action, w = w[0], w[1:]
			signed++
		} else {
			plain++
		}
		lw := strings.ToLower(w)
		if !optionNames[lw] {
			return c.errf(d, "Illegal option %s", w)
		}
		if (lw == "none" || lw == "all") && action != 0 {
			return c.errf(d, "Illegal option %c%s", action, w)
		}
		switch lw {
		case "indexes":
			if action == '-' {
				x.sec.indexes = 0
			} else {
				x.sec.indexes = 1
			}
		case "none":
			x.sec.indexes = 0
		case "all":
			x.sec.indexes = 1
		}
	}
	if signed > 0 && plain > 0 {
		return c.errf(d, "Either all Options must start with + or -, or no Option may.")
	}
	return nil
}

func setAcceptPathInfo(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	switch strings.ToLower(v) {
	case "off", "default":
		x.sec.pathInfo = 0
	case "on":
		x.sec.pathInfo = 1
	default:
		return c.errf(d, "AcceptPathInfo must be set to on, off or default")
	}
	return nil
}

func setDefaultCharset(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	switch strings.ToLower(v) {
	case "off":
		v = ""
	case "on":
		v = "iso-8859-1"
	}
	x.sec.defaultCharset = &v
	return nil
}

func setForceType(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	if strings.EqualFold(v, "none") {
		v = ""
	}
	v = strings.ToLower(v)
	x.sec.forceType = &v
	return nil
}

// accepted is a directive htgate reads and checks but that has no effect
// on what a static docroot answers (handlers and filters of modules that
// are not loaded, caching knobs). It must have arguments.
func accepted(c *compiler, d *Directive, _ ctx) error {
	if len(d.Args) == 0 || d.Args[0] == "" {
		return c.errf(d, "%s requires at least one argument", d.Name)
	}
	return nil
}

// mod_alias

func redirectFn(defStatus int, regex bool, maxArgs int) func(*compiler, *Directive, ctx) error {
	return func(c *compiler, d *Directive, x ctx) error {
		n := len(d.Args)
		for i, a := range d.Args {
			if a == "" {
				n = i
				break
			}
		}
		minArgs := 1
		if maxArgs == 2 || regex {
			minArgs = 2
		}
		if n < minArgs || len(d.Args) > maxArgs || n != len(d.Args) {
			return c.errf(d, "%s takes %d-%d arguments", d.Name, minArgs, maxArgs)
		}
		r, err := newRedirect(d.Args, defStatus, regex)
		if err != nil {
			return c.errf(d, "%v", err)
		}
		r.Where = c.where(d)
		if r.all {
			x.sec.redirectAll = r
		} else {
			x.sec.redirects = append(x.sec.redirects, r)
		}
		return nil
	}
}

// mod_dir

func setDirectoryIndex(c *compiler, d *Directive, x ctx) error {
	ws := splitWords(d.Raw)
	if x.sec.dirIndex == nil {
		x.sec.dirIndex = []string{}
	}
	for i, w := range ws {
		if w == "" {
			break
		}
		if i == 0 && strings.EqualFold(w, "disabled") && (len(ws) == 1 || ws[1] == "") {
			x.sec.dirIndex = x.sec.dirIndex[:0]
			break
		}
		if strings.ContainsRune(w, 0) || w == "." || w == ".." {
			return c.errf(d, "DirectoryIndex: invalid name %q", w)
		}
		x.sec.dirIndex = append(x.sec.dirIndex, w)
	}
	return nil
}

func setDirectorySlash(c *compiler, d *Directive, x ctx) error {
	v, err := c.flag(d)
	if err != nil {
		return err
	}
	x.sec.dirSlash = 0
	if v {
		x.sec.dirSlash = 1
	}
	return nil
}

func setIndexRedirect(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	status := 0
	switch strings.ToLower(v) {
	case "off":
	case "on", "temp":
		status = http.StatusFound
	case "permanent":
		status = http.StatusMovedPermanently
	case "seeother":
		status = http.StatusSeeOther
	default:
		n, err := strconv.Atoi(v)
		if err != nil || !isRedirect(n) {
			return c.errf(d, "DirectoryIndexRedirect only accepts values 'on', 'off', 'permanent', 'temp', 'seeother', or a 3xx status code.")
		}
		status = n
	}
	x.sec.indexRedirect = &status
	return nil
}

func setFallback(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	if strings.EqualFold(v, "disabled") {
		v = ""
	}
	x.sec.fallback = &v
	return nil
}

// mod_mime

func (s *Section) ensureMime() *mimeConf {
	if s.mime == nil {
		s.mime = &mimeConf{}
	}
	return s.mime
}

func normExt(e string) string { return strings.ToLower(strings.TrimPrefix(e, ".")) }

func addMimeMap(charset bool) func(*compiler, *Directive, ctx) error {
	return func(c *compiler, d *Directive, x ctx) error {
		ws, err := c.iterate(d)
		if err != nil {
			return err
		}
		if len(ws) < 2 {
			return c.errf(d, "%s requires at least two arguments", d.Name)
		}
		m := x.sec.ensureMime()
		target := &m.types
		value := strings.ToLower(ws[0])
		if charset {
			target = &m.charsets
		} else if !strings.Contains(value, "/") {
			return c.errf(d, "%s: %q is not a media type", d.Name, ws[0])
		}
		if *target == nil {
			*target = make(map[string]string)
		}
		for _, e := range ws[1:] {
			(*target)[normExt(e)] = value
		}
		return nil
	}
}

func removeMime(charset bool) func(*compiler, *Directive, ctx) error {
	return func(c *compiler, d *Directive, x ctx) error {
		ws, err := c.iterate(d)
		if err != nil {
			return err
		}
		m := x.sec.ensureMime()
		for _, e := range ws {
			if charset {
				m.removeCharsets = append(m.removeCharsets, normExt(e))
			} else {
				m.removeTypes = append(m.removeTypes, normExt(e))
			}
		}
		return nil
	}
}

// mod_access_compat

func (s *Section) ensureAccess() *accessConf {
	if s.access == nil {
		s.access = &accessConf{}
	}
	return s.access
}

func setOrder(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	var o accessOrder
	switch strings.ToLower(v) {
	case "allow,deny":
		o = orderAllowDeny
	case "deny,allow":
		o = orderDenyAllow
	case "mutual-failure":
		o = orderMutualFailure
	default:
		return c.errf(d, "unknown order")
	}
	a := x.sec.ensureAccess()
	for i := range a.order {
		if x.limited.has(i) {
			a.order[i] = o
		}
	}
	return nil
}

func allowDenyFn(allow bool) func(*compiler, *Directive, ctx) error {
	return func(c *compiler, d *Directive, x ctx) error {
		if len(d.Args) == 0 || d.Args[0] == "" {
			return c.errf(d, "%s requires at least one argument", d.Name)
		}
		if !strings.EqualFold(d.Args[0], "from") {
			return c.errf(d, "allow and deny must be followed by 'from'")
		}
		a := x.sec.ensureAccess()
		for _, w := range d.Args[1:] {
			if w == "" {
				break
			}
			e, ok := parseAllowDeny(w, x.limited)
			if !ok {
				return c.errf(d, "An IP address was expected")
			}
			if allow {
				a.allows = append(a.allows, e)
			} else {
				a.denys = append(a.denys, e)
			}
		}
		return nil
	}
}

func setSatisfy(c *compiler, d *Directive, x ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	var s satisfy
	switch strings.ToLower(v) {
	case "all":
		s = satisfyAll
	case "any":
		s = satisfyAny
	default:
		return c.errf(d, "Satisfy either 'any' or 'all'.")
	}
	a := x.sec.ensureAccess()
	for i := range a.satisfy {
		if x.limited.has(i) {
			a.satisfy[i] = s
		}
	}
	return nil
}

func useDigestAlgorithm(c *compiler, d *Directive, _ ctx) error {
	v, err := c.take1(d)
	if err != nil {
		return err
	}
	switch {
	case strings.EqualFold(v, "none"):
		return nil
	case strings.EqualFold(v, "MD5"):
		return c.errf(d, "AuthBasicUseDigestAlgorithm MD5 is not supported by htgate")
	}
	return c.errf(d, "Invalid algorithm in AuthBasicUseDigestAlgorithm: %s", v)
}
