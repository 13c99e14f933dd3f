package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxRedirects = 10
	DefaultTimeout      = 15 * time.Second
)

const (
	bodyLimit     = 1 << 20 // bytes of each response body read for analysis
	userAgent     = "htgate-probe/1"
	defaultAccept = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
)

// Options configure a probe. The zero value sends a GET without
// credentials, follows up to 10 redirects and gives up after 15 seconds.
type Options struct {
	// Method is the request method (default GET).
	Method string
	// Headers are added to every request. Authorization, Proxy-Authorization
	// and Cookie headers are sent only to the host being probed, never to
	// another host a redirect leads to. A Host header sets the request's host.
	Headers http.Header
	// User and Password are tried, after the server has answered 401, with
	// each of Digest and Basic that the server offers. HasPassword must be
	// set when User is (an empty password is a valid password, a missing
	// one is a mistake of the caller).
	User        string
	Password    string
	HasPassword bool
	// Token is sent as "Authorization: Bearer <Token>" from the first request.
	Token string
	// MaxRedirects is the number of redirects followed (default 10);
	// negative means none.
	MaxRedirects int
	// Timeout bounds the whole probe, all requests included (default 15s).
	Timeout time.Duration
	// Client sends the requests. Nil means a client of the probe's own with
	// an in-memory cookie jar (so that a login that sets a cookie and
	// redirects back is not mistaken for a loop). A given client is copied;
	// the probe follows redirects itself and adds a cookie jar if it has
	// none.
	Client *http.Client
	// Insecure skips TLS certificate verification (own client only); the
	// report then says whether the certificate would have been trusted.
	Insecure bool
	// Now is the clock (default time.Now), used for certificate expiry and
	// Retry-After dates.
	Now func() time.Time
}

// response is one response of the main flow, with its parsed challenges.
type response struct {
	method          string
	url             *url.URL
	status          int
	header          http.Header
	body            []byte
	tls             *tls.ConnectionState
	challenges      []Challenge
	challengeErr    error
	proxyChallenges []Challenge
	proxyErr        error
}

// credentials are what a request chain authenticates with.
type credentials struct {
	scheme string // "Basic", "Digest", "Bearer"; "" for none
	header string // the Authorization value of the first request
	sticky bool   // also sent on same-origin redirects
}

type prober struct {
	opts         Options
	client       *http.Client
	ownTransport *http.Transport
	origin       *url.URL
	now          func() time.Time
	maxRedirects int
	report       *Report
	responses    []*response
	loop         []string // the URLs of a detected redirect loop
	rejected     bool     // --user credentials were refused
	protected    []string // assets of the 401 page that answered 401
}

// Probe requests rawURL as described by opts and reports what it saw. It
// returns an error without a Report when nothing could be fetched (bad URL
// or options, DNS failure, refused connection, untrusted certificate,
// timeout); when a later request fails, for example a redirect target, it
// returns the Report so far together with the error.
func Probe(ctx context.Context, rawURL string, opts Options) (*Report, error) {
	u, notes, err := parseTarget(rawURL, &opts)
	if err != nil {
		return nil, err
	}
	if opts.User != "" && !opts.HasPassword {
		return nil, fmt.Errorf("no password given for user %q", opts.User)
	}
	if opts.User != "" && opts.Token != "" {
		return nil, errors.New("give either a user or a token, not both")
	}
	if opts.User == "" && opts.HasPassword {
		return nil, errors.New("a password was given without a user name")
	}
	if strings.ContainsAny(opts.User, ":") {
		return nil, errors.New("a Basic user name cannot contain ':'")
	}
	method := opts.Method
	if method == "" {
		method = http.MethodGet
	}
	if !isToken(method) {
		return nil, fmt.Errorf("bad method %q: a method is a single word such as GET or POST", method)
	}
	p := newProber(opts, u)
	defer p.close()
	p.report.Notes = append(p.report.Notes, notes...)

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var cred credentials
	if opts.Token != "" {
		cred = credentials{scheme: "Bearer", header: "Bearer " + opts.Token, sticky: true}
		p.report.Tried = append(p.report.Tried, "Bearer")
	}
	first, err := p.chain(ctx, method, u, cred)
	if err != nil {
		return p.failed(ctx, u, err, timeout)
	}
	final := first
	if opts.User != "" {
		final, err = p.tryCredentials(ctx, method, first)
		if err != nil {
			p.finish(ctx, first, final)
			return p.report, fmt.Errorf("retry with credentials: %w", describeFetchError(ctx, err, timeout))
		}
	}
	p.finish(ctx, first, final)
	return p.report, nil
}

