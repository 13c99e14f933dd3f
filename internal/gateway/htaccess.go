package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/htaccess"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/upstream"
)

// HTAccess makes the gateway honour the .htaccess files of a static
// docroot the way Apache httpd 2.4 does (DESIGN §5): the directories of
// each request path are walked from the docroot down, their .htaccess
// files merged, and the request is authorized, authenticated (Basic or
// Digest against the AuthUserFile named there), redirected, or answered
// with the ErrorDocument in force. Where Apache's answers differ from
// htgate's own rules they are Apache's: an authenticated user who is not
// allowed gets 401 and the challenge again (403 with
// AuthzSendForbiddenOnFailure On), authentication runs before the
// file-exists check and the trailing-slash redirect, a broken .htaccess
// answers 500 for its whole directory. docs/apache-compat.md lists the
// deliberate differences. YAML rules still apply: when both cover a path,
// both must allow.
type HTAccess struct {
	// Loader reads the docroot's .htaccess files. Required; the Backend
	// must serve the same docroot.
	Loader *htaccess.Loader
	// Resolver answers Require host, Require forward-dns and Allow from
	// host. Nil: the system resolver, with answers kept for a minute.
	Resolver policy.Resolver
}

// htState is the gateway's .htaccess machinery.
type htState struct {
	loader   *htaccess.Loader
	resolver policy.Resolver
	sources  *htSources
}

func newHTState(h *HTAccess, logger *slog.Logger, now func() time.Time) *htState {
	if h == nil || h.Loader == nil {
		return nil
	}
	s := &htState{loader: h.Loader, resolver: h.Resolver, sources: newHTSources(logger, now)}
	if s.resolver == nil {
		s.resolver = newDNSResolver(now)
	}
	return s
}

// htRuleID is the id of the rule a .htaccess area is reported as.
const htRuleID = "htaccess"

// htaccessEarly turns htgate's answer to a request refused before its
// path was read into Apache's: an over-long header field is 400 there.
func (g *Gateway) htaccessEarly(d *htgate.Decision) {
	if d.Status == http.StatusRequestHeaderFieldsTooLarge {
		d.Status = http.StatusBadRequest
	}
}

// htaccessTarget gives Apache's answers for request targets that the
// normaliser refused (ok false) or that Apache refuses although htgate
// would not. An encoded slash or NUL is 404, as in Apache. A target that
// Apache decodes into an odd file name (a backslash, a control byte,
// overlong UTF-8, double encoding, "..;") goes through the .htaccess
// checks of that name, so that a protected folder still asks for
// credentials first, and is then 404: htgate never serves such a name.
// A fragment, a ".." above the root and an empty Host are 400. It reports
// whether the request goes on to the regular steps.
func (g *Gateway) htaccessTarget(ctx context.Context, dry bool, r *http.Request, d *htgate.Decision, ok bool) bool {
	raw := r.URL.EscapedPath()
	if !ok {
		var pe *PathError
		if _, err := NormalizePath(raw); errors.As(err, &pe) && pe.Err != ErrBadEscape && pe.Err != ErrNotAbsolute {
			g.htaccessOddPath(ctx, dry, r, d, raw, pe.Err)
		}
		return false
	}
	if r.Host == "" && r.ProtoAtLeast(1, 1) {
		d.Refuse(http.StatusBadRequest, htgate.ReasonBadRequest, "normalize", "empty Host header")
		return false
	}
	if strings.IndexByte(r.RequestURI, '#') >= 0 {
		d.Refuse(http.StatusBadRequest, htgate.ReasonBadRequest, "normalize", "a fragment (#) in the request target")
		return false
	}
	if r.Method != http.MethodOptions || r.URL.Path != "*" {
		if aboveRoot(raw) {
			d.Refuse(http.StatusBadRequest, htgate.ReasonBadRequest, "normalize", `".." above the root`)
			return false
		}
	}
	return true
}

