package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustParse parses a Require line or fails the test.
func mustParse(t testing.TB, line string) Expr {
	t.Helper()
	e, err := ParseRequire(line)
	if err != nil {
		t.Fatalf("ParseRequire(%q): %v", line, err)
	}
	return e
}

func all(sub ...Expr) Expr   { return Expr{Kind: All, Sub: sub} }
func anyOf(sub ...Expr) Expr { return Expr{Kind: Any, Sub: sub} }
func none(sub ...Expr) Expr  { return Expr{Kind: None, Sub: sub} }
func not(e Expr) Expr        { e.Negate = true; return e }

var (
	anon  = Facts{Client: netip.MustParseAddr("10.1.2.3"), Method: "GET"}
	alice = Facts{Authenticated: true, User: "alice", Groups: []string{"staff", "admins"}, Client: netip.MustParseAddr("10.1.2.3"), Method: "GET"}
	carol = Facts{Authenticated: true, User: "carol", Groups: []string{"temps"}, Client: netip.MustParseAddr("192.0.2.7"), Method: "POST"}
)

func TestEvaluateClauses(t *testing.T) {
	tests := []struct {
		line  string
		facts Facts
		want  Result
	}{
		{"valid-user", anon, DeniedNoUser},
		{"valid-user", alice, Granted},
		{"user alice bob", anon, DeniedNoUser},
		{"user alice bob", alice, Granted},
		{"user alice bob", carol, Denied},
		{"user Alice", alice, Denied}, // user names are exact
		{"group admins", anon, DeniedNoUser},
		{"group admins", alice, Granted},
		{"group sales admins", alice, Granted},
		{"group admins", carol, Denied},
		{"group Admins", alice, Denied},
		{"ip 10.0.0.0/8", anon, Granted},
		{"ip 10.0.0.0/8", carol, Denied},
		{"ip 192.0.2", carol, Granted},
		{"ip 192.0.2.7", carol, Granted},
		{"ip 192.0.2.8", carol, Denied},
		{"ip 10.0.0.0/8", Facts{}, Denied}, // no client address
		{"ip 10.0.0.0/8", Facts{Client: netip.MustParseAddr("::ffff:10.9.9.9")}, Granted},
		{"ip ::ffff:10.0.0.0/104", Facts{Client: netip.MustParseAddr("10.9.9.9")}, Granted},
		{"ip fe80::/10", Facts{Client: netip.MustParseAddr("fe80::1%eth0")}, Granted},
		{"ip 2001:db8::/32", Facts{Client: netip.MustParseAddr("2001:db8::1")}, Granted},
		{"ip 2001:db8::/32", Facts{Client: netip.MustParseAddr("10.0.0.1")}, Denied},
		{"method GET HEAD", anon, Granted},
		{"method GET HEAD", carol, Denied},
		{"method GET", Facts{Method: "get"}, Granted}, // methods fold case
		{"method DELETE", Facts{Method: "delete"}, Granted},
		{"all granted", anon, Granted},
		{"all denied", alice, Denied},
		{"not user carol", carol, Denied},
		{"not user carol", alice, Neutral},
		{"not user carol", anon, Neutral}, // DeniedNoUser negated
		{"not ip 10.0.0.0/8", anon, Denied},
		{"not ip 10.0.0.0/8", carol, Neutral},
		{"not all granted", anon, Denied},
		{"not all denied", anon, Neutral},
	}
	for _, tt := range tests {
		e := mustParse(t, tt.line)
		if got := e.Evaluate(tt.facts, nil); got != tt.want {
			t.Errorf("ParseRequire(%q).Evaluate(%+v) = %v, want %v", tt.line, tt.facts, got, tt.want)
		}
	}
}

// leaf returns a clause that evaluates to r for unauthenticated facts.
func leaf(r Result) Expr {
	switch r {
	case Granted:
		return Expr{Kind: AllGranted}
	case Denied:
		return Expr{Kind: AllDenied}
	case DeniedNoUser:
		return Expr{Kind: ValidUser}
	default: // Neutral
		return Expr{Kind: AllDenied, Negate: true}
	}
}

