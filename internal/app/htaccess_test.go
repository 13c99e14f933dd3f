package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/htgate/htgate/internal/config"
)

// TestHTAccessWiring runs the whole application with htaccess: true: the
// .htaccess under the root protects, its ErrorDocument answers the static
// backend's 404, and 40 wrong passwords from loopback lock nobody out
// (the guard's default allow list in .htaccess mode).
func TestHTAccessWiring(t *testing.T) {
	f := start(t, "root: {root}\nhtaccess: true\naccess_log: false\n")
	root := filepath.Dir(f.htpass) + "/site"
	ht := "AuthType Basic\nAuthName \"Members\"\nAuthUserFile " + f.htpass + "\nRequire user alice\n"
	if err := os.WriteFile(filepath.Join(root, "members/.htaccess"), []byte(ht), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, ".htaccess"), []byte("ErrorDocument 404 \"NOT-HERE\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, _ := f.do("GET", "/members/page.html")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="Members"` {
		t.Errorf("no credentials: %d %q, want 401 with Apache's challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	for range 40 {
		f.do("GET", "/members/page.html", "Authorization", basic("alice", "wrong"))
	}
	if resp, body := f.do("GET", "/members/page.html", "Authorization", basic("alice", "Wonderland-1")); resp.StatusCode != 200 || !strings.Contains(body, secretMarker) {
		t.Errorf("alice after 40 failures from loopback: %d, want 200", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/members/page.html", "Authorization", basic("bob", "b0b pass w/ space")); resp.StatusCode != 401 {
		t.Errorf("bob (not listed): %d, want 401 as Apache", resp.StatusCode)
	}
	if resp, body := f.do("GET", "/nothing.html"); resp.StatusCode != 404 || body != "NOT-HERE" {
		t.Errorf("missing file: %d %q, want the ErrorDocument", resp.StatusCode, body)
	}
	if resp, _ := f.do("GET", "/members/.htaccess", "Authorization", basic("alice", "Wonderland-1")); resp.StatusCode != 403 {
		t.Errorf(".htaccess: %d, want 403", resp.StatusCode)
	}
}

func TestHTAccessNeedsRoot(t *testing.T) {
	cfg := &config.Config{Upstream: "http://127.0.0.1:1", HTAccess: true}
	cfg.ApplyDefaults()
	errs := cfg.Validate()
	found := false
	for _, err := range errs {
		if strings.Contains(err.Error(), "htaccess") {
			found = true
		}
	}
	if !found {
		t.Errorf("htaccess with an upstream validated: %v", errs)
	}
	bad := &config.Config{Root: t.TempDir(), HTAccess: true, Apache: config.Apache{AllowOverride: "Bogus"}}
	bad.ApplyDefaults()
	if _, err := Build(t.Context(), bad, nil); err == nil || !strings.Contains(err.Error(), "allow_override") {
		t.Errorf("bad allow_override: %v", err)
	}
}
