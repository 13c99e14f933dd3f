package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// Transport defaults of NewTransport.
const (
	DialTimeout           = 10 * time.Second // TCP connect to the upstream
	TLSHandshakeTimeout   = 10 * time.Second // TLS handshake with an https upstream
	ResponseHeaderTimeout = 60 * time.Second // request sent → response headers, like nginx proxy_read_timeout and Apache ProxyTimeout
	IdleConnTimeout       = 90 * time.Second // idle keep-alive connections are closed after this
	MaxIdleConnsPerHost   = 256              // keep-alive connections kept per upstream host
)

// ProxyOptions configures a Proxy. The zero value is ready to use.
type ProxyOptions struct {
	// IdentityHeaders are extra header names htgate sets to the user name,
	// besides Remote-User, X-Remote-User and X-Forwarded-User. Like those,
	// every client-sent spelling of them is removed first. Names that carry
	// other meaning (Host, Authorization, Cookie, X-Forwarded-For, ...) are
	// refused by NewProxy. Default: none.
	IdentityHeaders []string
	// Transport sends requests to the upstream. Default: a dedicated
	// transport from NewTransport (never http.DefaultTransport).
	Transport http.RoundTripper
	// OnError answers a request that could not be forwarded: the upstream
	// is unreachable or timed out (err wraps the transport's error; a
	// net.Error with Timeout() true means a timeout), or the Request is
	// unusable (err wraps ErrInvalidRequest). The gateway passes a func
	// that answers through its responder. Default: a plain 502 Bad Gateway
	// (500 for ErrInvalidRequest).
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives one line per failed forward (never a header value).
	// Default: discard.
	Logger *slog.Logger
	// FlushInterval is how often the response body is flushed to the client
	// while it is copied. Default 0: httputil.ReverseProxy's behaviour,
	// which flushes after every write for text/event-stream and for every
	// response without a Content-Length (chunked streams, long polls), so
	// streaming works, and copies fixed-length bodies without periodic
	// flushes. Negative flushes after every write for all responses.
	FlushInterval time.Duration
	// PreserveHost sends the client's Host header upstream. Default false:
	// the Host is the target's (like Apache's ProxyPreserveHost Off and
	// nginx's proxy_pass); the client's Host is in X-Forwarded-Host either way.
	PreserveHost bool
}

// Proxy forwards requests to one upstream. It is safe for concurrent use.
//
// For every request it builds the outgoing URL from the target and
// Request.EscapedPath (the client's raw path is never used) with the query
// passed on byte for byte (ReverseProxy would drop parameters it cannot
// parse; htgate decides nothing on the query, so the upstream sees what the
// client sent), and then, after httputil.ReverseProxy has removed
// the hop-by-hop headers (including any named in the client's Connection
// header), rewrites the headers so that nothing the client sent can be
// mistaken for something htgate vouches for:
//
//   - removed in any letter case and with any non-alphanumeric byte in
//     place of '-' (remote_user, X_Remote_User, x-forwarded_user, ...):
//     Remote-User, X-Remote-User, X-Forwarded-User, Remote-Groups, the
//     configured IdentityHeaders, every X-Forwarded-*, Remote-*,
//     X-Remote-* and X-Original-* header, X-Rewrite-URL, Forwarded,
//     X-Real-Ip, X-Request-Id and Proxy-Authorization;
//   - removed unless Request.KeepAuthorization: Authorization;
//   - set: X-Forwarded-For (Request.Client, else the peer address),
//     X-Real-Ip (the same), X-Forwarded-Host (the client's Host),
//     X-Forwarded-Proto (http or https), X-Request-Id (Request.RefID) and,
//     for an authenticated user, Remote-User, X-Remote-User,
//     X-Forwarded-User and the IdentityHeaders to the user name and
//     Remote-Groups to the groups joined with ",".
//
// Because the headers are set in Rewrite, which runs after the hop-by-hop
// removal, a client's "Connection: Remote-User" cannot remove them. Client
// X-Forwarded-* values are dropped, not appended to: a trusted proxy in
// front of htgate should be resolved by the gateway into Request.Client.
//
// Upgrades (WebSocket) and streaming responses pass through. An upstream's
// own 401, 403 or 5xx response is passed on unchanged; only a failure to
// get a response at all goes to OnError.
type Proxy struct {
	target   *url.URL
	rp       *httputil.ReverseProxy
	strip    nameSet
	authz    nameSet
	setNames []string
	onError  func(w http.ResponseWriter, r *http.Request, err error)
	log      *slog.Logger
	preserve bool
	closer   interface{ CloseIdleConnections() }
}

