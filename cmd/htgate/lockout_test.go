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

	"github.com/htgate/htgate/internal/app"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/passwd"
)

// startGateway runs a gateway with an operations listener on loopback and
// returns its base URL and the operations address.
func startGateway(t *testing.T, extraYAML string) (base, ops string) {
	t.Helper()
	dir := t.TempDir()
	hash, err := passwd.Hash(passwd.FormatBcrypt, []byte("Wonderland-1"), passwd.HashOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte("alice:"+hash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "site", "members"), 0o755); err != nil {
		t.Fatal(err)
	}
	yaml := "listen: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\nroot: site\nrules:\n  - {path: /members, htpasswd: users}\n" + extraYAML
	if err := os.WriteFile(filepath.Join(dir, "htgate.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "htgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + a.Addr().String(), a.OpsAddr().String()
}

func TestLockoutCommands(t *testing.T) {
	base, ops := startGateway(t, "")
	for range 5 {
		req, _ := http.NewRequest("GET", base+"/members/", nil)
		req.SetBasicAuth("alice", "wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"lockout", "ls", "--addr", ops, "--json"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("lockout ls: exit %d: %s", code, errOut.String())
	}
	var entries []lockoutEntry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil || len(entries) != 1 || entries[0].User != "alice" || entries[0].Key != "client+user" {
		t.Fatalf("lockout ls --json = %s (%v), want alice's pair", out.String(), err)
	}
	out.Reset()
	if code := run([]string{"lockout", "ls", "--addr", ops}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "alice") || !strings.Contains(out.String(), "UNTIL") {
		t.Fatalf("lockout ls: exit %d, output %q", code, out.String())
	}
	if code := run([]string{"lockout", "clear", "--addr", ops}, nil, &out, &errOut); code == 0 {
		t.Errorf("lockout clear without a selector succeeded, want an error")
	}
	out.Reset()
	if code := run([]string{"lockout", "clear", "--addr", ops, "--user", "alice"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "alice") {
		t.Fatalf("lockout clear --user alice: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"lockout", "ls", "--addr", ops}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "no lockouts") {
		t.Fatalf("after clear: exit %d, output %q", code, out.String())
	}
	errOut.Reset()
	if code := run([]string{"lockout", "ls", "--addr", "127.0.0.1:1"}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "metrics_listen") {
		t.Errorf("unreachable: exit %d, stderr %q", code, errOut.String())
	}
}
