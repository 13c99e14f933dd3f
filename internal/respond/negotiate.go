package respond

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

// format is the kind of body a refusal carries.
type format uint8

// Body formats.
const (
	formatPlain   format = iota // text/plain: curl, scripts, no Accept
	formatHTML                  // text/html: browsers
	formatProblem               // application/problem+json (RFC 9457)
	formatJSON                  // the same body as application/json
)

// contentType returns the Content-Type header value of f.
func (f format) contentType() string {
	switch f {
	case formatHTML:
		return "text/html; charset=utf-8"
	case formatProblem:
		return "application/problem+json"
	case formatJSON:
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// String returns the media type of f, for tests and logs.
func (f format) String() string {
	switch f {
	case formatHTML:
		return "text/html"
	case formatProblem:
		return "application/problem+json"
	case formatJSON:
		return "application/json"
	}
	return "text/plain"
}

// Specificity of the media range that set an offer's quality.
const (
	specNone  = iota // no range matched
	specAny          // */*
	specType         // text/* or application/*
	specExact        // type/subtype
)

// offerQ is the quality the client gave one of our media types and how
// specific the range was that gave it.
type offerQ struct {
	spec int
	q    int // 0..1000
}

// see records that a range of specificity spec and quality q matched.
// The most specific range wins (RFC 9110 §12.5.1); among equally specific
// ranges the highest quality wins.
func (o *offerQ) see(spec, q int) {
	if spec > o.spec || (spec == o.spec && q > o.q) {
		o.spec, o.q = spec, q
	}
}

// negotiate chooses the body format from the Accept field lines.
//
// Only an explicit preference counts: text/html must be named exactly,
// JSON as application/problem+json, application/json or application/*,
// plain text as text/plain or text/*. Among the explicitly named ones with
// a quality above zero the highest quality wins; ties go to HTML, then
// problem+json, then JSON, then plain text. A bare */* (curl), a missing,
// empty or unparseable Accept, or one naming none of them gets plain text:
// a refusal is never turned into a 406.
func negotiate(accept []string) format {
	var html, problem, json, plain offerQ
	for _, line := range accept {
		for line != "" {
			var elem string
			elem, line, _ = strings.Cut(line, ",")
			typ, sub, q, ok := parseMediaRange(elem)
			if !ok {
				continue
			}
			switch {
			case typ == "*" && sub == "*":
				html.see(specAny, q)
				problem.see(specAny, q)
				json.see(specAny, q)
				plain.see(specAny, q)
			case strings.EqualFold(typ, "text"):
				switch {
				case sub == "*":
					html.see(specType, q)
					plain.see(specType, q)
				case strings.EqualFold(sub, "html"):
					html.see(specExact, q)
				case strings.EqualFold(sub, "plain"):
					plain.see(specExact, q)
				}
			case strings.EqualFold(typ, "application"):
				switch {
				case sub == "*":
					problem.see(specType, q)
					json.see(specType, q)
				case strings.EqualFold(sub, "problem+json"):
					problem.see(specExact, q)
				case strings.EqualFold(sub, "json"):
					json.see(specExact, q)
				}
			}
		}
	}
	best, bestQ := formatPlain, 0
	consider := func(f format, o offerQ, minSpec int) {
		if o.spec >= minSpec && o.q > bestQ {
			best, bestQ = f, o.q
		}
	}
	// In order of preference on a tie: later offers must be strictly better.
	consider(formatHTML, html, specExact)
	consider(formatProblem, problem, specType)
	consider(formatJSON, json, specType)
	consider(formatPlain, plain, specType)
	return best
}

// parseMediaRange parses one element of an Accept field: a media range
// and its parameters, of which only q is used. It reports false for an
// element that is empty or malformed, which is then ignored.
func parseMediaRange(elem string) (typ, sub string, q int, ok bool) {
	mr, params, _ := strings.Cut(elem, ";")
	mr = strings.TrimSpace(mr)
	typ, sub, found := strings.Cut(mr, "/")
	if !found || !isToken(typ) || !isToken(sub) || (typ == "*" && sub != "*") {
		return "", "", 0, false
	}
	q = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			q, ok = parseQValue(strings.TrimSpace(value))
			if !ok {
				return "", "", 0, false
			}
			break // anything after q is an accept-ext
		}
	}
	return typ, sub, q, true
}

// parseQValue parses an RFC 9110 qvalue ("0", "0.5", "1.000") into
// thousandths.
func parseQValue(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// langCacheSize bounds the number of Accept-Language values whose match
// is remembered; the cache is emptied when it is full.
const langCacheSize = 256

// langCache remembers the language matched for recent Accept-Language
// values: browsers send the same few strings over and over, and parsing
// them is most of the cost of a plain-text refusal.
type langCache struct {
	mu sync.RWMutex
	m  map[string]int
}

// match returns matchLanguage(m, acceptLanguage), from the cache when it can.
func (c *langCache) match(m language.Matcher, acceptLanguage []string) int {
	if len(acceptLanguage) != 1 || len(acceptLanguage[0]) > maxAcceptLanguage {
		return matchLanguage(m, acceptLanguage)
	}
	key := acceptLanguage[0]
	c.mu.RLock()
	i, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return i
	}
	i = matchLanguage(m, acceptLanguage)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= langCacheSize {
		c.m = make(map[string]int, langCacheSize)
	}
	c.m[strings.Clone(key)] = i
	c.mu.Unlock()
	return i
}

// maxAcceptLanguage bounds the Accept-Language text that is parsed; the
// rest is ignored.
const maxAcceptLanguage = 1024

// matchLanguage returns the index into the matcher's tags of the language
// to answer in: the best match of the Accept-Language field lines, or 0
// (the default language) when nothing matches with at least low
// confidence. Malformed entries are skipped, not fatal.
func matchLanguage(m language.Matcher, acceptLanguage []string) int {
	header := strings.Join(acceptLanguage, ",")
	if strings.TrimSpace(header) == "" {
		return 0
	}
	if len(header) > maxAcceptLanguage {
		header = header[:maxAcceptLanguage]
		if i := strings.LastIndexByte(header, ','); i >= 0 {
			header = header[:i]
		}
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		tags = parseLanguagesLeniently(header)
	}
	if len(tags) == 0 {
		return 0
	}
	_, index, conf := m.Match(tags...)
	if conf == language.No {
		return 0
	}
	return index
}

// parseLanguagesLeniently parses an Accept-Language field element by
// element, skipping the ones x/text rejects, and orders the result by
// quality as language.ParseAcceptLanguage does.
func parseLanguagesLeniently(header string) []language.Tag {
	type weighted struct {
		tag language.Tag
		q   float32
	}
	var ws []weighted
	for elem := range strings.SplitSeq(header, ",") {
		tags, qs, err := language.ParseAcceptLanguage(elem)
		if err != nil {
			continue
		}
		for i := range tags {
			ws = append(ws, weighted{tags[i], qs[i]})
		}
	}
	slices.SortStableFunc(ws, func(a, b weighted) int { return cmp.Compare(b.q, a.q) })
	tags := make([]language.Tag, len(ws))
	for i, w := range ws {
		tags[i] = w.tag
	}
	return tags
}
