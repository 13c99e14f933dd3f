// Package fileimport brings Apache credential files into the managed
// store: htpasswd files (users and their hashes, copied as they are, never
// recomputed), htdigest files (Digest secrets) and group files
// (memberships). It reads the file as a stream, line by line, the way
// Apache reads it (trimmed lines, '#' comments, a trailing backslash
// continues a line), and writes in batches of one transaction each, so
// that a million lines import in seconds with bounded memory.
//
// It imports store and the standard library.
package fileimport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/store"
)

// Format is the kind of file.
type Format string

// Formats.
const (
	Htpasswd Format = "htpasswd" // user:hash
	Htdigest Format = "htdigest" // user:realm:hash
	Group    Format = "group"    // group: user1 user2
)

// ParseFormat checks a --format value; "" means Detect.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", Htpasswd, Htdigest, Group:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want htpasswd, htdigest or group", s)
}

// DefaultBatch is the number of items written per transaction.
const DefaultBatch = 5000

// MaxLine is the longest logical line read; a longer one is a failed line.
const MaxLine = 1 << 20

// MaxProblems bounds the problems a Summary lists (all are counted).
const MaxProblems = 1000

// Options tune Run.
type Options struct {
	// Format of the file; "" detects it from the first entry (Detect).
	Format Format
	// Realm, for htdigest files, imports only the entries of this realm
	// (the others are skipped). "" imports every realm.
	Realm string
	// Replace overwrites existing users' hashes (htpasswd) and existing
	// secrets (htdigest) instead of skipping them.
	Replace bool
	// Batch is the number of items per transaction. Default DefaultBatch.
	Batch int
	// Progress, when not nil, is called with the number of bytes read so
	// far after every batch and at the end.
	Progress func(read int64)
}

// Problem is a line that was skipped or failed.
type Problem struct {
	Line   int                `json:"line"`
	Result store.ImportResult `json:"-"`
	Kind   string             `json:"result"` // "skipped" or "failed"
	Msg    string             `json:"message"`
}

