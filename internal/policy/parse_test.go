package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var exprOpts = cmp.Options{cmpopts.EquateComparable(netip.Prefix{}), cmpopts.EquateEmpty()}

func nets(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// parseTests is the table of TestParseRequire; FuzzParseRequire is seeded
// from it.
var parseTests = []struct {
	line string
	want Expr
	err  string // substring of the error; "" = valid
}{
	{"valid-user", Expr{Kind: ValidUser}, ""},
	{"Valid-User", Expr{Kind: ValidUser}, ""},
	{"  valid-user\t", Expr{Kind: ValidUser}, ""},
	{"user alice", Expr{Kind: User, Args: []string{"alice"}}, ""},
	{"user alice bob", Expr{Kind: User, Args: []string{"alice", "bob"}}, ""},
	{"USER alice\t\tbob ", Expr{Kind: User, Args: []string{"alice", "bob"}}, ""},
	{"user josé иван", Expr{Kind: User, Args: []string{"josé", "иван"}}, ""},
	{`user "john doe" 'o''`, Expr{}, "text right after a closing quote"},
	{`user "john doe" 'mary jane'`, Expr{Kind: User, Args: []string{"john doe", "mary jane"}}, ""},
	{`user "say \"hi\"" 'it\'s' "back\\slash"`, Expr{Kind: User, Args: []string{`say "hi"`, "it's", `back\slash`}}, ""},
	{`user a\b`, Expr{Kind: User, Args: []string{`a\b`}}, ""},
	{`user a"b`, Expr{Kind: User, Args: []string{`a"b`}}, ""},
	{`user ""`, Expr{}, "empty name"},
	{`user "unterminated`, Expr{}, "unterminated quote"},
	{"group admins", Expr{Kind: Group, Args: []string{"admins"}}, ""},
	{"group admins staff", Expr{Kind: Group, Args: []string{"admins", "staff"}}, ""},
	{"ip 10.0.0.0/8", Expr{Kind: IP, Nets: nets("10.0.0.0/8")}, ""},
	{"ip 10.0.0.0/8 192.168.1", Expr{Kind: IP, Nets: nets("10.0.0.0/8", "192.168.1.0/24")}, ""},
	{"ip 10 172.16. 192.168.1.", Expr{Kind: IP, Nets: nets("10.0.0.0/8", "172.16.0.0/16", "192.168.1.0/24")}, ""},
	{"ip 10.1.2.3", Expr{Kind: IP, Nets: nets("10.1.2.3/32")}, ""},
	{"ip 10.1.2.3/8", Expr{Kind: IP, Nets: nets("10.0.0.0/8")}, ""},
	{"ip 172.16.0.0/255.240.0.0", Expr{Kind: IP, Nets: nets("172.16.0.0/12")}, ""},
	{"ip 0.0.0.0/0", Expr{Kind: IP, Nets: nets("0.0.0.0/0")}, ""},
	{"ip 2001:db8::/32 ::1", Expr{Kind: IP, Nets: nets("2001:db8::/32", "::1/128")}, ""},
	{"ip ::ffff:10.0.0.0/104", Expr{Kind: IP, Nets: nets("10.0.0.0/8")}, ""},
	{"ip ::ffff:10.1.2.3", Expr{Kind: IP, Nets: nets("10.1.2.3/32")}, ""},
	{"ip 10.0.0.0/33", Expr{}, "invalid prefix length"},
	{"ip 10.0.0.0/08", Expr{}, "leading zero"},
	{"ip 10.0.0.0/255.0.255.0", Expr{}, "not contiguous"},
	{"ip 2001:db8::/ffff::", Expr{}, "invalid netmask"},
	{"ip 10.0.0.256", Expr{}, "not an IP address"},
	{"ip 010.1", Expr{}, "not an IP address"},
	{"ip 10..1", Expr{}, "not an IP address"},
	{"ip example.com", Expr{}, "host names are not supported"},
	{"ip fe80::1%eth0", Expr{}, "zones are not allowed"},
	{"ip", Expr{}, "at least one address"},
	{"method GET HEAD", Expr{Kind: Method, Args: []string{"GET", "HEAD"}}, ""},
	{"method PROPFIND", Expr{Kind: Method, Args: []string{"PROPFIND"}}, ""},
	{"method G(ET", Expr{}, "not a method name"},
	{"all granted", Expr{Kind: AllGranted}, ""},
	{"All Denied", Expr{Kind: AllDenied}, ""},
	{"all", Expr{}, "all granted or all denied"},
	{"all maybe", Expr{}, "all granted or all denied"},
	{"all granted please", Expr{}, "all granted or all denied"},
	{"not user bob", Expr{Kind: User, Args: []string{"bob"}, Negate: true}, ""},
	{"NOT group temps", Expr{Kind: Group, Args: []string{"temps"}, Negate: true}, ""},
	{"not ip 192.0.2.0/24", Expr{Kind: IP, Nets: nets("192.0.2.0/24"), Negate: true}, ""},
	{"not all granted", Expr{Kind: AllGranted, Negate: true}, ""},
	{"not", Expr{}, "not what"},
	{"not not user bob", Expr{}, "not twice"},
	{"", Expr{}, "empty"},
	{"   ", Expr{}, "empty"},
	{"Require valid-user", Expr{}, "leave out the word Require"},
	{"valid-user alice", Expr{}, "takes no arguments"},
	{"user", Expr{}, "at least one name"},
	{"group", Expr{}, "at least one name"},
	{"host example.com", Expr{}, "unknown Require type"},
	{"env FOO", Expr{}, "unknown Require type"},
	{"user alice\nbob", Expr{}, "control character"},
	{"user alice\x00", Expr{}, "control character"},
	{"user \"a\rb\"", Expr{}, "control character"},
	{"user \xff", Expr{}, "not valid UTF-8"},
	{"user a\u0085b", Expr{}, "control character"},
}

func TestParseRequire(t *testing.T) {
	for _, tt := range parseTests {
		got, err := ParseRequire(tt.line)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInvalidRequire) {
				t.Errorf("ParseRequire(%q) = %v, %v, want an ErrInvalidRequire containing %q", tt.line, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRequire(%q) error: %v", tt.line, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, exprOpts); diff != "" {
			t.Errorf("ParseRequire(%q) mismatch (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestExprString(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{"valid-user", "valid-user"},
		{"USER  alice   bob", "user alice bob"},
		{`user 'john doe' "a\"b"`, `user "john doe" a"b`},
		{`user '"quoted'`, `user "\"quoted"`},
		{"ip 10.1.2.3 192.168.1 ::1 2001:db8::/32", "ip 10.1.2.3 192.168.1.0/24 ::1 2001:db8::/32"},
		{"all granted", "all granted"},
		{"not all denied", "not all denied"},
		{"not group temps", "not group temps"},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.line).String(); got != tt.want {
			t.Errorf("ParseRequire(%q).String() = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func FuzzParseRequire(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseRequire(line)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequire) {
				t.Fatalf("ParseRequire(%q) error %v does not wrap ErrInvalidRequire", line, err)
			}
			return
		}
		if e.Kind.IsContainer() {
			t.Fatalf("ParseRequire(%q) = container %s", line, e)
		}
		// Format, parse again: the same expression.
		s := e.String()
		back, err := ParseRequire(s)
		if err != nil {
			t.Fatalf("ParseRequire(%q) (formatted from %q) error: %v", s, line, err)
		}
		if diff := cmp.Diff(e, back, exprOpts); diff != "" {
			t.Fatalf("ParseRequire(%q) round trip through %q mismatch (-first +second):\n%s", line, s, diff)
		}
		if s2 := back.String(); s2 != s {
			t.Fatalf("String() not stable: %q then %q", s, s2)
		}
		// A valid clause can be evaluated and traced.
		e.Evaluate(Facts{Authenticated: true, User: "u"}, func(string, Result) {})
		if !e.Negate {
			if err := e.Validate(); err != nil {
				t.Fatalf("ParseRequire(%q) = %s that does not validate: %v", line, e, err)
			}
		}
	})
}
