package policy

import (
	"net/netip"
	"testing"
)

func TestInDomain(t *testing.T) {
	tests := []struct {
		domain, host string
		want         bool
	}{
		{"example.com", "example.com", true},
		{"example.com", "www.example.com", true},
		{".example.com", "www.example.com", true},
		{"example.com", "badexample.com", false},
		{"EXAMPLE.com", "www.Example.COM.", true},
		{"www.example.com", "example.com", false},
		{"", "example.com", false},
		{"localhost", "localhost", true},
	}
	for _, tt := range tests {
		if got := InDomain(tt.domain, tt.host); got != tt.want {
			t.Errorf("InDomain(%q, %q) = %v, want %v", tt.domain, tt.host, got, tt.want)
		}
	}
}

type fakeResolver struct {
	names map[netip.Addr]string
	addrs map[string][]netip.Addr
}

func (r fakeResolver) HostName(a netip.Addr) string   { return r.names[a] }
func (r fakeResolver) Addrs(name string) []netip.Addr { return r.addrs[name] }

type fakeCond struct {
	match, user bool
}

func (c fakeCond) Match(*Facts) bool { return c.match }
func (c fakeCond) NeedsUser() bool   { return c.user }
func (c fakeCond) String() string    { return "%{X} == 'y'" }

func TestEvaluateApache(t *testing.T) {
	client := netip.MustParseAddr("192.0.2.7")
	res := fakeResolver{
		names: map[netip.Addr]string{client: "host.example.com"},
		addrs: map[string][]netip.Addr{"gw.example.net": {client}},
	}
	f := Facts{Client: client, ApacheFacts: ApacheFacts{
		Resolver: res,
		Server:   netip.MustParseAddr("192.0.2.1"),
		Env:      func(name string) (string, bool) { return "1", name == "SET" },
	}}
	tests := []struct {
		e    Expr
		f    Facts
		want Result
	}{
		{Expr{Kind: Host, Args: []string{"example.com"}}, f, Granted},
		{Expr{Kind: Host, Args: []string{"example.org"}}, f, Denied},
		{Expr{Kind: Host, Args: []string{"example.com"}}, Facts{Client: client}, Denied},
		{Expr{Kind: ForwardDNS, Args: []string{"gw.example.net"}}, f, Granted},
		{Expr{Kind: ForwardDNS, Args: []string{"other.example.net"}}, f, Denied},
		{Expr{Kind: Local}, f, Denied},
		{Expr{Kind: Local}, Facts{Client: netip.MustParseAddr("127.0.0.9")}, Granted},
		{Expr{Kind: Local}, Facts{Client: netip.MustParseAddr("::1")}, Granted},
		{Expr{Kind: Local}, Facts{Client: netip.MustParseAddr("192.0.2.1"), ApacheFacts: ApacheFacts{Server: netip.MustParseAddr("192.0.2.1")}}, Granted},
		{Expr{Kind: Env, Args: []string{"SET"}}, f, Granted},
		{Expr{Kind: Env, Args: []string{"UNSET"}}, f, Denied},
		{Expr{Kind: Env, Args: []string{"SET"}}, Facts{}, Denied},
		{Expr{Kind: Cond, Cond: fakeCond{match: true}}, f, Granted},
		{Expr{Kind: Cond, Cond: fakeCond{}}, f, Denied},
		{Expr{Kind: Cond, Cond: fakeCond{user: true}}, f, DeniedNoUser},
		{Expr{Kind: Cond, Cond: fakeCond{user: true}}, Facts{Authenticated: true}, Denied},
		{Expr{Kind: Cond}, f, Denied},
		{Expr{Kind: All, Sub: []Expr{{Kind: AllGranted}, {Kind: Local, Negate: true}}}, Facts{Client: netip.MustParseAddr("127.0.0.1")}, Denied},
	}
	for _, tt := range tests {
		if got := tt.e.Evaluate(tt.f, nil); got != tt.want {
			t.Errorf("%s.Evaluate = %v, want %v", tt.e, got, tt.want)
		}
	}
}

func TestApacheKindsString(t *testing.T) {
	tests := []struct {
		e    Expr
		want string
	}{
		{Expr{Kind: Host, Args: []string{"example.com", ".example.org"}}, "host example.com .example.org"},
		{Expr{Kind: Local, Negate: true}, "not local"},
		{Expr{Kind: Env, Args: []string{"A"}}, "env A"},
		{Expr{Kind: ForwardDNS, Args: []string{"gw"}}, "forward-dns gw"},
		{Expr{Kind: Cond, Cond: fakeCond{}}, "expr %{X} == 'y'"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if tt.e.Kind != Local && tt.e.Validate() != nil && !tt.e.Negate {
			t.Errorf("%s: Validate() = %v", tt.want, tt.e.Validate())
		}
	}
	if err := (Expr{Kind: Cond}).Validate(); err == nil {
		t.Error("expr without a condition validated")
	}
	if err := (Expr{Kind: Host}).Validate(); err == nil {
		t.Error("host without names validated")
	}
}