// parseTarget checks the URL; a URL without a scheme gets http:// as curl
// does, and user info in the URL becomes the credentials.
func parseTarget(rawURL string, opts *Options) (*url.URL, []string, error) {
	var notes []string
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return nil, nil, errors.New("no URL given")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
		notes = append(notes, "The URL had no scheme, so http:// was assumed; give https:// to probe the secure site.")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, nil, fmt.Errorf("bad URL: %w", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, fmt.Errorf("bad URL %q: only http and https can be probed", rawURL)
	}
	if u.Host == "" {
		return nil, nil, fmt.Errorf("bad URL %q: no host", rawURL)
	}
	if u.User != nil {
		if opts.User == "" && opts.Token == "" {
			opts.User = u.User.Username()
			opts.Password, opts.HasPassword = u.User.Password()
			notes = append(notes, "The user name in the URL was used as --user.")
		}
		u.User = nil
	}
	u.Fragment = ""
	return u, notes, nil
}

func newProber(opts Options, origin *url.URL) *prober {
	p := &prober{
		opts:         opts,
		origin:       origin,
		now:          opts.Now,
		maxRedirects: opts.MaxRedirects,
		report:       &Report{URL: origin.String(), Challenges: []Challenge{}, Findings: []Finding{}},
	}
	if p.now == nil {
		p.now = time.Now
	}
	switch {
	case p.maxRedirects == 0:
		p.maxRedirects = DefaultMaxRedirects
	case p.maxRedirects < 0:
		p.maxRedirects = 0
	}
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: opts.Insecure} //nolint:gosec // only on explicit --insecure
		c.Transport = t
		p.ownTransport = t
	}
	if c.Jar == nil {
		jar, _ := cookiejar.New(nil) // never fails without options
		c.Jar = jar
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.client = &c
	return p
}

func (p *prober) close() {
	if p.ownTransport != nil {
		p.ownTransport.CloseIdleConnections()
	}
}

// failed turns the error of the first request chain into Probe's result.
func (p *prober) failed(ctx context.Context, u *url.URL, err error, timeout time.Duration) (*Report, error) {
	err = describeFetchError(ctx, err, timeout)
	if len(p.responses) == 0 {
		return nil, fmt.Errorf("cannot reach %s: %w", u.Redacted(), err)
	}
	last := p.responses[len(p.responses)-1]
	p.finish(ctx, last, last)
	return p.report, fmt.Errorf("following redirects from %s: %w", u.Redacted(), err)
}

// describeFetchError adds a plain-language explanation to common network errors.
func describeFetchError(ctx context.Context, err error, timeout time.Duration) error {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("cancelled: %w", err)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no complete answer within %s: %w", timeout, err)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("the host name does not resolve (check the spelling, or DNS): %w", err)
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return fmt.Errorf("the server's TLS certificate is not trusted (use --insecure to look anyway): %w", err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("the connection was refused (nothing listens on that port?): %w", err)
	}
	return err
}

// chain sends a request and follows its redirects, recording each hop. It
// stops at a response that is not a redirect, at a loop (the same request
// again with the same cookies) or after MaxRedirects redirects.
func (p *prober) chain(ctx context.Context, method string, u *url.URL, cred credentials) (*response, error) {
	seen := map[string]string{}
	var path []string
	var last *response
	for hop := 0; ; hop++ {
		key := method + " " + u.String()
		state := p.cookieState(u)
		if prev, ok := seen[key]; ok && prev == state {
			p.loop = append(path, u.String())
			return last, nil
		}
		seen[key] = state
		path = append(path, u.String())

		var authz, scheme string
		if (hop == 0 || cred.sticky) && cred.header != "" && sameOrigin(p.origin, u) {
			authz, scheme = cred.header, cred.scheme
		}
		resp, err := p.do(ctx, method, u, authz, scheme)
		if err != nil {
			return last, err
		}
		last = resp
		if !isRedirect(resp.status) {
			return resp, nil
		}
		loc := resp.header.Get("Location")
		if loc == "" {
			return resp, nil
		}
		next, err := u.Parse(loc)
		if err != nil {
			p.note("The redirect to %q was not followed: it is not a valid URL.", loc)
			return resp, nil
		}
		if next.Scheme != "http" && next.Scheme != "https" {
			p.note("The redirect to %s was not followed: only http and https are probed.", next.Redacted())
			return resp, nil
		}
		if hop >= p.maxRedirects {
			if p.maxRedirects > 0 && repeatsPath(path, next) {
				p.loop = append(path, next.String())
			} else {
				p.note("Stopped after %d redirects; the next one goes to %s.", p.maxRedirects, next.Redacted())
			}
			return resp, nil
		}
		next.Fragment = ""
		next.User = nil
		switch resp.status {
		case http.StatusSeeOther:
			if method != http.MethodHead {
				method = http.MethodGet
			}
		case http.StatusMovedPermanently, http.StatusFound:
			if method == http.MethodPost {
				method = http.MethodGet
			}
		}
		u = next
	}
}

