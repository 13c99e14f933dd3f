package gateway

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// resolveTrusted is the proxy list of resolveTests: loopback, 10/8 and
// one IPv6 prefix.
var resolveTrusted = []string{"127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"}

// resolveTests is the table for TestResolve and FuzzResolve's seeds.
var resolveTests = []struct {
	name   string
	remote string
	header string // ClientIP.Header
	xff    []string
	fwd    []string
	want   string // "" for the zero Addr
	via    string
}{
	// No or untrusted proxies: the peer, whatever the headers say.
	{name: "peer", remote: "192.0.2.1:1234", want: "192.0.2.1", via: ViaPeer},
	{name: "peer-v6", remote: "[2001:db8::1]:443", want: "2001:db8::1", via: ViaPeer},
	{name: "peer-mapped", remote: "[::ffff:192.0.2.1]:80", want: "192.0.2.1", via: ViaPeer},
	{name: "peer-zone", remote: "[fe80::1%eth0]:80", want: "fe80::1", via: ViaPeer},
	{name: "peer-no-port", remote: "192.0.2.1", want: "192.0.2.1", via: ViaPeer},
	{name: "peer-unix", remote: "@", xff: []string{"1.2.3.4"}, want: "", via: ViaPeer},
	{name: "peer-empty", remote: "", want: "", via: ViaPeer},
	{name: "spoof-xff", remote: "192.0.2.1:1", xff: []string{"127.0.0.1"}, want: "192.0.2.1", via: ViaPeer},
	{name: "spoof-fwd", remote: "192.0.2.1:1", fwd: []string{"for=10.0.0.1"}, want: "192.0.2.1", via: ViaPeer},
	{name: "spoof-mapped-trusted", remote: "[::ffff:192.0.2.1]:1", xff: []string{"10.0.0.1"}, want: "192.0.2.1", via: ViaPeer},
	{name: "spoof-looks-like-10", remote: "11.0.0.1:1", xff: []string{"1.2.3.4"}, want: "11.0.0.1", via: ViaPeer},

	// A trusted peer without headers.
	{name: "trusted-no-header", remote: "127.0.0.1:1", want: "127.0.0.1", via: ViaPeer},
	{name: "trusted-blank-header", remote: "127.0.0.1:1", xff: []string{" "}, want: "127.0.0.1", via: ViaPeer},

	// X-Forwarded-For.
	{name: "xff-one", remote: "127.0.0.1:1", xff: []string{"203.0.113.9"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-client-spoof-left", remote: "127.0.0.1:1", xff: []string{"6.6.6.6, 203.0.113.9"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-spoof-trusted-left", remote: "127.0.0.1:1", xff: []string{"10.0.0.7, 203.0.113.9"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-hops", remote: "10.0.0.2:1", xff: []string{"203.0.113.9, 10.1.1.1, 10.0.0.3"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-all-trusted", remote: "10.0.0.2:1", xff: []string{"10.0.0.9, 10.1.1.1"}, want: "10.0.0.9", via: ViaXForwardedFor},
	{name: "xff-lines", remote: "127.0.0.1:1", xff: []string{"6.6.6.6", "203.0.113.9, 10.0.0.1"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-lines-trusted", remote: "127.0.0.1:1", xff: []string{"203.0.113.9", "10.0.0.5", "10.0.0.1"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-no-space", remote: "127.0.0.1:1", xff: []string{"6.6.6.6,203.0.113.9,10.0.0.1"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-v6", remote: "[::1]:1", xff: []string{"2001:db8::7"}, want: "2001:db8::7", via: ViaXForwardedFor},
	{name: "xff-v6-trusted-hop", remote: "[::1]:1", xff: []string{"2001:db8::7, fd00::5"}, want: "2001:db8::7", via: ViaXForwardedFor},
	{name: "xff-v6-brackets-port", remote: "[::1]:1", xff: []string{"[2001:db8::7]:4711"}, want: "2001:db8::7", via: ViaXForwardedFor},
	{name: "xff-v4-port", remote: "127.0.0.1:1", xff: []string{"203.0.113.9:4711"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-mapped", remote: "127.0.0.1:1", xff: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-mapped-trusted", remote: "127.0.0.1:1", xff: []string{"203.0.113.9, ::ffff:10.0.0.1"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-zone", remote: "127.0.0.1:1", xff: []string{"fe80::9%eth1"}, want: "fe80::9", via: ViaXForwardedFor},
	{name: "xff-empty-elements", remote: "127.0.0.1:1", xff: []string{", 203.0.113.9 ,, 10.0.0.1,"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-garbage-right", remote: "127.0.0.1:1", xff: []string{"203.0.113.9, garbage"}, want: "127.0.0.1", via: ViaPeer},
	{name: "xff-garbage-middle", remote: "127.0.0.1:1", xff: []string{"6.6.6.6, garbage, 10.0.0.8"}, want: "10.0.0.8", via: ViaXForwardedFor},
	{name: "xff-garbage-left", remote: "127.0.0.1:1", xff: []string{"garbage, 203.0.113.9"}, want: "203.0.113.9", via: ViaXForwardedFor},
	{name: "xff-unknown", remote: "127.0.0.1:1", xff: []string{"unknown, 10.0.0.8"}, want: "10.0.0.8", via: ViaXForwardedFor},
	{name: "xff-leading-zero", remote: "127.0.0.1:1", xff: []string{"010.0.0.1"}, want: "127.0.0.1", via: ViaPeer},
	{name: "xff-quoted", remote: "127.0.0.1:1", xff: []string{`"203.0.113.9"`}, want: "127.0.0.1", via: ViaPeer},
	{name: "xff-bad-port", remote: "127.0.0.1:1", xff: []string{"203.0.113.9:99999"}, want: "127.0.0.1", via: ViaPeer},
	{name: "xff-v4-in-brackets", remote: "127.0.0.1:1", xff: []string{"[203.0.113.9]"}, want: "127.0.0.1", via: ViaPeer},
	{name: "xff-hostname", remote: "127.0.0.1:1", xff: []string{"evil.example"}, want: "127.0.0.1", via: ViaPeer},
	{name: "xff-cidr", remote: "127.0.0.1:1", xff: []string{"0.0.0.0/0"}, want: "127.0.0.1", via: ViaPeer},

	// Forwarded.
	{name: "fwd-one", remote: "127.0.0.1:1", fwd: []string{"for=203.0.113.9"}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-case", remote: "127.0.0.1:1", fwd: []string{"For=203.0.113.9;PROTO=https"}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-quoted", remote: "127.0.0.1:1", fwd: []string{`for="203.0.113.9"`}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-quoted-escape", remote: "127.0.0.1:1", fwd: []string{`for="203.0.113.\9"`}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-v6", remote: "127.0.0.1:1", fwd: []string{`for="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17", via: ViaForwarded},
	{name: "fwd-v6-no-port", remote: "127.0.0.1:1", fwd: []string{`for="[2001:db8:cafe::17]"`}, want: "2001:db8:cafe::17", via: ViaForwarded},
	{name: "fwd-v6-unquoted", remote: "127.0.0.1:1", fwd: []string{`for=[2001:db8::17]`}, want: "2001:db8::17", via: ViaForwarded},
	{name: "fwd-v4-port", remote: "127.0.0.1:1", fwd: []string{`for="203.0.113.9:8080"`}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-obf-port", remote: "127.0.0.1:1", fwd: []string{`for="203.0.113.9:_p1"`}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-params", remote: "127.0.0.1:1", fwd: []string{"proto=https;for=203.0.113.9;by=10.0.0.1;host=example.com"}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-hops", remote: "10.0.0.2:1", fwd: []string{"for=6.6.6.6, for=203.0.113.9, for=10.0.0.4;proto=http"}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-lines", remote: "10.0.0.2:1", fwd: []string{"for=6.6.6.6", "for=203.0.113.9", "for=10.0.0.4"}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-all-trusted", remote: "10.0.0.2:1", fwd: []string{"for=10.9.9.9, for=10.0.0.4"}, want: "10.9.9.9", via: ViaForwarded},
	{name: "fwd-unknown", remote: "10.0.0.2:1", fwd: []string{"for=unknown, for=10.0.0.4"}, want: "10.0.0.4", via: ViaForwarded},
	{name: "fwd-obfuscated", remote: "10.0.0.2:1", fwd: []string{"for=_hidden, for=10.0.0.4"}, want: "10.0.0.4", via: ViaForwarded},
	{name: "fwd-obfuscated-right", remote: "10.0.0.2:1", fwd: []string{"for=6.6.6.6, for=_hidden"}, want: "10.0.0.2", via: ViaPeer},
	{name: "fwd-no-for", remote: "10.0.0.2:1", fwd: []string{"for=6.6.6.6, proto=https"}, want: "10.0.0.2", via: ViaPeer},
	{name: "fwd-dup-for", remote: "10.0.0.2:1", fwd: []string{"for=6.6.6.6;for=203.0.113.9"}, want: "10.0.0.2", via: ViaPeer},
	{name: "fwd-bad-syntax", remote: "10.0.0.2:1", fwd: []string{"for 203.0.113.9"}, want: "10.0.0.2", via: ViaPeer},
	{name: "fwd-unterminated-quote-left", remote: "10.0.0.2:1", fwd: []string{`for="6.6.6.6, for=203.0.113.9`}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-quoted-comma-spoof", remote: "10.0.0.2:1", fwd: []string{`for="1.1.1.1, for=10.0.0.1", for=203.0.113.9`}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-empty-elements", remote: "10.0.0.2:1", fwd: []string{",for=203.0.113.9,,"}, want: "203.0.113.9", via: ViaForwarded},
	{name: "fwd-mapped", remote: "10.0.0.2:1", fwd: []string{`for="[::ffff:203.0.113.9]"`}, want: "203.0.113.9", via: ViaForwarded},

	// Both headers: Forwarded wins unless Header says otherwise.
	{name: "both", remote: "127.0.0.1:1", xff: []string{"198.51.100.1"}, fwd: []string{"for=203.0.113.9"}, want: "203.0.113.9", via: ViaForwarded},
	{name: "both-blank-forwarded", remote: "127.0.0.1:1", xff: []string{"198.51.100.1"}, fwd: []string{""}, want: "198.51.100.1", via: ViaXForwardedFor},
	{name: "header-xff", remote: "127.0.0.1:1", header: "x-forwarded-for", xff: []string{"198.51.100.1"}, fwd: []string{"for=203.0.113.9"}, want: "198.51.100.1", via: ViaXForwardedFor},
	{name: "header-fwd", remote: "127.0.0.1:1", header: "Forwarded", xff: []string{"198.51.100.1"}, want: "127.0.0.1", via: ViaPeer},
	{name: "header-unknown", remote: "127.0.0.1:1", header: "X-Real-IP", xff: []string{"198.51.100.1"}, fwd: []string{"for=203.0.113.9"}, want: "127.0.0.1", via: ViaPeer},
}

func mustTrusted(t testing.TB, list []string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrusted(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func resolveRequest(remote string, xff, fwd []string) *http.Request {
	r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	for _, v := range fwd {
		r.Header.Add("Forwarded", v)
	}
	return r
}

func TestResolve(t *testing.T) {
	trusted := mustTrusted(t, resolveTrusted)
	for _, tt := range resolveTests {
		t.Run(tt.name, func(t *testing.T) {
			c := ClientIP{Trusted: trusted, Header: tt.header}
			got, via := c.Resolve(resolveRequest(tt.remote, tt.xff, tt.fwd))
			want := netip.Addr{}
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want || via != tt.via {
				t.Errorf("Resolve(%q, xff %q, fwd %q) = %v, %q; want %v, %q", tt.remote, tt.xff, tt.fwd, got, via, want, tt.via)
			}
		})
	}
}

func TestResolveTrustsNobodyByDefault(t *testing.T) {
	for _, tt := range resolveTests {
		got, via := ClientIP{}.Resolve(resolveRequest(tt.remote, tt.xff, tt.fwd))
		if want := parsePeer(tt.remote); got != want || via != ViaPeer {
			t.Errorf("ClientIP{}.Resolve(%q) = %v, %q; want the peer %v", tt.remote, got, via, want)
		}
	}
}

func TestParseTrusted(t *testing.T) {
	got, err := ParseTrusted([]string{"127.0.0.1", " 10.0.0.0/8 ", "::1", "fd00::/8", "192.168.1.7/16", "::ffff:172.16.0.0/108", "::ffff:192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.0.2.1/32"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("ParseTrusted mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "localhost", "10.0.0.0/33", "1.2.3.4/", "fe80::1%eth0", "::ffff:0:0/90", "1.2.3.4:80"} {
		if p, err := ParseTrusted([]string{"127.0.0.1", bad}); err == nil {
			t.Errorf("ParseTrusted(%q) = %v, want an error", bad, p)
		} else if !strings.Contains(err.Error(), "trusted proxy 2") {
			t.Errorf("ParseTrusted(%q) error %q does not name entry 2", bad, err)
		}
	}
}

func TestResolveAllocs(t *testing.T) {
	c := ClientIP{Trusted: mustTrusted(t, resolveTrusted)}
	for _, r := range []*http.Request{
		resolveRequest("192.0.2.1:1234", []string{"1.2.3.4"}, nil),
		resolveRequest("127.0.0.1:1", []string{"6.6.6.6, 203.0.113.9, 10.0.0.1"}, nil),
		resolveRequest("127.0.0.1:1", nil, []string{`for=203.0.113.9;proto=https, for="[fd00::1]:80"`}),
	} {
		if n := testing.AllocsPerRun(100, func() { c.Resolve(r) }); n != 0 {
			t.Errorf("Resolve(%q, %q) allocates %v times, want 0", r.RemoteAddr, r.Header, n)
		}
	}
}

// addrIn reports whether some substring of s (with backslashes removed,
// for quoted-pairs) parses as a, after unmapping and without its zone.
func addrIn(a netip.Addr, s string) bool {
	s2 := strings.ReplaceAll(s, `\`, "")
	for _, s := range []string{s, s2} {
		for i := 0; i < len(s); i++ {
			for j := i + 1; j <= len(s) && j-i <= 64; j++ {
				if b, err := netip.ParseAddr(s[i:j]); err == nil && b.Unmap().WithZone("") == a {
					return true
				}
			}
		}
	}
	return false
}

func FuzzResolve(f *testing.F) {
	for _, tt := range resolveTests {
		f.Add(tt.remote, strings.Join(tt.xff, "\n"), strings.Join(tt.fwd, "\n"), tt.header)
	}
	trusted := mustTrusted(f, resolveTrusted)
	f.Fuzz(func(t *testing.T, remote, xff, fwd, header string) {
		if len(xff)+len(fwd) > 256 {
			return // keep the oracle's substring search cheap
		}
		r := resolveRequest(remote, strings.Split(xff, "\n"), strings.Split(fwd, "\n"))
		if xff == "" {
			r.Header.Del("X-Forwarded-For")
		}
		if fwd == "" {
			r.Header.Del("Forwarded")
		}
		got, via := ClientIP{Trusted: trusted, Header: header}.Resolve(r)
		peer := parsePeer(remote)
		switch via {
		case ViaPeer:
			if got != peer {
				t.Fatalf("Resolve = %v via peer, but the peer is %v", got, peer)
			}
		case ViaXForwardedFor, ViaForwarded:
			if !peer.IsValid() || !(ClientIP{Trusted: trusted}).trusted(peer) {
				t.Fatalf("Resolve = %v via %s, but peer %v is not trusted", got, via, peer)
			}
			src := xff
			if via == ViaForwarded {
				src = fwd
			}
			if !addrIn(got, src) {
				t.Fatalf("Resolve = %v via %s, which is not in %q", got, via, src)
			}
		default:
			t.Fatalf("Resolve via %q", via)
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("Resolve = %v, not normalised", got)
		}
	})
}

func BenchmarkResolve(b *testing.B) {
	c := ClientIP{Trusted: mustTrusted(b, resolveTrusted)}
	for _, bm := range []struct {
		name string
		r    *http.Request
	}{
		{"peer", resolveRequest("192.0.2.1:1234", []string{"1.2.3.4"}, nil)},
		{"xff", resolveRequest("127.0.0.1:1", []string{"6.6.6.6, 203.0.113.9, 10.0.0.1"}, nil)},
		{"forwarded", resolveRequest("127.0.0.1:1", nil, []string{`for=203.0.113.9;proto=https, for="[fd00::1]:80"`})},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Resolve(bm.r)
			}
		})
	}
}
