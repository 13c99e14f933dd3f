package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/htgate/htgate/internal/testutil/browser"
)

// TestFormLoginInChromium drives form login in headless Chromium: visit a
// protected page, get the login form, sign in, see the page, wait past the
// idle lifetime (2 s here), be asked again, sign in, sign out, be asked
// again.
func TestFormLoginInChromium(t *testing.T) {
	ctx := browser.New(t, 2*time.Minute)
	f := start(t, formYAML)

	// waitFor polls until the page has loaded and its text says want.
	waitFor := func(what, want string) {
		t.Helper()
		js := fmt.Sprintf(`document.readyState === "complete" && document.body.innerText.includes(%q)`, want)
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
				loc, _ := chromedp.Run(ctx, chromedp.Location())
				t.Fatalf("%s: %s does not say %q (%v)\n%s", what, loc, want, err, body)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	open := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(f.base+path)); err != nil {
			t.Fatalf("navigate %s: %v", path, err)
		}
	}
	click := func(id string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible)); err != nil {
			t.Fatalf("click #%s: %v", id, err)
		}
	}
	askedToSignIn := func(when string) {
		t.Helper()
		waitFor(when, "Password")
		if loc := browser.Run(t, ctx, chromedp.Location()); !strings.Contains(loc, "/.htgate/login?return=%2Fmembers%2Fpage.html") {
			t.Fatalf("%s: at %s, want the login page returning to /members/page.html", when, loc)
		}
	}
	signIn := func() {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("username"), "alice", chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("password"), "Wonderland-1", chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		click("signin")
		waitFor("after signing in", secretMarker)
		if loc := browser.Run(t, ctx, chromedp.Location()); loc != f.base+"/members/page.html" {
			t.Fatalf("after signing in: at %s, want back at the page", loc)
		}
	}

	open("/members/page.html")
	askedToSignIn("first visit")
	// On a phone the form fits the screen, and every field has a label.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	scrollWidth := browser.Run(t, ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	innerWidth := browser.Run(t, ctx, chromedp.Evaluate[int64](`window.innerWidth`))
	if scrollWidth > innerWidth {
		t.Errorf("login page on a phone: %dpx wide in a %dpx window (scrolls sideways)", scrollWidth, innerWidth)
	}
	if n := browser.Run(t, ctx, chromedp.Evaluate[int64](`[...document.querySelectorAll("input:not([type=hidden])")].filter(i => !i.labels || i.labels.length === 0).length`)); n != 0 {
		t.Errorf("login page: %d inputs without a label", n)
	}
	if png := browser.Run(t, ctx, chromedp.FullScreenshot(100)); len(png) == 0 {
		t.Error("no screenshot of the login page")
	} else if dir := os.Getenv("HTGATE_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "login-phone.png"), png, 0o644); err != nil {
			t.Error(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1))); err != nil {
		t.Fatal(err)
	}
	signIn()
	// Used within the idle lifetime, the session lives on.
	time.Sleep(time.Second)
	open("/members/page.html")
	waitFor("a second later", secretMarker)
	// Past the idle lifetime: asked again.
	time.Sleep(2500 * time.Millisecond)
	open("/members/page.html")
	askedToSignIn("past the idle lifetime")
	signIn()
	// Sign out: confirm with the button, then the page asks again.
	open("/.htgate/logout")
	waitFor("logout page", "Sign out of this site")
	click("logout")
	waitFor("after signing out", "You are signed out")
	open("/members/page.html")
	askedToSignIn("after signing out")
}
