//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestServeSignals runs `htgate serve` in this process and sends it real
// signals: SIGHUP reloads the configuration (a newly protected path asks
// for credentials), SIGTERM shuts it down gracefully (run returns 0).
func TestServeSignals(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "site")
	if err := os.MkdirAll(filepath.Join(root, "new"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "new", "index.html"), []byte("NEW"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "htgate.yaml")
	write := func(yaml string) {
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("listen: 127.0.0.1:0\nroot: site\n")

	logR, logW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "--config", cfg, "--log-format", "json"}, nil, io.Discard, logW)
		logW.Close()
	}()
	// The first log line with an address says where it listens.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logR)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "htgate listening" {
				addr <- line.Addr
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case code := <-done:
		t.Fatalf("serve exited with %d before listening", code)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	status := func() int {
		resp, err := http.Get(base + "/new/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(); s != 200 {
		t.Fatalf("before reload: %d, want 200", s)
	}
	write("listen: 127.0.0.1:0\nroot: site\nrules:\n  - {path: /new, htpasswd: users}\n")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for status() != 401 {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not apply the new rule")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited with %d after SIGTERM, want 0", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}
