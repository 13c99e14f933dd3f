package htaccess

import (
	"net/netip"
	"path"
	"strings"
	"testing"

	"github.com/htgate/htgate/internal/policy"
)

func testFacts() *policy.Facts {
	vars := map[string]string{
		"REQUEST_METHOD": "GET", "QUERY_STRING": "a=1&debug=YES", "REQUEST_URI": "/x/y.html",
		"HTTP_HOST": "www.example.com", "HTTP:X-Token": "abc", "HTTP:Host": "www.example.com",
	}
	f := &policy.Facts{Client: netip.MustParseAddr("10.1.2.3"), Authenticated: true, User: "alice", Groups: []string{"admins"}}
	f.Var = func(name string) string { return vars[name] }
	f.Env = func(name string) (string, bool) { v, ok := map[string]string{"LETMEIN": "1"}[name]; return v, ok }
	return f
}

var conditionTests = []struct {
	src  string
	want bool   // on testFacts
	err  string // substring of the parse error
	user bool
}{
	{src: "true", want: true},
	{src: "false"},
	{src: "!false", want: true},
	{src: "'true'", want: true},
	{src: "%{REQUEST_METHOD} == 'GET'", want: true},
	{src: "%{REQUEST_METHOD} = 'GET'", want: true},
	{src: `%{REQUEST_METHOD} != "GET"`},
	{src: "%{REQUEST_METHOD} in { 'POST', 'GET' }", want: true},
	{src: "%{REQUEST_METHOD} in {'POST'}"},
	{src: "%{QUERY_STRING} =~ /debug=yes/i", want: true},
	{src: "%{QUERY_STRING} =~ /debug=yes/"},
	{src: "%{QUERY_STRING} !~ m#debug#", want: false},
	{src: "-R '10.0.0.0/8'", want: true},
	{src: "%{REMOTE_ADDR} -ipmatch '192.168.0.0/16'"},
	{src: "-n %{HTTP:X-Token} && %{HTTP:X-Token} == 'abc'", want: true},
	{src: "-z %{HTTP_REFERER}", want: true},
	{src: "-T 'off'"},
	{src: "%{req:X-Token} == 'abc' || false", want: true},
	{src: "req('X-Token') == 'abc'", want: true},
	{src: "tolower(%{REQUEST_METHOD}) == 'get'", want: true},
	{src: "%{REQUEST_URI} -strmatch '/x/*'", want: true},
	{src: "%{REQUEST_URI} -strmatch '/X/*'"},
	{src: "%{REQUEST_URI} -strcmatch '/X/*'", want: true},
	{src: "'10' -lt '9'"},
	{src: "10 -gt 9", want: true},
	{src: "'a' . %{REQUEST_METHOD} == 'aGET'", want: true},
	{src: `"user %{REMOTE_USER}" == 'user alice'`, want: true, user: true},
	{src: "%{REMOTE_USER} == 'alice'", want: true, user: true},
	{src: "env('LETMEIN') == '1'", want: true},
	{src: "(true || false) && !(false)", want: true},
	{src: "md5('a') == '0cc175b9c0f1b6a831c399e269772661'", want: true},
	{src: "", err: "empty"},
	{src: "%{REQUEST_METHOD} === 'GET'", err: "unexpected"},
	{src: "%{NO_SUCH_VAR} == 'x'", err: "not supported"},
	{src: "-f '/etc/passwd'", err: "not supported"},
	{src: "file('/etc/passwd') == 'x'", err: "not supported"},
	{src: "%{REQUEST_METHOD} =~ /(/", err: "bad regular expression"},
	{src: "(true", err: "missing )"},
	{src: "'unterminated", err: "unterminated"},
	{src: "%{REQUEST_METHOD", err: "unterminated"},
	{src: "%{REMOTE_ADDR} -ipmatch %{REMOTE_ADDR}", err: "constant"},
	{src: strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40), err: "deeply"},
}

func TestParseCondition(t *testing.T) {
	f := testFacts()
	for _, tt := range conditionTests {
		c, err := parseCondition(tt.src)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseCondition(%q) error = %v, want %q", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseCondition(%q) error = %v", tt.src, err)
			continue
		}
		if got := c.Match(f); got != tt.want {
			t.Errorf("parseCondition(%q).Match = %v, want %v", tt.src, got, tt.want)
		}
		if got := c.NeedsUser(); got != tt.user {
			t.Errorf("parseCondition(%q).NeedsUser = %v, want %v", tt.src, got, tt.user)
		}
	}
}

func TestConditionBeforeAuthentication(t *testing.T) {
	c, err := parseCondition("%{REMOTE_USER} == 'alice'")
	if err != nil {
		t.Fatal(err)
	}
	e := policy.Expr{Kind: policy.Cond, Cond: c}
	if got := e.Evaluate(policy.Facts{}, nil); got != policy.DeniedNoUser {
		t.Errorf("before authentication: %v, want denied-no-user (ask for credentials)", got)
	}
	if got := e.Evaluate(policy.Facts{Authenticated: true, User: "bob"}, nil); got != policy.Denied {
		t.Errorf("as bob: %v, want denied", got)
	}
}

