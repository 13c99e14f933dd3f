//go:build unix

package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/store/fileimport"
)

// These tests import files written by Apache's tools through
// fileimport into a real store; they live here so that fileimport's own
// tests (and fuzzing) do not build the SQLite driver.

func openStore(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// apache runs one of Apache's tools (Debian's apache2-utils, which .ci/run
// installs) in its own session, so that it reads passwords from stdin.
func apache(t *testing.T, stdin string, tool string, args ...string) string {
	t.Helper()
	path := "/usr/bin/" + tool
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s not found: install Debian's apache2-utils (.ci/run does)", path)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v: %s", tool, args, err, errOut.String())
	}
	return out.String()
}

func line(t *testing.T, args ...string) string {
	t.Helper()
	return strings.TrimSpace(apache(t, "", "htpasswd", args...))
}

// TestImportApacheHtpasswd imports a file written by Apache's htpasswd in
// every format it writes, and checks that every hash was copied as it is
// and still verifies the password.
func TestImportApacheHtpasswd(t *testing.T) {
	lines := []string{
		"# written by Apache's htpasswd",
		line(t, "-nbB", "-C", "4", "alice", "alice-pw"),
		line(t, "-nbm", "bob", "bob pw"),
		line(t, "-nbs", "carol", "carol-pw"),
		line(t, "-nb2", "dave", "dave-pw"),
		line(t, "-nb5", "erin", "erin-pw"),
		line(t, "-nbd", "frank", "frank-pw"),
		"",
		"grace:plaintext-is-refused",
		"no-colon-here",
		line(t, "-nbm", "Alice", "again"), // the same canonical name as line 2
		"  " + line(t, "-nbB", "-C", "4", "jos\u00e9", "p\u00e4ss") + "  \r",
		"heidi:$apr1$cont\\",
		"inued$xx",
		"bad name:" + line(t, "-nbs", "x", "y")[2:],
	}
	data := strings.Join(lines, "\n") + "\n"
	db := openStore(t)
	ctx := store.WithActor(context.Background(), store.Actor{Name: "test"})
	var progress []int64
	sum, err := fileimport.Run(ctx, db, strings.NewReader(data), fileimport.Options{Batch: 3, Progress: func(n int64) { progress = append(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Format != fileimport.Htpasswd || sum.Imported != 7 || sum.Skipped != 1 || sum.Failed != 4 || sum.Lines != 15 {
		t.Errorf("summary = %+v, want htpasswd, 15 lines, 7 imported, 1 skipped, 4 failed", sum)
	}
	var got []string
	for _, p := range sum.Problems {
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Kind))
	}
	if want := []string{"9 failed", "10 failed", "11 skipped", "13 failed", "15 failed"}; !cmp.Equal(got, want) {
		t.Errorf("problems = %v (%+v), want %v", got, sum.Problems, want)
	}
	if len(progress) == 0 || progress[len(progress)-1] != int64(len(data)) {
		t.Errorf("progress = %v, want it to end at %d bytes", progress, len(data))
	}
	for _, tt := range []struct{ user, password string }{
		{"alice", "alice-pw"}, {"bob", "bob pw"}, {"carol", "carol-pw"}, {"dave", "dave-pw"},
		{"erin", "erin-pw"}, {"frank", "frank-pw"}, {"jos\u00e9", "p\u00e4ss"},
	} {
		u, err := db.User(ctx, tt.user)
		if err != nil {
			t.Errorf("user %s: %v", tt.user, err)
			continue
		}
		if !strings.Contains(data, tt.user+":"+u.Hash) {
			t.Errorf("user %s: stored hash %q is not the file's", tt.user, u.Hash)
		}
		if ok, err := passwd.Verify(u.Hash, []byte(tt.password)); !ok || err != nil {
			t.Errorf("user %s: the imported hash does not verify the password (%v)", tt.user, err)
		}
	}
	// Importing again skips everyone; --replace replaces.
	sum, err = fileimport.Run(ctx, db, strings.NewReader(lines[1]+"\n"), fileimport.Options{})
	if err != nil || sum.Skipped != 1 || !strings.Contains(sum.Problems[0].Msg, "--replace") {
		t.Errorf("second import = %+v, %v", sum, err)
	}
	sum, err = fileimport.Run(ctx, db, strings.NewReader(line(t, "-nbs", "alice", "new")+"\n"), fileimport.Options{Replace: true})
	if err != nil || sum.Replaced != 1 {
		t.Errorf("replace = %+v, %v", sum, err)
	}
	if u, _ := db.User(ctx, "alice"); !strings.HasPrefix(u.Hash, "{SHA}") {
		t.Errorf("replaced hash = %q", u.Hash)
	}
}

func TestImportApacheHtdigest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "digest")
	apache(t, "pw1\npw1\n", "htdigest", "-c", path, "Members", "alice")
	apache(t, "pw2\npw2\n", "htdigest", path, "Members", "Bob")
	apache(t, "pw3\npw3\n", "htdigest", path, "Admins", "alice")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t)
	ctx := context.Background()
	sum, err := fileimport.Run(ctx, db, bytes.NewReader(data), fileimport.Options{Realm: "Members"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Format != fileimport.Htdigest || sum.Imported != 2 || sum.Skipped != 1 || sum.Failed != 0 {
		t.Errorf("summary = %+v, want htdigest, 2 imported, 1 skipped (other realm)", sum)
	}
	snap, err := db.Snapshot(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ user, name, pw string }{{"alice", "alice", "pw1"}, {"bob", "Bob", "pw2"}} {
		name, ha1, ok := snap.Credentials.DigestSecret(tt.user, "Members", store.DigestMD5)
		if !ok || name != tt.name || ha1 != passwd.DigestHA1(passwd.DigestMD5, tt.name, "Members", tt.pw) {
			t.Errorf("secret of %s = %q %q %v", tt.user, name, ha1, ok)
		}
	}
	if _, _, ok := snap.Credentials.DigestSecret("alice", "Admins", store.DigestMD5); ok {
		t.Error("a secret of another realm was imported despite --realm")
	}
	if _, err := fileimport.Run(ctx, db, bytes.NewReader(data), fileimport.Options{Realm: "Members", Format: fileimport.Htpasswd}); err == nil {
		t.Error("--realm with an htpasswd file: no error")
	}
}

func TestImportGroups(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := db.AddUser(ctx, store.User{Name: u, Hash: "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="}); err != nil {
			t.Fatal(err)
		}
	}
	data := "# groups\nadmins: alice\nstaff: bob  'carol' nobody\nstaff: alice bob\nbad group: alice\nnocolon\n"
	sum, err := fileimport.Run(ctx, db, strings.NewReader(data), fileimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Format != fileimport.Group || sum.Imported != 4 || sum.Skipped != 1 || sum.Failed != 3 {
		t.Errorf("summary = %+v, want group, 4 imported, 1 skipped, 3 failed", sum)
	}
	g, err := db.Group(ctx, "staff")
	if err != nil || !cmp.Equal(g.Members, []string{"alice", "bob", "carol"}) {
		t.Errorf("staff = %v, %v", g.Members, err)
	}
}

func TestLongLine(t *testing.T) {
	db := openStore(t)
	data := "a:" + strings.Repeat("x", fileimport.MaxLine+10) + "\n" + line(t, "-nbs", "b", "pw") + "\n"
	sum, err := fileimport.Run(context.Background(), db, strings.NewReader(data), fileimport.Options{Format: fileimport.Htpasswd})
	if err != nil || sum.Failed != 1 || sum.Imported != 1 || sum.Problems[0].Line != 1 {
		t.Errorf("summary = %+v, %v", sum, err)
	}
}
