package policy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/htgate/htgate"
)

func mustTable(t testing.TB, opts TableOptions, rules ...Rule) *Table {
	t.Helper()
	tab, err := NewTableWith(rules, opts)
	if err != nil {
		t.Fatalf("NewTable: %v", err)
	}
	return tab
}

// matchID returns the ID of the matched rule or "-".
func matchID(t *Table, host, path string) string {
	if r := t.Match(host, path); r != nil {
		return r.ID
	}
	return "-"
}

func TestMatch(t *testing.T) {
	tab := mustTable(t, TableOptions{},
		Rule{ID: "admin", Path: "/admin"},
		Rule{ID: "members", Path: "/members/"},
		Rule{ID: "api", Path: "/api/v1"},
		Rule{ID: "api-host", Host: "api.example.com", Path: "/api"},
		Rule{ID: "root-host", Host: "Intranet.Example.COM.", Path: "/"},
		Rule{ID: "deep-host", Host: "example.com", Path: "/admin/reports"},
		Rule{ID: "unicode", Path: "/café/Straße"},
		Rule{ID: "ipv6", Host: "[::1]", Path: "/local"},
		Rule{ID: "pct", Path: "/a%20b"},
	)
	tests := []struct {
		host, path, want string
	}{
		// whole segments
		{"example.org", "/admin", "admin"},
		{"example.org", "/admin/", "admin"},
		{"example.org", "/admin/x/y", "admin"},
		{"example.org", "/administrator", "-"},
		{"example.org", "/adm", "-"},
		{"example.org", "/", "-"},
		{"example.org", "", "-"},
		{"example.org", "/public/admin", "-"},
		// Windows/IIS spellings: trailing dots and spaces of a segment
		{"example.org", "/admin./x", "admin"},
		{"example.org", "/admin /x", "admin"},
		{"example.org", "/ADMIN. . /x", "admin"},
		{"example.org", "/admin.x", "-"},
		{"example.org", "/.../admin", "-"},
		// trailing slash in the rule does not narrow it
		{"example.org", "/members", "members"},
		{"example.org", "/members/", "members"},
		{"example.org", "/members/page.html", "members"},
		{"example.org", "/membership", "-"},
		// longest path wins
		{"example.org", "/api", "-"},
		{"example.org", "/api/v1", "api"},
		{"example.org", "/api/v1/users", "api"},
		{"example.org", "/api/v2", "-"},
		// host rules
		{"api.example.com", "/api/v2", "api-host"},
		{"api.example.com", "/api/v1/users", "api"}, // deeper host-less beats shallower host rule
		{"API.Example.Com:8443", "/api/x", "api-host"},
		{"api.example.com.", "/api/x", "api-host"},
		{"api.example.com.:80", "/api/x", "api-host"},
		{"intranet.example.com", "/anything", "root-host"},
		{"INTRANET.example.com:80", "/", "root-host"},
		{"intranet.example.com", "/admin/x", "admin"},
		{"intranet.example.com", "/members", "members"},
		{"example.com", "/admin/reports/2024", "deep-host"},
		{"example.com", "/admin/other", "admin"},
		{"example.org", "/admin/reports", "admin"},
		{"evil.example.com", "/api/x", "-"},
		{"api.example.com.evil", "/api/x", "-"},
		{"", "/api/x", "-"},
		{"[::1]:8080", "/local/x", "ipv6"},
		{"[::1]", "/local", "ipv6"},
		{"::1", "/local", "-"},
		// case folding
		{"example.org", "/ADMIN", "admin"},
		{"example.org", "/Admin/Secret", "admin"},
		{"example.org", "/MEMBERS/", "members"},
		{"example.org", "/Api/V1", "api"},
		{"example.org", "/CAFÉ/straße", "unicode"},
		{"example.org", "/café/STRAßE", "unicode"},
		{"example.org", "/café/STRASSE", "-"}, // full case folding is not simple folding
		{"example.org", "/\u212adm", "-"},
		{"example.org", "/\u017fomething", "-"},
		// path parameters
		{"example.org", "/admin;jsessionid=1", "admin"},
		{"example.org", "/members;x/page", "members"},
		{"example.org", "/api;a/v1;b/users", "api"},
		{"example.org", "/;x/admin", "admin"},
		{"example.org", "/admin;/x", "admin"},
		// unnormalised input is still matched as servers resolve it
		{"example.org", "//admin", "admin"},
		{"example.org", "/./admin", "admin"},
		{"example.org", "/public/../admin", "admin"},
		{"example.org", "/public/x/../../admin/y", "admin"},
		{"example.org", "/../../admin", "admin"},
		{"example.org", "/admin/../public", "-"},
		{"example.org", "/public/..;/admin", "admin"},
		{"example.org", "/api/v1/../v2", "-"},
		{"example.org", "/api/v2/../v1/x", "api"},
		{"example.org", "admin", "admin"},
		{"example.org", "/a%20b/c", "pct"},
		{"example.org", "/A%20B", "pct"},
	}
	for _, tt := range tests {
		if got := matchID(tab, tt.host, tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tt.host, tt.path, got, tt.want)
		}
	}
}

