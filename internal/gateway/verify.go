package gateway

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/htgate/htgate"
)

// DefaultVerifyPath is where the forward-authentication endpoint is served
// unless ForwardAuth.Path says otherwise.
const DefaultVerifyPath = ReservedPrefix + "verify"

// ForwardAuth configures the forward-authentication endpoint: a reverse
// proxy in front of an application (nginx auth_request, Traefik
// forwardAuth, Caddy forward_auth) asks it whether each request may pass.
//
// Security: the endpoint believes the headers that describe the original
// request (method, host, URI, client address) only from a trusted proxy
// (ClientIP.Trusted); any other peer is refused with 403 and a log line,
// since a client could otherwise describe any request it likes.
type ForwardAuth struct {
	// Path is the endpoint's path on the gateway's listener. Default
	// DefaultVerifyPath ("/.htgate/verify").
	Path string
	// Disabled turns the endpoint off: its path goes through the request
	// path like any other. Default false.
	Disabled bool
}

func (f ForwardAuth) path() string {
	switch {
	case f.Disabled:
		return ""
	case f.Path == "":
		return DefaultVerifyPath
	}
	return f.Path
}

// The headers the forward-auth endpoint answers with for an allowed
// request, as Authelia and Authentik name them (the proxies copy them to
// the upstream request: nginx auth_request_set, Caddy copy_headers,
// Traefik authResponseHeaders).
const (
	HeaderRemoteUser   = "Remote-User"
	HeaderRemoteGroups = "Remote-Groups"
	HeaderRemoteName   = "Remote-Name"
	// HeaderLogin carries the login page's address (with the page asked
	// for) when a browser on a form-login rule must sign in.
	HeaderLogin = "X-Htgate-Login"
)

// originalHeaders describe the original request to the verify endpoint;
// they are removed from the reconstructed request.
var originalHeaders = []string{
	"X-Original-Uri", "X-Original-Method", "X-Original-Url",
	"X-Forwarded-Method", "X-Forwarded-Uri", "X-Forwarded-Host", "X-Forwarded-Proto",
	"X-Forwarded-Prefix", "X-Forwarded-Port", "X-Forwarded-Server",
}

// serveVerify answers a forward-auth request from a trusted proxy: it
// reconstructs the original request from the proxy's headers, runs the
// gateway's decision steps on it (decide, the very code ServeHTTP runs),
// and answers 200 with the identity headers and an empty body, or the
// refusal (401 with the challenges, 403, 429 ...) through the responder.
func (g *Gateway) serveVerify(w http.ResponseWriter, r *http.Request) {
	start := g.opts.Now()
	d := &htgate.Decision{RefID: g.refs.next(), Method: r.Method, Host: r.Host, Path: r.URL.Path}
	rec := &statusRecorder{ResponseWriter: w, refID: d.RefID}
	defer func() {
		if g.opts.AccessLog {
			g.logAccess(r.Context(), d, rec, g.opts.Now().Sub(start))
		}
	}()
	peer := parsePeer(r.RemoteAddr)
	if !peer.IsValid() || !g.opts.ClientIP.trusted(peer) {
		d.Client = peer
		d.Refuse(http.StatusForbidden, htgate.ReasonConfigDenied, "verify",
			"forward-auth request from "+peer.String()+", which is not a trusted proxy: add it to trusted_proxies")
		g.opts.Logger.WarnContext(r.Context(), "forward-auth request from an untrusted peer refused: add the proxy's address to trusted_proxies (--trusted-proxy)",
			"peer", peer.String(), "path", r.URL.Path, "ref_id", d.RefID)
		g.opts.Responder.Refuse(rec, r, d)
		return
	}
	orig, err := originalRequest(r)
	if err != nil {
		d.Client = peer
		d.Refuse(http.StatusBadRequest, htgate.ReasonBadRequest, "verify", err.Error())
		g.opts.Logger.WarnContext(r.Context(), "forward-auth request refused: "+err.Error(), "peer", peer.String(), "ref_id", d.RefID)
		g.opts.Responder.Refuse(rec, r, d)
		return
	}
	d.Method, d.Host = orig.Method, orig.Host
	_, release := g.decide(r.Context(), false, orig, d)
	if release != nil {
		defer release()
	}
	h := rec.Header()
	if d.Status == http.StatusSeeOther {
		// A browser on a form-login rule: the login page, on the proxy's
		// host (the proxy routes ReservedPrefix to htgate).
		loc := loginLocation(orig)
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Accept, Cookie")
		h.Set(HeaderLogin, loc)
		if r.Header.Get("X-Original-Uri") != "" {
			// nginx: auth_request passes 2xx, 401 and 403 only; its
			// error_page 401 redirects to $upstream_http_x_htgate_login
			// (docs/integrations.md).
			d.Status = http.StatusUnauthorized
			h.Set("Content-Type", "text/plain; charset=utf-8")
			rec.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(rec, "Sign in: "+loc+"\n")
			return
		}
		http.Redirect(rec, orig, loc, http.StatusSeeOther)
		return
	}
	if !d.Reason.Allowed() {
		g.opts.Responder.Refuse(rec, orig, d)
		return
	}
	d.Status = http.StatusOK
	h.Set("Cache-Control", "no-store")
	h.Set("X-Request-Id", d.RefID)
	// Always all three, empty for an anonymous request: a proxy that copies
	// them (Caddy's copy_headers) then overwrites whatever the client sent
	// under these names, and never copies a placeholder.
	var user, groups string
	if p := d.Principal; p != nil {
		user, groups = p.Name, strings.Join(p.Groups, ",")
	}
	h[HeaderRemoteUser] = []string{user}
	h[HeaderRemoteName] = []string{user}
	h[HeaderRemoteGroups] = []string{groups}
	h.Set("Content-Length", "0")
	rec.WriteHeader(http.StatusOK)
}

