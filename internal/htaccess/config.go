package htaccess

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/htgate/htgate/internal/policy"
)

// Config is the per-directory configuration in force for a request path:
// the server's defaults, then every .htaccess from the docroot down, then
// the <Files> and <FilesMatch> blocks that match the file, merged the way
// Apache httpd 2.4 merges them. It is immutable and safe for concurrent
// use.
type Config struct {
	authType    string
	authTypeSet bool
	authName    string
	authNameSet bool
	userFile    *fileRef
	groupFile   *fileRef
	basic       basicConf
	digest      *digestConf
	authz       *authzConf
	access      *accessConf
	errorDocs   map[int]ErrorDocument
	indexes     bool
	charset     string
	forceType   string
	redirects   []*Redirect // deeper directories first
	redirectAll *Redirect
	dirIndex    []string
	dirSlash    bool
	fallback    string
	idxRedirect int
	pathInfo    bool
	mime        mimeConf
	files       []*filesSection // every block in scope, the server's first
	origin      string          // the deepest file that contributed
	sources     []string        // every file that contributed, outermost first

	exprOnce sync.Once
	exprAll  *policy.Expr // the Require expression when it does not depend on the method
}

// htFiles is the stock httpd.conf block <Files ".ht*"> Require all denied.
var htFiles = &filesSection{
	pattern: ".ht*",
	glob:    true,
	where:   "httpd.conf <Files \".ht*\">",
	sec: &Section{
		file:     "httpd.conf",
		indexes:  -1,
		dirSlash: -1,
		authz: &authzConf{forbiddenOnFail: -1, section: &authzNode{op: opOr, limited: allMethods, children: []*authzNode{
			{limited: allMethods, clause: &policy.Expr{Kind: policy.AllDenied}},
		}}},
	},
}

// serverConfig is the configuration of the docroot before any .htaccess:
// <Directory docroot> Require all granted, DirectoryIndex index.html, and
// <Files ".ht*"> Require all denied.
func serverConfig() *Config {
	return &Config{
		authz: &authzConf{forbiddenOnFail: -1, section: &authzNode{op: opOr, limited: allMethods, children: []*authzNode{
			{limited: allMethods, clause: &policy.Expr{Kind: policy.AllGranted}},
		}}},
		dirIndex: []string{"index.html"},
		dirSlash: true,
		files:    []*filesSection{htFiles},
	}
}

// merge returns base with s merged on top, as Apache merges a
// per-directory section: module by module, each with its own rules.
func merge(base *Config, s *Section) *Config {
	c := &Config{
		authType: base.authType, authTypeSet: base.authTypeSet,
		authName: base.authName, authNameSet: base.authNameSet,
		userFile: base.userFile, groupFile: base.groupFile,
		basic: base.basic, digest: base.digest,
		authz:     mergeAuthz(base.authz, s.authz),
		access:    base.access,
		errorDocs: base.errorDocs,
		indexes:   base.indexes, charset: base.charset, forceType: base.forceType,
		redirects: base.redirects, redirectAll: base.redirectAll,
		dirIndex: base.dirIndex, dirSlash: base.dirSlash, fallback: base.fallback,
		idxRedirect: base.idxRedirect, pathInfo: base.pathInfo,
		mime:    base.mime,
		files:   base.files,
		origin:  base.origin,
		sources: base.sources,
	}
	if s.file != "" && s.file != "httpd.conf" {
		c.origin = s.file
		if !slices.Contains(c.sources, s.file) {
			c.sources = append(slices.Clip(c.sources), s.file)
		}
	}
	if s.authType != nil {
		c.authType, c.authTypeSet = *s.authType, true
	}
	if s.authName != nil {
		c.authName, c.authNameSet = *s.authName, true
	}
	if s.userFile != nil {
		c.userFile = s.userFile
	}
	if s.groupFile != nil {
		c.groupFile = s.groupFile
	}
	if b := s.basic; b != nil {
		if b.providers != nil {
			c.basic.providers = b.providers
		}
		if b.authoritative >= 0 {
			c.basic.authoritative = b.authoritative
		}
	}
	if s.digest != nil {
		c.digest = s.digest
	}
	if s.access != nil {
		c.access = s.access
	}
	if len(s.errorDocs) > 0 {
		c.errorDocs = maps.Clone(base.errorDocs)
		if c.errorDocs == nil {
			c.errorDocs = make(map[int]ErrorDocument, len(s.errorDocs))
		}
		maps.Copy(c.errorDocs, s.errorDocs)
	}
	if s.indexes >= 0 {
		c.indexes = s.indexes == 1
	}
	if s.defaultCharset != nil {
		c.charset = *s.defaultCharset
	}
	if s.forceType != nil {
		c.forceType = *s.forceType
	}
	if len(s.redirects) > 0 {
		c.redirects = append(slices.Clone(s.redirects), base.redirects...)
	}
	if s.redirectAll != nil {
		c.redirectAll = s.redirectAll
	}
	if s.dirIndex != nil {
		c.dirIndex = s.dirIndex
	}
	if s.dirSlash >= 0 {
		c.dirSlash = s.dirSlash == 1
	}
	if s.fallback != nil {
		c.fallback = *s.fallback
	}
	if s.indexRedirect != nil {
		c.idxRedirect = *s.indexRedirect
	}
	if s.pathInfo >= 0 {
		c.pathInfo = s.pathInfo == 1
	}
	if m := s.mime; m != nil {
		c.mime = mergeMime(base.mime, m)
	}
	if len(s.files) > 0 {
		c.files = append(slices.Clip(base.files), s.files...)
	}
	return c
}

