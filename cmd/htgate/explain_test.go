package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// explainCases run `htgate explain --json` on testdata/explain/htgate.yaml;
// each golden file holds the whole JSON decision.
var explainCases = []struct {
	name  string
	args  []string
	stdin string
	want  string // reason, checked besides the golden file
}{
	{"allowed-public", []string{"--url", "/"}, "", "allowed"},
	{"credentials-missing", []string{"--url", "/members/"}, "", "credentials_missing"},
	{"allowed-member", []string{"--url", "/members/page", "--user", "alice", "--password-stdin"}, "Wonderland-1\n", "allowed"},
	{"logon-failed-wrong-password", []string{"--url", "/members/", "--user", "alice", "--password-stdin"}, "wrong\n", "logon_failed"},
	{"logon-failed-unknown-user", []string{"--url", "/members/", "--user", "mallory", "--password-stdin"}, "wrong\n", "logon_failed"},
	{"logon-failed-malformed", []string{"--url", "/members/", "--authorization", "Basic !!!"}, "", "logon_failed"},
	{"logon-failed-other-scheme", []string{"--url", "/members/", "--authorization", "Bearer abc"}, "", "logon_failed"},
	{"acl-denied", []string{"--url", "/admin/", "--user", "bob", "--password-stdin"}, "b0b pass\n", "acl_denied"},
	{"allowed-group", []string{"--url", "/admin/", "--user", "alice", "--password-stdin"}, "Wonderland-1\n", "allowed"},
	{"config-denied", []string{"--url", "/closed/x"}, "", "config_denied"},
	{"allowed-by-ip", []string{"--url", "/office/", "--ip", "10.1.2.3"}, "", "allowed"},
	{"ip-not-enough", []string{"--url", "/office/", "--ip", "192.0.2.1"}, "", "credentials_missing"},
	{"bad-request-encoded-slash", []string{"--url", "/members%2fpage"}, "", "bad_request"},
	{"bad-request-dot-params", []string{"--url", "/..;/members/"}, "", "bad_request"},
	{"method-not-allowed", []string{"--url", "/", "-X", "TRACE"}, "", "method_not_allowed"},
	{"headers-too-large", []string{"--url", "/", "-H", "X-Big: " + strings.Repeat("a", 9000)}, "", "headers_too_large"},
	{"spelling-resolved", []string{"--url", "/x/../MEMBERS//page"}, "", "credentials_missing"},
}

func TestExplainGolden(t *testing.T) {
	for _, tt := range explainCases {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"explain", "--config", "testdata/explain/htgate.yaml", "--json"}, tt.args...)
			var out, errOut bytes.Buffer
			if code := run(args, strings.NewReader(tt.stdin), &out, &errOut); code != 0 {
				t.Fatalf("explain %v: exit %d: %s", tt.args, code, errOut.String())
			}
			var got struct {
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("explain output is not JSON: %v\n%s", err, out.String())
			}
			if got.Reason != tt.want {
				t.Errorf("reason = %q, want %q", got.Reason, tt.want)
			}
			golden := filepath.Join("testdata", "explain", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("explain %v (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestExplainNeverPrintsSecrets(t *testing.T) {
	var out, errOut bytes.Buffer
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:Sup3r-Secret"))
	run([]string{"explain", "--config", "testdata/explain/htgate.yaml", "--url", "/members/", "--authorization", auth}, nil, &out, &errOut)
	run([]string{"explain", "--config", "testdata/explain/htgate.yaml", "--url", "/members/", "--user", "alice", "--password-stdin", "--json"}, strings.NewReader("Sup3r-Secret\n"), &out, &errOut)
	for _, secret := range []string{"Sup3r-Secret", base64.StdEncoding.EncodeToString([]byte("alice:Sup3r-Secret")), "$2y$"} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("explain output contains %q", secret)
		}
	}
}

func TestExplainText(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"explain", "--config", "testdata/explain/htgate.yaml", "--url", "/members/"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"decision: 401 Unauthorized (credentials_missing)", `rule:     r1 (rules[0]) path /members realm "Members area"`, `answer:   WWW-Authenticate: Basic realm="Members area", charset="UTF-8"`, "match"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain text lacks %q:\n%s", want, out.String())
		}
	}
}

func TestExplainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"explain", "--config", "testdata/explain/htgate.yaml"},
		{"explain", "--config", "testdata/explain/htgate.yaml", "--url", "/", "--user", "a", "--authorization", "Basic x"},
		{"explain", "--config", "testdata/explain/htgate.yaml", "--url", "/", "--ip", "not-an-ip"},
		{"explain", "--config", "testdata/explain/missing.yaml", "--url", "/"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, strings.NewReader(""), &out, &errOut); code == 0 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want an error", args, code, errOut.String())
		}
	}
}