// repeatsPath reports whether next has the scheme, host and path (ignoring
// the query) of an earlier request: a loop whose query keeps changing, as
// with a growing return_to parameter.
func repeatsPath(path []string, next *url.URL) bool {
	for _, s := range path {
		u, err := url.Parse(s)
		if err == nil && u.Scheme == next.Scheme && strings.EqualFold(u.Host, next.Host) && u.Path == next.Path {
			return true
		}
	}
	return false
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// cookieState summarises the cookies the jar would send to u, so that a
// revisit with different cookies (a login that worked) is not a loop.
func (p *prober) cookieState(u *url.URL) string {
	if p.client.Jar == nil {
		return ""
	}
	var parts []string
	for _, c := range p.client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// do sends one request of the main flow and records it as a hop.
func (p *prober) do(ctx context.Context, method string, u *url.URL, authz, scheme string) (*response, error) {
	req, err := p.newRequest(ctx, method, u, true)
	if err != nil {
		return nil, err
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, bodyLimit)) // a short body is still worth analysing
	resp.Body.Close()
	r := &response{
		method: method,
		url:    u,
		status: resp.StatusCode,
		header: resp.Header,
		body:   body,
		tls:    resp.TLS,
	}
	r.challenges, r.challengeErr = ParseChallenges(resp.Header.Values("WWW-Authenticate"))
	r.proxyChallenges, r.proxyErr = ParseChallenges(resp.Header.Values("Proxy-Authenticate"))
	hop := Hop{Method: method, URL: u.Redacted(), Status: r.status, Auth: scheme, Challenges: r.challenges}
	if isRedirect(r.status) {
		hop.Location = resp.Header.Get("Location")
	}
	p.report.Hops = append(p.report.Hops, hop)
	p.responses = append(p.responses, r)
	return r, nil
}

// newRequest builds a request with the caller's headers. Credentials and
// cookies given by the caller go only to the probed origin; withAuthHeaders
// false leaves them out altogether (for the anonymous asset checks).
func (p *prober) newRequest(ctx context.Context, method string, u *url.URL, withAuthHeaders bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	same := sameOrigin(p.origin, u)
	for name, values := range p.opts.Headers {
		switch http.CanonicalHeaderKey(name) {
		case "Authorization", "Proxy-Authorization", "Cookie":
			if !same || !withAuthHeaders {
				continue
			}
		case "Host":
			if same && len(values) > 0 {
				req.Host = values[0]
			}
			continue
		}
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", userAgent)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", defaultAccept)
	}
	return req, nil
}

// sameOrigin reports whether credentials meant for origin may be sent to u:
// the same host name, and the same scheme and port or an upgrade from http
// to https on the default port.
func sameOrigin(origin, u *url.URL) bool {
	if !strings.EqualFold(origin.Hostname(), u.Hostname()) {
		return false
	}
	if origin.Scheme == u.Scheme && effectivePort(origin) == effectivePort(u) {
		return true
	}
	return origin.Scheme == "http" && u.Scheme == "https" && effectivePort(u) == "443"
}

