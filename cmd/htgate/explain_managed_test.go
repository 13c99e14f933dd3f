package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExplainManagedReasons covers the reason codes that need the managed
// store (tokens, locked accounts) with explain --json on a store built by
// the CLI. Their ids and paths vary, so the reason and status are checked
// instead of a golden file.
func TestExplainManagedReasons(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	root := filepath.Join(dir, "site")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	cli := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(append(args, "--data", data), strings.NewReader(stdin), &out, &errOut); code != 0 {
			t.Fatalf("htgate %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	cli("", "url", "protect", "/api", "--scheme", "basic,bearer")
	cli("", "url", "grant", "/api", "--valid-user")
	cli("bob-password\n", "user", "add", "bob", "--password-stdin")
	cli("carol-password\n", "user", "add", "carol", "--password-stdin")
	cli("", "user", "lock", "carol")
	lastLine := func(s string) string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		return strings.TrimSpace(lines[len(lines)-1])
	}
	scoped := lastLine(cli("", "token", "issue", "--user", "bob", "--scope", "/api/v1", "--ttl", "1h"))
	issued := cli("", "token", "issue", "--user", "bob", "--ttl", "1h")
	revoked := lastLine(issued)
	// The first line names the token's id: "issued token ID for ...".
	fields := strings.Fields(issued)
	if len(fields) < 3 || fields[0] != "issued" {
		t.Fatalf("token issue output %q", issued)
	}
	cli("", "token", "revoke", fields[2])
	expired := lastLine(cli("", "token", "issue", "--user", "bob", "--ttl", "1ms"))
	time.Sleep(20 * time.Millisecond)

	tests := []struct {
		name, url, auth, stdinUser, stdin string
		status                            int
		reason                            string
	}{
		{"bearer in scope", "/api/v1/items", "Bearer " + scoped, "", "", 200, "allowed"},
		{"insufficient scope", "/api/v2/items", "Bearer " + scoped, "", "", 403, "insufficient_scope"},
		{"unknown token", "/api/v1/items", "Bearer htg_" + strings.Repeat("A", 49), "", "", 401, "logon_failed"},
		{"no credentials", "/api/v1/items", "", "", "", 401, "credentials_missing"},
		{"locked account, right password", "/api/x", "", "carol", "carol-password\n", 401, "locked_out"},
		{"locked account, wrong password", "/api/x", "", "carol", "nope\n", 401, "logon_failed"},
		{"basic user", "/api/x", "", "bob", "bob-password\n", 200, "allowed"},
	}
	tests = append(tests, struct {
		name, url, auth, stdinUser, stdin string
		status                            int
		reason                            string
	}{"revoked token", "/api/v1/items", "Bearer " + revoked, "", "", 401, "token_revoked"},
		struct {
			name, url, auth, stdinUser, stdin string
			status                            int
			reason                            string
		}{"expired token", "/api/v1/items", "Bearer " + expired, "", "", 401, "token_expired"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"explain", "--root", root, "--data", data, "--url", tt.url, "--json"}
			if tt.auth != "" {
				args = append(args, "--authorization", tt.auth)
			}
			if tt.stdinUser != "" {
				args = append(args, "--user", tt.stdinUser, "--password-stdin")
			}
			var out, errOut bytes.Buffer
			if code := run(args, strings.NewReader(tt.stdin), &out, &errOut); code != 0 {
				t.Fatalf("explain: exit %d: %s", code, errOut.String())
			}
			var got struct {
				Status     int      `json:"status"`
				Reason     string   `json:"reason"`
				Challenges []string `json:"challenges"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.status || got.Reason != tt.reason {
				t.Errorf("explain %s: %d %s, want %d %s\n%s", tt.url, got.Status, got.Reason, tt.status, tt.reason, out.String())
			}
			if strings.Contains(out.String()+errOut.String(), scoped) || strings.Contains(out.String(), "bob-password") {
				t.Errorf("explain printed a secret")
			}
		})
	}
}