func TestNameList(t *testing.T) {
	c, err := parseNameList(false, "%{HTTP:X-User} bob")
	if err != nil {
		t.Fatal(err)
	}
	f := testFacts()
	f.Var = func(name string) string { return map[string]string{"HTTP:X-User": "alice"}[name] }
	if !c.Match(f) {
		t.Error("alice should match the expanded list")
	}
	f.User = "carol"
	if c.Match(f) {
		t.Error("carol should not match")
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, tt := range conditionTests {
		f.Add(tt.src)
	}
	facts := testFacts()
	f.Fuzz(func(t *testing.T, src string) {
		c, err := parseCondition(src)
		if err != nil {
			return
		}
		_ = c.Match(facts)
		_ = c.Match(&policy.Facts{})
		_ = c.String()
	})
}

var fnmatchTests = []struct {
	pattern, name string
	want          bool
}{
	{".ht*", ".htaccess", true},
	{".ht*", ".HTACCESS", false},
	{".ht*", "x.htaccess", false},
	{"*.txt", "a.txt", true},
	{"*.txt", "a.txt.bak", false},
	{"*", "", true},
	{"*", "a/b", false},
	{"data?.csv", "data1.csv", true},
	{"data?.csv", "data10.csv", false},
	{"[ab].html", "a.html", true},
	{"[ab].html", "c.html", false},
	{"[!ab].html", "c.html", true},
	{"[^ab].html", "a.html", false},
	{"[a-c]x", "bx", true},
	{"[a-c]x", "dx", false},
	{`\*x`, "*x", true},
	{`\*x`, "ax", false},
	{"[ab", "a", false},
	{"a*b*c", "aXXbYYc", true},
	{"a*b*c", "aXXbYY", false},
}

func TestFnmatch(t *testing.T) {
	for _, tt := range fnmatchTests {
		if got := fnmatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

// FuzzFnmatch compares fnmatch with path.Match, which has the same
// semantics for the patterns both accept (no "!" negation, no escapes).
func FuzzFnmatch(f *testing.F) {
	for _, tt := range fnmatchTests {
		f.Add(tt.pattern, tt.name)
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := fnmatch(pattern, name)
		// fnmatch works on bytes, as Apache's; path.Match on runes.
		if !isASCII(pattern) || !isASCII(name) ||
			strings.ContainsAny(pattern, `\!`) || strings.Contains(pattern, "[]") || strings.Contains(pattern, "[^]") {
			return
		}
		want, err := path.Match(pattern, name)
		if err != nil {
			return
		}
		if got != want {
			t.Errorf("fnmatch(%q, %q) = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}

func TestRedirectMatch(t *testing.T) {
	tests := []struct {
		args       []string
		def        int
		regex      bool
		uri, query string
		status     int
		loc        string
		ok         bool
	}{
		{[]string{"/old", "/new"}, 302, false, "/old", "", 302, "/new", true},
		{[]string{"/old", "/new"}, 302, false, "/old/a b", "q=1", 302, "/new/a%20b?q=1", true},
		{[]string{"/old", "/new"}, 302, false, "//old/x", "", 302, "/new/x", true},
		{[]string{"/old", "/new"}, 302, false, "/oldish", "", 0, "", false},
		{[]string{"/old/", "/new/"}, 302, false, "/old", "", 0, "", false},
		{[]string{"/old", "/new?a=1"}, 302, false, "/old", "q=1", 302, "/new?a=1", true},
		{[]string{"permanent", "/old", "http://example.com/new"}, 302, false, "/old/x", "", 301, "http://example.com/new/x", true},
		{[]string{"seeother", "/old", "/new"}, 302, false, "/old", "", 303, "/new", true},
		{[]string{"gone", "/old"}, 302, false, "/old/x", "", 410, "", true},
		{[]string{"410", "/old"}, 302, false, "/old", "", 410, "", true},
		{[]string{"^/img/(.*)\\.gif$", "/images/$1.png"}, 302, true, "/img/a b.gif", "", 302, "/images/a%20b.png", true},
		{[]string{"301", "^/x$", "/y"}, 302, true, "/x", "", 301, "/y", true},
		{[]string{"/everything"}, 302, false, "/any/thing", "q=1", 302, "/everything?q=1", true},
	}
	for _, tt := range tests {
		r, err := newRedirect(tt.args, tt.def, tt.regex)
		if err != nil {
			t.Errorf("newRedirect(%q): %v", tt.args, err)
			continue
		}
		status, loc, ok := r.Match(tt.uri, tt.query)
		if status != tt.status || loc != tt.loc || ok != tt.ok {
			t.Errorf("Redirect %q Match(%q, %q) = %d %q %v, want %d %q %v", tt.args, tt.uri, tt.query, status, loc, ok, tt.status, tt.loc, tt.ok)
		}
	}
	for _, bad := range [][]string{{"foo", "/a", "/b"}, {"404", "/a", "/b"}, {"/a", "relative"}, {"301"}} {
		if _, err := newRedirect(bad, 302, false); err == nil {
			t.Errorf("newRedirect(%q) accepted", bad)
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
