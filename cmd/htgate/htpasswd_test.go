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

// apacheHtpasswd is Apache's tool, which these tests compare against. CI
// installs it (Debian's apache2-utils); without it the tests fail, since
// skipping would hide that the comparison never ran.
const apacheHtpasswd = "/usr/bin/htpasswd"

func needApache(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(apacheHtpasswd); err != nil {
		t.Fatalf("%s not found (%v): install Debian's apache2-utils, these tests compare htgate htpasswd with it", apacheHtpasswd, err)
	}
}

// result is what one run of either tool did.
type result struct {
	code           int
	stdout, stderr string
}

// runApache runs Apache's htpasswd in its own session, so that it has no
// controlling terminal and reads passwords from stdin as in CI (glibc's
// getpass would otherwise prompt on /dev/tty).
func runApache(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(apacheHtpasswd, args...)
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
		t.Fatalf("run %s: %v", apacheHtpasswd, err)
	}
	return result{code, out.String(), errOut.String()}
}

// runHtgate runs `htgate htpasswd args...` in process.
func runHtgate(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"htpasswd"}, args...), strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// Entries for the password "pw", written by Apache's htpasswd.
const (
	apr1PW = "$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1"
	sha1PW = "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="
)

// baseFile is the htpasswd file most exit-status cases start from.
const baseFile = "# users\nalice:" + apr1PW + "\r\n\n  bob:" + sha1PW + "\n"