// htaccessOddPath answers a target the normaliser refused as Apache
// would answer it, without ever serving it.
func (g *Gateway) htaccessOddPath(ctx context.Context, dry bool, r *http.Request, d *htgate.Decision, raw string, why error) {
	if why == ErrEncodedSlash || why == ErrNUL {
		// Apache refuses these before reading any .htaccess.
		d.Status, d.Reason = http.StatusNotFound, htgate.ReasonNotFound
		d.Record("normalize", htgate.OutcomeFail, "Apache answers 404 for an encoded slash or NUL")
		return
	}
	p, status := apacheDecode(raw)
	if status != 0 {
		d.Status = status
		if status == http.StatusNotFound {
			d.Reason = htgate.ReasonNotFound
		}
		return
	}
	reason := d.Detail
	d.Path, d.Status, d.Reason, d.Detail = p, 0, htgate.ReasonNone, ""
	res := g.ht.loader.Lookup(p)
	if _, ok := g.htaccessCheck(ctx, dry, r, r.Method, d, res); !ok {
		return
	}
	if res.Err == nil {
		d.Rule = &htgate.RuleRef{ID: htRuleID, Origin: res.Config.Origin(), Path: res.Dir}
	}
	d.Refuse(http.StatusNotFound, htgate.ReasonNotFound, "normalize", reason+" (htgate never serves such a name; Apache would look for the file)")
}