func TestMatchRoot(t *testing.T) {
	tab := mustTable(t, TableOptions{}, Rule{ID: "root", Path: "/"}, Rule{ID: "open", Path: "/public", Require: mustParse(t, "all granted")})
	for _, tt := range []struct{ path, want string }{
		{"/", "root"}, {"", "root"}, {"/index.html", "root"}, {"/a/b/c", "root"},
		{"/public", "open"}, {"/public/x", "open"}, {"/publicity", "root"}, {"/PUBLIC", "open"},
		{"/public/../secret", "root"},
	} {
		if got := matchID(tab, "h", tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %q, want %q", "h", tt.path, got, tt.want)
		}
	}
}

func TestMatchUnicodeFolding(t *testing.T) {
	tab := mustTable(t, TableOptions{},
		Rule{ID: "kelvin", Path: "/\u212a"},      // KELVIN SIGN folds with k and K
		Rule{ID: "long-s", Path: "/\u017fecret"}, // LONG S folds with s and S
		Rule{ID: "sigma", Path: "/σοφία"},
		Rule{ID: "cyrillic", Path: "/Админ"},
	)
	for _, tt := range []struct{ path, want string }{
		{"/k", "kelvin"}, {"/K", "kelvin"}, {"/\u212a/x", "kelvin"},
		{"/secret", "long-s"}, {"/SECRET", "long-s"}, {"/\u017fECRET", "long-s"},
		{"/ΣΟΦΊΑ", "sigma"}, {"/σοφία", "sigma"}, {"/ςοφία", "sigma"},
		{"/админ", "cyrillic"}, {"/АДМИН/панель", "cyrillic"},
		{"/adm\u0130n", "-"},
	} {
		if got := matchID(tab, "h", tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %q, want %q", "h", tt.path, got, tt.want)
		}
	}
}

func TestMatchCaseSensitive(t *testing.T) {
	tab := mustTable(t, TableOptions{CaseSensitive: true},
		Rule{ID: "lower", Path: "/admin"},
		Rule{ID: "upper", Path: "/ADMIN"},
		Rule{ID: "host", Host: "Example.COM", Path: "/x"},
	)
	for _, tt := range []struct{ host, path, want string }{
		{"h", "/admin", "lower"}, {"h", "/ADMIN/x", "upper"}, {"h", "/Admin", "-"},
		{"h", "/admin;p/x", "lower"},
		{"EXAMPLE.com", "/x", "host"}, // hosts are case-insensitive anyway
		{"example.com", "/X", "-"},
	} {
		if got := matchID(tab, tt.host, tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tt.host, tt.path, got, tt.want)
		}
	}
}

func TestMatchNilTable(t *testing.T) {
	var tab *Table
	if r := tab.Match("h", "/"); r != nil {
		t.Errorf("nil Table Match = %v, want nil", r)
	}
	if r := tab.Rules(); r != nil {
		t.Errorf("nil Table Rules = %v, want nil", r)
	}
	empty := mustTable(t, TableOptions{})
	if r := empty.Match("h", "/x"); r != nil {
		t.Errorf("empty Table Match = %v, want nil", r)
	}
}

func TestNewTableErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		is    error
		msg   string
	}{
		{"relative path", []Rule{{Path: "admin"}}, ErrInvalidPath, `does not start with "/"`},
		{"empty path", []Rule{{Path: ""}}, ErrInvalidPath, `does not start with "/"`},
		{"double slash", []Rule{{Path: "/a//b"}}, ErrInvalidPath, `"//"`},
		{"double slash root", []Rule{{Path: "//"}}, ErrInvalidPath, `"//"`},
		{"dot", []Rule{{Path: "/a/./b"}}, ErrInvalidPath, "dot segment"},
		{"dotdot", []Rule{{Path: "/a/.."}}, ErrInvalidPath, "dot segment"},
		{"params", []Rule{{Path: "/a;b"}}, ErrInvalidPath, `";"`},
		{"query", []Rule{{Path: "/a?b"}}, ErrInvalidPath, "query"},
		{"backslash", []Rule{{Path: `/a\b`}}, ErrInvalidPath, `"\"`},
		{"control", []Rule{{Path: "/a\nb"}}, ErrInvalidPath, "control"},
		{"invalid utf-8", []Rule{{Path: "/\xff"}}, ErrInvalidPath, "UTF-8"},
		{"host with port", []Rule{{Host: "example.com:80", Path: "/"}}, ErrInvalidHost, "port"},
		{"host unicode", []Rule{{Host: "bücher.de", Path: "/"}}, ErrInvalidHost, "xn--"},
		{"host space", []Rule{{Host: "a b", Path: "/"}}, ErrInvalidHost, "invalid character"},
		{"host ipv6 port", []Rule{{Host: "[::1]:80", Path: "/"}}, ErrInvalidHost, "bracketed"},
		{"host dot", []Rule{{Host: ".", Path: "/"}}, ErrInvalidHost, "empty"},
		{"require", []Rule{{Path: "/", Require: mustParse(t, "not user bob")}}, ErrInvalidRequire, "cannot stand alone"},
		{"duplicate", []Rule{{ID: "a", Path: "/x"}, {ID: "b", Path: "/x"}}, ErrDuplicateRule, "a /x"},
		{"duplicate trailing slash", []Rule{{Path: "/x/"}, {Path: "/x"}}, ErrDuplicateRule, ""},
		{"duplicate case", []Rule{{Path: "/Admin"}, {Path: "/aDMIN/"}}, ErrDuplicateRule, ""},
		{"duplicate unicode case", []Rule{{Path: "/\u212a"}, {Path: "/k"}}, ErrDuplicateRule, ""},
		{"duplicate host", []Rule{{Host: "Example.com", Path: "/x"}, {Host: "example.COM.", Path: "/x"}}, ErrDuplicateRule, ""},
		{"duplicate root", []Rule{{Path: "/"}, {Path: "/", Origin: "f.yaml rules[1]"}}, ErrDuplicateRule, "f.yaml rules[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := NewTable(tt.rules)
			if tab != nil || !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("NewTable(%+v) = %v, %v; want an error wrapping %v containing %q", tt.rules, tab, err, tt.is, tt.msg)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Errorf("NewTable error %v is not a *RuleError", err)
			}
		})
	}
}

func TestNewTableReportsEveryProblem(t *testing.T) {
	_, err := NewTable([]Rule{
		{ID: "ok", Path: "/ok"},
		{ID: "bad-path", Path: "x", Origin: "htgate.yaml rules[1]"},
		{ID: "bad-host", Path: "/y", Host: "h:1"},
		{ID: "dup", Path: "/ok/"},
	})
	want := `rule htgate.yaml rules[1] (bad-path): invalid path "x": does not start with "/"
rule #2 (bad-host): invalid host "h:1": has a port (rules match any port)
rule #3 (dup): another rule has the same host and path (ok /ok)`
	if err == nil || err.Error() != want {
		t.Errorf("NewTable error =\n%v\nwant\n%s", err, want)
	}
	// Case-sensitive tables accept rules that differ by case only.
	if _, err := NewTableWith([]Rule{{Path: "/A"}, {Path: "/a"}}, TableOptions{CaseSensitive: true}); err != nil {
		t.Errorf("NewTableWith(case-sensitive) error: %v", err)
	}
}

