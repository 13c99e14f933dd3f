package respond

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/testutil/browser"
)

// TestErrorPageScreenshots renders every error page in English and Russian
// at phone and desktop widths in headless Chromium, checks that each page
// is in the right language, has a heading and the reference id, and does
// not scroll sideways on a phone, and saves a screenshot of each under the
// test's temp dir (or $HTGATE_SCREENSHOTS, to look at them).
func TestErrorPageScreenshots(t *testing.T) {
	ctx := browser.New(t, 3*time.Minute)
	r, err := New(Options{ContactHint: "webmaster@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Header.Set("Accept-Language", req.URL.Query().Get("lang"))
		d := &htgate.Decision{
			RefID:  "k3j9x-42",
			Method: req.Method,
			Path:   "/members/",
			Reason: htgate.Reason(req.URL.Query().Get("reason")),
			User:   "alice",
		}
		d.Status = StatusFor(d.Reason)
		if d.Reason == htgate.ReasonTooManyRequests || d.Reason == htgate.ReasonLockedOut {
			d.RetryAfter = 95 * time.Minute
		}
		// No challenge: Chromium would show its sign-in dialog instead of the page.
		r.Refuse(w, req, d)
	}))
	defer srv.Close()

	dir := browser.ScreenshotDir(t)

	sizes := []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}}
	wantLang := map[string]string{"en": "en", "ru": "ru"}
	for _, reason := range KnownReasons() {
		for _, lang := range []string{"en", "ru"} {
			for _, size := range sizes {
				name := fmt.Sprintf("%s-%s-%s", reason, lang, size.name)
				url := fmt.Sprintf("%s/?reason=%s&lang=%s", srv.URL, reason, lang)
				vopts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
				if size.mobile {
					vopts = append(vopts, chromedp.EmulateMobile)
				}
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height, vopts...), chromedp.Navigate(url)); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				htmlLang := browser.Run(t, ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
				heading := browser.Run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("h1") || {}).innerText || ""`))
				body := browser.Run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
				scrollWidth := browser.Run(t, ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
				innerWidth := browser.Run(t, ctx, chromedp.Evaluate[int64](`window.innerWidth`))
				png := browser.Run(t, ctx, chromedp.FullScreenshot(100))
				if htmlLang != wantLang[lang] {
					t.Errorf("%s: <html lang=%q>, want %q", name, htmlLang, wantLang[lang])
				}
				if strings.TrimSpace(heading) == "" {
					t.Errorf("%s: empty <h1>", name)
				}
				if !strings.Contains(body, "k3j9x-42") {
					t.Errorf("%s: the reference id is not on the page", name)
				}
				if lang == "ru" && !strings.ContainsAny(heading+body, "абвгдеёжзийклмнопрстуфхцчшщьыэюя") {
					t.Errorf("%s: no Russian text on the Russian page", name)
				}
				if scrollWidth > innerWidth {
					t.Errorf("%s: page is %dpx wide in a %dpx window (scrolls sideways)", name, scrollWidth, innerWidth)
				}
				if len(png) < 1000 {
					t.Errorf("%s: screenshot of %d bytes", name, len(png))
				}
				if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
