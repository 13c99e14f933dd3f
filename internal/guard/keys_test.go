package guard

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestMakeKeys(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes: hashed
	for _, tc := range []struct {
		addr, user            string
		pair, client, userKey string
	}{
		{"192.0.2.1", "alice", "c=192.0.2.1,u=alice", "c=192.0.2.1", "u=alice"},
		{"192.0.2.1", "", "c=192.0.2.1", "c=192.0.2.1", ""},
		{"::ffff:192.0.2.1", "bob", "c=192.0.2.1,u=bob", "c=192.0.2.1", "u=bob"},
		{"2001:db8::1%eth0", "a,u=b", "c=2001:db8::/64,u=a,u=b", "c=2001:db8::/64", "u=a,u=b"},
		{"", "carol", "c=-,u=carol", "c=-", "u=carol"},
		{"192.0.2.1", long, "c=192.0.2.1,u#84fe2e03d50dd3a18b630669d7d5e361", "c=192.0.2.1", "u#84fe2e03d50dd3a18b630669d7d5e361"},
	} {
		var addr netip.Addr
		if tc.addr != "" {
			addr = netip.MustParseAddr(tc.addr)
		}
		k := makeKeys(addr, tc.user, 64)
		got := fmt.Sprintf("%q %q %q", k.pair(), k.client(), k.user())
		userKey := tc.userKey
		if tc.user == "" {
			userKey = k.user() // unused without a user
		}
		want := fmt.Sprintf("%q %q %q", tc.pair, tc.client, userKey)
		if got != want {
			t.Errorf("makeKeys(%s, %.20q) = %s, want %s", tc.addr, tc.user, got, want)
		}
		if k.hasUser() != (tc.user != "") {
			t.Errorf("makeKeys(%s, %.20q).hasUser() = %v, want %v", tc.addr, tc.user, k.hasUser(), tc.user != "")
		}
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want string
	}{
		{"c=192.0.2.1,u=alice", "client+user 192.0.2.1 alice true"},
		{"c=192.0.2.1", "client 192.0.2.1  true"},
		{"u=alice", "user  alice true"},
		{"u=a,u=b", "user  a,u=b true"},
		{"c=2001:db8::/64,u=a,u=b", "client+user 2001:db8::/64 a,u=b true"},
		{"u#00ff", "user  #00ff true"},
		{"c=1.2.3.4,u#00ff", "client+user 1.2.3.4 #00ff true"},
		{"", "   false"},
		{"x=1", "   false"},
		{"c=", "client   false"},
		{"c=,u=a", "client+user  a false"},
		{"c=1.2.3.4,x", "client+user 1.2.3.4  false"},
		{"u", "user   false"},
	} {
		kind, client, user, ok := parseKey(tc.key)
		if got := fmt.Sprintf("%s %s %s %v", kind, client, user, ok); got != tc.want {
			t.Errorf("parseKey(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// FuzzKeys checks that the keys of any request parse back to their parts
// and that parseKey survives any input.
func FuzzKeys(f *testing.F) {
	for _, seed := range []struct {
		addr []byte
		user string
	}{
		{[]byte{192, 0, 2, 1}, "alice"},
		{[]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, "a,u=b"},
		{nil, ""},
		{[]byte{10, 0, 0, 1}, strings.Repeat("x", 100)},
		{[]byte{10, 0, 0, 1}, "#0123456789abcdef0123456789abcdef"},
	} {
		f.Add(seed.addr, seed.user)
	}
	f.Fuzz(func(t *testing.T, raw []byte, user string) {
		addr, _ := netip.AddrFromSlice(raw)
		k := makeKeys(addr, user, 64)
		kind, client, _, ok := parseKey(k.client())
		if !ok || kind != KeyClient || client != clientName(addr, 64) {
			t.Errorf("parseKey(%q) = %s %q %v, want client %q", k.client(), kind, client, ok, clientName(addr, 64))
		}
		if user != "" {
			kind, client, u, ok := parseKey(k.pair())
			if !ok || kind != KeyClientUser || client != clientName(addr, 64) || u != userName(user) {
				t.Errorf("parseKey(%q) = %s %q %q %v, want the pair of %q and %q", k.pair(), kind, client, u, ok, clientName(addr, 64), userName(user))
			}
			kind, _, u, ok = parseKey(k.user())
			if !ok || kind != KeyUser || u != userName(user) {
				t.Errorf("parseKey(%q) = %s %q %v, want user %q", k.user(), kind, u, ok, userName(user))
			}
			if len(k.pair()) > 2+len("ffff:ffff:ffff:ffff::/64")+3+maxUserLen {
				t.Errorf("key %q is %d bytes long, want it bounded", k.pair(), len(k.pair()))
			}
		}
		parseKey(string(raw) + user) // never panics
	})
}
