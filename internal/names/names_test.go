package names

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/secure/precis"
)

var userTests = []struct {
	in, want string
	ok       bool
}{
	{"alice", "alice", true},
	{"Alice", "alice", true},
	{"ALICE", "alice", true},
	{"jos\u00e9", "jos\u00e9", true},
	{"Jose\u0301", "jos\u00e9", true},                 // NFC
	{"\uff41\uff4c\uff49\uff43\uff45", "alice", true}, // full width
	{"user.name-1_x", "user.name-1_x", true},
	{"bob@example.com", "bob@example.com", true},
	{"\u0394\u03b9\u03bf\u03bd\u03c5\u03c3\u03bf\u03c2", "\u03b4\u03b9\u03bf\u03bd\u03c5\u03c3\u03bf\u03c2", true},
	{"\u0418\u0432\u0430\u043d", "\u0438\u0432\u0430\u043d", true},
	{"", "", false},
	{"a b", "", false},
	{"a:b", "", false},
	{"a\uff1ab", "", false}, // full-width colon maps to ':'
	{"tab\there", "", false},
	{"nul\x00", "", false},
	{"\u2163", "", false}, // ROMAN NUMERAL FOUR: a compatibility character, disallowed
	{"\xff", "", false},
	{strings.Repeat("a", MaxLen), strings.Repeat("a", MaxLen), true},
	{strings.Repeat("a", MaxLen+1), "", false},
	{strings.Repeat("A", MaxLen+1), "", false},
}

func TestUser(t *testing.T) {
	for _, tt := range userTests {
		got, err := User(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("User(%q) = %q, %v, want %q (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("User(%q) error %v does not wrap ErrInvalid", tt.in, err)
		}
	}
}

func TestGroupSameRules(t *testing.T) {
	for _, tt := range userTests {
		got, err := Group(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("Group(%q) = %q, %v, want %q (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzUser checks that canonical names are fixed points, that the fast
// path agrees with PRECIS, and that no accepted name holds a colon.
func FuzzUser(f *testing.F) {
	for _, tt := range userTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := User(s)
		if err != nil {
			return
		}
		again, err := User(got)
		if err != nil || again != got {
			t.Fatalf("User(User(%q)) = %q, %v, want %q", s, again, err, got)
		}
		if strings.ContainsRune(got, ':') || got == "" || len(got) > MaxLen {
			t.Fatalf("User(%q) = %q: not a valid canonical name", s, got)
		}
		if p, perr := precis.UsernameCaseMapped.String(s); perr != nil || p != got {
			t.Fatalf("User(%q) = %q, PRECIS says %q, %v", s, got, p, perr)
		}
	})
}

func BenchmarkUser(b *testing.B) {
	for _, s := range []string{"alice", "Alice", "jos\u00e9"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = User(s)
			}
		})
	}
}