// apacheDecode is the path Apache reads from an escaped request path:
// unreserved characters decoded, "." and ".." resolved (a ".." above the
// root is 400), slashes merged, then every %XX decoded (an encoded slash
// or NUL is 404, a malformed escape 400).
func apacheDecode(raw string) (string, int) {
	if aboveRoot(raw) {
		return "", http.StatusBadRequest
	}
	var segs []string
	for _, seg := range strings.Split(raw, "/") {
		switch decodeDots(seg) {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	trailing := strings.HasSuffix(raw, "/") || strings.HasSuffix(raw, "/.") || strings.HasSuffix(raw, "/..")
	var b strings.Builder
	for _, seg := range segs {
		b.WriteByte('/')
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c == '%' {
				if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
					return "", http.StatusBadRequest
				}
				c = unhex(seg[i+1])<<4 | unhex(seg[i+2])
				if c == '/' || c == 0 {
					return "", http.StatusNotFound
				}
				i += 2
			}
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 || trailing {
		b.WriteByte('/')
	}
	return b.String(), 0
}

// aboveRoot reports whether Apache's ap_normalize_path (unreserved
// characters decoded, "." and ".." resolved, slashes merged) meets a ".."
// segment at the root of the escaped path p.
func aboveRoot(p string) bool {
	depth := 0
	for _, seg := range strings.Split(p, "/") {
		switch decodeDots(seg) {
		case "", ".":
		case "..":
			if depth == 0 {
				return true
			}
			depth--
		default:
			depth++
		}
	}
	return false
}

// decodeDots decodes %2e in a segment that is made of dots only.
func decodeDots(seg string) string {
	if !strings.ContainsRune(seg, '%') {
		return seg
	}
	s := strings.ReplaceAll(strings.ReplaceAll(seg, "%2e", "."), "%2E", ".")
	if strings.Trim(s, ".") == "" {
		return s
	}
	return seg
}

// htaccessStep is the .htaccess part of steps 3-6: Apache's directory
// walk, access check, authentication and authorization for the request
// path. It returns false when the request is refused; d says how.
func (g *Gateway) htaccessStep(ctx context.Context, dry bool, r *http.Request, d *htgate.Decision, fwd *upstream.Request) bool {
	res := g.ht.loader.Lookup(d.Path)
	principal, ok := g.htaccessCheck(ctx, dry, r, r.Method, d, res)
	if !ok {
		return false
	}
	if principal != nil {
		d.Principal = principal
		fwd.User, fwd.Groups = principal.Name, principal.Groups
		fwd.KeepAuthorization = false
	}
	if d.Tracing && res.Config != nil {
		if status, loc, where, ok := res.Config.Redirect(d.Path, r.URL.RawQuery); ok {
			d.Record("redirect", htgate.OutcomeInfo, strconv.Itoa(status)+" "+loc+" ("+where+")")
		}
	}
	return true
}

// htaccessCheck runs Apache's access phases for a request (or an internal
// subrequest) with method on the walked path res: mod_access_compat, then
// mod_authz_core without a user, then authentication and mod_authz_core
// with the user. It returns the authenticated principal (nil when none was
// needed) and whether the request may go on; when not, d says how to
// refuse.
func (g *Gateway) htaccessCheck(ctx context.Context, dry bool, r *http.Request, method string, d *htgate.Decision, res htaccess.Result) (*htgate.Principal, bool) {
	if res.Err != nil {
		d.Rule = &htgate.RuleRef{ID: htRuleID, Path: res.Dir}
		status := http.StatusInternalServerError
		reason := htgate.ReasonServerError
		if errors.Is(res.Err, fs.ErrPermission) {
			status, reason = http.StatusForbidden, htgate.ReasonConfigDenied
		}
		d.Refuse(status, reason, "htaccess", res.Err.Error())
		if !dry {
			g.opts.Logger.ErrorContext(ctx, ".htaccess unusable: the directory answers "+strconv.Itoa(status), "err", res.Err.Error(), "ref_id", d.RefID)
		}
		return nil, false
	}
	cfg := res.Config
	realm, _ := cfg.Realm()
	ref := &htgate.RuleRef{ID: htRuleID, Origin: cfg.Origin(), Path: res.Dir, Realm: realm}
	facts := g.htFacts(r, d, method)
	applies, accessOK, orAuth := cfg.Access(method, &facts)
	switch {
	case applies && accessOK && orAuth:
		d.Record("htaccess", htgate.OutcomePass, "Order/Allow/Deny grant the client and Satisfy Any needs nothing more")
		return nil, true
	case applies && !accessOK && !orAuth:
		d.Rule = ref
		d.Refuse(http.StatusForbidden, htgate.ReasonConfigDenied, "htaccess", "client denied by server configuration (Order/Allow/Deny in "+cfg.Origin()+")")
		return nil, false
	}
	if !cfg.HasRequire() {
		if cfg.AuthType() != "" {
			d.Rule = ref
			d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "htaccess", "AuthType configured with no corresponding authorization directives ("+cfg.Origin()+")")
			return nil, false
		}
		d.Record("htaccess", htgate.OutcomePass, "no authorization directives: granted")
		return nil, true
	}
	rule := cfg.Rule(method)
	rule.ID, rule.Origin, rule.Path = htRuleID, cfg.Origin(), res.Dir
	switch rule.Require.Evaluate(facts, tracer(d)) {
	case policy.Granted:
		if d.Tracing {
			d.Record("htaccess", htgate.OutcomePass, "granted without authentication by "+describeOrigin(cfg))
		}
		return nil, true
	case policy.DeniedNoUser:
	default:
		d.Rule = ref
		d.Refuse(http.StatusForbidden, htgate.ReasonConfigDenied, "htaccess", "client denied by server configuration ("+describeOrigin(cfg)+")")
		return nil, false
	}
	d.Rule = ref
	switch at := cfg.AuthType(); {
	case at == "":
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "htaccess", "Require needs a user but no AuthType is set ("+describeOrigin(cfg)+")")
		return nil, false
	case at != "basic" && at != "digest":
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "htaccess", "AuthType "+at+" is not supported ("+describeOrigin(cfg)+")")
		return nil, false
	}
	if _, ok := cfg.Realm(); !ok {
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "htaccess", "AuthType "+cfg.AuthType()+" needs an AuthName ("+describeOrigin(cfg)+")")
		return nil, false
	}
	if rule.Source == "" && rule.DigestSource == "" && !dry {
		g.opts.Logger.WarnContext(ctx, ".htaccess area has no AuthUserFile: every login fails with 500", "origin", cfg.Origin(), "ref_id", d.RefID)
	}
	if tabAfterScheme(r) {
		// Apache splits the scheme off at the first space only.
		g.challenge(&rule, d, htgate.ReasonLogonFailed, "Authorization: a tab after the scheme (Apache reads no scheme)")
		return nil, false
	}
	p := g.ht.sources.policyFor(&rule)
	principal, ok := g.authenticate(ctx, dry, p, &rule, r, d)
	if !ok {
		if d.Status == http.StatusInternalServerError && !dry {
			file, where := cfg.UserFile()
			g.opts.Logger.ErrorContext(ctx, ".htaccess credential file unusable", "file", file, "named_at", where, "ref_id", d.RefID)
		}
		return nil, false
	}
	if rule.GroupSource != "" {
		groups, err := g.groupsOf(p, rule.GroupSource, principal.Name)
		if err != nil && !dry {
			// Apache: "Could not open group file"; the group clauses deny.
			file, where := cfg.GroupFile()
			g.opts.Logger.ErrorContext(ctx, ".htaccess group file unusable: group requirements deny", "file", file, "named_at", where, "err", err, "ref_id", d.RefID)
		}
		principal.Groups = groups
	}
	facts.Authenticated, facts.User, facts.Groups = true, principal.Name, principal.Groups
	if rule.Require.Evaluate(facts, tracer(d)) != policy.Granted {
		detail := "user " + principal.Name + " is authenticated but not allowed by " + describeOrigin(cfg)
		if cfg.ForbiddenOnFailure() {
			d.Refuse(http.StatusForbidden, htgate.ReasonACLDenied, "htaccess", detail)
		} else {
			// Apache's mod_authz_core: 401 and the challenge again.
			d.Refuse(http.StatusUnauthorized, htgate.ReasonACLDenied, "htaccess", detail+" (401: Apache asks again)")
			d.Challenges = append(d.Challenges[:0], g.challenges(&rule)...)
		}
		return nil, false
	}
	if d.Tracing {
		d.Record("htaccess", htgate.OutcomePass, "user "+principal.Name+" allowed by "+describeOrigin(cfg))
	}
	return principal, true
}