var _ Backend = (*Proxy)(nil)

// NewTransport returns a new transport with the package's timeouts:
// DialTimeout, TLSHandshakeTimeout, ResponseHeaderTimeout, IdleConnTimeout
// and MaxIdleConnsPerHost; HTTP/2 attempted for https upstreams; no
// proxy from the environment; no transparent gzip (the body is passed on as
// the upstream sent it). Callers may adjust it before passing it in
// ProxyOptions.Transport.
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   TLSHandshakeTimeout,
		ResponseHeaderTimeout: ResponseHeaderTimeout,
		ExpectContinueTimeout: 1 * time.Second,
		IdleConnTimeout:       IdleConnTimeout,
		MaxIdleConns:          4 * MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   MaxIdleConnsPerHost,
		DisableCompression:    true,
	}
}

// NewProxy returns a Proxy to target, an absolute http or https URL with an
// optional base path (no user info, query or fragment).
func NewProxy(target *url.URL, opts ProxyOptions) (*Proxy, error) {
	if target == nil {
		return nil, errors.New("upstream: nil target")
	}
	if target.Scheme != "http" && target.Scheme != "https" {
		return nil, fmt.Errorf("upstream %q: scheme must be http or https", target.Redacted())
	}
	if target.Host == "" || target.Opaque != "" {
		return nil, fmt.Errorf("upstream %q: no host", target.Redacted())
	}
	if target.User != nil {
		return nil, fmt.Errorf("upstream %q: user info in the URL is not supported", target.Redacted())
	}
	if target.RawQuery != "" || target.ForceQuery || target.Fragment != "" {
		return nil, fmt.Errorf("upstream %q: query and fragment are not supported", target.Redacted())
	}
	setNames, err := identityHeaders(opts.IdentityHeaders)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", target.Redacted(), err)
	}
	t := *target
	p := &Proxy{
		target:   &t,
		strip:    newNameSet(append(strippedNames(), setNames...), strippedPrefixes()),
		authz:    newNameSet([]string{headerAuthorization}, nil),
		setNames: setNames,
		onError:  opts.OnError,
		log:      opts.Logger,
		preserve: opts.PreserveHost,
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.onError == nil {
		p.onError = plainError
	}
	transport := opts.Transport
	if transport == nil {
		tr := NewTransport()
		transport = tr
		p.closer = tr
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:       p.rewrite,
		Transport:     transport,
		FlushInterval: opts.FlushInterval,
		ErrorLog:      slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
		ErrorHandler:  p.errorHandler,
	}
	return p, nil
}

// Close closes the idle connections of the transport NewProxy created; it
// does nothing when ProxyOptions.Transport was given. Requests in flight
// are not affected.
func (p *Proxy) Close() error {
	if p.closer != nil {
		p.closer.CloseIdleConnections()
	}
	return nil
}

// proxyCall is what Serve hands to rewrite and errorHandler through the
// request's context.
type proxyCall struct {
	in            *http.Request // the request as the gateway received it
	req           Request
	path, rawPath string
}

// callKey is the context key of a *proxyCall.
type callKey struct{}

// Serve forwards r upstream as req says. See Proxy for what is sent.
func (p *Proxy) Serve(w http.ResponseWriter, r *http.Request, req Request) {
	call := &proxyCall{in: r, req: req}
	var err error
	call.path, call.rawPath, err = p.outgoingPath(req)
	if err == nil {
		err = checkIdentity(req)
	}
	if err != nil {
		p.log.LogAttrs(r.Context(), slog.LevelError, "upstream request refused",
			slog.String("ref_id", req.RefID), slog.String("method", r.Method), slog.String("error", err.Error()))
		p.onError(w, r, err)
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, call)))
}

// outgoingPath joins the target's path with the request's path, decoded and
// escaped, and checks that the escaped form decodes to the canonical one.
func (p *Proxy) outgoingPath(req Request) (path, rawPath string, err error) {
	cpath, escaped := req.Path, req.EscapedPath
	if cpath == "" {
		cpath = "/"
	}
	if escaped == "" {
		escaped = (&url.URL{Path: cpath}).EscapedPath()
	}
	if cpath[0] != '/' || escaped[0] != '/' {
		return "", "", fmt.Errorf("%w: path %q is not absolute", ErrInvalidRequest, cpath)
	}
	if hasAmbiguousEscape(escaped) {
		return "", "", fmt.Errorf("%w: escaped path %q holds an encoded '/', '\\' or NUL", ErrInvalidRequest, escaped)
	}
	path = joinPath(p.target.Path, cpath)
	rawPath = joinPath(p.target.EscapedPath(), escaped)
	u := url.URL{Path: path, RawPath: rawPath}
	if u.EscapedPath() != rawPath {
		return "", "", fmt.Errorf("%w: escaped path %q does not encode path %q", ErrInvalidRequest, escaped, cpath)
	}
	return path, rawPath, nil
}

