package guard

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/state/statetest"
)

func newLimiter(t testing.TB, c ClientLimits) (*Limiter, *statetest.Clock) {
	t.Helper()
	clock := statetest.NewClock(statetest.Start())
	l, err := NewLimiter(c, clock.Now)
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	return l, clock
}

func TestLimiterOffByDefault(t *testing.T) {
	l, _ := newLimiter(t, ClientLimits{})
	addr := netip.MustParseAddr(a1)
	for range 10_000 {
		release, ok, _ := l.Acquire(addr)
		if !ok {
			t.Fatalf("Acquire with no limits refused a request")
		}
		defer release()
	}
	if n := l.Len(); n != 0 {
		t.Errorf("Len() = %d with no limits, want 0 (nothing kept)", n)
	}
}

func TestLimiterConcurrency(t *testing.T) {
	l, _ := newLimiter(t, ClientLimits{MaxConcurrent: 2})
	addr, other := netip.MustParseAddr(a1), netip.MustParseAddr(a2)
	r1, ok1, _ := l.Acquire(addr)
	r2, ok2, _ := l.Acquire(addr)
	_, ok3, retry := l.Acquire(addr)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("three Acquires with MaxConcurrent 2 = %v, %v, %v, want true, true, false", ok1, ok2, ok3)
	}
	if retry != time.Second {
		t.Errorf("retryAfter = %v, want 1s", retry)
	}
	if _, ok, _ := l.Acquire(other); !ok {
		t.Errorf("Acquire from another address refused")
	}
	r1()
	r3, ok, _ := l.Acquire(addr)
	if !ok {
		t.Errorf("Acquire after a release refused")
	}
	r2()
	r3()
}

func TestLimiterRate(t *testing.T) {
	l, clock := newLimiter(t, ClientLimits{RatePerSecond: 2, Burst: 3})
	addr := netip.MustParseAddr("2001:db8::1")
	for i := range 3 {
		if _, ok, _ := l.Acquire(addr); !ok {
			t.Fatalf("Acquire #%d within the burst refused", i+1)
		}
	}
	// Same /64, same limiter.
	_, ok, retry := l.Acquire(netip.MustParseAddr("2001:db8::2"))
	if ok {
		t.Fatalf("Acquire past the burst allowed")
	}
	if retry != 500*time.Millisecond {
		t.Errorf("retryAfter = %v, want 500ms (one token at 2/s)", retry)
	}
	clock.Advance(499 * time.Millisecond)
	if _, ok, _ := l.Acquire(addr); ok {
		t.Errorf("Acquire 499ms later allowed, want refused")
	}
	clock.Advance(time.Millisecond)
	if _, ok, _ := l.Acquire(addr); !ok {
		t.Errorf("Acquire 500ms later refused, want allowed")
	}
	if _, ok, _ := l.Acquire(netip.MustParseAddr("2001:db8:0:1::1")); !ok {
		t.Errorf("Acquire from another /64 refused")
	}
}

func TestLimiterAllowList(t *testing.T) {
	l, _ := newLimiter(t, ClientLimits{MaxConcurrent: 1, AllowList: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	for range 10 {
		if _, ok, _ := l.Acquire(netip.MustParseAddr(a1)); !ok {
			t.Fatalf("Acquire from an allow-listed address refused")
		}
	}
	// IPv4-mapped addresses match IPv4 prefixes.
	if _, ok, _ := l.Acquire(netip.MustParseAddr("::ffff:192.0.2.9")); !ok {
		t.Errorf("Acquire from an IPv4-mapped allow-listed address refused")
	}
}

func TestLimiterBound(t *testing.T) {
	l, _ := newLimiter(t, ClientLimits{MaxConcurrent: 4, MaxClients: 1000})
	for i := range 50_000 {
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		release, ok, _ := l.Acquire(addr)
		if !ok {
			t.Fatalf("Acquire(%s) refused", addr)
		}
		release()
	}
	if n, limit := l.Len(), 1008; n > limit {
		t.Errorf("Len() = %d, want at most %d", n, limit)
	}
	if ev := l.Evictions(); ev < 48_000 {
		t.Errorf("Evictions() = %d, want about 49,000", ev)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l, _ := newLimiter(t, ClientLimits{MaxConcurrent: 3, RatePerSecond: 1e9, MaxClients: 64})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		current = map[netip.Addr]int{}
	)
	for g := range 8 {
		wg.Go(func() {
			addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(g % 2)})
			for range 500 {
				release, ok, _ := l.Acquire(addr)
				if !ok {
					continue
				}
				mu.Lock()
				current[addr]++
				if current[addr] > 3 {
					t.Errorf("%d requests in progress for %s, want at most 3", current[addr], addr)
				}
				mu.Unlock()
				mu.Lock()
				current[addr]--
				mu.Unlock()
				release()
			}
		})
	}
	wg.Wait()
}

func TestClientLimitsValidate(t *testing.T) {
	for _, tc := range []struct {
		c    ClientLimits
		want string
	}{
		{ClientLimits{MaxConcurrent: -1}, "max concurrent requests -1 is negative"},
		{ClientLimits{RatePerSecond: -1}, "rate -1 per second is not a non-negative number"},
		{ClientLimits{RatePerSecond: 1, Burst: -1}, "burst -1 is negative"},
		{ClientLimits{Status: 401}, "status 401 is neither 429 nor 503"},
		{ClientLimits{IPv6PrefixLen: 200}, "IPv6 prefix length 200 is not in 1..128"},
		{ClientLimits{AllowList: []netip.Prefix{{}}}, "allow list holds an invalid prefix"},
	} {
		_, err := NewLimiter(tc.c, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewLimiter(%+v) error = %v, want one containing %q", tc.c, err, tc.want)
		}
	}
	c := ClientLimits{RatePerSecond: 2.5}.WithDefaults()
	if c.Burst != 5 || c.Status != 429 || c.MaxClients != DefaultMaxClients || c.IPv6PrefixLen != 64 {
		t.Errorf("WithDefaults() = %+v, want burst 5, status 429, %d clients, /64", c, DefaultMaxClients)
	}
	if (ClientLimits{}).Enabled() {
		t.Errorf("zero ClientLimits is enabled, want off")
	}
}

func BenchmarkAcquire(b *testing.B) {
	l, _ := newLimiter(b, ClientLimits{MaxConcurrent: 64, RatePerSecond: 1e9})
	addr := netip.MustParseAddr(a1)
	b.ReportAllocs()
	for b.Loop() {
		release, ok, _ := l.Acquire(addr)
		if !ok {
			b.Fatal("refused")
		}
		release()
	}
}
