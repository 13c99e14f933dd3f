package probe

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// findings computes the findings of a probe, one per id, ordered by
// severity and then by the order of FindingIDs.
func (p *prober) findings(first, final *response) []Finding {
	out := []Finding{}
	have := map[string]bool{}
	add := func(f Finding, at *response) {
		if have[f.ID] {
			return
		}
		have[f.ID] = true
		if at != nil && at.url.Redacted() != final.url.Redacted() {
			f.URL = at.url.Redacted()
		}
		out = append(out, f)
	}

	if len(p.loop) > 0 {
		add(loopFinding(p.loop), nil)
	}
	for _, r := range p.responses {
		for _, f := range p.headerFindings(r) {
			add(f, r)
		}
	}
	if f, ok := soft401(final, len(p.report.Hops) > 1 && final.url.Redacted() != p.origin.Redacted()); ok {
		add(f, nil)
	}
	if len(p.protected) > 0 {
		add(Finding{
			ID:       FindingAuthRequiredOnErrorPage,
			Severity: SeverityWarning,
			Message: fmt.Sprintf("The 401 page uses files that themselves require login (%s). Visitors who are not logged in see the error page without its styles or images, and a browser may ask for the password again for each of them.",
				strings.Join(p.protected, ", ")),
			Fix: "Serve the error page's stylesheets, images and scripts from a path that does not require login, or put them inline in the page.",
		}, first)
	}
	if p.rejected {
		add(Finding{
			ID:       FindingCredentialsRejected,
			Severity: SeverityError,
			Message: fmt.Sprintf("The server refused the password for user %q: it answered 401 again after it was sent with %s.",
				p.opts.User, strings.Join(p.report.Tried, " and ")),
			Fix: "Check the user name and password (both are case-sensitive; watch for stray spaces, Caps Lock and the keyboard layout). If they are right, ask the site's administrator whether the account exists here, is locked, or belongs to another realm.",
		}, nil)
	}
	if p.opts.Token != "" && final.status == http.StatusUnauthorized {
		add(tokenFinding(final), nil)
	}

	rank := map[string]int{SeverityError: 0, SeverityWarning: 1, SeverityInfo: 2}
	order := FindingIDs()
	slices.SortStableFunc(out, func(a, b Finding) int {
		if d := rank[a.Severity] - rank[b.Severity]; d != 0 {
			return d
		}
		return slices.Index(order, a.ID) - slices.Index(order, b.ID)
	})
	return out
}

func loopFinding(loop []string) Finding {
	return Finding{
		ID:       FindingLoginRedirectLoop,
		Severity: SeverityError,
		Message: fmt.Sprintf("Following the redirects goes round in a circle (%s). Browsers give up with \"too many redirects\" and the visitor never reaches a login prompt or the page.",
			strings.Join(loop, " -> ")),
		Fix: "Make sure the login page (and its stylesheets and scripts) can be reached without being logged in, and that the session cookie set at login is sent back: check its Domain, Path, Secure and SameSite attributes, and that a Secure cookie is not expected over plain http.",
	}
}