func describeOrigin(cfg *htaccess.Config) string {
	if o := cfg.Origin(); o != "" {
		return o
	}
	return "the server configuration"
}

// tabAfterScheme reports whether the Authorization header's scheme is
// followed by a tab before any space: Apache's mod_auth_basic and
// mod_auth_digest split at the first space only, so they see no scheme
// they know.
func tabAfterScheme(r *http.Request) bool {
	v := r.Header.Get("Authorization")
	i := strings.IndexAny(v, " \t")
	return i > 0 && v[i] == '\t'
}

// htFacts are the facts Require clauses of .htaccess files read.
func (g *Gateway) htFacts(r *http.Request, d *htgate.Decision, method string) policy.Facts {
	f := policy.Facts{Client: d.Client, Method: htaccess.CanonicalMethod(method)}
	f.Resolver = g.ht.resolver
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			f.Server = ap.Addr().Unmap()
		}
	}
	f.Var = func(name string) string { return g.requestVar(r, d, name) }
	return f
}

// requestVar answers the ap_expr variables of Require expr conditions.
func (g *Gateway) requestVar(r *http.Request, d *htgate.Decision, name string) string {
	if h, ok := strings.CutPrefix(name, "HTTP:"); ok {
		return r.Header.Get(h)
	}
	if t, ok := strings.CutPrefix(name, "TIME"); ok {
		now := g.opts.Now().Local()
		two := func(n int) string { return fmt.Sprintf("%02d", n) }
		switch t {
		case "_YEAR":
			return strconv.Itoa(now.Year())
		case "_MON":
			return two(int(now.Month()))
		case "_DAY":
			return two(now.Day())
		case "_HOUR":
			return two(now.Hour())
		case "_MIN":
			return two(now.Minute())
		case "_SEC":
			return two(now.Second())
		case "_WDAY":
			return strconv.Itoa(int(now.Weekday()))
		case "":
			return now.Format("20060102150405")
		}
	}
	switch name {
	case "REMOTE_HOST":
		return d.Client.Unmap().String()
	case "DOCUMENT_ROOT", "CONTEXT_DOCUMENT_ROOT":
		return g.ht.loader.Dir()
	case "REQUEST_FILENAME", "SCRIPT_FILENAME":
		return g.ht.loader.Dir() + d.Path
	case "HTTP2":
		return "off"
	case "REQUEST_LOG_ID":
		return d.RefID
	case "REQUEST_METHOD":
		return r.Method
	case "REQUEST_SCHEME":
		if r.TLS != nil {
			return "https"
		}
		return "http"
	case "HTTPS":
		if r.TLS != nil {
			return "on"
		}
		return "off"
	case "REQUEST_URI", "DOCUMENT_URI":
		return d.Path
	case "QUERY_STRING":
		return r.URL.RawQuery
	case "THE_REQUEST":
		return r.Method + " " + r.RequestURI + " " + r.Proto
	case "SERVER_PROTOCOL":
		return r.Proto
	case "SERVER_NAME":
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return host
	case "SERVER_PORT":
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if _, port, err := net.SplitHostPort(a.String()); err == nil {
				return port
			}
		}
	case "REMOTE_PORT":
		if _, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return port
		}
	case "CONN_REMOTE_ADDR":
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
	case "IPV6":
		if d.Client.Is6() && !d.Client.Is4In6() {
			return "on"
		}
		return "off"
	case "IS_SUBREQ":
		return "false"
	case "CONTENT_TYPE":
		return r.Header.Get("Content-Type")
	case "SERVER_SOFTWARE":
		return "htgate"
	case "API_VERSION":
		return "20120211"
	default:
		if h, ok := strings.CutPrefix(name, "HTTP_"); ok {
			return r.Header.Get(strings.ReplaceAll(h, "_", "-"))
		}
	}
	return ""
}