func mergeMime(base mimeConf, add *mimeConf) mimeConf {
	out := mimeConf{types: maps.Clone(base.types), charsets: maps.Clone(base.charsets)}
	for _, e := range add.removeTypes {
		delete(out.types, e)
	}
	for _, e := range add.removeCharsets {
		delete(out.charsets, e)
	}
	if len(add.types) > 0 && out.types == nil {
		out.types = make(map[string]string)
	}
	maps.Copy(out.types, add.types)
	if len(add.charsets) > 0 && out.charsets == nil {
		out.charsets = make(map[string]string)
	}
	maps.Copy(out.charsets, add.charsets)
	return out
}

// forFile returns the configuration for a file named base: c with every
// matching <Files>/<FilesMatch> block merged on top, in order.
func (c *Config) forFile(base string) *Config {
	out := c
	for _, f := range c.files {
		if f.matches(base) {
			out = merge(out, f.sec)
		}
	}
	if out != c {
		out.files = nil // a block's own blocks never apply (Apache ignores them)
	}
	return out
}

// AuthType is the AuthType in force, lower-case: "basic", "digest", ""
// for none (unset or AuthType None), or another name no module claims.
func (c *Config) AuthType() string { return strings.ToLower(c.authType) }

// Realm is the AuthName in force, as clients read it, and whether one is set.
func (c *Config) Realm() (string, bool) { return c.authName, c.authNameSet }

// UserFile is the AuthUserFile in force ("" for none) and the file:line
// that set it. A relative path (without Options.ServerRoot) is returned
// as written; the Rule has no credential source for it.
func (c *Config) UserFile() (path, where string) {
	if c.userFile == nil {
		return "", ""
	}
	return c.userFile.path, c.userFile.where
}

// GroupFile is the AuthGroupFile in force ("" for none).
func (c *Config) GroupFile() (path, where string) {
	if c.groupFile == nil {
		return "", ""
	}
	return c.groupFile.path, c.groupFile.where
}

// HasRequire reports whether any authorization directive is in force.
// When none is, Apache grants every request, unless an AuthType is set:
// then it answers 500 ("AuthType configured with no corresponding
// authorization directives").
func (c *Config) HasRequire() bool { return c.authz != nil && c.authz.section != nil }

// Require returns the authorization expression for requests with the
// given method, as mod_authz_core evaluates it: Require lines limited by
// <Limit>/<LimitExcept> to other methods have no say. It must only be
// called when HasRequire.
func (c *Config) Require(method string) policy.Expr {
	c.exprOnce.Do(func() {
		if c.HasRequire() && c.authz.section.limitedAll() {
			e, _ := c.authz.section.expr(0, true)
			c.exprAll = &e
		}
	})
	if c.exprAll != nil {
		return *c.exprAll
	}
	if !c.HasRequire() {
		return policy.Expr{Kind: policy.AllGranted}
	}
	e, _ := c.authz.section.expr(MethodNumber(method), true)
	return e
}

// ForbiddenOnFailure reports AuthzSendForbiddenOnFailure: an authenticated
// user who is not allowed gets 403 rather than 401.
func (c *Config) ForbiddenOnFailure() bool { return c.authz != nil && c.authz.forbiddenOnFail == 1 }

// Access applies mod_access_compat (Order, Allow, Deny) for a method:
// applies is false when no such directive is in force, ok whether the
// client passes, and orAuth whether "Satisfy Any" lets a passing
// client in without authentication.
func (c *Config) Access(method string, f *policy.Facts) (applies, ok, orAuth bool) {
	if c.access == nil {
		return false, true, false
	}
	m := MethodNumber(method)
	return true, c.access.allowed(m, f), c.access.satisfy[m] == satisfyAny
}

