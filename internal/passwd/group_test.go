package passwd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// groupTests feed TestParseGroups and FuzzParseGroups.
var groupTests = []struct {
	name    string
	in      string
	members map[string][]string
	errs    []LineError
}{
	{"empty", "", map[string][]string{}, nil},
	{"basic", "admins: alice bob\nusers: bob carol\n", map[string][]string{"admins": {"alice", "bob"}, "users": {"bob", "carol"}}, nil},
	{"append and dedupe", "a: x y\n# comment\n\na: y z\r\n", map[string][]string{"a": {"x", "y", "z"}}, nil},
	{"tabs and spaces", "  a:\tx   y\t\n", map[string][]string{"a": {"x", "y"}}, nil},
	{"no space after colon", "a:x y\n", map[string][]string{"a": {"x", "y"}}, nil},
	{"double colon", "a:: x\n", map[string][]string{"a": {"x"}}, nil},
	{"colon in member", "a: x:y\n", map[string][]string{"a": {"x:y"}}, nil},
	{"quoted", `a: "John Smith" 'it''s' "say \"hi\"" plain` + "\n", map[string][]string{"a": {"John Smith", "it", "s", `say "hi"`, "plain"}}, nil},
	{"unterminated quote", `a: "open ended` + "\n", map[string][]string{"a": {"open ended"}}, nil},
	{"empty group", "a:\nb:   \n", map[string][]string{"a": nil, "b": nil}, nil},
	{"continuation", "a: x \\\n y\n", map[string][]string{"a": {"x", "y"}}, nil},
	{"comment continues", "# c\\\na: x\nb: y\n", map[string][]string{"b": {"y"}}, []LineError{
		{Line: 1, Msg: "comment ends with a backslash, so Apache reads lines 1 to 2 as one comment"},
	}},
	{"errors", "no colon\n: x\nbad name: y\nok: \x00z\nok2: w\n", map[string][]string{"ok2": {"w"}}, []LineError{
		{Line: 1, Msg: "missing ':' after the group name"},
		{Line: 2, Msg: "empty group name"},
		{Line: 3, Msg: `group name "bad name" contains white space`},
		{Line: 4, Msg: "NUL byte in line"},
	}},
}

func TestParseGroups(t *testing.T) {
	for _, tt := range groupTests {
		t.Run(tt.name, func(t *testing.T) {
			g, errs, err := ParseGroups(strings.NewReader(tt.in), "g")
			if err != nil {
				t.Fatalf("ParseGroups(%q) error: %v", tt.in, err)
			}
			got := make(map[string][]string)
			for _, name := range g.Names() {
				got[name] = g.Members(name)
			}
			if diff := cmp.Diff(tt.members, got); diff != "" {
				t.Errorf("ParseGroups(%q) members (-want +got):\n%s", tt.in, diff)
			}
			var gotErrs []LineError
			for _, e := range errs {
				gotErrs = append(gotErrs, LineError{Line: e.Line, Msg: e.Msg})
			}
			if diff := cmp.Diff(tt.errs, gotErrs); diff != "" {
				t.Errorf("ParseGroups(%q) LineErrors (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestGroupsOf(t *testing.T) {
	in := "zeta: bob\nalpha: bob alice\nmid: bob\nalpha: carol\n"
	g, _, err := ParseGroups(strings.NewReader(in), "g")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user string
		want []string
	}{
		{"bob", []string{"alpha", "mid", "zeta"}},
		{"alice", []string{"alpha"}},
		{"carol", []string{"alpha"}},
		{"nobody", nil},
	}
	for _, tt := range tests {
		got := g.Of(tt.user)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Of(%q) (-want +got):\n%s", tt.user, diff)
		}
		for _, grp := range []string{"alpha", "mid", "zeta", "none"} {
			want := false
			for _, w := range tt.want {
				want = want || w == grp
			}
			if got := g.Has(tt.user, grp); got != want {
				t.Errorf("Has(%q, %q) = %v, want %v", tt.user, grp, got, want)
			}
		}
	}
	if got := g.Names(); !cmp.Equal(got, []string{"zeta", "alpha", "mid"}) {
		t.Errorf("Names() = %q, want file order", got)
	}
	// The results are copies.
	g.Of("bob")[0] = "changed"
	g.Members("alpha")[0] = "changed"
	if g.Of("bob")[0] != "alpha" || g.Members("alpha")[0] != "bob" {
		t.Errorf("Of/Members return the snapshot's own slices")
	}
}

func BenchmarkGroupsHas(b *testing.B) {
	g, _, _ := ParseGroups(strings.NewReader("a: x y z\nb: y\nc: y z\n"), "g")
	b.ReportAllocs()
	for b.Loop() {
		if !g.Has("y", "c") {
			b.Fatal("Has(y, c) = false")
		}
	}
}
