package passwd

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
)

// Digest hash algorithms an htdigest entry can hold, as the Digest
// algorithm parameter names them (RFC 7616 §6.1); the -sess variants use
// the same stored hash.
const (
	// DigestMD5 entries hold MD5(user ":" realm ":" password) as 32
	// lower-case hex digits: what Apache's htdigest writes and
	// mod_auth_digest reads.
	DigestMD5 = "MD5"
	// DigestSHA256 entries hold SHA-256(user ":" realm ":" password) as 64
	// lower-case hex digits: an htgate extension for Digest with SHA-256,
	// which Apache cannot use.
	DigestSHA256 = "SHA-256"
)

// DigestHA1 returns H(user ":" realm ":" password) in lower-case hex, the
// H(A1) of RFC 7616 §3.4.2 that an htdigest entry stores, for algorithm
// DigestMD5 or DigestSHA256 (anything else is MD5).
func DigestHA1(algorithm, user, realm, password string) string {
	return digestHex(algorithm, user+":"+realm+":"+password)
}

func digestHex(algorithm, s string) string {
	var h hash.Hash
	if algorithm == DigestSHA256 {
		h = sha256.New()
	} else {
		h = md5.New()
	}
	h.Write([]byte(s))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// Htdigest is an immutable snapshot of an htdigest file: lines
// "user:realm:hash". It is safe for concurrent use.
//
// It reads the file the way Apache httpd 2.4's mod_authn_file does for
// Digest (get_realm_hash): lines are read as for htpasswd (trimmed, a
// trailing backslash continues a line, blank lines and '#' comments are
// skipped, a line longer than 8190 bytes ends the file), the user name is
// the text before the first ':', the realm the next field and the hash
// the one after it (repeated ':' separators count as one, later fields
// are ignored), and the first line of a user and realm is the one that
// counts. The hash is MD5, 32 lower-case hex digits; htgate also reads 64
// lower-case hex digits as the SHA-256 hash (DigestSHA256), which a later
// line of the same user and realm may add. Where Apache would silently do
// something surprising the line is reported as a LineError and never
// matches:
//
//   - no ':' at all, no realm or hash field, an empty user name, a NUL;
//   - a hash that is not 32 or 64 lower-case hex digits (upper-case hex
//     never matches in Apache, which hashes the text as it is);
//   - a second line for the same user, realm and hash kind, or an MD5
//     line after a SHA-256 line (Apache reads only the first line of a
//     user and realm); if the first line is malformed the user never
//     matches in that realm;
//   - a comment continued by a trailing backslash.
type Htdigest struct {
	name    string
	entries map[htdigestKey]*htdigestEntry
	order   []htdigestKey // usable entries, in file order
	errs    []*LineError
	dummy   [2]string // MD5, SHA-256

	hashes sync.Map // userhashKey -> map[string]string (userhash -> user)
}

type htdigestKey struct{ user, realm string }

type htdigestEntry struct {
	md5, sha256 string
	first       int        // line of the first entry
	kind        string     // DigestMD5 or DigestSHA256: the first line's
	problem     *LineError // non-nil: the first line is unusable
}

type userhashKey struct{ algorithm, realm string }

// ParseHtdigest reads an htdigest file. name is used in LineErrors. The
// returned LineErrors (also kept by the snapshot) describe lines that never
// match; the error is non-nil only if r cannot be read or holds more than
// MaxFileSize bytes.
func ParseHtdigest(r io.Reader, name string) (*Htdigest, []*LineError, error) {
	data, err := readAll(r, name)
	if err != nil {
		return nil, nil, err
	}
	h := &Htdigest{name: name, entries: make(map[htdigestKey]*htdigestEntry)}
	for i, n := range [...]int{md5.Size, sha256.Size} {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", name, err)
		}
		h.dummy[i] = hex.EncodeToString(b)
	}
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

// splitHtdigest splits a line into user, realm and hash as Apache's
// ap_getword(…, ':') does. ok is false when there is no ':' at all.
func splitHtdigest(text string) (user, realm, hashField string, ok bool) {
	user, rest, ok := strings.Cut(text, ":")
	if !ok {
		return user, "", "", false
	}
	realm, rest, _ = strings.Cut(strings.TrimLeft(rest, ":"), ":")
	hashField, _, _ = strings.Cut(strings.TrimLeft(rest, ":"), ":")
	return user, realm, hashField, true
}

// addLine parses one logical line into h.
func (h *Htdigest) addLine(l configLine) {
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
	user, realm, hashField, found := splitHtdigest(text)
	switch {
	case !found:
		lineErr(ErrMissingColon.Error(), ErrMissingColon)
		return
	case strings.IndexByte(text, 0) >= 0:
		lineErr("NUL byte in the line", nil)
		return
	case user == "":
		lineErr("empty user name", nil)
		return
	}
	key := htdigestKey{user, realm}
	e := h.entries[key]
	var kind, problem string
	switch {
	case hashField == "":
		problem = fmt.Sprintf("user %q: missing realm or hash (the format is user:realm:hash)", user)
		kind = ""
	case len(hashField) == 2*md5.Size && isLowerHex(hashField):
		kind = DigestMD5
	case len(hashField) == 2*sha256.Size && isLowerHex(hashField):
		kind = DigestSHA256
	case (len(hashField) == 2*md5.Size || len(hashField) == 2*sha256.Size) && isHexDigits(hashField):
		problem = fmt.Sprintf("user %q realm %q: upper-case hex never matches (Apache hashes the text as it is)", user, realm)
	default:
		problem = fmt.Sprintf("user %q realm %q: hash is not 32 (MD5) or 64 (SHA-256) hex digits", user, realm)
	}
	if e == nil {
		e = &htdigestEntry{first: l.num, kind: kind}
		h.entries[key] = e
		if problem != "" {
			e.problem = lineErr(problem, emptyHashErr(hashField))
			return
		}
		e.set(kind, hashField)
		h.order = append(h.order, key)
		return
	}
	switch {
	case e.problem != nil:
		lineErr(fmt.Sprintf("user %q realm %q: the malformed entry on line %d is the one Apache reads, so this line never matches", user, realm, e.first), nil)
	case problem != "":
		lineErr(problem, emptyHashErr(hashField))
	case kind == DigestMD5 && e.kind == DigestSHA256:
		lineErr(fmt.Sprintf("user %q realm %q: Apache reads only the first line of a user and realm (line %d, SHA-256), so this MD5 line never matches: put it first", user, realm, e.first), nil)
	case e.get(kind) != "":
		lineErr(fmt.Sprintf("duplicate %s entry for user %q realm %q: the entry on line %d wins, as in Apache", kind, user, realm, e.first), nil)
	default:
		e.set(kind, hashField)
	}
}

// emptyHashErr returns ErrEmptyHash for an empty hash field, else nil.
func emptyHashErr(hashField string) error {
	if hashField == "" {
		return ErrEmptyHash
	}
	return nil
}

func (e *htdigestEntry) set(kind, h string) {
	if kind == DigestSHA256 {
		e.sha256 = h
	} else {
		e.md5 = h
	}
}

func (e *htdigestEntry) get(kind string) string {
	if kind == DigestSHA256 {
		return e.sha256
	}
	return e.md5
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isHexDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Name returns the name the snapshot was parsed with.
func (h *Htdigest) Name() string { return h.name }

// Lookup returns the stored H(user ":" realm ":" password) of user in realm
// for algorithm (DigestMD5 or DigestSHA256) in lower-case hex. ok is false
// for an unknown user or realm, a malformed entry, or an entry without a
// hash of that algorithm.
func (h *Htdigest) Lookup(user, realm, algorithm string) (ha1 string, ok bool) {
	e := h.entries[htdigestKey{user, realm}]
	if e == nil || e.problem != nil {
		return "", false
	}
	ha1 = e.get(algorithm)
	return ha1, ha1 != ""
}

// Dummy returns a random H(A1) of algorithm's length, fixed for the
// snapshot, to compute the response of an unknown user against so that it
// takes as long as a known one.
func (h *Htdigest) Dummy(algorithm string) string {
	if algorithm == DigestSHA256 {
		return h.dummy[1]
	}
	return h.dummy[0]
}

// Problem returns the LineError of the entry of user in realm if it never
// matches, and nil for a usable entry or an unknown one.
func (h *Htdigest) Problem(user, realm string) *LineError {
	if e := h.entries[htdigestKey{user, realm}]; e != nil {
		return e.problem
	}
	return nil
}

// Users returns the users with a usable entry in realm, in file order.
func (h *Htdigest) Users(realm string) []string {
	var out []string
	for _, k := range h.order {
		if k.realm == realm {
			out = append(out, k.user)
		}
	}
	return out
}

// Len returns the number of usable (user, realm) entries.
func (h *Htdigest) Len() int { return len(h.order) }

// LineErrors returns the problems found while parsing, in file order.
func (h *Htdigest) LineErrors() []*LineError {
	return append([]*LineError(nil), h.errs...)
}

// Algorithms returns the algorithms for which every user of realm has a
// hash, SHA-256 before MD5; nil when realm has no usable entry.
func (h *Htdigest) Algorithms(realm string) []string {
	users, md5s, shas := 0, 0, 0
	for _, k := range h.order {
		if k.realm != realm {
			continue
		}
		users++
		e := h.entries[k]
		if e.md5 != "" {
			md5s++
		}
		if e.sha256 != "" {
			shas++
		}
	}
	var out []string
	if users > 0 && shas == users {
		out = append(out, DigestSHA256)
	}
	if users > 0 && md5s == users {
		out = append(out, DigestMD5)
	}
	return out
}

// UserByHash returns the user of realm whose H(user ":" realm), with
// algorithm (DigestMD5 or DigestSHA256), is userhash (RFC 7616 §3.4.4),
// compared case-insensitively. The table is computed once per realm and
// algorithm.
func (h *Htdigest) UserByHash(userhash, realm, algorithm string) (user string, ok bool) {
	if algorithm != DigestSHA256 {
		algorithm = DigestMD5
	}
	key := userhashKey{algorithm, realm}
	m, found := h.hashes.Load(key)
	if !found {
		table := make(map[string]string)
		for _, u := range h.Users(realm) {
			hu := digestHex(algorithm, u+":"+realm)
			if _, dup := table[hu]; !dup {
				table[hu] = u
			}
		}
		m, _ = h.hashes.LoadOrStore(key, table)
	}
	user, ok = m.(map[string]string)[strings.ToLower(userhash)]
	return user, ok
}

// UpdateHtdigest returns data with the entries of user in realm set to
// one line "user:realm:ha1" per ha1, in order (Apache's htdigest writes
// one MD5 line; put MD5 first, since Apache reads only the first line of
// a user and realm). The first line of user in realm is replaced, later
// ones are removed (Apache's tool keeps them, stale); every other line is
// kept byte for byte, including lines that are not entries. When there is
// no such line the entries are appended, after a final line feed is added
// if missing. found reports whether an entry was replaced.
func UpdateHtdigest(data []byte, user, realm string, ha1s ...string) (out []byte, found bool, err error) {
	if err := checkDigestEntry(user, realm, ha1s); err != nil {
		return nil, false, err
	}
	out = make([]byte, 0, len(data)+len(ha1s)*(len(user)+len(realm)+68))
	writeRecord := func(ending []byte) {
		sep := ending
		if len(sep) == 0 {
			sep = []byte{'\n'}
		}
		for i, h := range ha1s {
			out = append(out, user+":"+realm+":"+h...)
			if i < len(ha1s)-1 {
				out = append(out, sep...)
			} else {
				out = append(out, ending...)
			}
		}
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		content := bytes.TrimRight(line, "\r\n")
		trimmed := string(bytes.TrimFunc(content, isSpace))
		u, r, _, ok := splitHtdigest(trimmed)
		if trimmed == "" || trimmed[0] == '#' || !ok || u != user || r != realm {
			out = append(out, line...)
			continue
		}
		if !found {
			writeRecord(line[len(content):])
			found = true
		}
	}
	if found {
		return out, true, nil
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if bytes.HasSuffix(bytes.TrimRight(out, "\r\n"), []byte{'\\'}) {
		out = append(out, '\n') // the last line's backslash would swallow the record
	}
	writeRecord([]byte{'\n'})
	return out, false, nil
}

// checkDigestEntry refuses user names, realms and hashes that would break
// the file or that no reader could ever match.
func checkDigestEntry(user, realm string, ha1s []string) error {
	if strings.ContainsAny(user, ":\r\n\x00") {
		return fmt.Errorf("user name %q: must not contain ':', CR, LF or NUL", user)
	}
	if user == "" || isSpace(rune(user[0])) || user[0] == '#' {
		return fmt.Errorf("user name %q: must not be empty or start with white space or '#'", user)
	}
	if strings.ContainsAny(realm, ":\r\n\x00") {
		return fmt.Errorf("realm %q: must not contain ':', CR, LF or NUL", realm)
	}
	if len(ha1s) == 0 {
		return fmt.Errorf("no hash to write")
	}
	for _, h := range ha1s {
		if (len(h) != 2*md5.Size && len(h) != 2*sha256.Size) || !isLowerHex(h) {
			return fmt.Errorf("hash must be 32 or 64 lower-case hex digits")
		}
	}
	if n := len(user) + len(realm) + 2*sha256.Size + 2; n > htpasswdMaxLine {
		return fmt.Errorf("user name and realm too long: the line would exceed %d bytes", htpasswdMaxLine)
	}
	return nil
}