// TestHtpasswdExitCodes runs Apache's htpasswd and htgate htpasswd on the
// same command lines, files and input, and compares exit statuses and, where
// the outcome does not depend on a random salt, the resulting files.
func TestHtpasswdExitCodes(t *testing.T) {
	needApache(t)
	long := strings.Repeat("x", 256)
	tests := []struct {
		name  string
		file  string // content of F; "" for no file
		args  []string
		stdin string
		want  int
		same  bool // the resulting files must be byte for byte equal
	}{
		{"no args", baseFile, nil, "", 2, true},
		{"one arg", baseFile, []string{"F"}, "", 2, true},
		{"illegal option", baseFile, []string{"-x", "F", "a"}, "", 2, true},
		{"help is illegal to Apache but not to cobra", baseFile, []string{"-nbh", "a", "pw"}, "", 2, true},
		{"-C without argument", baseFile, []string{"-nbB", "-C"}, "", 2, true},
		{"-C zero", baseFile, []string{"-nbB", "-C", "0", "a", "pw"}, "", 2, true},
		{"-C junk", baseFile, []string{"-nbB", "-C", "5x", "a", "pw"}, "", 2, true},
		{"-r negative", baseFile, []string{"-nb5", "-r", "-5", "a", "pw"}, "", 2, true},
		{"-c with -n", baseFile, []string{"-cn", "F", "a"}, "", 2, true},
		{"-v with -D", baseFile, []string{"-vD", "F", "a"}, "", 2, true},
		{"-b without password", baseFile, []string{"-b", "F", "alice"}, "", 2, true},
		{"-n with too many", baseFile, []string{"-n", "a", "b"}, "", 2, true},
		{"-D with -b", baseFile, []string{"-Db", "F", "alice"}, "", 2, true},
		{"-- then options", baseFile, []string{"--", "-nb", "a", "pw"}, "", 2, true},
		{"missing file", "", []string{"-b", "F", "a", "pw"}, "", 1, true},
		{"-v missing file", "", []string{"-vb", "F", "a", "pw"}, "", 1, true},
		{"-D missing file", "", []string{"-D", "F", "a"}, "", 1, true},
		{"-c in missing directory", "", []string{"-cb", "DIR/none/f", "a", "pw"}, "", 1, true},
		{"-c on a directory", "", []string{"-cb", "DIR", "a", "pw"}, "", 1, true},
		{"colon in user", baseFile, []string{"-b", "F", "a:b", "pw"}, "", 6, true},
		{"user too long", baseFile, []string{"-b", "F", long, "pw"}, "", 5, true},
		{"password too long", baseFile, []string{"-nb", "a", long}, "", 5, true},
		{"record too long", baseFile, []string{"-nb", long[:250], "pw"}, "", 5, true},
		{"-i password too long", baseFile, []string{"-i", "F", "carol"}, long + "\n", 5, true},
		{"bcrypt cost 3", baseFile, []string{"-bB", "-C", "3", "F", "carol", "pw"}, "", 3, true},
		{"bcrypt cost 18", baseFile, []string{"-nbB", "-C", "18", "a", "pw"}, "", 3, true},
		{"bcrypt cost via -r", baseFile, []string{"-nbB", "-r", "5000", "a", "pw"}, "", 3, true},
		{"prompt mismatch", baseFile, []string{"F", "carol"}, "pw\nxx\n", 3, true},
		{"prompt one line only", baseFile, []string{"F", "carol"}, "pw\n", 3, true},
		{"-v ok", baseFile, []string{"-vb", "F", "alice", "pw"}, "", 0, true},
		{"-v indented entry", baseFile, []string{"-vb", "F", "bob", "pw"}, "", 0, true},
		{"-v wrong", baseFile, []string{"-vb", "F", "alice", "nope"}, "", 3, true},
		{"-v unknown user", baseFile, []string{"-vb", "F", "zed", "pw"}, "", 6, true},
		{"-v prompt", baseFile, []string{"-v", "F", "bob"}, "pw\n", 0, true},
		{"-v prompt wrong", baseFile, []string{"-v", "F", "bob"}, "px\n", 3, true},
		{"-v stdin", baseFile, []string{"-vi", "F", "bob"}, "pw", 0, true},
		{"-v empty hash", "alice:\n", []string{"-vb", "F", "alice", "pw"}, "", 7, true},
		{"-v plaintext entry", "alice:pw\n", []string{"-vb", "F", "alice", "pw"}, "", 3, true},
		{"-v garbled entry", "alice:$apr1$xx\n", []string{"-vb", "F", "alice", "pw"}, "", 3, true},
		{"-v invalid file", "junk\nalice:" + apr1PW + "\n", []string{"-vb", "F", "alice", "pw"}, "", 7, true},
		{"-D", baseFile, []string{"-D", "F", "alice"}, "", 0, true},
		{"-D indented", baseFile, []string{"-D", "F", "bob"}, "", 0, true},
		{"-D unknown user", baseFile, []string{"-D", "F", "zed"}, "", 0, true},
		{"-D invalid file", "alice:x\njunk\n", []string{"-D", "F", "zed"}, "", 7, true},
		{"update invalid file", "alice:x\njunk\n", []string{"-b", "F", "carol", "pw"}, "", 7, true},
		{"update", baseFile, []string{"-b", "F", "alice", "new"}, "", 0, false},
		{"add", baseFile, []string{"-bB", "-C", "4", "F", "carol", "pw"}, "", 0, false},
		{"add prompted", baseFile, []string{"F", "carol"}, "pw\npw\n", 0, false},
		{"add from stdin", baseFile, []string{"-i", "F", "carol"}, "pw\r\n", 0, false},
		{"create over a file", baseFile, []string{"-cb", "F", "carol", "pw"}, "", 0, false},
		{"create", "", []string{"-cbs", "F", "carol", "pw"}, "", 0, true},
		{"combined -nbBC4", "", []string{"-nbBC4", "a", "pw"}, "", 0, true},
		{"combined -nbBC 4", "", []string{"-nbBC", "4", "a", "pw"}, "", 0, true},
		{"-- ends options", "", []string{"-nb", "--", "-a", "pw"}, "", 0, true},
		{"--x ends options", "", []string{"-nb", "--x", "a", "pw"}, "", 0, true},
		{"- is an argument", "", []string{"-nb", "-", "pw"}, "", 0, true},
		{"-C ignored for MD5", "", []string{"-nbmC", "5", "a", "pw"}, "", 0, true},
		{"-r with SHA-512", "", []string{"-nb5", "-r", "6000", "a", "pw"}, "", 0, true},
		{"-r with SHA-256", "", []string{"-nb2", "-r", "1000", "a", "pw"}, "", 0, true},
		{"plaintext", "", []string{"-nbp", "a", "pw"}, "", 0, true},
		{"DES truncates", "", []string{"-nbd", "a", "longpassword"}, "", 0, true},
		{"last algorithm wins", "", []string{"-nbBm", "a", "pw"}, "", 0, true},
		{"-i then -b", "", []string{"-nib", "a", "pw"}, "", 0, true},
		{"-b then -i", "", []string{"-nbi", "a", "pw"}, "", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files [2][]byte
			var codes [2]result
			for i, tool := range []func(*testing.T, string, ...string) result{runApache, runHtgate} {
				dir := t.TempDir()
				f := filepath.Join(dir, "f")
				if tt.file != "" {
					if err := os.WriteFile(f, []byte(tt.file), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				args := make([]string, len(tt.args))
				for j, a := range tt.args {
					a = strings.Replace(a, "DIR", dir, 1)
					if a == "F" {
						a = f
					}
					args[j] = a
				}
				codes[i] = tool(t, tt.stdin, args...)
				files[i], _ = os.ReadFile(f)
			}
			apache, htgate := codes[0], codes[1]
			if apache.code != tt.want {
				t.Errorf("Apache's htpasswd %q exited %d, the table says %d; stderr:\n%s", tt.args, apache.code, tt.want, apache.stderr)
			}
			if htgate.code != apache.code {
				t.Errorf("htgate htpasswd %q exited %d, Apache's %d\nhtgate stderr:\n%s\nApache stderr:\n%s", tt.args, htgate.code, apache.code, htgate.stderr, apache.stderr)
			}
			if tt.same && !bytes.Equal(files[0], files[1]) {
				t.Errorf("files differ after %q:\nApache: %q\nhtgate: %q", tt.args, files[0], files[1])
			}
			if !tt.same && htgate.code == 0 {
				h, errs, err := passwd.ParseHtpasswd(bytes.NewReader(files[1]), "f")
				if err != nil || len(errs) != 0 {
					t.Errorf("htgate's file does not parse cleanly: %v %v\n%s", err, errs, files[1])
				}
				ha, _, _ := passwd.ParseHtpasswd(bytes.NewReader(files[0]), "f")
				if strings.Join(h.Users(), " ") != strings.Join(ha.Users(), " ") {
					t.Errorf("users after %q: htgate %q, Apache %q", tt.args, h.Users(), ha.Users())
				}
			}
			if len(tt.args) > 0 && strings.HasPrefix(tt.args[0], "-n") && htgate.code == 0 && !strings.HasSuffix(htgate.stdout, "\n\n") {
				t.Errorf("-n output %q does not end with a blank line like Apache's %q", htgate.stdout, apache.stdout)
			}
		})
	}
}

// TestHtpasswdBothWays checks that a file htgate writes is accepted by
// Apache's htpasswd -v, and one Apache writes is accepted by htgate, in every
// format Apache writes.
func TestHtpasswdBothWays(t *testing.T) {
	needApache(t)
	formats := [][]string{
		{}, {"-m"}, {"-B"}, {"-B", "-C", "4"}, {"-s"}, {"-d"},
		{"-2"}, {"-5"}, {"-2", "-r", "1000"}, {"-5", "-r", "6000"},
	}
	const pw = "Pa$$ w0rd:é"
	for _, flags := range formats {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			dir := t.TempDir()
			byHtgate := filepath.Join(dir, "htgate")
			byApache := filepath.Join(dir, "apache")
			if r := runHtgate(t, "", append(append([]string{"-cb"}, flags...), byHtgate, "u", pw)...); r.code != 0 {
				t.Fatalf("htgate htpasswd -cb %q: exit %d: %s", flags, r.code, r.stderr)
			}
			if r := runApache(t, "", append(append([]string{"-cb"}, flags...), byApache, "u", pw)...); r.code != 0 {
				t.Fatalf("htpasswd -cb %q: exit %d: %s", flags, r.code, r.stderr)
			}
			for _, c := range []struct {
				who  string
				run  func(*testing.T, string, ...string) result
				file string
			}{
				{"Apache verifies htgate's file", runApache, byHtgate},
				{"htgate verifies Apache's file", runHtgate, byApache},
			} {
				if r := c.run(t, "", "-vb", c.file, "u", pw); r.code != 0 {
					data, _ := os.ReadFile(c.file)
					t.Errorf("%s: -vb exit %d, want 0: %s\nfile: %q", c.who, r.code, r.stderr, data)
				}
				if r := c.run(t, "", "-vb", c.file, "u", "pa$$ w0rd:é"); r.code != 3 {
					t.Errorf("%s: -vb with a wrong password: exit %d, want 3", c.who, r.code)
				}
			}
			data, _ := os.ReadFile(byApache)
			if _, errs, _ := passwd.ParseHtpasswd(bytes.NewReader(data), "apache"); len(errs) != 0 {
				t.Errorf("Apache's file has problems for htgate: %v", errs)
			}
		})
	}
}