// errOriginal is the error of a forward-auth request whose headers do not
// describe a request.
type errOriginal string

func (e errOriginal) Error() string { return string(e) }

// originalRequest rebuilds the request a proxy asks about from its
// headers: X-Original-Method and X-Original-URI (nginx, as the snippets in
// docs/integrations.md set them), or X-Forwarded-Method, -Uri, -Host and
// -Proto (Traefik, Caddy). The host is X-Forwarded-Host, else the Host of
// the verify request (nginx passes the original Host on). Without a
// method or a URI it fails: guessing could allow too much. The client address is resolved from
// X-Forwarded-For (or Forwarded) by ClientIP as for any proxied request,
// the peer being trusted. Every other header (Authorization, Cookie,
// Accept, Accept-Language) is the original request's.
func originalRequest(r *http.Request) (*http.Request, error) {
	method := firstHeader(r.Header, "X-Original-Method", "X-Forwarded-Method")
	uri := firstHeader(r.Header, "X-Original-Uri", "X-Forwarded-Uri")
	if method == "" || uri == "" {
		// Fail closed: checking "/" or GET instead could allow what the
		// real request would not be allowed.
		return nil, errOriginal("the proxy does not say which request to check: X-Original-Method and X-Original-URI (nginx) or X-Forwarded-Method and X-Forwarded-Uri (Traefik, Caddy) are required")
	}
	if tokenLen(method) != len(method) {
		return nil, errOriginal("X-Original-Method or X-Forwarded-Method is not a method")
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || !strings.HasPrefix(uri, "/") || u.Host != "" {
		return nil, errOriginal("X-Original-URI or X-Forwarded-Uri is not a path and query")
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		// A list when several proxies appended to it: the first is the client's.
		fh, _, _ = strings.Cut(fh, ",")
		host = strings.TrimSpace(fh)
	}
	proto := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")))
	orig := r.Clone(r.Context())
	orig.Method = method
	orig.URL = u
	orig.RequestURI = uri
	orig.Host = host
	orig.Body = http.NoBody
	orig.ContentLength = 0
	orig.TransferEncoding = nil
	for _, name := range originalHeaders {
		orig.Header.Del(name)
	}
	orig.Header.Del("Content-Length")
	switch {
	case proto == "https" && orig.TLS == nil:
		orig.TLS = &tls.ConnectionState{}
	case proto == "http":
		orig.TLS = nil
	}
	return orig, nil
}

// firstHeader returns the value of the first of names that r has.
func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			return v
		}
	}
	return ""
}