// sameOriginExact is the web origin: scheme, host and port.
func sameOriginExact(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if port := u.Port(); port != "" {
		return port
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func (p *prober) note(format string, args ...any) {
	p.report.Notes = append(p.report.Notes, fmt.Sprintf(format, args...))
}

// tryCredentials answers the 401 of the first chain with the user's
// credentials: Digest (the strongest offered) and then Basic, as offered,
// stopping at the first answer that is not 401.
func (p *prober) tryCredentials(ctx context.Context, method string, first *response) (*response, error) {
	if first.status != http.StatusUnauthorized {
		p.note("The server did not ask for credentials (it answered %s), so the password was not sent.", statusLine(first.status))
		return first, nil
	}
	if !sameOrigin(p.origin, first.url) {
		p.note("The password was not sent to %s because it is not the host you asked to probe.", first.url.Host)
		return first, nil
	}
	final := first
	tried := false
	if dc, ok := pickDigest(first.challenges); ok {
		tried = true
		p.report.Tried = append(p.report.Tried, "Digest")
		resp, err := p.digestAttempt(ctx, method, first.url, dc)
		if err != nil {
			return final, err
		}
		if resp.status != http.StatusUnauthorized {
			p.afterCredentials(resp)
			return resp, nil
		}
		final = resp
	}
	if slices.ContainsFunc(first.challenges, func(c Challenge) bool { return c.Is("Basic") }) {
		tried = true
		p.report.Tried = append(p.report.Tried, "Basic")
		cred := credentials{scheme: "Basic", header: "Basic " + base64.StdEncoding.EncodeToString([]byte(p.opts.User+":"+p.opts.Password)), sticky: true}
		resp, err := p.chain(ctx, method, first.url, cred)
		if err != nil {
			return final, err
		}
		if resp.status != http.StatusUnauthorized {
			p.afterCredentials(resp)
			return resp, nil
		}
		final = resp
	}
	if !tried {
		var offered []string
		for _, c := range first.challenges {
			offered = append(offered, c.Scheme)
		}
		if len(offered) == 0 {
			p.note("The password was not sent: the server offers no challenge to answer.")
		} else {
			p.note("The password was not sent: the server offers %s, and the probe can answer only Basic and Digest.", strings.Join(offered, ", "))
		}
		return first, nil
	}
	p.rejected = true
	return final, nil
}

// afterCredentials notes what an accepted login led to, when it is not plain success.
func (p *prober) afterCredentials(resp *response) {
	if resp.status == http.StatusForbidden {
		p.note("The credentials were accepted, but the server answered 403 Forbidden: this user may not see this address.")
	}
}

// digestAttempt sends one Digest-authenticated request (and follows its
// redirects); a 401 that says stale=true is answered once more with the
// fresh nonce.
func (p *prober) digestAttempt(ctx context.Context, method string, u *url.URL, c Challenge) (*response, error) {
	for attempt := 0; ; attempt++ {
		cnonce, err := newCnonce()
		if err != nil {
			return nil, err
		}
		authz, err := digestAuthorization(c, method, u.RequestURI(), p.opts.User, p.opts.Password, cnonce, 1)
		if err != nil {
			return nil, err
		}
		resp, err := p.chain(ctx, method, u, credentials{scheme: "Digest", header: authz})
		if err != nil || resp.status != http.StatusUnauthorized || attempt > 0 {
			return resp, err
		}
		fresh, ok := pickDigest(resp.challenges)
		if stale, _ := fresh.Param("stale"); !ok || !strings.EqualFold(stale, "true") {
			return resp, nil
		}
		c = fresh
	}
}

// checkErrorPageAssets fetches the same-origin stylesheets, images and
// scripts an HTML 401 page refers to, without credentials, and remembers
// those that answer 401 themselves.
func (p *prober) checkErrorPageAssets(ctx context.Context, r *response) {
	if r.status != http.StatusUnauthorized || r.method == http.MethodHead || !isHTML(r.header, r.body) {
		return
	}
	for _, u := range assetRefs(scanTags(r.body), r.url) {
		req, err := p.newRequest(ctx, http.MethodGet, u, false)
		if err != nil {
			continue
		}
		req.Header.Set("Accept", "*/*")
		resp, err := p.client.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyLimit))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			p.protected = append(p.protected, u.Redacted())
		}
	}
}

// finish fills in the report from the responses: first is the last
// response of the anonymous (or token) chain, final the last response of all.
func (p *prober) finish(ctx context.Context, first, final *response) {
	r := p.report
	r.Status = final.status
	if s := final.url.Redacted(); s != r.URL {
		r.FinalURL = s
	}
	for i := len(p.responses) - 1; i >= 0; i-- {
		if len(p.responses[i].challenges) > 0 {
			r.Challenges = p.responses[i].challenges
			break
		}
	}
	for i := len(p.responses) - 1; i >= 0; i-- {
		if len(p.responses[i].proxyChallenges) > 0 {
			r.ProxyChallenges = p.responses[i].proxyChallenges
			break
		}
	}
	for i := len(p.responses) - 1; i >= 0 && r.TLS == nil; i-- {
		if cs := p.responses[i].tls; cs != nil {
			r.TLS = p.tlsInfo(p.responses[i].url, cs)
		}
	}
	if ctx.Err() == nil {
		p.checkErrorPageAssets(ctx, first)
	}
	r.Findings = p.findings(first, final)
}

func (p *prober) tlsInfo(u *url.URL, cs *tls.ConnectionState) *TLSInfo {
	info := &TLSInfo{
		Version:     tls.VersionName(cs.Version),
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		ALPN:        cs.NegotiatedProtocol,
	}
	if len(cs.PeerCertificates) == 0 {
		return info
	}
	leaf := cs.PeerCertificates[0]
	info.Subject = leaf.Subject.String()
	info.Issuer = leaf.Issuer.String()
	info.DNSNames = leaf.DNSNames
	info.NotBefore = leaf.NotBefore.UTC()
	info.NotAfter = leaf.NotAfter.UTC()
	info.DaysLeft = int(math.Floor(leaf.NotAfter.Sub(p.now()).Hours() / 24))
	if p.opts.Insecure && p.opts.Client == nil {
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: u.Hostname(), Intermediates: inter, CurrentTime: p.now()})
		if err != nil {
			info.VerifyError = err.Error()
		}
	}
	return info
}
