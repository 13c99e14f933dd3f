package memory

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/state"
	"github.com/htgate/htgate/internal/state/statetest"
)

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T, now func() time.Time) state.Store {
		return New(Options{MaxKeys: 1024, Now: now})
	})
}

func TestDefaults(t *testing.T) {
	s := New(Options{})
	if got, want := s.Cap(), 3*DefaultMaxKeys; got != want {
		t.Errorf("Cap() = %d, want %d", got, want)
	}
	if got := New(Options{MaxKeys: 1}).Cap(); got != 3*shards {
		t.Errorf("Cap() with MaxKeys 1 = %d, want %d (one per shard)", got, 3*shards)
	}
}

// TestExpiredAreNotEvictions checks that making room by dropping expired
// entries does not count as an eviction.
func TestExpiredAreNotEvictions(t *testing.T) {
	clock := statetest.NewClock(statetest.Start())
	s := New(Options{MaxKeys: 64, Now: clock.Now})
	ctx := context.Background()
	per := s.counters.capacity() / shards
	// Fill one shard of the counter table exactly, with entries that expire.
	var keys []string
	for i := 0; len(keys) < per; i++ {
		k := fmt.Sprintf("k%d", i)
		if s.counters.shard(k) == &s.counters.shards[0] {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if _, err := s.Incr(ctx, k, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute)
	var fresh []string
	for i := 0; len(fresh) < per; i++ {
		k := fmt.Sprintf("f%d", i)
		if s.counters.shard(k) == &s.counters.shards[0] {
			fresh = append(fresh, k)
		}
	}
	for _, k := range fresh {
		if _, err := s.Incr(ctx, k, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Evictions(); got != 0 {
		t.Errorf("Evictions() = %d after replacing only expired entries, want 0", got)
	}
	// One more live key now evicts a live one.
	for i := 0; ; i++ {
		k := fmt.Sprintf("g%d", i)
		if s.counters.shard(k) == &s.counters.shards[0] {
			if _, err := s.Incr(ctx, k, time.Minute); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if got := s.Evictions(); got != 1 {
		t.Errorf("Evictions() = %d after evicting one live entry, want 1", got)
	}
}

// TestKeysAreCopied checks that the store does not keep a caller's larger
// string alive through a key that is a part of it.
func TestKeysAreCopied(t *testing.T) {
	s := New(Options{MaxKeys: 64})
	big := "c=192.0.2.1,u=" + string(make([]byte, 1<<10))
	if _, err := s.Incr(context.Background(), big[:11], time.Minute); err != nil {
		t.Fatal(err)
	}
	sh := s.counters.shard(big[:11])
	keys := sh.lru.Keys()
	if len(keys) != 1 || keys[0] != big[:11] {
		t.Fatalf("keys = %q, want [%q]", keys, big[:11])
	}
	if unsafeSameData(keys[0], big) {
		t.Errorf("the stored key shares the caller's string")
	}
}

// TestBytesPerKey measures the memory one counter entry costs, the figure
// the package doc quotes.
func TestBytesPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~50 MB")
	}
	for _, tc := range []struct {
		name   string
		format string
	}{
		{"client", "c=10.%d.%d.%d"},                     // 12-13 bytes
		{"pair", "c=10.%d.%d.%d,u=alice.smith@example"}, // 35-36 bytes
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 200_000
			s := New(Options{MaxKeys: 2 * n})
			ctx := context.Background()
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf(tc.format, i>>16&255, i>>8&255, i&255)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for _, k := range keys {
				if _, err := s.Incr(ctx, k, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := float64(after.HeapAlloc-before.HeapAlloc) / float64(s.Len())
			t.Logf("%.0f bytes per counter entry with %d-byte keys (%d entries)", per, len(keys[n-1]), s.Len())
			if per > 300 {
				t.Errorf("%.0f bytes per entry, want at most 300 (see the package doc)", per)
			}
			runtime.KeepAlive(s)
		})
	}
}

func BenchmarkIncr(b *testing.B) {
	s := New(Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Incr(ctx, "c=192.0.2.1,u=alice", time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkActiveMiss(b *testing.B) {
	s := New(Options{})
	ctx := context.Background()
	keys := []string{"c=192.0.2.1", "c=192.0.2.1,u=alice", "u=alice"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Active(ctx, keys...); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNoncesConformance(t *testing.T) {
	statetest.RunNonces(t, func(t *testing.T, now func() time.Time) state.Nonces {
		return NewNonces(Options{MaxKeys: 1024, Now: now})
	})
}

func TestSessionsConformance(t *testing.T) {
	statetest.RunSessions(t, func(t *testing.T, now func() time.Time) state.Sessions {
		return NewSessions(Options{MaxKeys: 1024, Now: now})
	})
}