// ErrorDocument returns the ErrorDocument in force for status.
func (c *Config) ErrorDocument(status int) (ErrorDocument, bool) {
	d, ok := c.errorDocs[status]
	if ok && d.Kind == DocDefault {
		return ErrorDocument{}, false
	}
	return d, ok
}

// Redirect applies the mod_alias redirects in force to the decoded
// request path and its raw query: the first that matches (deeper
// directories first) gives the status, the Location for a 3xx, and the
// file:line of the directive.
func (c *Config) Redirect(uri, query string) (status int, location, where string, ok bool) {
	if r := c.redirectAll; r != nil {
		s, loc, _ := r.Match(uri, query)
		return s, loc, r.Where, true
	}
	for _, r := range c.redirects {
		if s, loc, ok := r.Match(uri, query); ok {
			return s, loc, r.Where, true
		}
	}
	return 0, "", "", false
}

// DirectoryIndex lists the index names tried for a directory (empty:
// DirectoryIndex disabled). A name is relative to the directory, or an
// absolute URL-path.
func (c *Config) DirectoryIndex() []string { return c.dirIndex }

// DirectorySlash reports whether a directory requested without its
// trailing slash is redirected to it.
func (c *Config) DirectorySlash() bool { return c.dirSlash }

// FallbackResource is the URL-path served for a missing file, "" for
// none; a relative one is relative to the request's directory.
func (c *Config) FallbackResource() string { return c.fallback }

// DirectoryIndexRedirect is the status of the redirect to a directory's
// index file, 0 when the index is served in place (the default).
func (c *Config) DirectoryIndexRedirect() int { return c.idxRedirect }

// AcceptPathInfo reports AcceptPathInfo On: a request for an existing file
// with trailing path information (/file.html/extra) serves the file.
func (c *Config) AcceptPathInfo() bool { return c.pathInfo }

// Indexes reports Options Indexes (it changes nothing: like the reference
// Apache, which has no mod_autoindex, htgate never lists a directory).
func (c *Config) Indexes() bool { return c.indexes }

// Origin is the deepest .htaccess file that contributed, "" for none.
func (c *Config) Origin() string { return c.origin }

// Sources are the .htaccess files that contributed, outermost first.
func (c *Config) Sources() []string { return c.sources }

// ContentType returns the Content-Type that ForceType, AddType, AddCharset
// and AddDefaultCharset give the file name, or "" to let the server choose.
func (c *Config) ContentType(name string) string {
	ctype, charset := c.forceType, ""
	if ctype == "" && (len(c.mime.types) > 0 || len(c.mime.charsets) > 0) {
		// mod_mime looks at every extension after the first dot; a later
		// one wins.
		if i := strings.IndexByte(name, '.'); i >= 0 {
			for _, ext := range strings.Split(name[i+1:], ".") {
				ext = strings.ToLower(ext)
				if t, ok := c.mime.types[ext]; ok {
					ctype = t
				}
				if cs, ok := c.mime.charsets[ext]; ok {
					charset = cs
				}
			}
		}
	}
	if ctype == "" {
		return ""
	}
	if charset == "" && c.charset != "" && (strings.HasPrefix(ctype, "text/plain") || strings.HasPrefix(ctype, "text/html")) {
		charset = c.charset
	}
	if charset != "" && !strings.Contains(ctype, "charset=") {
		ctype += "; charset=" + charset
	}
	return ctype
}

// Rule is the policy.Rule that authenticates and authorizes requests with
// method here, for the gateway's authentication step: realm, scheme
// (AuthType Basic or Digest), credential file (AuthUserFile, the key of
// the credential source), group file, Digest settings and the Require
// expression. ID, Origin, Host and Path are left for the caller.
func (c *Config) Rule(method string) policy.Rule {
	r := policy.Rule{
		Realm:   c.authName,
		Require: c.Require(method),
		Apache:  true,
	}
	if c.groupFile != nil && !c.groupFile.relative {
		r.GroupSource = c.groupFile.path
	}
	user := "" // no usable AuthUserFile: checking a password answers 500
	if c.userFile != nil && !c.userFile.relative {
		user = c.userFile.path
	}
	switch c.AuthType() {
	case "basic":
		r.Schemes = []string{"basic"}
		r.Source = user
	case "digest":
		r.Schemes = []string{"digest"}
		r.DigestSource = user
		d := c.digest
		if d == nil {
			d = newDigestConf()
		}
		r.DigestAlgorithms = []string{policy.DigestMD5}
		r.DigestQop = slices.Clone(d.qop)
		switch {
		case d.lifetime < 0:
			r.NonceLifetime = -1
		case d.lifetime == 0:
			r.NonceLifetime = time.Second
		default:
			r.NonceLifetime = d.lifetime
		}
		r.DigestDomain = slices.Clone(d.domain)
	}
	return r
}

