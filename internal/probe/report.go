package probe

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Severities of a Finding.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding ids. They are stable: scripts and the README refer to them.
const (
	FindingMissingChallenge        = "missing-challenge"
	FindingChallengeUnparseable    = "challenge-unparseable"
	FindingBasicOverHTTP           = "basic-over-http"
	FindingCacheable401            = "cacheable-401"
	FindingSoft401                 = "soft-401"
	FindingLoginRedirectLoop       = "login-redirect-loop"
	FindingChallengeOnNon401       = "challenge-on-non-401"
	Finding407WithoutProxyAuth     = "407-without-proxy-authenticate"
	FindingDigestMD5Only           = "digest-md5-only"
	FindingBasicNoCharset          = "basic-no-charset"
	FindingAuthRequiredOnErrorPage = "auth-required-on-error-page"
	FindingCredentialsRejected     = "credentials-rejected"
	FindingTokenExpired            = "token-expired"
	FindingTokenInvalid            = "token-invalid"
	FindingRetryAfter              = "retry-after"
)

// FindingIDs lists every finding id in the order findings of the same
// severity are reported.
func FindingIDs() []string {
	return []string{
		FindingLoginRedirectLoop, FindingMissingChallenge, FindingChallengeUnparseable,
		Finding407WithoutProxyAuth, FindingCredentialsRejected, FindingTokenExpired,
		FindingTokenInvalid, FindingSoft401, FindingAuthRequiredOnErrorPage,
		FindingCacheable401, FindingBasicOverHTTP, FindingDigestMD5Only,
		FindingChallengeOnNon401, FindingRetryAfter, FindingBasicNoCharset,
	}
}

// Finding is one thing the probe noticed, written for the person running it.
type Finding struct {
	// ID is one of the Finding* constants.
	ID string `json:"id"`
	// Severity is SeverityError, SeverityWarning or SeverityInfo.
	Severity string `json:"severity"`
	// Message says what is wrong and what it does to visitors.
	Message string `json:"message"`
	// Fix says what to change, on the server or in the request.
	Fix string `json:"fix"`
	// URL is the address of the response the finding is about, when that
	// is not the final response of the probe.
	URL string `json:"url,omitempty"`
}

// Hop is one request the probe sent while following redirects or retrying
// with credentials.
type Hop struct {
	// Method and URL are the request.
	Method string `json:"method"`
	URL    string `json:"url"`
	// Status is the response status code.
	Status int `json:"status"`
	// Location is the Location header of a redirect, as sent.
	Location string `json:"location,omitempty"`
	// Auth names the credentials sent with the request ("Basic",
	// "Digest", "Bearer"); the credentials themselves are never recorded.
	Auth string `json:"auth,omitempty"`
	// Challenges are the WWW-Authenticate challenges of the response.
	Challenges []Challenge `json:"challenges,omitempty"`
}

// TLSInfo describes the TLS connection of the final https response.
type TLSInfo struct {
	// Version is the protocol version, such as "TLS 1.3".
	Version string `json:"version"`
	// CipherSuite is the IANA name of the cipher suite.
	CipherSuite string `json:"cipher_suite"`
	// ALPN is the negotiated application protocol ("h2", "http/1.1").
	ALPN string `json:"alpn,omitempty"`
	// Subject and Issuer are the distinguished names of the leaf certificate.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// DNSNames are the leaf certificate's subject alternative names.
	DNSNames []string `json:"dns_names,omitempty"`
	// NotBefore and NotAfter bound the leaf certificate's validity.
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// DaysLeft is the number of whole days until NotAfter (negative once
	// the certificate has expired).
	DaysLeft int `json:"days_left"`
	// VerifyError is set when certificate verification was skipped
	// (Options.Insecure) and the certificate would not have been trusted.
	VerifyError string `json:"verify_error,omitempty"`
}

// Report is everything a probe saw and concluded.
type Report struct {
	// URL is the address that was probed.
	URL string `json:"url"`
	// FinalURL is the address of the last response, when redirects led
	// somewhere else.
	FinalURL string `json:"final_url,omitempty"`
	// Status is the status code of the last response.
	Status int `json:"status"`
	// Hops are the requests sent, in order.
	Hops []Hop `json:"hops,omitempty"`
	// Challenges are the WWW-Authenticate challenges of the last response
	// that had any.
	Challenges []Challenge `json:"challenges"`
	// ProxyChallenges are the Proxy-Authenticate challenges of the last
	// response that had any.
	ProxyChallenges []Challenge `json:"proxy_challenges,omitempty"`
	// TLS describes the TLS connection when the last response came over https.
	TLS *TLSInfo `json:"tls,omitempty"`
	// Findings are ordered by severity (errors first).
	Findings []Finding `json:"findings"`
	// Tried lists the schemes with which credentials were sent.
	Tried []string `json:"tried,omitempty"`
	// Notes are plain facts worth knowing that are not findings (redirects
	// not followed, credentials not sent to another host).
	Notes []string `json:"notes,omitempty"`
}

