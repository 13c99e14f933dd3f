package upstream

import (
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"93.184.215.14", true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"100.64.0.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fd00::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
	}
	for _, tt := range tests {
		if got := PublicAddr(netip.MustParseAddr(tt.in)); got != tt.want {
			t.Errorf("PublicAddr(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if PublicAddr(netip.Addr{}) {
		t.Error("PublicAddr(zero) = true")
	}
}

func TestRefusePrivate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool // refused
	}{
		{"127.0.0.1:80", true},
		{"[::1]:443", true},
		{"93.184.215.14:443", false},
		{"not-an-address", true},
	} {
		if err := refusePrivate("tcp", tt.in, nil); (err != nil) != tt.want {
			t.Errorf("refusePrivate(%q) = %v, want refused %v", tt.in, err, tt.want)
		}
	}
}