// describeMethods are the methods Describe shows the Require expression
// for when it depends on the method.
var describeMethods = []string{"GET", "POST", "PUT", "DELETE", "OPTIONS", "PROPFIND", "FOO"}

// Describe writes the configuration as text, one setting a line, for
// explain, doctor and golden tests.
func (c *Config) Describe() string {
	var b strings.Builder
	line := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	orNone := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	line("sources", orNone(strings.Join(c.sources, " ")))
	at := c.authType
	if !c.authTypeSet {
		at = "(unset)"
	} else if at == "" {
		at = "None"
	}
	line("authtype", at)
	if realm, ok := c.Realm(); ok {
		line("authname", strconv.Quote(realm))
	} else {
		line("authname", "(unset)")
	}
	fileLine := func(f *fileRef) string {
		if f == nil {
			return "-"
		}
		s := f.path + " (" + f.where + ")"
		if f.relative {
			s += " relative: unusable"
		}
		return s
	}
	line("authuserfile", fileLine(c.userFile))
	line("authgroupfile", fileLine(c.groupFile))
	if c.basic.providers != nil {
		line("authbasicprovider", strings.Join(c.basic.providers, " "))
	}
	if d := c.digest; d != nil {
		line("digest", fmt.Sprintf("algorithm=%s qop=%s lifetime=%s domain=%s", d.algorithm, orNone(strings.Join(d.qop, ",")), d.lifetime, orNone(strings.Join(d.domain, " "))))
	}
	switch {
	case !c.HasRequire():
		line("require", "(none)")
	case c.authz.section.limitedAll():
		line("require", c.Require("GET").String())
	default:
		for _, m := range describeMethods {
			line("require "+m, c.Require(m).String())
		}
	}
	if c.authz != nil && c.authz.op != mergeUnset {
		line("authmerging", [...]string{"", "Off", "And", "Or"}[c.authz.op])
	}
	if c.ForbiddenOnFailure() {
		line("authzsendforbiddenonfailure", "On")
	}
	if a := c.access; a != nil {
		for _, m := range []int{0, 2} {
			line("access "+methodNames[m], fmt.Sprintf("order=%d satisfy=%d allow=%d deny=%d", a.order[m], a.satisfy[m], len(a.allows), len(a.denys)))
		}
	}
	for _, code := range slices.Sorted(maps.Keys(c.errorDocs)) {
		d := c.errorDocs[code]
		kind := [...]string{"", "text", "local", "remote", "default"}[d.Kind]
		line("errordocument "+strconv.Itoa(code), kind+" "+strconv.Quote(d.Value)+" ("+d.Where+")")
	}
	if r := c.redirectAll; r != nil {
		line("redirect *", fmt.Sprintf("%d %s (%s)", r.Status, orNone(r.Target), r.Where))
	}
	for _, r := range c.redirects {
		from := r.Prefix
		if r.Pattern != nil {
			from = "~" + r.Pattern.String()
		}
		line("redirect", fmt.Sprintf("%d %s -> %s (%s)", r.Status, from, orNone(r.Target), r.Where))
	}
	line("directoryindex", orNone(strings.Join(c.dirIndex, " ")))
	if !c.dirSlash {
		line("directoryslash", "Off")
	}
	if c.fallback != "" {
		line("fallbackresource", c.fallback)
	}
	if c.idxRedirect != 0 {
		line("directoryindexredirect", strconv.Itoa(c.idxRedirect))
	}
	if c.pathInfo {
		line("acceptpathinfo", "On")
	}
	if c.indexes {
		line("options", "Indexes")
	}
	if c.forceType != "" {
		line("forcetype", c.forceType)
	}
	if c.charset != "" {
		line("adddefaultcharset", c.charset)
	}
	for _, e := range slices.Sorted(maps.Keys(c.mime.types)) {
		line("addtype ."+e, c.mime.types[e])
	}
	for _, e := range slices.Sorted(maps.Keys(c.mime.charsets)) {
		line("addcharset ."+e, c.mime.charsets[e])
	}
	for _, f := range c.files {
		kind := "Files"
		if f.re != nil {
			kind = "FilesMatch"
		}
		line("files", kind+" "+strconv.Quote(f.pattern)+" ("+f.where+")")
	}
	return b.String()
}