// TestHtpasswdKeepsOtherLines checks that -D and an update leave every other
// line byte for byte, and that -D gives the very bytes Apache's -D gives.
func TestHtpasswdKeepsOtherLines(t *testing.T) {
	needApache(t)
	const before = "# team\r\nalice:" + apr1PW + "\r\n\n   # indented comment\n  bob:" + sha1PW + "\ncarol:" + sha1PW + "\r\n"
	for _, user := range []string{"alice", "bob", "carol"} {
		var got [2][]byte
		for i, tool := range []func(*testing.T, string, ...string) result{runApache, runHtgate} {
			f := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(f, []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
			if r := tool(t, "", "-D", f, user); r.code != 0 {
				t.Fatalf("-D %s: exit %d: %s", user, r.code, r.stderr)
			}
			got[i], _ = os.ReadFile(f)
		}
		if !bytes.Equal(got[0], got[1]) {
			t.Errorf("-D %s:\nApache: %q\nhtgate: %q", user, got[0], got[1])
		}
	}

	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, []byte(before), 0o640); err != nil {
		t.Fatal(err)
	}
	if r := runHtgate(t, "", "-bs", f, "bob", "new"); r.code != 0 || r.stderr != "Updating password for user bob\n" {
		t.Fatalf("update bob: exit %d, stderr %q", r.code, r.stderr)
	}
	after, _ := os.ReadFile(f)
	want := strings.Replace(before, "  bob:"+sha1PW+"\n", "bob:{SHA}wqawPxkN+ytKqR+K+NR3qbw0Adw=\n", 1)
	if string(after) != want {
		t.Errorf("after update:\n got %q\nwant %q", after, want)
	}
	if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after update = %v, %v, want 0640", fi.Mode(), err)
	}
	if r := runApache(t, "", "-vb", f, "bob", "new"); r.code != 0 {
		t.Errorf("Apache -vb after htgate's update: exit %d: %s", r.code, r.stderr)
	}

	// A file without a final newline: the new record gets its own line.
	if err := os.WriteFile(f, []byte("alice:"+apr1PW), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runHtgate(t, "", "-bs", f, "dave", "pw"); r.code != 0 || r.stderr != "Adding password for user dave\n" {
		t.Fatalf("add dave: exit %d, stderr %q", r.code, r.stderr)
	}
	after, _ = os.ReadFile(f)
	if want := "alice:" + apr1PW + "\ndave:" + sha1PW + "\n"; string(after) != want {
		t.Errorf("after adding to a file without final newline: %q, want %q", after, want)
	}
}

