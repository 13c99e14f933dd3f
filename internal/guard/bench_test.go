package guard

import (
	"context"
	"net/netip"
	"testing"

	"github.com/htgate/htgate/internal/state/memory"
)

func benchGuard(b *testing.B) *Guard {
	b.Helper()
	g, err := New(Policy{}, memory.New(memory.Options{}), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkCheck is the cost every request with credentials pays.
func BenchmarkCheck(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	addr := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		v, err := g.Check(ctx, addr, "alice")
		if err != nil || !v.Allowed {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkCheckIPv6 counts the /64 formatting.
func BenchmarkCheckIPv6(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	addr := netip.MustParseAddr("2001:db8:1234:5678:9abc:def0:1234:5678")
	b.ReportAllocs()
	for b.Loop() {
		if v, err := g.Check(ctx, addr, "alice"); err != nil || !v.Allowed {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkCheckNoCredentials is a browser's first request.
func BenchmarkCheckNoCredentials(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	addr := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		if v, err := g.Check(ctx, addr, ""); err != nil || !v.Allowed {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkCheckLockedOut is an attacker's request after the ban.
func BenchmarkCheckLockedOut(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	addr := netip.MustParseAddr("192.0.2.1")
	for range 5 {
		if err := g.Failure(ctx, addr, "alice"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := g.Check(ctx, addr, "alice"); err != nil || v.Allowed {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkFailure records failures from ever new addresses (the counts
// of one pair would reach the limit at once).
func BenchmarkFailure(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if err := g.Failure(ctx, addr, "alice"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnter is the place-taking around one password check.
func BenchmarkEnter(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	addr := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		v, att, err := g.Enter(ctx, addr, "alice")
		if err != nil || !v.Allowed {
			b.Fatal(v, err)
		}
		att.Release()
	}
}