// joinPath joins base and p (which starts with '/') with one slash between.
func joinPath(base, p string) string {
	if base == "" || base == "/" {
		return p
	}
	if strings.HasSuffix(base, "/") {
		return base + p[1:]
	}
	return base + p
}

// hasAmbiguousEscape reports whether s holds %2F, %5C or %00 in any case:
// encodings the matcher and the upstream might decode differently.
func hasAmbiguousEscape(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		a, b := s[i+1], s[i+2]|0x20
		if (a == '2' && b == 'f') || (a == '5' && b == 'c') || (a == '0' && b == '0') {
			return true
		}
	}
	return false
}

// checkIdentity checks that the user and group names can travel in headers.
func checkIdentity(req Request) error {
	if req.RefID != "" && !validHeaderValue(req.RefID) {
		return fmt.Errorf("%w: reference id cannot be sent in a header", ErrInvalidRequest)
	}
	if req.User == "" {
		return nil
	}
	if !validHeaderValue(req.User) {
		return fmt.Errorf("%w: user name cannot be sent in a header", ErrInvalidRequest)
	}
	for _, g := range req.Groups {
		if !validHeaderValue(g) || strings.IndexByte(g, ',') >= 0 {
			return fmt.Errorf("%w: group name cannot be sent in Remote-Groups", ErrInvalidRequest)
		}
	}
	return nil
}

// rewrite is the ReverseProxy's Rewrite: it runs after hop-by-hop removal.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	call, _ := pr.In.Context().Value(callKey{}).(*proxyCall)
	if call == nil {
		// Unreachable: only Serve calls the ReverseProxy. Fail closed: a
		// URL without a scheme makes the transport fail, so OnError answers.
		pr.Out.URL = &url.URL{}
		return
	}
	req := call.req
	out := pr.Out
	out.URL = &url.URL{
		Scheme:   p.target.Scheme,
		Host:     p.target.Host,
		Path:     call.path,
		RawPath:  call.rawPath,
		RawQuery: pr.In.URL.RawQuery,
	}
	if p.preserve {
		out.Host = pr.In.Host
	} else {
		out.Host = ""
	}

	h := out.Header
	for k := range h {
		if p.strip.has(k) || (!req.KeepAuthorization && p.authz.has(k)) {
			delete(h, k)
		}
	}

	pr.SetXForwarded()
	if req.Client.IsValid() {
		h[headerXForwardedFor] = []string{req.Client.String()}
	}
	if xff := h[headerXForwardedFor]; len(xff) == 1 {
		h[headerRealIP] = []string{xff[0]}
	}
	if req.RefID != "" {
		h[headerRequestID] = []string{req.RefID}
	}
	if req.User != "" {
		user := []string{req.User}
		for _, n := range p.setNames {
			h[n] = user
		}
		if len(req.Groups) > 0 {
			h[headerRemoteGroups] = []string{strings.Join(req.Groups, ",")}
		}
	}
}

// errorHandler is the ReverseProxy's ErrorHandler: no response came back.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var req Request
	if call, _ := r.Context().Value(callKey{}).(*proxyCall); call != nil {
		req, r = call.req, call.in
	}
	level := slog.LevelWarn
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		level = slog.LevelDebug // the client went away
	}
	p.log.LogAttrs(r.Context(), level, "upstream unreachable",
		slog.String("ref_id", req.RefID), slog.String("method", r.Method),
		slog.String("path", req.Path), slog.String("upstream", p.target.Host),
		slog.String("error", err.Error()))
	p.onError(w, r, fmt.Errorf("upstream %s: %w", p.target.Host, err))
}

// plainError is the default OnError.
func plainError(w http.ResponseWriter, _ *http.Request, err error) {
	status := http.StatusBadGateway
	if errors.Is(err, ErrInvalidRequest) {
		status = http.StatusInternalServerError
	}
	http.Error(w, http.StatusText(status), status)
}