// headerFindings checks the headers of one response.
func (p *prober) headerFindings(r *response) []Finding {
	var out []Finding
	if r.challengeErr != nil {
		out = append(out, Finding{
			ID:       FindingChallengeUnparseable,
			Severity: SeverityError,
			Message: fmt.Sprintf("The WWW-Authenticate header does not follow the HTTP syntax (%v), so browsers and HTTP clients may ignore it and never ask for credentials.",
				r.challengeErr),
			Fix: `Write each challenge as a scheme followed by name=value parameters separated by commas, with values in double quotes and any " or \ inside them escaped with a backslash, for example: WWW-Authenticate: Basic realm="Members", charset="UTF-8".`,
		})
	}
	if r.proxyErr != nil {
		out = append(out, Finding{
			ID:       FindingChallengeUnparseable,
			Severity: SeverityError,
			Message: fmt.Sprintf("The Proxy-Authenticate header does not follow the HTTP syntax (%v), so clients may not be able to log in to the proxy.",
				r.proxyErr),
			Fix: `Write each challenge as a scheme followed by name=value parameters separated by commas, with values in double quotes, for example: Proxy-Authenticate: Basic realm="Proxy", charset="UTF-8".`,
		})
	}
	if r.status == http.StatusUnauthorized && len(r.challenges) == 0 && r.challengeErr == nil {
		msg := "The server answered 401 Unauthorized without a WWW-Authenticate header. Browsers will not show a login prompt, and HTTP clients cannot tell how to authenticate."
		if len(r.header.Values("WWW-Authenticate")) > 0 {
			msg = "The server answered 401 Unauthorized with an empty WWW-Authenticate header. Browsers will not show a login prompt, and HTTP clients cannot tell how to authenticate."
		}
		out = append(out, Finding{
			ID:       FindingMissingChallenge,
			Severity: SeverityError,
			Message:  msg,
			Fix:      `Send at least one challenge with every 401, for example WWW-Authenticate: Basic realm="Members", charset="UTF-8" (or Bearer for an API). If the site logs people in with a form instead, answer with a redirect to the form or with 403, not 401.`,
		})
	}
	if r.status == http.StatusProxyAuthRequired && len(r.header.Values("Proxy-Authenticate")) == 0 {
		out = append(out, Finding{
			ID:       Finding407WithoutProxyAuth,
			Severity: SeverityError,
			Message:  "The answer is 407 Proxy Authentication Required without a Proxy-Authenticate header, so neither a browser nor a client knows how to log in to the proxy.",
			Fix:      `Make the proxy send a challenge with its 407, for example Proxy-Authenticate: Basic realm="Proxy", charset="UTF-8"; if the 407 comes from the site itself rather than a proxy, it should be a 401 with WWW-Authenticate.`,
		})
	}
	if r.status == http.StatusUnauthorized {
		if f, ok := cacheable401(r.header); ok {
			out = append(out, f)
		}
	}
	if slices.ContainsFunc(r.challenges, func(c Challenge) bool { return c.Is("Basic") }) && r.url.Scheme == "http" {
		if isLoopbackHost(r.url.Hostname()) {
			out = append(out, Finding{
				ID:       FindingBasicOverHTTP,
				Severity: SeverityInfo,
				Message:  "Basic authentication is offered over plain http. The password travels readable to anyone on the network; here the host is this machine (loopback), so that is fine for testing.",
				Fix:      "Before this goes beyond this machine, serve it over https only and redirect http to https.",
			})
		} else {
			out = append(out, Finding{
				ID:       FindingBasicOverHTTP,
				Severity: SeverityWarning,
				Message:  "Basic authentication is offered over plain http: the user name and password travel in a form anyone on the network path can read.",
				Fix:      "Serve the site over https and redirect http to https before asking for a password (and send Strict-Transport-Security).",
			})
		}
	}
	if digests := filterScheme(r.challenges, "Digest"); len(digests) > 0 && !slices.ContainsFunc(digests, func(c Challenge) bool { return !isMD5Digest(c) }) {
		out = append(out, Finding{
			ID:       FindingDigestMD5Only,
			Severity: SeverityWarning,
			Message:  "Digest authentication is offered only with MD5, a broken hash; clients that follow RFC 7616 prefer SHA-256 and some refuse MD5.",
			Fix:      "Offer a Digest challenge with algorithm=SHA-256 (first) next to the MD5 one, or better, use Basic over https.",
		})
	}
	for _, c := range r.challenges {
		if !c.Is("Basic") {
			continue
		}
		if cs, _ := c.Param("charset"); !strings.EqualFold(cs, "UTF-8") {
			out = append(out, Finding{
				ID:       FindingBasicNoCharset,
				Severity: SeverityInfo,
				Message:  "The Basic challenge does not say charset=\"UTF-8\", so browsers may encode non-ASCII user names and passwords (é, ß, я) differently and such logins fail.",
				Fix:      `Add charset="UTF-8" to the challenge: WWW-Authenticate: Basic realm="...", charset="UTF-8".`,
			})
			break
		}
	}
	if r.status != http.StatusUnauthorized && len(r.challenges) > 0 && !expectedChallenge(r) {
		f := Finding{
			ID:       FindingChallengeOnNon401,
			Severity: SeverityInfo,
			Message:  fmt.Sprintf("A WWW-Authenticate header came with %s. Clients only act on challenges in a 401, so this one is ignored.", statusLine(r.status)),
			Fix:      "If this response is meant to ask for credentials, answer 401; otherwise drop the WWW-Authenticate header here.",
		}
		if r.status >= 400 {
			f.Severity = SeverityWarning
			f.Message = fmt.Sprintf("A WWW-Authenticate header came with %s instead of 401. Browsers will not show a login prompt for it, so visitors are refused without a chance to log in.", statusLine(r.status))
			f.Fix = "Answer 401 when credentials are missing or wrong, and 403 (without a challenge) when the user is known but not allowed."
		}
		out = append(out, f)
	}
	if r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable {
		if ra := r.header.Get("Retry-After"); ra != "" {
			out = append(out, p.retryAfter(r, ra))
		}
	}
	return out
}