// OK reports whether the probe found nothing of severity error.
func (r *Report) OK() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return false
		}
	}
	return true
}

// statusLine formats a status code with its reason phrase.
func statusLine(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

// WriteText writes the report for a person to read: the hops, the status,
// each challenge with its parameters, TLS facts, and the findings with
// their severity and fix.
func (r *Report) WriteText(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("Probe of %s\n", r.URL)
	if len(r.Hops) > 1 {
		tw.printf("\nRequests:\n")
		for i, h := range r.Hops {
			line := fmt.Sprintf("  %d. %s %s -> %s", i+1, h.Method, h.URL, statusLine(h.Status))
			if h.Auth != "" {
				line += fmt.Sprintf(" (sent %s credentials)", h.Auth)
			}
			if h.Location != "" {
				line += " -> " + h.Location
			}
			tw.printf("%s\n", line)
		}
	}
	tw.printf("\nStatus:  %s\n", statusLine(r.Status))
	if r.FinalURL != "" {
		tw.printf("Final:   %s\n", r.FinalURL)
	}
	if len(r.Tried) > 0 {
		tw.printf("Tried:   %s credentials\n", strings.Join(r.Tried, ", "))
	}
	writeChallenges(tw, "WWW-Authenticate", r.Challenges)
	writeChallenges(tw, "Proxy-Authenticate", r.ProxyChallenges)
	if t := r.TLS; t != nil {
		tw.printf("\nTLS:     %s, %s", t.Version, t.CipherSuite)
		if t.ALPN != "" {
			tw.printf(", %s", t.ALPN)
		}
		tw.printf("\n  certificate: %s\n  issued by:   %s\n", t.Subject, t.Issuer)
		if len(t.DNSNames) > 0 {
			tw.printf("  names:       %s\n", strings.Join(t.DNSNames, ", "))
		}
		switch {
		case t.NotAfter.IsZero():
		case t.DaysLeft < 0:
			tw.printf("  expired:     %s (%d days ago)\n", t.NotAfter.UTC().Format("2006-01-02"), -t.DaysLeft)
		default:
			tw.printf("  expires:     %s (%d days left)\n", t.NotAfter.UTC().Format("2006-01-02"), t.DaysLeft)
		}
		if t.VerifyError != "" {
			tw.printf("  NOT TRUSTED: %s (checked anyway because of --insecure)\n", t.VerifyError)
		}
	}
	for _, n := range r.Notes {
		tw.printf("\nNote: %s\n", n)
	}
	if len(r.Findings) == 0 {
		tw.printf("\nNo findings: authentication looks right from here.\n")
		return tw.err
	}
	tw.printf("\nFindings:\n")
	counts := map[string]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
		tw.printf("  %-9s %s\n", "["+f.Severity+"]", f.ID)
		tw.printf("            %s\n", f.Message)
		if f.URL != "" {
			tw.printf("            (seen at %s)\n", f.URL)
		}
		if f.Fix != "" {
			tw.printf("            fix: %s\n", f.Fix)
		}
	}
	tw.printf("\n%s, %s, %s\n", plural(counts[SeverityError], "error"),
		plural(counts[SeverityWarning], "warning"), plural(counts[SeverityInfo], "note"))
	return tw.err
}

func writeChallenges(tw *textWriter, field string, cs []Challenge) {
	if len(cs) == 0 {
		return
	}
	tw.printf("\n%s challenges:\n", field)
	for _, c := range cs {
		tw.printf("  %s\n", c.Scheme)
		if c.Token68 != "" {
			tw.printf("    token68 = %s\n", c.Token68)
		}
		for _, p := range c.Params {
			v := p.Value
			if p.Quoted {
				v = fmt.Sprintf("%q", v)
			}
			tw.printf("    %s = %s\n", p.Name, v)
		}
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// textWriter keeps the first write error so WriteText can check it once.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err != nil {
		return
	}
	_, t.err = fmt.Fprintf(t.w, format, args...)
}
