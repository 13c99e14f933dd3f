package respond

import (
	"net/http"
	"strings"
	"testing"
)

const chromeAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"

var negotiateTests = []struct {
	accept string
	want   format
}{
	{"", formatPlain},
	{"*/*", formatPlain},
	{"text/html", formatHTML},
	{chromeAccept, formatHTML},
	{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", formatHTML},
	{"TEXT/HTML", formatHTML},
	{"application/json", formatJSON},
	{"application/problem+json", formatProblem},
	{"application/*", formatProblem},
	{"application/json, */*;q=0.1", formatJSON},
	{"text/html;q=0.1, application/json", formatJSON},
	{"text/html, application/json", formatHTML},
	{"application/json, text/html", formatHTML},
	{"application/problem+json, text/html;q=0.9", formatProblem},
	{"text/html;q=0", formatPlain},
	{"text/html;q=0, */*", formatPlain},
	{"text/html;q=0.000, application/json;q=0.001", formatJSON},
	{"application/json;q=0, text/html;q=0.5", formatHTML},
	{"application/json;q=0, */*", formatPlain},
	{"text/*;q=0.5, text/html", formatHTML},
	{"text/html;q=0.5, text/*", formatPlain},
	{"text/plain", formatPlain},
	{"text/plain, text/html;q=0.5", formatPlain},
	{"text/*", formatPlain},
	{"application/problem+json;q=0.5, application/json", formatJSON},
	{"application/json;q=0.5, application/problem+json", formatProblem},
	{" text/html ; q=0.9 , application/json;q=0.8", formatHTML},
	{"text/html;level=1;q=0.5, application/json;q=0.6", formatJSON},
	{"text/html;charset=utf-8;q=0.1, text/plain;q=0.2", formatPlain},
	{"text/html; Q=0.2, application/json; q=0.3", formatJSON},
	{"text/html;q=0.5;ext=1, application/json;q=0.4", formatHTML},
	{"image/png", formatPlain},
	{"garbage", formatPlain},
	{";;;,,,", formatPlain},
	{"text/html;q=abc", formatPlain},
	{"text/html;q=abc, application/json;q=0.1", formatJSON},
	{"text/html;q=2", formatPlain},
	{"text/html;q=1.0001", formatPlain},
	{"text/html;q=1.001", formatPlain},
	{"text/html;q=1.000", formatHTML},
	{"text/html;q=", formatPlain},
	{"text/html;q=.5", formatPlain},
	{"*/html", formatPlain},
	{"text/", formatPlain},
	{"/html", formatPlain},
	{"text html", formatPlain},
	{"text/html\x00", formatPlain},
	{"téxt/html", formatPlain},
}

func TestNegotiate(t *testing.T) {
	for _, tt := range negotiateTests {
		if got := negotiate([]string{tt.accept}); got != tt.want {
			t.Errorf("negotiate(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
	if got := negotiate(nil); got != formatPlain {
		t.Errorf("negotiate(nil) = %v, want %v", got, formatPlain)
	}
	lines := []string{"application/json;q=0.5", "text/html"}
	if got := negotiate(lines); got != formatHTML {
		t.Errorf("negotiate(%q) = %v, want %v", lines, got, formatHTML)
	}
}

var languageTests = []struct {
	acceptLanguage string
	want           string
}{
	{"", "en"},
	{"ru", "ru"},
	{"ru-RU,ru;q=0.9", "ru"},
	{"ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"},
	{"RU", "ru"},
	{"ru_RU", "ru"},
	{"en-US,en;q=0.9,ru;q=0.8", "en"},
	{"en-GB", "en"},
	{"de", "en"},
	{"de, ru;q=0.5", "ru"},
	{"de-DE,de;q=0.9,en;q=0.8,ru;q=0.7", "en"},
	{"uk", "en"}, // x/text offers ru to uk speakers only with no confidence
	{"sr", "en"},
	{"ru;q=0, en", "en"},
	{"ru;q=0", "en"},
	{"*", "en"},
	{"garbage!!", "en"},
	{"zz, ru;q=0.5", "ru"},
	{"@@@, ru", "ru"},
	{"ru;q=abc", "en"},
	{"ru;q=abc, en;q=0.1", "en"},
	{";;;", "en"},
	{strings.Repeat("x-", 600) + "ru", "en"},
	{strings.Repeat("de,", 2000) + "ru", "en"},
}

func TestMatchLanguage(t *testing.T) {
	r := newResponder(t, Options{})
	for _, tt := range languageTests {
		if got := r.langs[matchLanguage(r.matcher, []string{tt.acceptLanguage})].tag.String(); got != tt.want {
			t.Errorf("matchLanguage(%q) = %q, want %q", tt.acceptLanguage, got, tt.want)
		}
	}
	lines := []string{"de", "ru;q=0.5"}
	if got := r.langs[matchLanguage(r.matcher, lines)].tag.String(); got != "ru" {
		t.Errorf("matchLanguage(%q) = %q, want %q", lines, got, "ru")
	}
}

// TestContentType checks the negotiated format through Refuse.
func TestContentType(t *testing.T) {
	r := newResponder(t, Options{})
	for _, tt := range negotiateTests {
		w := refuse(r, http.MethodGet, http.Header{"Accept": {tt.accept}}, decisionFor("logon_failed"))
		if got, want := w.Result().Header.Get("Content-Type"), tt.want.contentType(); got != want {
			t.Errorf("Refuse with Accept %q: Content-Type = %q, want %q", tt.accept, got, want)
		}
	}
}

func TestLangCache(t *testing.T) {
	r := newResponder(t, Options{})
	var c langCache
	for i := range 3 * langCacheSize {
		for _, tt := range languageTests {
			if got, want := c.match(r.matcher, []string{tt.acceptLanguage}), matchLanguage(r.matcher, []string{tt.acceptLanguage}); got != want {
				t.Fatalf("cached match(%q) = %d, want %d", tt.acceptLanguage, got, want)
			}
		}
		c.match(r.matcher, []string{"de-" + strings.Repeat("x", i%8+1) + string(rune('a'+i%26))})
		if n := len(c.m); n > langCacheSize {
			t.Fatalf("cache holds %d entries, want at most %d", n, langCacheSize)
		}
	}
}