// expectedChallenge reports challenges that legitimately come with other
// statuses: a Negotiate token in a 2xx (SPNEGO mutual authentication) and
// Bearer error="insufficient_scope" in a 403 (RFC 6750 §3.1).
func expectedChallenge(r *response) bool {
	for _, c := range r.challenges {
		switch {
		case r.status/100 == 2 && c.Token68 != "" && (c.Is("Negotiate") || c.Is("Kerberos")):
		case r.status == http.StatusForbidden && c.Is("Bearer"):
			if e, _ := c.Param("error"); e != "insufficient_scope" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func filterScheme(cs []Challenge, scheme string) []Challenge {
	var out []Challenge
	for _, c := range cs {
		if c.Is(scheme) {
			out = append(out, c)
		}
	}
	return out
}

// cacheable401 reports a 401 that does not forbid storing it.
func cacheable401(h http.Header) (Finding, bool) {
	directives := map[string]bool{}
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(d), "=")
			directives[strings.ToLower(strings.TrimSpace(name))] = true
		}
	}
	if directives["no-store"] || directives["private"] {
		return Finding{}, false
	}
	msg := "This 401 does not say Cache-Control: no-store (or private), so a browser or a shared proxy may cache it and keep showing it after the password is fixed, or show it to other people."
	if directives["max-age"] || directives["s-maxage"] || directives["public"] || h.Get("Expires") != "" {
		msg = "This 401 explicitly allows caching (max-age, s-maxage, public or Expires) without no-store or private: browsers and shared proxies will keep showing it after the password is fixed, or show it to other people."
	}
	return Finding{
		ID:       FindingCacheable401,
		Severity: SeverityWarning,
		Message:  msg,
		Fix:      "Send Cache-Control: no-store with 401 responses.",
	}, true
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// soft401 looks at a 200 without a challenge for a login page or a
// "not authorized" message.
func soft401(r *response, redirected bool) (Finding, bool) {
	if r.status != http.StatusOK || len(r.challenges) > 0 || r.method == http.MethodHead || len(r.body) == 0 {
		return Finding{}, false
	}
	var what string
	switch {
	case isHTML(r.header, r.body):
		if hasLoginForm(scanTags(r.body)) {
			what = "a login form with a password field"
		} else if ph := soft401Phrase(visibleText(r.body)); ph != "" {
			what = fmt.Sprintf("a page that says %q", ph)
		}
	case isTextual(r.header):
		if ph := soft401Phrase(strings.ToLower(string(r.body))); ph != "" {
			what = fmt.Sprintf("a body that says %q", ph)
		}
	}
	if what == "" {
		return Finding{}, false
	}
	msg := fmt.Sprintf("The server answered 200 OK with %s instead of 401 with a challenge.", what)
	if redirected {
		msg = fmt.Sprintf("The request was redirected to %s, which answered 200 OK with %s instead of 401 with a challenge.", r.url.Redacted(), what)
	}
	msg += " API clients, scripts and monitoring take this for success, and password managers cannot tell that a login failed."
	return Finding{
		ID:       FindingSoft401,
		Severity: SeverityWarning,
		Message:  msg,
		Fix:      "Answer requests that lack valid credentials with 401 and a WWW-Authenticate challenge (or 403), at least for API and non-browser clients (tell them apart by the Accept header); a login page for browsers can be the body of that 401. If you expected to be logged in, probe again with --user or --token.",
	}, true
}

// tokenFinding explains a 401 to a request that carried a Bearer token.
func tokenFinding(r *response) Finding {
	for _, c := range r.challenges {
		if !c.Is("Bearer") {
			continue
		}
		e, _ := c.Param("error")
		if e != "invalid_token" {
			continue
		}
		desc, _ := c.Param("error_description")
		detail := ""
		if desc != "" {
			detail = fmt.Sprintf(" (the server says: %q)", desc)
		}
		if strings.Contains(strings.ToLower(desc), "expired") {
			return Finding{
				ID:       FindingTokenExpired,
				Severity: SeverityError,
				Message:  "The server refused the token because it has expired" + detail + ".",
				Fix:      "Get a new token (log in again, or use the refresh token) and retry; if tokens expire sooner than expected, check the clocks of the issuer and the server.",
			}
		}
		return Finding{
			ID:       FindingTokenInvalid,
			Severity: SeverityError,
			Message:  "The server refused the token as invalid" + detail + ": it may be revoked, malformed, issued for another service, or signed with a key the server does not know.",
			Fix:      "Check that the whole token was copied (no quotes, spaces or line breaks), that it was issued for this service, and that it has not been revoked; then get a new one.",
		}
	}
	return Finding{
		ID:       FindingCredentialsRejected,
		Severity: SeverityError,
		Message:  "The server refused the token: it answered 401 again, without saying why (no Bearer error parameter).",
		Fix:      "Check that the token is complete, current and meant for this service. If you run the server, send WWW-Authenticate: Bearer error=\"invalid_token\", error_description=\"...\" so clients can tell what went wrong.",
	}
}

// retryAfter says how long a 429 or 503 asks the client to wait.
func (p *prober) retryAfter(r *response, ra string) Finding {
	f := Finding{
		ID:       FindingRetryAfter,
		Severity: SeverityWarning,
		Fix:      "Wait that long before trying again; retrying sooner may extend a lockout. If it keeps happening, ask the site's administrator whether your account or address is locked out or rate-limited.",
	}
	what := "The server is too busy or limiting requests"
	if r.status == http.StatusTooManyRequests {
		what = "The server refuses more requests for now (too many requests or failed logins)"
	}
	var wait time.Duration
	if secs, err := strconv.ParseInt(strings.TrimSpace(ra), 10, 64); err == nil && secs >= 0 {
		wait = time.Duration(min(secs, int64(100*365*24*3600))) * time.Second
	} else if t, err := http.ParseTime(ra); err == nil {
		ref := p.now()
		if d, err := http.ParseTime(r.header.Get("Date")); err == nil {
			ref = d
		}
		wait = t.Sub(ref)
	} else {
		f.Message = fmt.Sprintf("%s and sent Retry-After: %q, which is neither a number of seconds nor a date, so clients cannot tell how long to wait.", what, ra)
		f.Fix = "Send Retry-After as a number of seconds (Retry-After: 120) or an HTTP date."
		return f
	}
	if wait <= 0 {
		f.Message = fmt.Sprintf("%s, but its Retry-After (%s) has already passed: you may try again now.", what, ra)
		return f
	}
	f.Message = fmt.Sprintf("%s and asks you to wait %s (Retry-After: %s) before trying again.", what, humanDuration(wait), ra)
	return f
}

// humanDuration says a positive duration the way a person would.
func humanDuration(d time.Duration) string {
	secs := int64(d.Round(time.Second) / time.Second)
	unit := func(n int64, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	switch {
	case secs < 60:
		return unit(max(secs, 1), "second")
	case secs < 3600:
		m, s := secs/60, secs%60
		if s == 0 || m >= 10 {
			return unit(m, "minute")
		}
		return unit(m, "minute") + " " + unit(s, "second")
	case secs < 86400:
		h, m := secs/3600, secs%3600/60
		if m == 0 {
			return "about " + unit(h, "hour")
		}
		return "about " + unit(h, "hour") + " " + unit(m, "minute")
	default:
		dd, h := secs/86400, secs%86400/3600
		if h == 0 {
			return "about " + unit(dd, "day")
		}
		return "about " + unit(dd, "day") + " " + unit(h, "hour")
	}
}
