package passwd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// describe renders a snapshot for golden files.
func describe(h *Htpasswd) string {
	var b strings.Builder
	fmt.Fprintf(&b, "users: %s\n", strings.Join(h.Users(), " "))
	for _, e := range h.LineErrors() {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	return b.String()
}

// TestParseHtpasswdSample reads a file written by Apache's htpasswd in every
// format, then edited by hand with the oddities Apache tolerates.
func TestParseHtpasswdSample(t *testing.T) {
	f, err := os.Open("testdata/sample.htpasswd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, errs, err := ParseHtpasswd(f, "sample.htpasswd")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h.LineErrors(), errs, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("LineErrors() differs from ParseHtpasswd's list:\n%s", diff)
	}
	golden(t, "sample.golden", describe(h))

	passwords := map[string]string{"dave": "secret-d", "jack": "pw"}
	for _, u := range h.Users() {
		pw, ok := passwords[u]
		if !ok {
			pw = "secret-" + u
		}
		hash, ok := h.Lookup(u)
		if !ok {
			t.Fatalf("Lookup(%q) not found", u)
		}
		if ok, err := Verify(hash, []byte(pw)); !ok || err != nil {
			t.Errorf("Verify(Lookup(%q), %q) = %v, %v, want true", u, pw, ok, err)
		}
	}
	for _, u := range []string{"plain", "nocolon", "", "empty", "yes", "zed"} {
		if hash, ok := h.Lookup(u); ok {
			t.Errorf("Lookup(%q) = %q, true, want not found", u, hash)
		}
	}
	if p := h.Problem("plain"); p == nil || p.Line != 8 {
		t.Errorf("Problem(%q) = %v, want the error of line 8", "plain", p)
	}
	if p := h.Problem("alice"); p != nil {
		t.Errorf("Problem(%q) = %v, want nil (first entry wins)", "alice", p)
	}
	if p := h.Problem("nocolon"); p == nil || !errors.Is(p, ErrMissingColon) {
		t.Errorf("Problem(%q) = %v, want ErrMissingColon", "nocolon", p)
	}
}

// htpasswdTests feed TestParseHtpasswd and FuzzParseHtpasswd.
var htpasswdTests = []struct {
	name  string
	in    string
	users []string
	errs  []LineError // File is always "f"
}{
	{"empty", "", nil, nil},
	{"comments and blanks", "# c\n\n   \n\t# c2\r\n", nil, nil},
	{"one", "a:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n", []string{"a"}, nil},
	{"no final newline", "a:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=", []string{"a"}, nil},
	{"crlf and spaces", "  a:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=  \r\nb:Lym0Wie/f/wTc\r\n", []string{"a", "b"}, nil},
	{"extra fields", "a:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=:comment:more\n", []string{"a"}, nil},
	{"double colon", "a::{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n", []string{"a"}, nil},
	{"continuation", "a:{SHA}GpHWL3ymc5liW\\\nkNopqtdSjuqYHM=\nb:Lym0Wie/f/wTc\n", []string{"a", "b"}, nil},
	{"comment continues", "# c \\\na:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\nb:Lym0Wie/f/wTc\n", []string{"b"}, []LineError{
		{Line: 1, Msg: "comment ends with a backslash, so Apache reads lines 1 to 2 as one comment"},
	}},
	{"order", "z:Lym0Wie/f/wTc\na:Lym0Wie/f/wTc\nm:Lym0Wie/f/wTc\n", []string{"z", "a", "m"}, nil},
	{"no colon", "garbage\na:Lym0Wie/f/wTc\n", []string{"a"}, []LineError{{Line: 1, Msg: "missing ':' between user name and hash"}}},
	{"no colon shadows", "a\na:Lym0Wie/f/wTc\n", nil, []LineError{
		{Line: 1, Msg: "missing ':' between user name and hash"},
		{Line: 2, Msg: `duplicate entry for user "a": the entry on line 1 wins, as in Apache`},
	}},
	{"empty user", ":Lym0Wie/f/wTc\n", nil, []LineError{{Line: 1, Msg: "empty user name"}}},
	{"empty hash", "a:\nb:   \n", nil, []LineError{
		{Line: 1, Msg: `user "a": empty hash`},
		{Line: 2, Msg: `user "b": empty hash`},
	}},
	{"plaintext", "a:secret\n", nil, []LineError{{Line: 1, Msg: `user "a": unrecognised hash format: not a hash (plaintext passwords never match on Linux, as in Apache)`}}},
	{"garbled", "a:$apr1$abc\n", nil, []LineError{{Line: 1, Msg: `user "a": malformed hash: apr1: missing '$' after the salt`}}},
	{"yescrypt", "a:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7\n", nil, []LineError{{Line: 1, Msg: `user "a": unrecognised hash format: yescrypt is not supported`}}},
	{"cost limit", "a:$2y$20$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.\n", nil, []LineError{{Line: 1, Msg: `user "a": hash cost exceeds htgate's limit: bcrypt cost 20 is above 17`}}},
	{"nul", "a:Lym0Wie/f/wTc\x00\nb\x00c:x\n", nil, []LineError{
		{Line: 1, Msg: `user "a": NUL byte in hash`},
		{Line: 2, Msg: "NUL byte in user name"},
	}},
	{"duplicate first wins", "a:Lym0Wie/f/wTc\nb:Lym0Wie/f/wTc\na:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n", []string{"a", "b"}, []LineError{
		{Line: 3, Msg: `duplicate entry for user "a": the entry on line 1 wins, as in Apache`},
	}},
	{"broken first blocks later", "a:nope\na:Lym0Wie/f/wTc\n", nil, []LineError{
		{Line: 1, Msg: `user "a": unrecognised hash format: not a hash (plaintext passwords never match on Linux, as in Apache)`},
		{Line: 2, Msg: `duplicate entry for user "a": the entry on line 1 wins, as in Apache`},
	}},
	{"line numbers after continuation", "a:Lym0\\\nWie/f/wTc\nb\n", []string{"a"}, []LineError{{Line: 3, Msg: "missing ':' between user name and hash"}}},
	{"user with spaces kept", "a b :Lym0Wie/f/wTc\n", []string{"a b "}, nil},
	{"long line stops", "a:Lym0Wie/f/wTc\n#" + strings.Repeat("x", 8190) + "\nb:Lym0Wie/f/wTc\n", []string{"a"}, []LineError{
		{Line: 2, Msg: "line longer than 8190 bytes: Apache stops reading the file here, and so does htgate"},
	}},
	{"longest line ok", "#" + strings.Repeat("x", 8189) + "\r\nb:Lym0Wie/f/wTc\n", []string{"b"}, nil},
}

func TestParseHtpasswd(t *testing.T) {
	for _, tt := range htpasswdTests {
		t.Run(tt.name, func(t *testing.T) {
			h, errs, err := ParseHtpasswd(strings.NewReader(tt.in), "f")
			if err != nil {
				t.Fatalf("ParseHtpasswd(%q) error: %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.users, h.Users()); diff != "" {
				t.Errorf("ParseHtpasswd(%q) users (-want +got):\n%s", tt.in, diff)
			}
			var got []LineError
			for _, e := range errs {
				if e.File != "f" {
					t.Errorf("LineError.File = %q, want %q", e.File, "f")
				}
				got = append(got, LineError{Line: e.Line, Msg: e.Msg})
			}
			if diff := cmp.Diff(tt.errs, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("ParseHtpasswd(%q) LineErrors (-want +got):\n%s", tt.in, diff)
			}
			if h.Len() != len(tt.users) {
				t.Errorf("Len() = %d, want %d", h.Len(), len(tt.users))
			}
		})
	}
}

func TestLineErrorString(t *testing.T) {
	e := &LineError{File: "/etc/htpasswd", Line: 7, Msg: "empty user name"}
	if got, want := e.Error(), "/etc/htpasswd:7: empty user name"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseHtpasswdReadErrors(t *testing.T) {
	boom := errors.New("boom")
	if _, _, err := ParseHtpasswd(iotest.ErrReader(boom), "f"); !errors.Is(err, boom) {
		t.Errorf("ParseHtpasswd(failing reader) error = %v, want %v", err, boom)
	}
	big := io.LimitReader(neverEnding('#'), MaxFileSize+1)
	if _, _, err := ParseHtpasswd(big, "f"); err == nil {
		t.Errorf("ParseHtpasswd(%d bytes) error = nil, want too large", MaxFileSize+1)
	}
	if _, _, err := ParseGroups(iotest.ErrReader(boom), "f"); !errors.Is(err, boom) {
		t.Errorf("ParseGroups(failing reader) error = %v, want %v", err, boom)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	if len(p) > 0 {
		p[0] = byte(b)
		for i := 1; i < len(p); i *= 2 {
			copy(p[i:], p[:i])
		}
	}
	return len(p), nil
}

func TestDummy(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		format Format
		cost   int
	}{
		{"empty", "", FormatBcrypt, DefaultBcryptCost},
		{"only broken", "a:plain\n", FormatBcrypt, DefaultBcryptCost}, // slow: skipped under -race
		{"majority", "a:$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1\nb:$2y$04$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.\nc:$apr1$ab$RieuZkC7MNZo71UI4mVva0\n", FormatAPR1, 1000},
		{"tie goes to first", "b:$2y$04$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.\na:$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1\n", FormatBcrypt, 4},
		{"cost matters", "a:$5$rounds=6000$ab$fdF9O14mkOVQLhT55gqu2VeB4/z6IbywkxHWmrF.CaA\nb:$5$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA\nc:$5$rounds=6000$ab$fdF9O14mkOVQLhT55gqu2VeB4/z6IbywkxHWmrF.CaA\n", FormatSHA256Crypt, 6000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raceEnabled && tt.name == "only broken" {
				t.Skip("bcrypt cost 10 takes seconds under the race detector; covered by \"empty\"")
			}
			h, _, err := ParseHtpasswd(strings.NewReader(tt.in), "f")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			got := make([]string, 4)
			for i := range got {
				wg.Go(func() { got[i] = h.Dummy() })
			}
			wg.Wait()
			for _, d := range got[1:] {
				if d != got[0] {
					t.Fatalf("Dummy() differs between calls: %q, %q", got[0], d)
				}
			}
			if f, c := Cost(got[0]); f != tt.format || c != tt.cost {
				t.Errorf("Cost(Dummy()) = %q, %d, want %q, %d", f, c, tt.format, tt.cost)
			}
			if ok, err := Verify(got[0], []byte("")); ok || err != nil {
				t.Errorf("Verify(Dummy(), \"\") = %v, %v, want false, nil", ok, err)
			}
		})
	}
}