func TestHtpasswdOutput(t *testing.T) {
	r := runHtgate(t, "", "-nbs", "u", "pw")
	if r.code != 0 || r.stdout != "u:"+sha1PW+"\n\n" || r.stderr != "" {
		t.Errorf("-nbs u pw = %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	r = runHtgate(t, "pw\npw\n", "-ns", "u")
	if r.code != 0 || r.stdout != "u:"+sha1PW+"\n\n" || r.stderr != "New password: Re-type new password: " {
		t.Errorf("-ns u (prompted) = %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	r = runHtgate(t, "pw\r\n", "-nis", "u")
	if r.code != 0 || r.stdout != "u:"+sha1PW+"\n\n" {
		t.Errorf("-nis u with CRLF = %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	r = runHtgate(t, "", "-nbd", "u", "longpassword")
	if r.code != 0 || !strings.Contains(r.stderr, "truncated to 8 characters") {
		t.Errorf("-nbd long = %d, %q", r.code, r.stderr)
	}
	r = runHtgate(t, "", "-nbp", "u", "pw")
	if r.code != 0 || r.stdout != "u:pw\n\n" || !strings.Contains(r.stderr, "plain text") {
		t.Errorf("-nbp = %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	r = runHtgate(t, "", "-nbmC", "9", "u", "pw")
	if r.code != 0 || !strings.Contains(r.stderr, "Ignoring -C/-r") {
		t.Errorf("-nbmC 9 = %d, %q", r.code, r.stderr)
	}
	r = runHtgate(t, "", "-nbA", "u", "pw")
	hash := strings.TrimSuffix(strings.TrimPrefix(r.stdout, "u:"), "\n\n")
	if ok, err := passwd.Verify(hash, []byte("pw")); r.code != 0 || !ok || passwd.Identify(hash) != passwd.FormatArgon2id {
		t.Errorf("-nbA = %d, %q: Verify %v, %v", r.code, r.stdout, ok, err)
	}
	r = runHtgate(t, "", "-nb2", "-r", "999", "u", "pw")
	if r.code != 3 {
		t.Errorf("-nb2 -r 999 = %d, want 3 (Apache writes an unusable *0 entry)", r.code)
	}
	for _, user := range []string{"", " a", "#a", "a\nb"} {
		if r := runHtgate(t, "", "-nb", user, "pw"); r.code != 6 {
			t.Errorf("-nb %q pw = %d, want 6", user, r.code)
		}
	}
	r = runHtgate(t, "")
	if r.code != 2 || !strings.Contains(r.stderr, "Usage:") || r.stdout != "" {
		t.Errorf("no arguments = %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, help := range []string{"-h", "--help"} {
		r = runHtgate(t, "", help)
		if r.code != 0 || !strings.Contains(r.stdout, "drop-in") && !strings.Contains(r.stdout, "Apache's") {
			t.Errorf("%s = %d, stdout %q", help, r.code, r.stdout)
		}
	}
	if r := runHtgate(t, "", "-nb", "--help", "pw"); r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
		t.Errorf("-nb --help pw = %d, stdout %q", r.code, r.stdout)
	}
}
