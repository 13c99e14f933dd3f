package respond

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/htgate/htgate"
)

// FuzzNegotiate checks that any Accept and Accept-Language pair is answered
// in one of the three formats and one of the offered languages, without a
// panic.
func FuzzNegotiate(f *testing.F) {
	for i, tt := range negotiateTests {
		f.Add(tt.accept, languageTests[i%len(languageTests)].acceptLanguage)
	}
	for _, tt := range languageTests {
		f.Add(chromeAccept, tt.acceptLanguage)
	}
	r := newResponder(f, Options{ContactHint: "webmaster@example.com"})
	contentTypes := map[string]bool{
		formatHTML.contentType():    true,
		formatProblem.contentType(): true,
		formatJSON.contentType():    true,
		formatPlain.contentType():   true,
	}
	f.Fuzz(func(t *testing.T, accept, acceptLanguage string) {
		switch got := negotiate([]string{accept}); got {
		case formatPlain, formatHTML, formatProblem, formatJSON:
		default:
			t.Fatalf("negotiate(%q) = %d, not a format", accept, got)
		}
		if i := matchLanguage(r.matcher, []string{acceptLanguage}); i < 0 || i >= len(r.langs) {
			t.Fatalf("matchLanguage(%q) = %d, want 0..%d", acceptLanguage, i, len(r.langs)-1)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Accept"] = []string{accept}
		req.Header["Accept-Language"] = []string{acceptLanguage}
		w := httptest.NewRecorder()
		r.Refuse(w, req, decisionFor(htgate.ReasonLogonFailed))
		h := w.Result().Header
		if ct := h.Get("Content-Type"); !contentTypes[ct] {
			t.Fatalf("Accept %q: Content-Type = %q", accept, ct)
		}
		if cl := h.Get("Content-Language"); cl != "en" && cl != "ru" {
			t.Fatalf("Accept-Language %q: Content-Language = %q", acceptLanguage, cl)
		}
		if w.Code != http.StatusUnauthorized || w.Body.Len() == 0 {
			t.Fatalf("Refuse = %d with %d bytes", w.Code, w.Body.Len())
		}
	})
}
