package probe

import (
	"html"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The HTML here is read with a few regular expressions, not a parser: the
// probe only needs to notice a password field, some phrases and a handful
// of resource references, and must never fail on malformed pages.
var (
	reTag         = regexp.MustCompile(`(?is)<(link|img|script|input|form)\b([^>]*)>`)
	reAttr        = regexp.MustCompile(`(?is)([a-z][a-z0-9_:-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)`)
	reInvisible   = regexp.MustCompile(`(?is)<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->`)
	reAnyTag      = regexp.MustCompile(`(?s)<[^>]*>`)
	reSpaces      = regexp.MustCompile(`[\s\x{00a0}]+`)
	maxAssetProbe = 5
)

// soft401Phrases are phrases that, on a 200 page without a challenge, say
// "you are not logged in". They are matched against the lower-cased
// visible text.
var soft401Phrases = []string{
	"unauthorized", "unauthorised", "not authorized", "not authorised",
	"please log in", "please login", "please sign in", "access denied",
	"authentication required", "login required", "you must be logged in",
	"you need to log in", "you need to sign in",
}

type htmlTag struct {
	name  string
	attrs map[string]string
}

// scanTags returns the link, img, script, input and form start tags of a
// page with their attributes (names lower-cased, values unescaped).
func scanTags(body []byte) []htmlTag {
	var tags []htmlTag
	for _, m := range reTag.FindAllSubmatch(body, -1) {
		t := htmlTag{name: strings.ToLower(string(m[1])), attrs: map[string]string{}}
		for _, a := range reAttr.FindAllSubmatch(m[2], -1) {
			name := strings.ToLower(string(a[1]))
			v := string(a[2])
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
				v = v[1 : len(v)-1]
			}
			if _, dup := t.attrs[name]; !dup {
				t.attrs[name] = html.UnescapeString(v)
			}
		}
		tags = append(tags, t)
	}
	return tags
}

// hasLoginForm reports whether the page has a form with a password input.
func hasLoginForm(tags []htmlTag) bool {
	form := false
	for _, t := range tags {
		switch t.name {
		case "form":
			form = true
		case "input":
			if form && strings.EqualFold(strings.TrimSpace(t.attrs["type"]), "password") {
				return true
			}
		}
	}
	return false
}

// visibleText approximates the text a person sees on the page, lower-cased.
func visibleText(body []byte) string {
	s := reInvisible.ReplaceAll(body, []byte(" "))
	s = reAnyTag.ReplaceAll(s, []byte(" "))
	text := html.UnescapeString(string(s))
	return strings.ToLower(reSpaces.ReplaceAllString(text, " "))
}

// soft401Phrase returns the first phrase of soft401Phrases in text.
func soft401Phrase(text string) string {
	for _, p := range soft401Phrases {
		if strings.Contains(text, p) {
			return p
		}
	}
	return ""
}

// mediaType returns the lower-cased media type of a response ("" if none).
func mediaType(h http.Header) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt
}

// isHTML reports whether a body is HTML, by its Content-Type or, when there
// is none, by sniffing.
func isHTML(h http.Header, body []byte) bool {
	mt := mediaType(h)
	if mt == "" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// isTextual reports whether a body is worth searching for phrases: text,
// JSON or XML.
func isTextual(h http.Header) bool {
	mt := mediaType(h)
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml")
}

// assetRefs returns up to maxAssetProbe same-origin resources an HTML page
// loads (stylesheets, images, scripts), resolved against base.
func assetRefs(tags []htmlTag, base *url.URL) []*url.URL {
	var out []*url.URL
	seen := map[string]bool{}
	for _, t := range tags {
		var ref string
		switch t.name {
		case "link":
			if !hasToken(t.attrs["rel"], "stylesheet") && !hasToken(t.attrs["rel"], "icon") {
				continue
			}
			ref = t.attrs["href"]
		case "img", "script":
			ref = t.attrs["src"]
		default:
			continue
		}
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		u, err := base.Parse(ref)
		if err != nil || !sameOriginExact(base, u) {
			continue
		}
		u.Fragment = ""
		if seen[u.String()] {
			continue
		}
		seen[u.String()] = true
		out = append(out, u)
		if len(out) == maxAssetProbe {
			break
		}
	}
	return out
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}
