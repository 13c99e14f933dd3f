package passwd

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteFileAtomic replaces the file at path with data so that readers see
// either the old or the new content, never a mix: it writes a temporary file
// in the same directory, syncs it, gives it the existing file's permission
// bits (and, when running as root, its owner and group), renames it over
// path and syncs the directory. A new file gets defaultPerm less the umask.
// A symbolic link at path is followed, so the link stays and its target is
// replaced. Unlike an in-place rewrite, the new file belongs to the caller
// unless the caller is root, and hard links to the old file keep the old
// content.
func WriteFileAtomic(path string, data []byte, defaultPerm os.FileMode) (err error) {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	old, statErr := os.Stat(target)
	switch {
	case statErr == nil && !old.Mode().IsRegular():
		return fmt.Errorf("write %s: not a regular file", path)
	case statErr != nil && !errors.Is(statErr, fs.ErrNotExist):
		return fmt.Errorf("write %s: %w", path, statErr)
	}
	exists := statErr == nil

	dir, base := filepath.Split(target)
	var suffix [8]byte
	rand.Read(suffix[:])
	tmpPath := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(suffix[:]))
	perm := defaultPerm
	if exists {
		perm = old.Mode().Perm()
	}
	tmp, err := os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpPath)
		}
	}()
	if exists {
		// The umask may have cleared bits at creation; restore them all.
		if err := tmp.Chmod(old.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := chownLike(tmp, old); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmpPath, target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Clean(dir + ".")); err == nil {
		// Best effort: some systems cannot sync a directory.
		d.Sync()
		d.Close()
	}
	return nil
}

// ErrNotHtpasswd is returned by UpdateHtpasswd and DeleteHtpasswdUser for
// content with a line that has no ':' (Apache's htpasswd: "does not appear to
// be a valid htpasswd file").
var ErrNotHtpasswd = errors.New("not a valid htpasswd file")

// UpdateHtpasswd returns data with user's entry set to hash. Every line that
// is not an entry for user is kept byte for byte (comments, blank lines,
// order, line endings, other users). Each entry for user is replaced (as
// Apache's htpasswd does, so that no stale duplicate survives), keeping its
// line ending; if there is none the entry is appended, after adding a final
// line feed to the content if it lacked one (and a blank line if the last
// line ends with a backslash, which Apache would read as a continuation).
// found reports whether an entry was replaced.
//
// Lines are matched like Apache's htpasswd does: leading white space is
// skipped, blank lines and '#' comments are kept, and the user name is the
// text before the first ':'. A line without ':' makes the content invalid
// (ErrNotHtpasswd, wrapped with the line number).
func UpdateHtpasswd(data []byte, user, hash string) (out []byte, found bool, err error) {
	if err := checkEntry(user, hash); err != nil {
		return nil, false, err
	}
	record := user + ":" + hash
	out, found, err = editHtpasswd(data, user, func(ending []byte) []byte {
		return append([]byte(record), ending...)
	})
	if err != nil || found {
		return out, found, err
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if bytes.HasSuffix(bytes.TrimRight(out, "\r\n"), []byte{'\\'}) {
		// The last line ends with a backslash, which Apache reads as a
		// continuation: a blank line keeps it from swallowing the record.
		out = append(out, '\n')
	}
	return append(out, record+"\n"...), false, nil
}

// DeleteHtpasswdUser returns data without user's entries, every other line
// kept byte for byte; found reports whether there was one. See
// UpdateHtpasswd for how lines are matched.
func DeleteHtpasswdUser(data []byte, user string) (out []byte, found bool, err error) {
	return editHtpasswd(data, user, func([]byte) []byte { return nil })
}

// checkEntry refuses user names and hashes that would break the file or
// that no reader could ever match (a name starting with white space or '#').
func checkEntry(user, hash string) error {
	if strings.ContainsAny(user, ":\r\n\x00") {
		return fmt.Errorf("user name %q: must not contain ':', CR, LF or NUL", user)
	}
	if user == "" || isSpace(rune(user[0])) || user[0] == '#' {
		return fmt.Errorf("user name %q: must not be empty or start with white space or '#'", user)
	}
	if hash == "" || strings.ContainsAny(hash, ":\r\n\x00") {
		return errors.New("hash must be non-empty and contain no ':', CR, LF or NUL")
	}
	return nil
}

// editHtpasswd copies data, replacing each line that is an entry for user
// by replace(its line ending).
func editHtpasswd(data []byte, user string, replace func(ending []byte) []byte) ([]byte, bool, error) {
	out := make([]byte, 0, len(data)+len(user)+128)
	found := false
	for num := 1; len(data) > 0; num++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		content := bytes.TrimRight(line, "\r\n")
		ending := line[len(content):]
		trimmed := bytes.TrimLeftFunc(content, isSpace)
		if len(bytes.TrimRightFunc(trimmed, isSpace)) == 0 || trimmed[0] == '#' {
			out = append(out, line...)
			continue
		}
		name, _, ok := bytes.Cut(trimmed, []byte{':'})
		if !ok {
			return nil, false, fmt.Errorf("line %d: %w", num, ErrNotHtpasswd)
		}
		if string(name) != user {
			out = append(out, line...)
			continue
		}
		found = true
		out = append(out, replace(ending)...)
	}
	return out, found, nil
}
