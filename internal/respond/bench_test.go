package respond

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/htgate/htgate"
)

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures Refuse alone.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkRefuse(b *testing.B) {
	r := newResponder(b, Options{ContactHint: "webmaster@example.com"})
	d := decisionFor(htgate.ReasonLogonFailed)
	for _, bc := range []struct{ name, accept, lang string }{
		{"html", chromeAccept, "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"},
		{"json", "application/json", ""},
		{"plain", "*/*", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/members/", nil)
			req.Header.Set("Accept", bc.accept)
			if bc.lang != "" {
				req.Header.Set("Accept-Language", bc.lang)
			}
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				r.Refuse(w, req, d)
			}
		})
	}
}

func BenchmarkNegotiate(b *testing.B) {
	accept := []string{chromeAccept}
	b.ReportAllocs()
	for b.Loop() {
		negotiate(accept)
	}
}
