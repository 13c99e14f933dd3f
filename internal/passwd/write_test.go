package passwd

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")

	// New file: defaultPerm (less the umask, which only clears bits).
	if err := WriteFileAtomic(path, []byte("one\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("new file mode = %v, want within 0640", fi.Mode())
	}

	// Existing file: its mode is kept, even bits the umask would clear.
	if err := os.Chmod(path, 0o606); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(path)
	if got, _ := os.ReadFile(path); string(got) != "two\n" || fi.Mode().Perm() != 0o606 {
		t.Errorf("after rewrite: content %q, mode %v, want %q, 0606", got, fi.Mode(), "two\n")
	}

	// A symbolic link stays a link; its target is replaced.
	link := filepath.Join(dir, "link")
	if err := os.Symlink("f", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, []byte("three\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if li, err := os.Lstat(link); err != nil || li.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced by a file: %v, %v", li.Mode(), err)
	}
	if got, _ := os.ReadFile(path); string(got) != "three\n" {
		t.Errorf("target content = %q, want %q", got, "three\n")
	}

	// Nothing left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q, want only f and link", names)
	}

	// Errors.
	if err := WriteFileAtomic(dir, []byte("x"), 0o600); err == nil {
		t.Errorf("WriteFileAtomic(directory) error = nil")
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Errorf("WriteFileAtomic(missing dir) error = nil")
	}
}

// editTests feed TestUpdateHtpasswd and FuzzEditHtpasswd.
var editTests = []struct {
	name       string
	in         string
	user       string
	wantUpdate string
	wantDelete string
	found      bool
}{
	{"empty", "", "a", "a:H\n", "", false},
	{"append keeps others", "# c\nb:x\n", "a", "# c\nb:x\na:H\n", "# c\nb:x\n", false},
	{"append adds final newline", "b:x", "a", "b:x\na:H\n", "b:x", false},
	{"replace in place", "# c\r\n\r\nb:x\r\na:old\r\nc:y", "a", "# c\r\n\r\nb:x\r\na:H\r\nc:y", "# c\r\n\r\nb:x\r\nc:y", true},
	{"replace last line without newline", "b:x\na:old", "a", "b:x\na:H", "b:x\n", true},
	{"replace every duplicate", "a:1\nb:x\n  a:2\n", "a", "a:H\nb:x\na:H\n", "b:x\n", true},
	{"prefix is not a match", "ab:x\na b:y\n", "a", "ab:x\na b:y\na:H\n", "ab:x\na b:y\n", false},
	{"indented comment", "  # a:x\n", "a", "  # a:x\na:H\n", "  # a:x\n", false},
	{"whitespace lines kept", " \t \n", "a", " \t \na:H\n", " \t \n", false},
	{"trailing backslash", "# c\\\r\n", "a", "# c\\\r\n\na:H\n", "# c\\\r\n", false},
}

func TestUpdateHtpasswd(t *testing.T) {
	for _, tt := range editTests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := UpdateHtpasswd([]byte(tt.in), tt.user, "H")
			if err != nil || string(got) != tt.wantUpdate || found != tt.found {
				t.Errorf("UpdateHtpasswd(%q, %q) = %q, %v, %v, want %q, %v", tt.in, tt.user, got, found, err, tt.wantUpdate, tt.found)
			}
			got, found, err = DeleteHtpasswdUser([]byte(tt.in), tt.user)
			if err != nil || string(got) != tt.wantDelete || found != tt.found {
				t.Errorf("DeleteHtpasswdUser(%q, %q) = %q, %v, %v, want %q, %v", tt.in, tt.user, got, found, err, tt.wantDelete, tt.found)
			}
		})
	}
}

func TestEditHtpasswdErrors(t *testing.T) {
	if _, _, err := UpdateHtpasswd([]byte("a:x\njunk\n"), "b", "H"); !errors.Is(err, ErrNotHtpasswd) {
		t.Errorf("UpdateHtpasswd(no colon) error = %v, want ErrNotHtpasswd", err)
	}
	if _, _, err := DeleteHtpasswdUser([]byte("junk"), "b"); !errors.Is(err, ErrNotHtpasswd) {
		t.Errorf("DeleteHtpasswdUser(no colon) error = %v, want ErrNotHtpasswd", err)
	}
	for _, bad := range []struct{ user, hash string }{
		{"a:b", "H"}, {"a\nb", "H"}, {"a\x00", "H"}, {"a", ""}, {"a", "x:y"}, {"a", "x\ny"},
		{"", "H"}, {" a", "H"}, {"\ta", "H"}, {"#a", "H"},
	} {
		if _, _, err := UpdateHtpasswd(nil, bad.user, bad.hash); err == nil {
			t.Errorf("UpdateHtpasswd(%q, %q) error = nil", bad.user, bad.hash)
		}
	}
}