// TestEvaluateContainers checks every pair of child results against the
// combination table of mod_authz_core's apply_authz_sections, written out
// by hand.
func TestEvaluateContainers(t *testing.T) {
	const G, D, U, N = Granted, Denied, DeniedNoUser, Neutral
	tests := []struct {
		a, b           Result
		all, any, none Result
	}{
		{G, G, G, G, D},
		{G, D, D, G, D},
		{G, U, U, G, D},
		{G, N, G, G, D},
		{D, G, D, G, D},
		{D, D, D, D, N},
		{D, U, D, U, N},
		{D, N, D, D, N},
		{U, G, U, G, D},
		{U, D, D, U, N},
		{U, U, U, U, N},
		{U, N, U, U, N},
		{N, G, G, G, D},
		{N, D, D, D, N},
		{N, U, U, U, N},
		{N, N, N, N, N},
	}
	for _, tt := range tests {
		a, b := leaf(tt.a), leaf(tt.b)
		for _, c := range []struct {
			e    Expr
			want Result
		}{{all(a, b), tt.all}, {anyOf(a, b), tt.any}, {none(a, b), tt.none}} {
			if got := c.e.Evaluate(anon, nil); got != c.want {
				t.Errorf("%s.Evaluate(anonymous) = %v, want %v", c.e, got, c.want)
			}
		}
	}
	// A single child.
	for _, r := range []Result{G, D, U, N} {
		if got := all(leaf(r)).Evaluate(anon, nil); got != r {
			t.Errorf("RequireAll(%v) = %v, want %v", r, got, r)
		}
		if got := anyOf(leaf(r)).Evaluate(anon, nil); got != r {
			t.Errorf("RequireAny(%v) = %v, want %v", r, got, r)
		}
	}
}

// TestEvaluateApacheExample evaluates the example of the mod_authz_core
// manual (ldap clauses replaced by groups).
func TestEvaluateApacheExample(t *testing.T) {
	e := all(
		anyOf(
			mustParse(t, "user superadmin"),
			all(
				mustParse(t, "group admins"),
				mustParse(t, "group Administrators"),
				anyOf(mustParse(t, "group sales"), mustParse(t, "group dept-sales")),
			),
		),
		none(mustParse(t, "group temps"), mustParse(t, `group "Temporary Employees"`)),
	)
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	user := func(name string, groups ...string) Facts {
		return Facts{Authenticated: true, User: name, Groups: groups}
	}
	tests := []struct {
		name  string
		facts Facts
		want  Result
	}{
		{"anonymous", Facts{}, DeniedNoUser},
		{"superadmin", user("superadmin"), Granted},
		{"superadmin temp", user("superadmin", "temps"), Denied},
		{"admin in sales", user("bob", "admins", "Administrators", "sales"), Granted},
		{"admin not in sales", user("bob", "admins", "Administrators"), Denied},
		{"admin in sales, temporary", user("bob", "admins", "Administrators", "sales", "Temporary Employees"), Denied},
		{"nobody", user("eve"), Denied},
	}
	for _, tt := range tests {
		if got := e.Evaluate(tt.facts, nil); got != tt.want {
			t.Errorf("%s: Evaluate(%+v) = %v, want %v", tt.name, tt.facts, got, tt.want)
		}
	}
}

// TestEvaluateAuthenticationFlow checks the two-pass use by the gateway:
// before authentication DeniedNoUser asks for credentials, a Denied answer
// refuses at once, and a Granted answer needs none.
func TestEvaluateAuthenticationFlow(t *testing.T) {
	inside, outside := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name   string
		expr   Expr
		client netip.Addr
		before Result // unauthenticated
		after  Result // authenticated as alice
	}{
		{"valid-user", Expr{}, inside, DeniedNoUser, Granted},
		{"intranet and user", all(mustParse(t, "valid-user"), mustParse(t, "ip 10.0.0.0/8")), inside, DeniedNoUser, Granted},
		{"intranet and user, from outside", all(mustParse(t, "valid-user"), mustParse(t, "ip 10.0.0.0/8")), outside, Denied, Denied},
		{"intranet or user, inside", anyOf(mustParse(t, "ip 10.0.0.0/8"), mustParse(t, "valid-user")), inside, Granted, Granted},
		{"intranet or user, outside", anyOf(mustParse(t, "ip 10.0.0.0/8"), mustParse(t, "valid-user")), outside, DeniedNoUser, Granted},
		{"user but not bob", all(mustParse(t, "valid-user"), not(mustParse(t, "user bob"))), inside, DeniedNoUser, Granted},
		{"other user", mustParse(t, "user bob"), inside, DeniedNoUser, Denied},
		{"all denied", mustParse(t, "all denied"), inside, Denied, Denied},
		{"everyone but outsiders", all(mustParse(t, "all granted"), not(mustParse(t, "ip 192.0.2.0/24"))), outside, Denied, Denied},
	}
	for _, tt := range tests {
		before := tt.expr.Evaluate(Facts{Client: tt.client, Method: "GET"}, nil)
		after := tt.expr.Evaluate(Facts{Authenticated: true, User: "alice", Client: tt.client, Method: "GET"}, nil)
		if before != tt.before || after != tt.after {
			t.Errorf("%s: %s = %v before and %v after authentication, want %v and %v", tt.name, tt.expr, before, after, tt.before, tt.after)
		}
	}
}

