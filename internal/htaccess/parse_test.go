package htaccess

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// tree writes the directives compactly: Name[args]{children}.
func tree(ds []*Directive) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d.Name)
		b.WriteByte('[')
		b.WriteString(strings.Join(d.Args, "|"))
		b.WriteByte(']')
		if d.Container {
			b.WriteByte('{')
			b.WriteString(tree(d.Children))
			b.WriteByte('}')
		}
	}
	return b.String()
}

var parseTests = []struct {
	in      string
	want    string // tree, or "error N: substring" for a *SyntaxError at line N
	wantRaw string // Raw of the first directive, when set
}{
	{"", "", ""},
	{"# comment only\n\n   \t# indented\n", "", ""},
	{"AuthType Basic", "AuthType[Basic]", "Basic"},
	{"  AuthType   Basic  \r\n", "AuthType[Basic]", "Basic"},
	{`AuthName "Realm  With   Spaces"`, "AuthName[Realm  With   Spaces]", `"Realm  With   Spaces"`},
	{`AuthName "He said \"hello\""`, `AuthName[He said "hello"]`, ""},
	{`AuthName "back\\slash"`, `AuthName[back\slash]`, ""},
	{`AuthName 'single quoted'`, "AuthName[single quoted]", ""},
	{`AuthName "it's"`, "AuthName[it's]", ""},
	{`AuthName unquoted\"x`, `AuthName[unquoted\"x]`, ""},
	{`AuthName "unterminated`, "AuthName[unterminated]", ""},
	{`AuthName ""`, "AuthName[]", `""`},
	{`Require user "" bob`, "Require[user||bob]", ""},
	{`Require "a"b`, "Require[a|b]", ""},
	{"Require valid-user # not a comment", "Require[valid-user|#|not|a|comment]", ""},
	{"Require \\\n  user alice", "Require[user|alice]", "user alice"},
	{"AuthName \"Cont\\\n inued\"", "AuthName[Cont inued]", ""},
	{"Require user alice\\\\\nRequire user bob", `Require[user|alice\] Require[user|bob]`, ""},
	{"Require user alice\\", "Require[user|alice]", ""},
	{"<RequireAll>\nRequire valid-user\n</RequireAll>", "RequireAll[]{Require[valid-user]}", ""},
	{"<requireall>\nRequire valid-user\n</RequireALL>", "requireall[]{Require[valid-user]}", ""},
	{"<Limit GET POST>\nRequire valid-user\n</Limit>", "Limit[GET|POST]{Require[valid-user]}", "GET POST"},
	{`<Files "a b.html">` + "\n</Files>", "Files[a b.html]{}", `"a b.html"`},
	{`<FilesMatch "\.(gif|jpe?g)$">` + "\n</FilesMatch>", `FilesMatch[\.(gif|jpe?g)$]{}`, ""},
	{`<Files "a>b">` + "\n</Files>", "Files[a>b]{}", ""},
	{"<Files>\n</Files>", "Files[]{}", ""},
	{"<IfModule mod_rewrite.c>\nRewriteEngine On\n<IfModule x>\nFoo\n</IfModule>\n</IfModule>", "IfModule[mod_rewrite.c]{RewriteEngine[On] IfModule[x]{Foo[]}}", ""},
	{"<Files x> trailing junk\n</Files>", "Files[x]{}", "x"},
	{"</Files>", "error 1: without matching", ""},
	{"<Files x>\n</Limit>", "error 2: expected </Files>", ""},
	{"Require all granted\n<RequireAll>\nRequire all granted", "error 2: was not closed", ""},
	{"<Files x\n</Files>", "error 1: missing closing '>'", ""},
	{`<"Files x">` + "\n</Files>", "error 1: malformed container", ""},
	{"<Fi!es x>\n</Fi!es>", "error 1: malformed container", ""},
	{"Require user a\x00b", "error 1: NUL byte", ""},
	{"Require " + strings.Repeat("x", MaxLineLength), "error 1: longer than", ""},
	{strings.Repeat("<RequireAll>\n", MaxNesting+2), "error 33: nested more than", ""},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		f, err := Parse("t.htaccess", []byte(tt.in))
		if strings.HasPrefix(tt.want, "error ") {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Parse(%q) error = %v, want a *SyntaxError", tt.in, err)
				continue
			}
			line, msg, _ := strings.Cut(strings.TrimPrefix(tt.want, "error "), ": ")
			if got := se.Error(); !strings.HasPrefix(got, "t.htaccess:"+line+": ") || !strings.Contains(got, msg) {
				t.Errorf("Parse(%q) error = %q, want line %s and %q", tt.in, got, line, msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q) error = %v", tt.in, err)
			continue
		}
		if got := tree(f.Directives); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.wantRaw != "" && f.Directives[0].Raw != tt.wantRaw {
			t.Errorf("Parse(%q).Raw = %q, want %q", tt.in, f.Directives[0].Raw, tt.wantRaw)
		}
	}
}