func TestNewTableCopiesRules(t *testing.T) {
	rules := []Rule{{ID: "a", Path: "/a"}, {ID: "b", Path: "/b"}}
	tab := mustTable(t, TableOptions{}, rules...)
	rules[0].ID = "changed"
	if got := matchID(tab, "h", "/a"); got != "a" {
		t.Errorf("Match after changing the input slice = %q, want %q", got, "a")
	}
	got := tab.Rules()
	got[1].ID = "changed"
	if diff := cmp.Diff([]Rule{{ID: "a", Path: "/a"}, {ID: "b", Path: "/b"}}, tab.Rules(), exprOpts, cmpopts.IgnoreUnexported(Rule{})); diff != "" {
		t.Errorf("Rules() mismatch (-want +got):\n%s", diff)
	}
}

func TestRuleRef(t *testing.T) {
	r := &Rule{ID: "m", Origin: "htgate.yaml rules[0]", Host: "example.com", Path: "/members/", Realm: "Members", Source: "/etc/htpasswd"}
	want := &htgate.RuleRef{ID: "m", Origin: "htgate.yaml rules[0]", Host: "example.com", Path: "/members/", Realm: "Members"}
	if diff := cmp.Diff(want, r.Ref()); diff != "" {
		t.Errorf("Ref() mismatch (-want +got):\n%s", diff)
	}
	var nilRule *Rule
	if nilRule.Ref() != nil {
		t.Errorf("(*Rule)(nil).Ref() = %v, want nil", nilRule.Ref())
	}
}

func TestTableEvaluate(t *testing.T) {
	tab := mustTable(t, TableOptions{},
		Rule{ID: "members", Path: "/members", Origin: "htgate.yaml rules[0]"},
		Rule{ID: "admin", Path: "/admin", Require: all(mustParse(t, "group admins"), mustParse(t, "ip 10.0.0.0/8"))},
	)
	tests := []struct {
		path      string
		facts     Facts
		wantRule  string
		wantRes   Result
		wantTrace []htgate.TraceStep
	}{
		{"/public", anon, "-", Granted, []htgate.TraceStep{{Step: "match", Outcome: htgate.OutcomeSkip, Detail: "no rule covers /public"}}},
		{"/members/x", anon, "members", DeniedNoUser, []htgate.TraceStep{
			{Step: "match", Outcome: htgate.OutcomeInfo, Detail: "rule members /members at htgate.yaml rules[0]"},
			{Step: "authz", Outcome: htgate.OutcomeFail, Detail: "require valid-user: denied (no authenticated user yet)"},
		}},
		{"/admin", carol, "admin", Denied, []htgate.TraceStep{
			{Step: "match", Outcome: htgate.OutcomeInfo, Detail: "rule admin /admin"},
			{Step: "authz", Outcome: htgate.OutcomeFail, Detail: "require group admins: denied (carol is not in admins)"},
			{Step: "authz", Outcome: htgate.OutcomeFail, Detail: "RequireAll(group admins; ip 10.0.0.0/8): denied"},
		}},
		{"/admin", alice, "admin", Granted, []htgate.TraceStep{
			{Step: "match", Outcome: htgate.OutcomeInfo, Detail: "rule admin /admin"},
			{Step: "authz", Outcome: htgate.OutcomePass, Detail: "require group admins: granted (alice is in admins)"},
			{Step: "authz", Outcome: htgate.OutcomePass, Detail: "require ip 10.0.0.0/8: granted (client is 10.1.2.3)"},
			{Step: "authz", Outcome: htgate.OutcomePass, Detail: "RequireAll(group admins; ip 10.0.0.0/8): granted"},
		}},
	}
	for _, tt := range tests {
		r, res, trace := tab.Evaluate("h", tt.path, tt.facts)
		id := "-"
		if r != nil {
			id = r.ID
		}
		if id != tt.wantRule || res != tt.wantRes {
			t.Errorf("Evaluate(%q) = %s, %v, want %s, %v", tt.path, id, res, tt.wantRule, tt.wantRes)
		}
		if diff := cmp.Diff(tt.wantTrace, trace); diff != "" {
			t.Errorf("Evaluate(%q) trace mismatch (-want +got):\n%s", tt.path, diff)
		}
	}
}