type traceLine struct {
	Detail string
	Result Result
}

func TestEvaluateTrace(t *testing.T) {
	tests := []struct {
		name  string
		expr  Expr
		facts Facts
		want  []traceLine
	}{
		{"user denied", mustParse(t, "user alice bob"), carol, []traceLine{{"require user alice bob: denied (user is carol)", Denied}}},
		{"user granted", mustParse(t, "user alice bob"), alice, []traceLine{{"require user alice bob: granted (user is alice)", Granted}}},
		{"no user", mustParse(t, "valid-user"), anon, []traceLine{{"require valid-user: denied (no authenticated user yet)", DeniedNoUser}}},
		{"group", mustParse(t, "group admins"), alice, []traceLine{{"require group admins: granted (alice is in admins)", Granted}}},
		{"group denied", mustParse(t, "group admins"), carol, []traceLine{{"require group admins: denied (carol is not in admins)", Denied}}},
		{"groups denied", mustParse(t, "group admins sales"), carol, []traceLine{{"require group admins sales: denied (carol is in none of these groups)", Denied}}},
		{"ip", mustParse(t, "ip 10.0.0.0/8 192.168.1"), carol, []traceLine{{"require ip 10.0.0.0/8 192.168.1.0/24: denied (client is 192.0.2.7)", Denied}}},
		{"no ip", mustParse(t, "ip 10.0.0.0/8"), Facts{}, []traceLine{{"require ip 10.0.0.0/8: denied (client address unknown)", Denied}}},
		{"method", mustParse(t, "method GET HEAD"), carol, []traceLine{{"require method GET HEAD: denied (method is POST)", Denied}}},
		{"all granted", mustParse(t, "all granted"), carol, []traceLine{{"require all granted: granted", Granted}}},
		{"quoted", mustParse(t, `group "sales team"`), carol, []traceLine{{`require group "sales team": denied (carol is not in sales team)`, Denied}}},
		{"container short-circuit", anyOf(mustParse(t, "user alice"), mustParse(t, "valid-user")), alice, []traceLine{
			{"require user alice: granted (user is alice)", Granted},
			{"RequireAny(user alice; valid-user): granted", Granted},
		}},
		{"nested", all(mustParse(t, "valid-user"), none(mustParse(t, "group temps"))), carol, []traceLine{
			{"require valid-user: granted (user is carol)", Granted},
			{"require group temps: granted (carol is in temps)", Granted},
			{"RequireNone(group temps): denied", Denied},
			{"RequireAll(valid-user; RequireNone(group temps)): denied", Denied},
		}},
		{"negated", all(mustParse(t, "valid-user"), mustParse(t, "not user bob")), carol, []traceLine{
			{"require valid-user: granted (user is carol)", Granted},
			{"require not user bob: neutral (user is carol)", Neutral},
			{"RequireAll(valid-user; not user bob): granted", Granted},
		}},
		{"negated no user", all(mustParse(t, "valid-user"), mustParse(t, "not user bob")), anon, []traceLine{
			{"require valid-user: denied (no authenticated user yet)", DeniedNoUser},
			{"require not user bob: neutral (no authenticated user yet)", Neutral},
			{"RequireAll(valid-user; not user bob): denied (no authenticated user yet)", DeniedNoUser},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []traceLine
			res := tt.expr.Evaluate(tt.facts, func(d string, r Result) { got = append(got, traceLine{d, r}) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s.Evaluate trace mismatch (-want +got):\n%s", tt.expr, diff)
			}
			if last := got[len(got)-1].Result; last != res {
				t.Errorf("%s.Evaluate = %v, last trace line says %v", tt.expr, res, last)
			}
		})
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	e := all(anyOf(mustParse(t, "user bob alice"), mustParse(t, "group admins")), mustParse(t, "ip 10.0.0.0/8"), mustParse(t, "not method DELETE"))
	if n := testing.AllocsPerRun(100, func() { e.Evaluate(alice, nil) }); n != 0 {
		t.Errorf("Evaluate allocates %v times, want 0", n)
	}
}

func TestNeedsUser(t *testing.T) {
	tests := []struct {
		expr Expr
		want bool
	}{
		{Expr{}, true},
		{mustParse(t, "user alice"), true},
		{mustParse(t, "group admins"), true},
		{mustParse(t, "ip 10.0.0.0/8"), false},
		{mustParse(t, "all granted"), false},
		{mustParse(t, "method GET"), false},
		{anyOf(mustParse(t, "ip 10.0.0.0/8"), mustParse(t, "method GET")), false},
		{anyOf(mustParse(t, "ip 10.0.0.0/8"), all(mustParse(t, "all granted"), none(mustParse(t, "user bob")))), true},
	}
	for _, tt := range tests {
		if got := tt.expr.NeedsUser(); got != tt.want {
			t.Errorf("%s.NeedsUser() = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		expr Expr
		err  string // substring; "" = valid
	}{
		{"zero is valid-user", Expr{}, ""},
		{"user", mustParse(t, "user alice"), ""},
		{"all with not", all(mustParse(t, "valid-user"), mustParse(t, "not user bob")), ""},
		{"all with none", all(mustParse(t, "valid-user"), none(mustParse(t, "group temps"))), ""},
		{"apache example", all(anyOf(mustParse(t, "user a"), all(mustParse(t, "group b"))), none(mustParse(t, "group c"))), ""},
		{"negated at top", mustParse(t, "not user bob"), "cannot stand alone"},
		{"none at top", none(mustParse(t, "user bob")), "cannot stand alone"},
		{"not in any", anyOf(mustParse(t, "valid-user"), mustParse(t, "not user bob")), "has no effect in RequireAny"},
		{"none in any", anyOf(mustParse(t, "valid-user"), none(mustParse(t, "user bob"))), "has no effect in RequireAny"},
		{"not in none", all(mustParse(t, "valid-user"), none(mustParse(t, "not user bob"))), "has no effect in RequireNone"},
		{"only negative", all(mustParse(t, "not user bob"), none(mustParse(t, "user eve"))), "only negated clauses"},
		{"empty container", all(), "contains no clauses"},
		{"negated container", not(all(mustParse(t, "valid-user"))), "cannot stand alone"},
		{"negated nested container", all(mustParse(t, "valid-user"), not(anyOf(mustParse(t, "user a")))), "cannot be negated"},
		{"user without names", Expr{Kind: User}, "needs at least one name"},
		{"empty name", Expr{Kind: Group, Args: []string{""}}, "empty name"},
		{"control in name", Expr{Kind: User, Args: []string{"a\nb"}}, "control character"},
		{"valid-user with args", Expr{Kind: ValidUser, Args: []string{"x"}}, "takes no arguments"},
		{"ip without nets", Expr{Kind: IP}, "at least one address"},
		{"ip invalid net", Expr{Kind: IP, Nets: []netip.Prefix{{}}}, "invalid network"},
		{"method not token", Expr{Kind: Method, Args: []string{"GE T"}}, "not a method name"},
		{"unknown kind", Expr{Kind: 200}, "unknown kind"},
		{"leaf with sub", Expr{Kind: User, Args: []string{"a"}, Sub: []Expr{{}}}, "names only"},
	}
	deep := Expr{}
	for range MaxDepth + 1 {
		deep = all(deep)
	}
	tests = append(tests, struct {
		name string
		expr Expr
		err  string
	}{"too deep", deep, "nested more than"})
	for _, tt := range tests {
		err := tt.expr.Validate()
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %s.Validate() = %v, want nil", tt.name, tt.expr, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: %s.Validate() = %v, want an error containing %q", tt.name, tt.expr, err, tt.err)
		case err != nil && !errors.Is(err, ErrInvalidRequire):
			t.Errorf("%s: %s.Validate() = %v, want it to wrap ErrInvalidRequire", tt.name, tt.expr, err)
		}
	}
}

func TestResultString(t *testing.T) {
	for r, want := range map[Result]string{Granted: "granted", Denied: "denied", Neutral: "neutral", DeniedNoUser: "denied-no-user", 9: "result(9)"} {
		if got := r.String(); got != want {
			t.Errorf("Result(%d).String() = %q, want %q", r, got, want)
		}
	}
	if Kind(42).String() != "kind(42)" {
		t.Errorf("Kind(42).String() = %q", Kind(42).String())
	}
}

func BenchmarkEvaluate(b *testing.B) {
	e := all(anyOf(mustParse(b, "user bob alice"), mustParse(b, "group admins")), mustParse(b, "ip 10.0.0.0/8"), mustParse(b, "not method DELETE"))
	b.ReportAllocs()
	for b.Loop() {
		if e.Evaluate(alice, nil) != Granted {
			b.Fatal("not granted")
		}
	}
}
