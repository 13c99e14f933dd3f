package guard

import (
	"context"
	"net/netip"
	"runtime"
	"testing"

	"github.com/htgate/htgate/internal/state/memory"
	"github.com/htgate/htgate/internal/state/statetest"
)

// TestMemoryBound sends failures from 2,000,000 distinct addresses (200,000
// under the race detector) and checks that the state stays within its
// bound, counts its evictions, and still protects the attacked user.
func TestMemoryBound(t *testing.T) {
	n := 2_000_000
	if raceEnabled || testing.Short() {
		n = 200_000
	}
	clock := statetest.NewClock(statetest.Start())
	st := memory.New(memory.Options{MaxKeys: 10_000, Now: clock.Now})
	g, err := New(Policy{}, st, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if i >= 1<<24 {
			addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 8: byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
		}
		if err := g.Failure(ctx, addr, "alice"); err != nil {
			t.Fatal(err)
		}
		if i%100_000 == 0 {
			if l, c := st.Len(), st.Cap(); l > c {
				t.Fatalf("after %d addresses the state holds %d entries, want at most %d", i+1, l, c)
			}
		}
	}
	if l, c := st.Len(), st.Cap(); l > c {
		t.Errorf("the state holds %d entries, want at most %d", l, c)
	}
	if ev := g.Evictions(); ev < uint64(n) {
		t.Errorf("Evictions() = %d after %d distinct addresses into %d places, want at least %d", ev, n, st.Cap(), n)
	}
	// The user attacked from everywhere is banned: its key stays in use.
	v, err := g.Check(ctx, netip.MustParseAddr("192.0.2.1"), "alice")
	if err != nil || v.Allowed || v.Key != KeyUser {
		t.Errorf("Check(alice) after the attack = %q, %v, want refused by the user ban", summary(v), err)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d addresses: %d entries held, %d evictions, heap grew %d KB", n, st.Len(), g.Evictions(), grown/1024)
	if grown > 32<<20 {
		t.Errorf("heap grew by %d MB, want under 32 MB for %d entries", grown>>20, st.Cap())
	}
	runtime.KeepAlive(g)
}
