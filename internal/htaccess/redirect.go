package htaccess

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Redirect is one mod_alias Redirect, RedirectTemp, RedirectPermanent or
// RedirectMatch directive of a .htaccess file.
type Redirect struct {
	// Status is the answer: a 3xx redirect, or another status (410 for
	// "gone") answered as an error.
	Status int
	// Prefix is the URL-path it matches by whole segments (Redirect), or
	// Pattern the regular expression (RedirectMatch).
	Prefix  string
	Pattern *regexp.Regexp
	// Target is the URL or URL-path redirected to; empty for a non-3xx status.
	Target string
	// Where is "file:line" of the directive.
	Where string

	all bool // the one-URL form: every request in the directory
}

// newRedirect reads the arguments of a Redirect directive as mod_alias's
// add_redirect_internal does in a .htaccess file.
func newRedirect(args []string, status int, regex bool) (*Redirect, error) {
	arg1 := args[0]
	var arg2, arg3 string
	has2, has3 := len(args) > 1, len(args) > 2
	if has2 {
		arg2 = args[1]
	}
	if has3 {
		arg3 = args[2]
	}
	grok := 1
	switch {
	case strings.EqualFold(arg1, "permanent"):
		status = http.StatusMovedPermanently
	case strings.EqualFold(arg1, "temp"):
		status = http.StatusFound
	case strings.EqualFold(arg1, "seeother"):
		status = http.StatusSeeOther
	case strings.EqualFold(arg1, "gone"):
		status, grok = http.StatusGone, -1
	case arg1 != "" && '0' <= arg1[0] && arg1[0] <= '9':
		n, _ := strconv.Atoi(leadingDigits(arg1))
		status = n
		if !isRedirect(status) {
			grok = -1
		}
	default:
		grok = 0
	}
	if grok != 0 && (status < 100 || status > 599 || http.StatusText(status) == "") {
		return nil, fmt.Errorf("Redirect: unknown status %s", arg1)
	}
	if has3 && grok == 0 {
		return nil, errors.New("Redirect: invalid first argument (of three)")
	}
	r := &Redirect{Status: status}
	switch {
	case grok > 0 && has2 && !has3 || grok == 0 && !has2:
		// One URL only: every request in this directory goes there.
		url := arg1
		if grok != 0 {
			url = arg2
		}
		if strings.Contains(url, "%{") {
			return nil, errors.New("Redirect: %{...} expressions are not supported by htgate")
		}
		if regex {
			return nil, errors.New("RedirectMatch needs a pattern and a URL")
		}
		r.all, r.Target = true, url
		return r, nil
	case grok < 0 && !has2:
		r.all = true
		return r, nil
	}
	fake, url := arg2, arg3
	if !has3 && grok == 0 {
		fake, url = arg1, arg2
	}
	if regex {
		re, err := compileRegex(fake)
		if err != nil {
			return nil, fmt.Errorf("Regular expression could not be compiled: %v", err)
		}
		r.Pattern = re
	} else {
		r.Prefix = fake
	}
	if isRedirect(status) {
		if url == "" {
			return nil, errors.New("URL to redirect to is missing")
		}
		if !regex && !isURL(url) && url[0] != '/' {
			return nil, errors.New("Redirect to non-URL")
		}
	} else if url != "" {
		return nil, errors.New("Redirect URL not valid for this status")
	}
	r.Target = url
	return r, nil
}

func isRedirect(status int) bool { return status >= 300 && status < 400 }

// Match returns the answer of r for the decoded request path uri and its
// raw query: the status and, for a redirect, the Location. ok is false
// when r does not apply.
func (r *Redirect) Match(uri, query string) (status int, location string, ok bool) {
	var found string
	switch {
	case r.all:
		found = r.Target
	case r.Pattern != nil:
		m := r.Pattern.FindStringSubmatchIndex(uri)
		if m == nil {
			return 0, "", false
		}
		if r.Target != "" {
			found = escapeRedirect(expandMatch(r.Target, uri, m))
		}
	default:
		n := aliasMatches(uri, r.Prefix)
		if n <= 0 {
			return 0, "", false
		}
		if r.Target != "" {
			found = r.Target + escapePath(uri[n:])
		}
	}
	if !isRedirect(r.Status) {
		return r.Status, "", true
	}
	if query != "" && !strings.Contains(found, "?") {
		found += "?" + query
	}
	return r.Status, found, true
}

// aliasMatches is mod_alias's alias_matches: the length of uri matched by
// the URL-path prefix, any run of slashes in one matching any run in the
// other, ending at a segment boundary; 0 when it does not match.
func aliasMatches(uri, prefix string) int {
	a, u := 0, 0
	for a < len(prefix) {
		if prefix[a] == '/' {
			if u >= len(uri) || uri[u] != '/' {
				return 0
			}
			for a < len(prefix) && prefix[a] == '/' {
				a++
			}
			for u < len(uri) && uri[u] == '/' {
				u++
			}
			continue
		}
		if u >= len(uri) || uri[u] != prefix[a] {
			return 0
		}
		a++
		u++
	}
	if a > 0 && prefix[a-1] != '/' && u < len(uri) && uri[u] != '/' {
		return 0
	}
	return u
}

// expandMatch is ap_pregsub: $0-$9 and & are replaced by the match and
// its groups; a backslash escapes the next character.
func expandMatch(tmpl, src string, m []int) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		n := -1
		switch {
		case c == '&':
			n = 0
		case c == '$' && i+1 < len(tmpl) && '0' <= tmpl[i+1] && tmpl[i+1] <= '9':
			n = int(tmpl[i+1] - '0')
			i++
		case c == '\\' && i+1 < len(tmpl) && (tmpl[i+1] == '$' || tmpl[i+1] == '&'):
			i++
			b.WriteByte(tmpl[i])
			continue
		}
		if n < 0 {
			b.WriteByte(c)
			continue
		}
		if 2*n+1 < len(m) && m[2*n] >= 0 {
			b.WriteString(src[m[2*n]:m[2*n+1]])
		}
	}
	return b.String()
}

// escapeRedirect escapes the path part of a RedirectMatch result, leaving
// its query and fragment alone, as mod_alias does.
func escapeRedirect(u string) string {
	rest := ""
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u, rest = u[:i], u[i:]
	}
	return escapePath(u) + rest
}

// escapePath is ap_os_escape_path: it percent-encodes what may not appear
// in a URL path.
func escapePath(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("$-_.+!*'(),:;@&=/~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