// TestFoldMatchesEqualFold checks that segments fold to the same key
// exactly when strings.EqualFold says they are equal, for every rune of the
// Basic Multilingual Plane against its folding orbit and neighbours.
func TestFoldMatchesEqualFold(t *testing.T) {
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		a := string(r)
		if isFolded(a) != (foldSegment(a) == a) {
			t.Fatalf("isFolded(%q) = %v but foldSegment = %q", a, isFolded(a), foldSegment(a))
		}
		if len(foldSegment(a)) > len(a) {
			t.Fatalf("foldSegment(%q) = %q is longer", a, foldSegment(a))
		}
		for _, o := range []rune{unicode.SimpleFold(r), unicode.ToUpper(r), unicode.ToLower(r), r + 1, r + 32} {
			b := string(o)
			if got, want := foldSegment(a) == foldSegment(b), strings.EqualFold(a, b); got != want {
				t.Fatalf("fold(%q) == fold(%q) is %v, EqualFold is %v", a, b, got, want)
			}
		}
	}
}

// oracle is the specification of Match as a plain list scan.
type oracle struct {
	rules         []oracleRule
	caseSensitive bool
}

type oracleRule struct {
	rule *Rule
	host string   // without trailing dot
	segs []string // path segments
}

func newOracle(rules []Rule, caseSensitive bool) oracle {
	o := oracle{caseSensitive: caseSensitive}
	for i := range rules {
		r := oracleRule{rule: &rules[i], host: strings.TrimSuffix(rules[i].Host, ".")}
		if p := strings.Trim(rules[i].Path, "/"); p != "" {
			r.segs = strings.Split(p, "/")
		}
		o.rules = append(o.rules, r)
	}
	return o
}