// Summary is the outcome of an import.
type Summary struct {
	Format Format `json:"format"`
	// Lines is the number of lines read.
	Lines int `json:"lines"`
	// Items are the entries found: users (htpasswd), secrets (htdigest) or
	// memberships (group).
	Imported int `json:"imported"`
	Replaced int `json:"replaced"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
	// Problems lists skipped and failed lines, in file order, up to
	// MaxProblems.
	Problems []Problem `json:"problems"`
}

func (s *Summary) add(line int, o store.Outcome) {
	switch o.Result {
	case store.Imported:
		s.Imported++
	case store.Replaced:
		s.Replaced++
	case store.Skipped:
		s.Skipped++
	default:
		s.Failed++
	}
	if o.Result == store.Skipped || o.Result == store.Failed {
		msg := "skipped"
		if o.Err != nil {
			msg = o.Err.Error()
		}
		s.problem(line, o.Result, msg)
	}
}

func (s *Summary) problem(line int, r store.ImportResult, msg string) {
	if len(s.Problems) < MaxProblems {
		s.Problems = append(s.Problems, Problem{Line: line, Result: r, Kind: r.String(), Msg: msg})
	}
}

func (s *Summary) fail(line int, msg string) {
	s.Failed++
	s.problem(line, store.Failed, msg)
}

func (s *Summary) skip(line int, msg string) {
	s.Skipped++
	s.problem(line, store.Skipped, msg)
}

// Run reads r (named name in messages) and imports it into imp. The
// summary counts what happened to every entry; the error is for what
// stopped the import (a read error, a batch the store refused): the
// batches before it are stored.
func Run(ctx context.Context, imp store.Importer, r io.Reader, opts Options) (*Summary, error) {
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	cr := &countingReader{r: r}
	lr := newLineReader(cr)
	sum := &Summary{Format: opts.Format, Problems: []Problem{}}
	if sum.Format == "" {
		f, err := lr.detect()
		if err != nil {
			return sum, err
		}
		sum.Format = f
	}
	if opts.Realm != "" && sum.Format != Htdigest {
		return sum, fmt.Errorf("--realm applies to htdigest files only (this is a %s file)", sum.Format)
	}
	b := &batcher{ctx: ctx, imp: imp, opts: opts, sum: sum, progress: func() {
		if opts.Progress != nil {
			opts.Progress(cr.n)
		}
	}}
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, err
		}
		sum.Lines = l.last
		if l.tooLong {
			sum.fail(l.num, fmt.Sprintf("line longer than %d bytes", MaxLine))
			continue
		}
		if err := b.line(l); err != nil {
			return sum, err
		}
	}
	if err := b.flush(); err != nil {
		return sum, err
	}
	// Lines refused while parsing were listed before the batch around them.
	slices.SortStableFunc(sum.Problems, func(a, b Problem) int { return a.Line - b.Line })
	if opts.Progress != nil {
		opts.Progress(cr.n)
	}
	return sum, nil
}

// batcher collects the items of one batch with their line numbers.
type batcher struct {
	ctx      context.Context
	imp      store.Importer
	opts     Options
	sum      *Summary
	progress func()

	lines   []int
	users   []store.User
	secrets []store.DigestSecret
	members []store.Membership
}

func (b *batcher) line(l logicalLine) error {
	text := l.text
	switch b.sum.Format {
	case Htpasswd:
		user, hash, msg := splitHtpasswd(text)
		if msg != "" {
			b.sum.fail(l.num, msg)
			return nil
		}
		b.users = append(b.users, store.User{Name: user, Hash: hash})
		b.lines = append(b.lines, l.num)
	case Htdigest:
		user, realm, hash, msg := splitHtdigest(text)
		if msg != "" {
			b.sum.fail(l.num, msg)
			return nil
		}
		if b.opts.Realm != "" && realm != b.opts.Realm {
			b.sum.skip(l.num, fmt.Sprintf("realm %q is not %q", realm, b.opts.Realm))
			return nil
		}
		b.secrets = append(b.secrets, store.DigestSecret{User: user, Username: user, Realm: realm, HA1: hash})
		b.lines = append(b.lines, l.num)
	case Group:
		group, members, msg := passwd.SplitGroupLine(text)
		if msg != "" {
			b.sum.fail(l.num, msg)
			return nil
		}
		for _, m := range members {
			b.members = append(b.members, store.Membership{Group: group, User: m})
			b.lines = append(b.lines, l.num)
		}
	}
	if len(b.lines) >= b.opts.Batch {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if len(b.lines) == 0 {
		return nil
	}
	var out []store.Outcome
	var err error
	switch b.sum.Format {
	case Htpasswd:
		out, err = b.imp.ImportUsers(b.ctx, b.users, b.opts.Replace)
	case Htdigest:
		out, err = b.imp.ImportDigestSecrets(b.ctx, b.secrets, b.opts.Replace)
	case Group:
		out, err = b.imp.ImportMembers(b.ctx, b.members)
	}
	if err != nil {
		return fmt.Errorf("lines %d to %d: %w", b.lines[0], b.lines[len(b.lines)-1], err)
	}
	for i, o := range out {
		if o.Result == store.Skipped && errors.Is(o.Err, store.ErrConflict) && b.sum.Format != Group {
			o.Err = fmt.Errorf("%w (use --replace to overwrite)", o.Err)
		}
		b.sum.add(b.lines[i], o)
	}
	b.lines, b.users, b.secrets, b.members = b.lines[:0], b.users[:0], b.secrets[:0], b.members[:0]
	b.progress()
	return nil
}

// splitHtpasswd reads "user:hash" as mod_authn_file does: the user is the
// text before the first ':', the hash the next field (repeated ':' count as
// one; later fields are ignored).
func splitHtpasswd(text string) (user, hash, problem string) {
	user, rest, found := strings.Cut(text, ":")
	switch {
	case !found:
		return "", "", "missing ':' between user name and hash"
	case user == "":
		return "", "", "empty user name"
	case strings.IndexByte(text, 0) >= 0:
		return "", "", "NUL byte in line"
	}
	hash, _, _ = strings.Cut(strings.TrimLeft(rest, ":"), ":")
	if hash == "" {
		return "", "", fmt.Sprintf("user %q: empty hash", user)
	}
	return user, hash, ""
}

// splitHtdigest reads "user:realm:hash".
func splitHtdigest(text string) (user, realm, hash, problem string) {
	if strings.IndexByte(text, 0) >= 0 {
		return "", "", "", "NUL byte in line"
	}
	user, rest, found := strings.Cut(text, ":")
	if !found || user == "" {
		return "", "", "", "want user:realm:hash"
	}
	realm, rest, found = strings.Cut(strings.TrimLeft(rest, ":"), ":")
	if !found || realm == "" {
		return "", "", "", fmt.Sprintf("user %q: want user:realm:hash", user)
	}
	hash, _, _ = strings.Cut(strings.TrimLeft(rest, ":"), ":")
	if hash == "" {
		return "", "", "", fmt.Sprintf("user %q: empty hash", user)
	}
	return user, realm, hash, ""
}

// isSpace is C's isspace in the C locale, as Apache trims.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// logicalLine is one line after continuations, trimmed.
type logicalLine struct {
	num, last int
	text      string
	tooLong   bool
}

// lineReader yields logical lines: a trailing backslash joins the next
// physical line; blank lines and '#' comments are skipped.
type lineReader struct {
	r       *bufio.Reader
	num     int
	pending []logicalLine // lines read by detect, given back first
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// physical reads one physical line without its line end; tooLong when it
// exceeds MaxLine (the rest is discarded).
func (lr *lineReader) physical() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(buf)+len(chunk) <= MaxLine+2 {
			buf = append(buf, chunk...)
		} else {
			tooLong = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) == 0 && !tooLong {
			return nil, false, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		buf = bytes.TrimSuffix(buf, []byte{'\n'})
		buf = bytes.TrimSuffix(buf, []byte{'\r'})
		return buf, tooLong, nil
	}
}

func (lr *lineReader) next() (logicalLine, error) {
	if len(lr.pending) > 0 {
		l := lr.pending[0]
		lr.pending = lr.pending[1:]
		return l, nil
	}
	for {
		lr.num++
		l := logicalLine{num: lr.num}
		line, tooLong, err := lr.physical()
		if err != nil {
			return l, err
		}
		var buf []byte
		for !tooLong && len(line) > 0 && line[len(line)-1] == '\\' {
			buf = append(buf, line[:len(line)-1]...)
			next, long, err := lr.physical()
			if err == io.EOF {
				line = nil
				break
			}
			if err != nil {
				return l, err
			}
			lr.num++
			line, tooLong = next, long
		}
		buf = append(buf, line...)
		l.last = lr.num
		if tooLong || len(buf) > MaxLine {
			l.tooLong = true
			return l, nil
		}
		l.text = string(bytes.TrimFunc(buf, isSpace))
		if l.text == "" || l.text[0] == '#' {
			continue
		}
		return l, nil
	}
}

// detect reads up to the first entry and names the format: "group" when
// the text after the first ':' starts with white space or holds several
// words, "htdigest" for user:realm:32-or-64-hex, "htpasswd" otherwise.
// The lines it read are given back by next.
func (lr *lineReader) detect() (Format, error) {
	l, err := lr.next()
	if err == io.EOF {
		return Htpasswd, nil // an empty file imports nothing in any format
	}
	if err != nil {
		return "", err
	}
	lr.pending = append(lr.pending, l)
	return Detect(l.text), nil
}

// Detect names the format of a file by one of its entries.
func Detect(line string) Format {
	user, rest, found := strings.Cut(line, ":")
	if !found || user == "" {
		return Htpasswd
	}
	if rest == "" || isSpace(rune(rest[0])) || strings.ContainsFunc(strings.TrimSpace(rest), isSpace) {
		return Group
	}
	if _, _, hash, msg := splitHtdigest(line); msg == "" && (len(hash) == 32 || len(hash) == 64) && isLowerHex(hash) {
		return Htdigest
	}
	return Htpasswd
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}
