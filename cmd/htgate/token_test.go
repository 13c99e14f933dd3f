//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/app"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/scheme"
)

// TestTokenCLI issues, lists and revokes a token against a running gateway:
// the token is alone on the last line, a typo is refused, and a revocation
// is enforced within a second.
func TestTokenCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	root := filepath.Join(dir, "site")
	if err := os.MkdirAll(filepath.Join(root, "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "api", "index.html"), []byte("API"), 0o644); err != nil {
		t.Fatal(err)
	}
	fast := fastHashing(t)
	cli := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(append(args, "--data", data, "--config", fast), strings.NewReader(stdin), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := cli(stdin, args...)
		if code != 0 {
			t.Fatalf("htgate %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	must("alice-pw\n", "user", "add", "alice", "--password-stdin")
	must("", "url", "protect", "/api", "--scheme", "basic,bearer")
	must("", "url", "grant", "/api", "--valid-user")

	out := must("", "token", "issue", "--user", "Alice", "--scope", "/api", "--ttl", "1h", "--name", "ci")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	tok := lines[len(lines)-1]
	if err := scheme.CheckToken(tok); err != nil {
		t.Fatalf("last line %q is not a token: %v\n%s", tok, err, out)
	}
	for _, l := range lines[:len(lines)-1] {
		if strings.Contains(l, tok) {
			t.Errorf("the token is printed twice:\n%s", out)
		}
	}
	if _, errOut, code := cli("", "token", "issue", "--user", "nobody"); code == 0 {
		t.Errorf("token issue for an unknown user: exit 0, want an error")
	} else if !strings.Contains(errOut, "nobody") {
		t.Errorf("token issue for an unknown user: %q", errOut)
	}
	if _, _, code := cli("", "token", "issue", "--user", "alice", "--scope", "api"); code == 0 {
		t.Error("token issue --scope api: exit 0, want a refusal of a relative scope")
	}

	// ls: the token, never its secret or hash.
	ls := must("", "token", "ls")
	if !strings.Contains(ls, "alice") || !strings.Contains(ls, "/api") || !strings.Contains(ls, "active") || strings.Contains(ls, tok) || strings.Contains(ls, scheme.TokenHash(tok)) {
		t.Errorf("token ls:\n%s", ls)
	}
	var listed []tokenJSON
	if err := json.Unmarshal([]byte(must("", "token", "ls", "--json")), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("token ls --json = %+v, %v", listed, err)
	}
	id := listed[0].ID
	if listed[0].User != "alice" || listed[0].Name != "ci" || listed[0].Status != "active" || listed[0].Expires == "" {
		t.Errorf("token ls --json = %+v", listed[0])
	}

	cfg := &config.Config{Root: root, Listen: "127.0.0.1:0", Data: data, Guard: config.Guard{Disabled: true}}
	cfg.ApplyDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	base := "http://" + a.Addr().String()
	get := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/api/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, strings.Join(resp.Header.Values("WWW-Authenticate"), "\n")
	}
	if status, _ := get(tok); status != 200 {
		t.Fatalf("GET /api/ with the issued token: %d, want 200", status)
	}
	typo := []byte(tok)
	typo[20] ^= 'a' ^ 'b'
	if typo[20] == tok[20] || !isAlnum(typo[20]) {
		typo[20] = 'x'
	}
	if status, ch := get(string(typo)); status != 401 || !strings.Contains(ch, `error="invalid_token"`) {
		t.Errorf("GET with a mistyped token: %d %q, want 401 invalid_token", status, ch)
	}

	out = must("", "token", "revoke", id)
	if !strings.Contains(out, "revoked token "+id) {
		t.Errorf("token revoke: %q", out)
	}
	start := time.Now()
	for {
		status, ch := get(tok)
		if status == 401 && strings.Contains(ch, "was revoked") {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("revoked token still answers %d %q after 1 s", status, ch)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if ls := must("", "token", "ls"); !strings.Contains(ls, "revoked") {
		t.Errorf("token ls after revoke:\n%s", ls)
	}
	if _, _, code := cli("", "token", "revoke", "nosuchid"); code == 0 {
		t.Error("token revoke of an unknown id: exit 0")
	}
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
