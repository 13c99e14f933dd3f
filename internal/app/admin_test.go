package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/testutil/browser"
)

// adminFixture is a gateway on a docroot and a managed store, with the
// admin listener on a loopback port and an admin account "root".
type adminFixture struct {
	app      *App
	gateway  string // http://127.0.0.1:PORT
	admin    string // http://127.0.0.1:PORT of the admin listener
	cancel   context.CancelFunc
	done     chan error
	password string
}

func startAdmin(t *testing.T, mod ...func(*config.Config)) *adminFixture {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "site")
	for name, body := range map[string]string{"index.html": "PUBLIC", "members/index.html": "MEMBERS-ONLY"} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &config.Config{
		Listen:      "127.0.0.1:0",
		Root:        root,
		Data:        filepath.Join(dir, "data"),
		AdminListen: "127.0.0.1:0",
		LogFormat:   "text",
		Passwords:   config.Passwords{Format: "bcrypt", BcryptCost: 4},
	}
	f := false
	cfg.AccessLog = &f
	for _, m := range mod {
		m(cfg)
	}
	cfg.ApplyDefaults()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Open(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	fx := &adminFixture{app: a, cancel: cancel, done: make(chan error, 1), password: "root-admin-password",
		gateway: "http://" + a.Addr().String(), admin: "http://" + a.AdminAddr().String()}
	if cfg.Admin.TLSCert != "" {
		fx.admin = "https://" + a.AdminAddr().String()
	}
	hash, err := HashPassword(cfg.Passwords, []byte(fx.password), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.managed.st.AddAdmin(ctx, store.Admin{Name: "root", Hash: hash, Role: store.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	go func() { fx.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-fx.done:
		case <-time.After(10 * time.Second):
			t.Error("the app did not stop")
		}
	})
	return fx
}

// statusAs requests path on the gateway with Basic credentials.
func (fx *adminFixture) statusAs(t *testing.T, path, user, password string) int {
	t.Helper()
	req, err := http.NewRequest("GET", fx.gateway+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// waitStatus polls the gateway until it answers want: a change made in
// the panel must be enforced within a second (panelEnforceWithin).
func (fx *adminFixture) waitStatus(t *testing.T, path, user, password string, want int) {
	t.Helper()
	start := time.Now()
	for {
		got := fx.statusAs(t, path, user, password)
		if got == want {
			if d := time.Since(start); d > time.Second {
				t.Logf("GET %s as %s = %d after %v (more than a second, under the race detector)", path, user, want, d.Round(time.Millisecond))
			}
			return
		}
		if time.Since(start) > panelEnforceWithin {
			t.Fatalf("GET %s as %s = %d after %v, want %d", path, user, got, panelEnforceWithin, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAdminListenerServesAPIAndHealth(t *testing.T) {
	fx := startAdmin(t)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/openapi.json": 200, "/api/users": 401, "/login": 200} {
		res, err := http.Get(fx.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s on the admin listener = %d, want %d", path, res.StatusCode, want)
		}
	}
	// The panel is not on the gateway's listener.
	if res, err := http.Get(fx.gateway + "/api/openapi.json"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("the admin API answers on the gateway's listener")
		}
	}
}

func TestAdminListenerTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	cert, key := filepath.Join(dir, "admin.pem"), filepath.Join(dir, "admin.key")
	if err := os.WriteFile(cert, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	fx := startAdmin(t, func(c *config.Config) { c.Admin.TLSCert, c.Admin.TLSKey = cert, key })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get(fx.admin + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /login over TLS = %d", res.StatusCode)
	}
	cookies := res.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "__Host-htgate-admin-login" || !cookies[0].Secure || !cookies[0].HttpOnly {
		t.Errorf("cookies over TLS = %+v, want one __Host- cookie, Secure and HttpOnly", cookies)
	}
	// Plain HTTP to the TLS port gets no panel.
	if res, err := http.Get("http://" + fx.app.AdminAddr().String() + "/login"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("the TLS admin listener answers plain HTTP")
		}
	}
}

// selfSigned returns a certificate for 127.0.0.1 and its key, in PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "htgate admin test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestAdminListenNeedsStore(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // no ./htgate-data here
	cfg := &config.Config{Listen: "127.0.0.1:0", Root: dir, AdminListen: "127.0.0.1:0"}
	cfg.ApplyDefaults()
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		a.Close()
		t.Fatal("Open with admin_listen and no store succeeded")
	}
	if !strings.Contains(err.Error(), "managed store") {
		t.Errorf("error = %v", err)
	}
}

// TestPanelEndToEnd drives the admin panel in headless Chromium: sign in,
// protect a URL, add a user, allow them in, and check that the gateway
// lets them in within a second; remove the user (confirming, since they
// were the only one allowed in) and check that the gateway refuses them.
// It saves a screenshot of every panel page at desktop and phone widths
// under the test's temp dir, or $HTGATE_SCREENSHOTS.
func TestPanelEndToEnd(t *testing.T) {
	ctx := browser.New(t, 3*time.Minute)
	fx := startAdmin(t)
	shots := browser.ScreenshotDir(t)

	desktop := func() {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1))); err != nil {
			t.Fatal(err)
		}
	}
	desktop()
	open := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(fx.admin+path)); err != nil {
			t.Fatalf("navigate %s: %v", path, err)
		}
	}
	// submit clicks a form's button and waits for the next page to say want.
	submit := func(button, want string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(button), chromedp.NodeVisible)); err != nil {
			t.Fatalf("click %s: %v", button, err)
		}
		// The click navigates: evaluating may fail while the next page
		// loads, so poll until it says what it should.
		js := fmt.Sprintf(`document.readyState === "complete" && document.body.innerText.includes(%q)`, want)
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			if err == nil && ok {
				break
			}
			if time.Now().After(deadline) {
				body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
				t.Fatalf("after clicking %s: the page does not say %q (%v)\n%s", button, want, err, body)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	fill := func(id, value string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID(id), value, chromedp.NodeVisible)); err != nil {
			t.Fatalf("type into #%s: %v", id, err)
		}
	}
	// shoot saves the current page at desktop and phone widths, and checks
	// that it has a heading and does not scroll sideways on a phone.
	shoot := func(name string) {
		t.Helper()
		for _, size := range []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
			vopts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if size.mobile {
				vopts = append(vopts, chromedp.EmulateMobile)
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height, vopts...)); err != nil {
				t.Fatal(err)
			}
			heading := browser.Run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("h1") || {}).innerText || ""`))
			scrollWidth := browser.Run(t, ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
			innerWidth := browser.Run(t, ctx, chromedp.Evaluate[int64](`window.innerWidth`))
			png := browser.Run(t, ctx, chromedp.FullScreenshot(100))
			if strings.TrimSpace(heading) == "" {
				t.Errorf("%s: no <h1>", name)
			}
			if scrollWidth > innerWidth {
				t.Errorf("%s-%s: page is %dpx wide in a %dpx window (scrolls sideways)", name, size.name, scrollWidth, innerWidth)
			}
			if err := os.WriteFile(filepath.Join(shots, name+"-"+size.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		desktop()
	}

	// Sign in.
	open("/urls")
	if loc := browser.Run(t, ctx, chromedp.Location()); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("unauthenticated panel page went to %s, want the login page", loc)
	}
	shoot("01-login")
	fill("f-name", "root")
	fill("f-password", "wrong password")
	submit("form[action='/login'] button", "Wrong admin name or password")
	shoot("02-login-failed")
	fill("f-password", fx.password)
	submit("form[action='/login'] button", "Signed in as")
	shoot("03-urls-empty")

	// Protect /members.
	fill("f-path", "/members")
	fill("f-realm", "Members area")
	submit("form[action='/urls'] button.primary", "/members is protected")
	shoot("04-access-empty")

	// Add alice, with a mistake first.
	open("/users")
	fill("f-name", "alice")
	fill("f-password", "alice-pw-123")
	fill("f-password2", "alice-pw-124")
	submit("form[action='/users'] button", "The two passwords differ")
	shoot("05-users-error")
	// The form comes back with the name kept and the passwords empty.
	if v := browser.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("f-name").value + "|" + document.getElementById("f-password").value`)); v != "alice|" {
		t.Errorf("form after the error: name|password = %q, want %q", v, "alice|")
	}
	fill("f-display_name", "Alice Liddell")
	fill("f-password", "alice-pw-123")
	fill("f-password2", "alice-pw-123")
	submit("form[action='/users'] button", "User alice added.")
	shoot("06-users")

	// Before the grant, alice is known but not allowed in.
	fx.waitStatus(t, "/members/", "alice", "alice-pw-123", http.StatusForbidden)

	// Allow alice into /members.
	open("/access?" + url.Values{"path": {"/members"}}.Encode())
	fill("f-user", "alice")
	submit("form[action='/access/grant'] input[value=user] ~ button", "alice may now enter /members.")
	shoot("07-access")
	fx.waitStatus(t, "/members/", "alice", "alice-pw-123", http.StatusOK)
	fx.waitStatus(t, "/members/", "alice", "wrong", http.StatusUnauthorized)

	// A group, the other pages.
	open("/groups")
	fill("f-name", "staff")
	submit("form[action='/groups'] button", "Group staff added.")
	fill("f-user", "alice")
	submit("form[action='/groups/members/add'] button", "alice added to group staff.")
	shoot("08-group")
	open("/groups")
	shoot("09-groups")
	open("/urls")
	shoot("10-urls")
	open("/urls/edit?" + url.Values{"path": {"/members"}}.Encode())
	shoot("11-url-edit")
	open("/tokens")
	fill("f-name", "backup script")
	submit("form[action='/tokens'] button", "Your new token")
	shoot("12-tokens-new")
	open("/password")
	shoot("13-password")
	open("/nothing-here")
	shoot("14-not-found")

	// Remove alice: she is the only one allowed into /members, so the
	// panel asks first.
	open("/users/edit?name=alice")
	shoot("15-user")
	submit("form[action='/users/remove'] button", "is the only user allowed into")
	shoot("16-user-remove-confirm")
	if fx.statusAs(t, "/members/", "alice", "alice-pw-123") != http.StatusOK {
		t.Fatal("alice lost access before the removal was confirmed")
	}
	submit("form[action='/users/remove'] button.danger", "User alice removed.")
	fx.waitStatus(t, "/members/", "alice", "alice-pw-123", http.StatusUnauthorized)

	open("/audit")
	shoot("17-audit")
	open("/urls")
	submit("form[action='/urls/remove'] button", "without signing in")
	shoot("18-url-remove-confirm")

	// Sign out: the session ends.
	submit("form[action='/logout'] button", "You are signed out.")
	open("/users")
	if loc := browser.Run(t, ctx, chromedp.Location()); !strings.Contains(loc, "/login") {
		t.Errorf("after signing out, /users went to %s, want the login page", loc)
	}
	t.Logf("screenshots in %s", shots)
}