func (o oracle) match(host, path string) *Rule {
	var segs []string
	for _, s := range strings.Split(path, "/") {
		s, _, _ = strings.Cut(s, ";")
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	if strings.HasPrefix(host, "[") {
		host, _, _ = strings.Cut(host, "]")
		host += "]"
	} else if strings.Count(host, ":") == 1 {
		host, _, _ = strings.Cut(host, ":")
	}
	host = strings.TrimSuffix(host, ".")
	eq := strings.EqualFold
	if o.caseSensitive {
		eq = func(a, b string) bool { return a == b }
	}
	var best *Rule
	bestDepth, bestHost := -1, false
	for _, r := range o.rules {
		if len(r.segs) > len(segs) || r.host != "" && !strings.EqualFold(r.host, host) {
			continue
		}
		ok := true
		for k := range r.segs {
			if !eq(r.segs[k], segs[k]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if d := len(r.segs); d > bestDepth || d == bestDepth && r.host != "" && !bestHost {
			best, bestDepth, bestHost = r.rule, d, r.host != ""
		}
	}
	return best
}

// words are pairwise different under case folding.
var words = []string{
	"admin", "members", "api", "v1", "v2", "users", "static", "img", "docs", "private",
	"josé", "straße", "σοφία", "админ", "k", "secret", "a%20b", "x-y", "_", "~u", "über", "日本",
	"1", "22", "data.json", "index.html",
}

// variant returns s with the case of some runes changed along their
// folding orbit (which reaches KELVIN SIGN for k and LONG S for s).
func variant(rng *rand.Rand, s string) string {
	var b strings.Builder
	for _, r := range s {
		for range rng.IntN(3) {
			r = unicode.SimpleFold(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func randomRules(rng *rand.Rand, n int, hosts []string) []Rule {
	seen := map[string]bool{}
	var rules []Rule
	for len(rules) < n {
		depth := rng.IntN(6)
		segs := make([]string, depth)
		for i := range segs {
			segs[i] = words[rng.IntN(len(words))]
		}
		host := ""
		if rng.IntN(4) == 0 {
			host = hosts[rng.IntN(len(hosts))]
		}
		key := host + "|" + strings.Join(segs, "/")
		if seen[key] {
			continue
		}
		seen[key] = true
		for i := range segs {
			segs[i] = variant(rng, segs[i])
		}
		path := "/" + strings.Join(segs, "/")
		if depth > 0 && rng.IntN(3) == 0 {
			path += "/"
		}
		rules = append(rules, Rule{ID: fmt.Sprint(len(rules)), Host: host, Path: path})
	}
	return rules
}

func randomRequest(rng *rand.Rand, rules []Rule, hosts []string) (host, path string) {
	host = hosts[rng.IntN(len(hosts))]
	switch rng.IntN(4) {
	case 0:
		host = strings.ToUpper(host)
	case 1:
		host += ":8080"
	case 2:
		host += "."
	}
	if strings.HasPrefix(host, "[") && rng.IntN(2) == 0 {
		host += ":443"
	}
	var segs []string
	if rng.IntN(5) > 0 {
		segs = strings.Split(strings.Trim(rules[rng.IntN(len(rules))].Path, "/"), "/")
	}
	for range rng.IntN(3) {
		segs = append(segs, words[rng.IntN(len(words))])
	}
	var b strings.Builder
	for _, s := range segs {
		if s == "" {
			continue
		}
		b.WriteByte('/')
		switch rng.IntN(12) {
		case 0:
			b.WriteString("/") // empty segment
		case 1:
			b.WriteString("./")
		case 2:
			b.WriteString(words[rng.IntN(len(words))] + "/../")
		case 3:
			b.WriteString("zz/../")
		}
		b.WriteString(variant(rng, s))
		if rng.IntN(10) == 0 {
			b.WriteString(";jsessionid=42")
		}
		if rng.IntN(20) == 0 {
			b.WriteString("/..")
		}
	}
	if rng.IntN(4) == 0 {
		b.WriteByte('/')
	}
	return host, b.String()
}

// TestMatchDifferential compares Match with the list-scan oracle on 10,000
// random rules, case-insensitive and case-sensitive.
func TestMatchDifferential(t *testing.T) {
	hosts := []string{"example.com", "api.example.com", "intranet.example.org", "[::1]", "127.0.0.1"}
	for _, cs := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(1, uint64(len(hosts))))
		rules := randomRules(rng, 10000, hosts)
		if cs {
			// Case variants of one rule are different rules here.
			for i := range rules {
				rules[i].Path = strings.ToLower(rules[i].Path)
			}
		}
		tab, err := NewTableWith(rules, TableOptions{CaseSensitive: cs})
		if err != nil {
			t.Fatalf("NewTable(%d random rules, case-sensitive %v): %v", len(rules), cs, err)
		}
		o := newOracle(rules, cs)
		hits, hostHits := 0, 0
		for range 3000 {
			host, path := randomRequest(rng, rules, hosts)
			if cs && rng.IntN(2) == 0 {
				path = strings.ToLower(path)
			}
			got, want := tab.Match(host, path), o.match(host, path)
			if got == nil && want == nil {
				continue
			}
			if got == nil || want == nil || got.ID != want.ID {
				t.Fatalf("case-sensitive %v: Match(%q, %q) = %v, oracle says %v", cs, host, path, got, want)
			}
			if strings.Count(strings.Trim(got.Path, "/"), "/") >= 1 {
				hits++ // a rule of depth 2 or more
			}
			if got.Host != "" {
				hostHits++
			}
		}
		t.Logf("case-sensitive %v: %d of 3000 requests matched a rule of depth >= 2, %d a host rule", cs, hits, hostHits)
		// The test means something only if requests hit rules of both kinds.
		if hits < 1000 || hostHits < 100 {
			t.Errorf("case-sensitive %v: only %d of 3000 requests matched a rule of depth >= 2, %d a host rule", cs, hits, hostHits)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	tab := mustTable(t, TableOptions{},
		Rule{ID: "a", Path: "/admin"}, Rule{ID: "b", Host: "example.com", Path: "/members/area"}, Rule{ID: "c", Path: "/josé"})
	for _, tt := range []struct{ host, path string }{
		{"example.com", "/members/area/page.html"},
		{"EXAMPLE.COM:8080", "/MEMBERS/Area/Page.html"},
		{"example.com", "/JOSÉ/x"},
		{"example.com", "/admin;x/../admin/./y//z"},
	} {
		if n := testing.AllocsPerRun(100, func() { tab.Match(tt.host, tt.path) }); n != 0 {
			t.Errorf("Match(%q, %q) allocates %v times, want 0", tt.host, tt.path, n)
		}
	}
}

// benchRules returns n rules of mixed depth as a site would have them:
// sections, sub-sections, per-user areas, a few per-host rules.
func benchRules(n int) []Rule {
	rng := rand.New(rand.NewPCG(7, 7))
	sections := []string{"admin", "members", "api", "docs", "shop", "static", "blog", "wiki", "files", "reports"}
	seen := map[string]bool{}
	var rules []Rule
	for len(rules) < n {
		var b strings.Builder
		b.WriteString("/" + sections[rng.IntN(len(sections))])
		depth := 1 + rng.IntN(4)
		for d := 1; d < depth; d++ {
			fmt.Fprintf(&b, "/%s%d", []string{"team", "user", "v", "project"}[rng.IntN(4)], rng.IntN(max(n/10, 10)))
		}
		host := ""
		if rng.IntN(10) == 0 {
			host = fmt.Sprintf("site%d.example.com", rng.IntN(20))
		}
		if seen[host+b.String()] {
			continue
		}
		seen[host+b.String()] = true
		rules = append(rules, Rule{ID: fmt.Sprint(len(rules)), Host: host, Path: b.String()})
	}
	return rules
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		rules := benchRules(n)
		tab, err := NewTable(rules)
		if err != nil {
			b.Fatal(err)
		}
		// Requests for paths under existing rules, plus a miss.
		var paths []string
		for i := 0; i < len(rules) && len(paths) < 16; i += max(len(rules)/15, 1) {
			paths = append(paths, rules[i].Path+"/assets/app.js")
		}
		paths = append(paths, "/nothing/here/index.html")
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tab.Match("site3.example.com", paths[i%len(paths)])
				i++
			}
		})
		b.Run(fmt.Sprintf("rules=%d/mixed-case", n), func(b *testing.B) {
			b.ReportAllocs()
			p := strings.ToUpper(paths[0])
			for b.Loop() {
				tab.Match("Site3.Example.com:8443", p)
			}
		})
	}
}

// FuzzMatch compares Match with the list-scan oracle for any host and
// path, on a fixed set of rules that share prefixes, hosts and case
// variants.
func FuzzMatch(f *testing.F) {
	rules := []Rule{
		{ID: "root", Path: "/"},
		{ID: "admin", Path: "/admin"},
		{ID: "admin-host", Host: "example.com", Path: "/admin"},
		{ID: "reports", Path: "/admin/Reports/"},
		{ID: "host-root", Host: "intranet.example.com", Path: "/"},
		{ID: "api", Host: "api.example.com", Path: "/api/v1"},
		{ID: "kelvin", Path: "/\u212aey/σ"},
		{ID: "jose", Path: "/josé/a%20b"},
		{ID: "v6", Host: "[::1]", Path: "/local"},
	}
	for _, s := range []struct{ host, path string }{
		{"example.com", "/admin/reports/x"}, {"EXAMPLE.com:80", "/ADMIN;x/../admin/Reports"},
		{"intranet.example.com.", "//a/./b/../../admin"}, {"api.example.com", "/api/v1;p/x"},
		{"h", "/Key/Σ/x"}, {"h", "/JOSÉ/A%20B"}, {"[::1]:8080", "/local/..;/x"}, {"", ""},
	} {
		f.Add(s.host, s.path)
	}
	ci, err := NewTableWith(rules, TableOptions{})
	if err != nil {
		f.Fatal(err)
	}
	cs, err := NewTableWith(rules, TableOptions{CaseSensitive: true})
	if err != nil {
		f.Fatal(err)
	}
	oci, ocs := newOracle(rules, false), newOracle(rules, true)
	f.Fuzz(func(t *testing.T, host, path string) {
		if !utf8.ValidString(path) {
			// EqualFold, the oracle's comparison, equates all invalid
			// bytes; the normaliser refuses invalid UTF-8 anyway.
			ci.Match(host, path)
			cs.Match(host, path)
			return
		}
		for _, c := range []struct {
			tab *Table
			o   oracle
		}{{ci, oci}, {cs, ocs}} {
			got, want := c.tab.Match(host, path), c.o.match(host, path)
			if (got == nil) != (want == nil) || got != nil && got.ID != want.ID {
				t.Fatalf("case-sensitive %v: Match(%q, %q) = %v, oracle says %v", c.tab.caseSensitive, host, path, got, want)
			}
		}
	})
}
