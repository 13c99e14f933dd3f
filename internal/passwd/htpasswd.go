package passwd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// ErrMissingColon classifies a LineError for a line that is not "user:hash"
// at all. Apache's htpasswd refuses to edit a file with such a line ("does
// not appear to be a valid htpasswd file", exit status 7).
var ErrMissingColon = errors.New("missing ':' between user name and hash")

// ErrEmptyHash classifies a LineError for an entry with nothing after the
// user name ("Empty hash" to Apache's htpasswd -v, exit status 7).
var ErrEmptyHash = errors.New("empty hash")

// Htpasswd is an immutable snapshot of an htpasswd file. It is safe for
// concurrent use.
//
// It reads the file the way Apache httpd 2.4's mod_authn_file does: lines
// are trimmed of white space, a trailing backslash continues a line, blank
// lines and lines starting with '#' are ignored, the user name is the text
// before the first ':' and the hash the text after it up to the next ':'
// (further fields are ignored). Where Apache would silently do something
// surprising, the line is reported as a LineError and never matches:
//
//   - no ':' at all, an empty user name, an empty hash, a NUL byte;
//   - a hash in no format Verify accepts (including plaintext, which Apache
//     on Linux never matches either), or above the cost limits;
//   - a second entry for a user: the first one wins, as in Apache. If the
//     first entry is malformed the user never matches, even when a later
//     one is well formed, since Apache would stop at the first;
//   - a comment continued by a trailing backslash, which hides the lines
//     it swallows.
//
// A line longer than 8190 bytes ends the file, as Apache stops reading there.
type Htpasswd struct {
	name    string
	entries map[string]htpasswdEntry
	users   []string // users with a usable entry, in file order
	errs    []*LineError

	dummyOnce sync.Once
	dummy     string
}

type htpasswdEntry struct {
	hash    string
	line    int
	problem *LineError // non-nil: the user's first entry is unusable
}

// ParseHtpasswd reads an htpasswd file. name is used in LineErrors. The
// returned LineErrors (also kept by the snapshot, see LineErrors) describe
// lines that never match; the error is non-nil only if r cannot be read or
// holds more than MaxFileSize bytes.
func ParseHtpasswd(r io.Reader, name string) (*Htpasswd, []*LineError, error) {
	data, err := readAll(r, name)
	if err != nil {
		return nil, nil, err
	}
	h := &Htpasswd{name: name, entries: make(map[string]htpasswdEntry)}
	for l := range configLines(data, htpasswdMaxLine) {
		if l.tooLong {
			h.errs = append(h.errs, &LineError{File: name, Line: l.num,
				Msg: fmt.Sprintf("line longer than %d bytes: Apache stops reading the file here, and so does htgate", htpasswdMaxLine)})
			break
		}
		h.addLine(l)
	}
	return h, h.errs, nil
}

// addLine parses one logical line into h.
func (h *Htpasswd) addLine(l configLine) {
	lineErr := func(msg string, sentinel error) *LineError {
		e := &LineError{File: h.name, Line: l.num, Msg: msg, Err: sentinel}
		h.errs = append(h.errs, e)
		return e
	}
	if msg := swallowedByComment(l); msg != "" {
		lineErr(msg, nil)
		return
	}
	text := l.text
	if text == "" || text[0] == '#' {
		return
	}
	user, rest, found := strings.Cut(text, ":")
	if strings.IndexByte(user, 0) >= 0 {
		lineErr("NUL byte in user name", nil)
		return
	}
	if prev, dup := h.entries[user]; dup {
		lineErr(fmt.Sprintf("duplicate entry for user %q: the entry on line %d wins, as in Apache", user, prev.line), nil)
		return
	}
	if !found {
		// Apache takes the whole line as a user name with an empty hash,
		// so it shadows any later entry of that name.
		e := lineErr(ErrMissingColon.Error(), ErrMissingColon)
		h.entries[user] = htpasswdEntry{line: l.num, problem: e}
		return
	}
	// Apache's ap_getword skips repeated separators, then stops at the next.
	hash, _, _ := strings.Cut(strings.TrimLeft(rest, ":"), ":")
	var problem *LineError
	switch {
	case user == "":
		problem = lineErr("empty user name", nil)
	case hash == "":
		problem = lineErr(fmt.Sprintf("user %q: empty hash", user), ErrEmptyHash)
	case strings.IndexByte(hash, 0) >= 0:
		problem = lineErr(fmt.Sprintf("user %q: NUL byte in hash", user), nil)
	default:
		if err := Check(hash); err != nil {
			problem = lineErr(fmt.Sprintf("user %q: %v", user, err), nil)
		}
	}
	h.entries[user] = htpasswdEntry{hash: hash, line: l.num, problem: problem}
	if problem == nil {
		h.users = append(h.users, user)
	}
}

// Name returns the name the snapshot was parsed with.
func (h *Htpasswd) Name() string { return h.name }

// Lookup returns the hash of user's entry. ok is false for an unknown user
// and for a user whose entry is malformed (see Problem).
func (h *Htpasswd) Lookup(user string) (hash string, ok bool) {
	e, found := h.entries[user]
	if !found || e.problem != nil {
		return "", false
	}
	return e.hash, true
}

// Problem returns the LineError of user's entry if the user has one that
// never matches, and nil for a usable entry or an unknown user. explain and
// doctor use it to say why a known name cannot log in.
func (h *Htpasswd) Problem(user string) *LineError {
	return h.entries[user].problem
}

// Users returns the users with a usable entry, in file order.
func (h *Htpasswd) Users() []string {
	return append([]string(nil), h.users...)
}

// Len returns the number of users with a usable entry.
func (h *Htpasswd) Len() int { return len(h.users) }

// LineErrors returns the problems found while parsing, in file order.
func (h *Htpasswd) LineErrors() []*LineError {
	return append([]*LineError(nil), h.errs...)
}

// Dummy returns a hash of a random password in the most common format and
// cost of the file (ties go to the one seen first), to verify passwords of
// unknown users against so that they take as long as known ones. A file with
// no usable entry gets bcrypt at DefaultBcryptCost. It is computed once, on
// first use.
func (h *Htpasswd) Dummy() string {
	h.dummyOnce.Do(func() {
		type key struct {
			f Format
			c int
		}
		count := make(map[key]int)
		var best key
		var rep string
		for _, u := range h.users {
			hash := h.entries[u].hash
			f, c := Cost(hash)
			k := key{f, c}
			count[k]++
			if rep == "" || count[k] > count[best] {
				best, rep = k, hash
			}
		}
		h.dummy = DummyHash(rep)
	})
	return h.dummy
}