func TestParseLines(t *testing.T) {
	f, err := Parse("t", []byte("# c\nAuthType Basic\n\nRequire \\\n valid-user\n<Files x>\n  Require all denied\n</Files>\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var walk func([]*Directive)
	walk = func(ds []*Directive) {
		for _, d := range ds {
			got = append(got, d.Line)
			walk(d.Children)
		}
	}
	walk(f.Directives)
	if diff := cmp.Diff([]int{2, 4, 6, 7}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestNextWord(t *testing.T) {
	tests := []struct{ in, word, rest string }{
		{"", "", ""},
		{"   ", "", ""},
		{"a b", "a", "b"},
		{"  a\t\tb  c", "a", "b  c"},
		{`"a b" c`, "a b", "c"},
		{`'a "b"' c`, `a "b"`, "c"},
		{`"a\"b"`, `a"b`, ""},
		{`"a\\b"`, `a\b`, ""},
		{`"a\nb"`, `a\nb`, ""},
		{`a\\b`, `a\b`, ""},
		{`a\"b`, `a\"b`, ""},
		{`"a`, "a", ""},
		{`"a\"`, `a"`, ""},
		{`""x`, "", "x"},
	}
	for _, tt := range tests {
		w, r := nextWord(tt.in)
		if w != tt.word || r != tt.rest {
			t.Errorf("nextWord(%q) = %q, %q, want %q, %q", tt.in, w, r, tt.word, tt.rest)
		}
	}
}

func TestRealmOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Members", "Members"},
		{`He said "hello"`, `He said "hello"`},
		{`back\slash`, "backslash"},
		{`a\\b`, `a\b`},
		{`trailing\`, `trailing\`},
		{"Réalm ünïcöde", "Réalm ünïcöde"},
	}
	for _, tt := range tests {
		if got := realmOf(tt.in); got != tt.want {
			t.Errorf("realmOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, tt := range parseTests {
		checkRoundTrip(t, tt.in)
	}
}

func checkRoundTrip(t *testing.T, in string) {
	t.Helper()
	f, err := Parse("t", []byte(in))
	if err != nil {
		return
	}
	out := f.Format()
	for _, line := range strings.Split(out, "\n") {
		if len(line) > MaxLineLength-2*MaxNesting {
			return // quoting made it too long to read back
		}
	}
	g, err := Parse("t", []byte(out))
	if err != nil {
		t.Errorf("Parse(Format(Parse(%.200q))) error: %v", in, err)
		return
	}
	if a, b := tree(f.Directives), tree(g.Directives); a != b {
		t.Errorf("Parse(Format(Parse(%.200q))) = %.200q, want %.200q", in, b, a)
	}
}

// TestCompileGolden compiles each testdata/compile/*.htaccess as the
// docroot's only .htaccess and compares the effective configuration (or
// the error) with the .golden file beside it. go test -update rewrites
// them.
func TestCompileGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/compile/*.htaccess")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/compile/*.htaccess: %v", err)
	}
	for _, name := range files {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".htaccess"), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{}
			if strings.Contains(name, "compat") {
				opts.AccessCompat = true
			}
			if strings.Contains(name, "override-all") {
				opts.AllowOverride = OverrideAll
			}
			if strings.Contains(name, "serverroot") {
				opts.ServerRoot = "/etc/apache2"
			}
			got := describeFile(filepath.ToSlash(name), data, opts)
			golden := strings.TrimSuffix(name, ".htaccess") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		})
	}
}

func describeFile(name string, data []byte, opts Options) string {
	f, err := Parse(name, data)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	sec, err := Compile(f, opts)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return merge(serverConfig(), sec).Describe()
}

func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	files, _ := filepath.Glob("testdata/compile/*.htaccess")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(string(data))
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		pf, err := Parse("fuzz", []byte(in))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.File != "fuzz" {
				t.Fatalf("Parse error %v is not a *SyntaxError for the file", err)
			}
			return
		}
		checkRoundTrip(t, in)
		for _, opts := range []Options{{}, {AccessCompat: true, AllowOverride: OverrideAll}} {
			sec, err := Compile(pf, opts)
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Line <= 0 {
					t.Fatalf("Compile error %v has no line", err)
				}
				continue
			}
			c := merge(serverConfig(), sec)
			_ = c.Describe()
			for _, m := range describeMethods {
				_ = c.Rule(m)
				_ = c.forFile("page.html").Require(m)
			}
			_, _, _, _ = c.Redirect("/a/b;c", "q=1")
			_ = c.ContentType("a.tar.gz")
		}
	})
}
