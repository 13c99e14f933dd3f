package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbeCommand(t *testing.T) {
	mux := http.NewServeMux()
	// A well-behaved protected area: alice/s3cr3t-pw.
	mux.HandleFunc("/good/", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "alice" && p == "s3cr3t-pw" {
			fmt.Fprintln(w, "welcome")
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="Members", charset="UTF-8"`)
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	// A 401 without a challenge: an error finding.
	mux.HandleFunc("/bad/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	mux.HandleFunc("/echo-header/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.Header.Get("X-Probe") != "yes" {
			http.Error(w, "wrong request", http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{"well-behaved", []string{"probe", srv.URL + "/good/", "--json"}, "", 0, `"status": 401`, ""},
		{"good password", []string{"probe", srv.URL + "/good/", "--user", "alice:s3cr3t-pw", "--json"}, "", 0, `"status": 200`, ""},
		{"password from stdin", []string{"probe", srv.URL + "/good/", "--user", "alice"}, "s3cr3t-pw\n", 0, "Status:  200 OK", ""},
		{"wrong password", []string{"probe", srv.URL + "/good/", "-u", "alice:wrong", "--json"}, "", 1, `"id": "credentials-rejected"`, ""},
		{"error finding", []string{"probe", srv.URL + "/bad/", "--json"}, "", 1, `"id": "missing-challenge"`, ""},
		{"error finding as text", []string{"probe", srv.URL + "/bad/"}, "", 1, "[error]   missing-challenge", ""},
		{"headers and method", []string{"probe", srv.URL + "/echo-header/", "-X", "PUT", "-H", "X-Probe: yes", "--json"}, "", 0, `"status": 200`, ""},
		{"unreachable", []string{"probe", closed, "--json"}, "", 2, "", "cannot reach"},
		{"no url", []string{"probe"}, "", 2, "", "exactly one URL"},
		{"two urls", []string{"probe", srv.URL, srv.URL}, "", 2, "", "exactly one URL"},
		{"bad flag", []string{"probe", srv.URL, "--nope"}, "", 2, "", "unknown flag"},
		{"bad header", []string{"probe", srv.URL, "-H", "NoColon"}, "", 2, "", "bad header"},
		{"user and token", []string{"probe", srv.URL, "--user", "a:b", "--token", "t"}, "", 2, "", "not both"},
		{"empty stdin", []string{"probe", srv.URL + "/good/", "--user", "alice"}, "", 2, "", "standard input is empty"},
		{"bad scheme", []string{"probe", "ftp://127.0.0.1/"}, "", 2, "", "only http and https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("run(%q) stdout = %q, want it to contain %q", tt.args, stdout.String(), tt.wantOut)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.wantErr)
			}
			if strings.Contains(stdout.String()+stderr.String(), "s3cr3t-pw") {
				t.Errorf("run(%q) printed the password", tt.args)
			}
		})
	}
}

func TestProbeCommandJSONShape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Members"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"probe", srv.URL, "--json"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr.String())
	}
	var got struct {
		URL        *string `json:"url"`
		Status     *int    `json:"status"`
		Challenges []struct {
			Scheme string `json:"scheme"`
			Params []struct {
				Name, Value string
			} `json:"params"`
		} `json:"challenges"`
		Findings []struct {
			ID, Severity, Message, Fix string
		} `json:"findings"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, stdout.String())
	}
	if got.URL == nil || got.Status == nil || *got.Status != 401 {
		t.Errorf("url/status missing or wrong in %s", stdout.String())
	}
	if len(got.Challenges) != 1 || got.Challenges[0].Scheme != "Basic" || got.Challenges[0].Params[0].Value != "Members" {
		t.Errorf("challenges = %+v, want the parsed Basic challenge", got.Challenges)
	}
	ids := map[string]string{}
	for _, f := range got.Findings {
		if f.Message == "" || f.Fix == "" {
			t.Errorf("finding %q lacks a message or fix", f.ID)
		}
		ids[f.ID] = f.Severity
	}
	want := map[string]string{"cacheable-401": "warning", "basic-over-http": "info", "basic-no-charset": "info"}
	for id, sev := range want {
		if ids[id] != sev {
			t.Errorf("finding %q severity = %q, want %q (all: %v)", id, ids[id], sev, ids)
		}
	}
}
