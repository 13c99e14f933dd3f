//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/htgate/htgate/internal/passwd"
)

// apacheHtdigest is Apache's tool, which these tests compare against; CI
// installs it (Debian's apache2-utils).
const apacheHtdigest = "/usr/bin/htdigest"

// runApacheHtdigest runs Apache's htdigest without a controlling terminal,
// so that it reads the passwords from stdin.
func runApacheHtdigest(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	if _, err := os.Stat(apacheHtdigest); err != nil {
		t.Fatalf("%s not found (%v): install Debian's apache2-utils, these tests compare htgate htdigest with it", apacheHtdigest, err)
	}
	cmd := exec.Command(apacheHtdigest, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", apacheHtdigest, err)
	}
	return result{code, out.String(), errOut.String()}
}

func runHtgateHtdigest(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"htdigest"}, args...), strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

const digestBase = "# users\nalice:Digest Realm:30cc02ba3038017f4aabf5fd2c907e39\r\n\nolly:Other Realm:c8a24d66af07f3e6cfa516add1731c53\n"

// TestHtdigestLikeApache runs both tools on the same command lines, files
// and input and compares exit statuses, messages and, since an MD5 entry
// has no salt, the resulting files byte for byte.
func TestHtdigestLikeApache(t *testing.T) {
	long := strings.Repeat("p", 256)
	tests := []struct {
		name     string
		initial  *string // nil: no file
		args     []string
		stdin    string
		sameFile bool // the files must be equal afterwards (but for the line end of a replaced line: htgate keeps CRLF, Apache writes LF)
	}{
		{"create", nil, []string{"-c", "F", "Digest Realm", "alice"}, "Wonderland-1\nWonderland-1\n", true},
		{"add user", ptr(digestBase), []string{"F", "Digest Realm", "bob"}, "b0b pass w/ space\nb0b pass w/ space\n", true},
		{"add utf-8 user", ptr(digestBase), []string{"F", "Digest Realm", "josé"}, "pässwörd-ü\npässwörd-ü\n", true},
		{"same user other realm", ptr(digestBase), []string{"F", "Other Realm", "alice"}, "x\nx\n", true},
		{"change password", ptr(digestBase), []string{"F", "Digest Realm", "alice"}, "new pw\nnew pw\n", true},
		{"empty password", ptr(digestBase), []string{"F", "R", "e"}, "\n\n", true},
		{"crlf input", ptr(digestBase), []string{"F", "R", "c"}, "pw\r\npw\r\n", true},
		// Apache's tool drops a last line without a line feed; htgate keeps it.
		{"no final newline in file", ptr("a:R:30cc02ba3038017f4aabf5fd2c907e39"), []string{"F", "R", "u"}, "x\nx\n", false},
		{"passwords differ", ptr(digestBase), []string{"F", "R", "u"}, "one\ntwo\n", true},
		{"password too long", ptr(digestBase), []string{"F", "R", "u"}, long + "\n" + long + "\n", true},
		{"password of 255 bytes", ptr(digestBase), []string{"F", "R", "u"}, long[:255] + "\n" + long[:255] + "\n", true},
		{"missing file", nil, []string{"F", "R", "u"}, "x\nx\n", true},
		{"no arguments", nil, nil, "", true},
		{"too few", nil, []string{"F", "R"}, "", true},
		{"too many", nil, []string{"F", "R", "u", "v"}, "", true},
		{"unknown option", nil, []string{"-x", "F", "R", "u"}, "", true},
		{"-c on an existing file", ptr("old:R:30cc02ba3038017f4aabf5fd2c907e39\n"), []string{"-c", "F", "R", "u"}, "x\nx\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var results [2]result
			var files [2]string
			for i, runner := range []func(*testing.T, string, ...string) result{runApacheHtdigest, runHtgateHtdigest} {
				dir := t.TempDir()
				path := filepath.Join(dir, "f")
				if tt.initial != nil {
					if err := os.WriteFile(path, []byte(*tt.initial), 0o640); err != nil {
						t.Fatal(err)
					}
				}
				args := make([]string, len(tt.args))
				for j, a := range tt.args {
					args[j] = a
					if a == "F" {
						args[j] = path
					}
				}
				results[i] = runner(t, tt.stdin, args...)
				b, _ := os.ReadFile(path)
				files[i] = string(b)
			}
			apache, htgate := results[0], results[1]
			if apache.code != htgate.code {
				t.Errorf("exit status: Apache %d, htgate %d\nApache: %q\nhtgate: %q", apache.code, htgate.code, apache.stderr, htgate.stderr)
			}
			if tt.sameFile && strings.ReplaceAll(files[0], "\r\n", "\n") != strings.ReplaceAll(files[1], "\r\n", "\n") {
				t.Errorf("files differ:\nApache: %q\nhtgate: %q", files[0], files[1])
			}
			// The messages Apache prints are printed too.
			for _, msg := range []string{"Adding password for", "Adding user", "Changing password for user", "They don't match, sorry.", "password too long", "Could not open passwd file", "Use -c option to create new one.", "The -c flag creates a new file."} {
				if strings.Contains(apache.stderr, msg) != strings.Contains(htgate.stderr, msg) {
					t.Errorf("message %q: Apache %q, htgate %q", msg, apache.stderr, htgate.stderr)
				}
			}
			if !tt.sameFile {
				// -c replaces the file: htgate leaves nothing of the old
				// one; without -c it keeps every other line.
				h, _, _ := passwd.ParseHtdigest(strings.NewReader(files[1]), "f")
				want := 1
				if tt.args[0] != "-c" {
					want = 2
				}
				if _, ok := h.Lookup("u", "R", passwd.DigestMD5); h.Len() != want || !ok {
					t.Errorf("htgate wrote %q, want %d entries", files[1], want)
				}
			}
			if tt.initial != nil && strings.Contains(*tt.initial, "\r\n") && htgate.code == 0 && !strings.Contains(files[1], "\r\n") {
				t.Errorf("htgate dropped the CRLF line ends: %q", files[1])
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestHtdigestBothWays has each tool change the other's file and checks
// that htgate's server code finds the right hashes.
func TestHtdigestBothWays(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".htdigest")
	steps := []struct {
		apache   bool
		args     []string
		user, pw string
		realm    string
	}{
		{true, []string{"-c", path, "Digest Realm", "alice"}, "alice", "Wonderland-1", "Digest Realm"},
		{false, []string{path, "Digest Realm", "bob"}, "bob", "b0b pass w/ space", "Digest Realm"},
		{true, []string{path, "Digest Realm", "carol"}, "carol", "c:olon:pw", "Digest Realm"},
		{false, []string{path, "Digest Realm", "alice"}, "alice", "changed by htgate", "Digest Realm"},
		{true, []string{path, "Digest Realm", "bob"}, "bob", "changed by apache", "Digest Realm"},
		{false, []string{"--sha256", path, "Digest Realm", "dave"}, "dave", "sha pw", "Digest Realm"},
		{true, []string{path, "Digest Realm", "dave"}, "dave", "apache changed dave", "Digest Realm"},
	}
	want := map[string]string{}
	for i, s := range steps {
		stdin := s.pw + "\n" + s.pw + "\n"
		var r result
		if s.apache {
			r = runApacheHtdigest(t, stdin, s.args...)
		} else {
			r = runHtgateHtdigest(t, stdin, s.args...)
		}
		if r.code != 0 {
			t.Fatalf("step %d (%v): exit %d: %s", i, s.args, r.code, r.stderr)
		}
		want[s.user] = s.pw
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, errs, err := passwd.ParseHtdigest(bytes.NewReader(data), path)
	if err != nil {
		t.Fatal(err)
	}
	for user, pw := range want {
		got, ok := h.Lookup(user, "Digest Realm", passwd.DigestMD5)
		if wantHash := passwd.DigestHA1(passwd.DigestMD5, user, "Digest Realm", pw); !ok || got != wantHash {
			t.Errorf("%s: MD5 %q, %v, want the hash of %q\nfile:\n%s", user, got, ok, pw, data)
		}
	}
	// Apache's tool changed dave's MD5 line and kept htgate's SHA-256 line,
	// which is now stale: htgate reports nothing wrong with the file, but
	// the SHA-256 hash is the old password's (Apache does not know it).
	if got, ok := h.Lookup("dave", "Digest Realm", passwd.DigestSHA256); !ok || got != passwd.DigestHA1(passwd.DigestSHA256, "dave", "Digest Realm", "sha pw") {
		t.Errorf("dave's SHA-256 line: %q, %v", got, ok)
	}
	if len(errs) > 0 {
		t.Errorf("line errors: %v", errs)
	}
	// htgate's tool, changing dave again, writes both lines afresh.
	if r := runHtgateHtdigest(t, "new\nnew\n", "--sha256", path, "Digest Realm", "dave"); r.code != 0 || !strings.Contains(r.stderr, "Changing password for user dave") {
		t.Fatalf("htgate htdigest --sha256: %d %q", r.code, r.stderr)
	}
	data, _ = os.ReadFile(path)
	h, _, _ = passwd.ParseHtdigest(bytes.NewReader(data), path)
	md5, _ := h.Lookup("dave", "Digest Realm", passwd.DigestMD5)
	sha, _ := h.Lookup("dave", "Digest Realm", passwd.DigestSHA256)
	if md5 != passwd.DigestHA1(passwd.DigestMD5, "dave", "Digest Realm", "new") || sha != passwd.DigestHA1(passwd.DigestSHA256, "dave", "Digest Realm", "new") || strings.Count(string(data), "dave:") != 2 {
		t.Errorf("after --sha256: %q", data)
	}
}

func TestHtdigestKeepsPermissionsAndRefusesBadNames(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte(digestBase), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if r := runHtgateHtdigest(t, "x\nx\n", path, "R", "u"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("permissions %v, want 0640 kept", fi.Mode())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), digestBase) {
		t.Errorf("other lines changed: %q", data)
	}
	for _, args := range [][]string{{path, "R", "a:b"}, {path, "R:S", "u"}, {path, "R", ""}, {path, "R", "#u"}, {path, "R", " u"}} {
		if r := runHtgateHtdigest(t, "x\nx\n", args...); r.code != 1 || strings.Contains(r.stderr, "New password") {
			t.Errorf("htdigest %q: exit %d %q, want 1 before any prompt", args, r.code, r.stderr)
		}
	}
	if r := runHtgateHtdigest(t, "", "--help"); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "--sha256") {
		t.Errorf("--help: %d %q", r.code, r.stdout)
	}
}
