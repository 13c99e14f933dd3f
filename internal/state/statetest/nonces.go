package statetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/state"
)

// NewNoncesFunc returns a fresh, empty nonce-count store that reads time
// from now.
type NewNoncesFunc func(t *testing.T, now func() time.Time) state.Nonces

// RunNonces runs the conformance suite of state.Nonces against the stores
// newNonces makes. A store that implements state.Bounded is also filled
// past its capacity, so give such a store a small capacity.
func RunNonces(t *testing.T, newNonces NewNoncesFunc) {
	t.Run("Counts", func(t *testing.T) { testNonceCounts(t, newNonces) })
	t.Run("Expiry", func(t *testing.T) { testNonceExpiry(t, newNonces) })
	t.Run("Concurrent", func(t *testing.T) { testNoncesConcurrent(t, newNonces) })
	t.Run("Invalid", func(t *testing.T) { testNoncesInvalid(t, newNonces) })
	t.Run("Bounded", func(t *testing.T) { testNoncesBounded(t, newNonces) })
}

func use(t *testing.T, s state.Nonces, nonce string, nc uint64, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.Use(context.Background(), nonce, nc, ttl)
	if err != nil {
		t.Fatalf("Use(%q, %d, %v): %v", nonce, nc, ttl, err)
	}
	return ok
}

func testNonceCounts(t *testing.T, newNonces NewNoncesFunc) {
	c := NewClock(Start())
	s := newNonces(t, c.Now)
	const ttl = 5 * time.Minute
	for _, tc := range []struct {
		nonce string
		nc    uint64
		want  bool
	}{
		{"n1", 0, false}, // counts start at 1
		{"n1", 1, true},
		{"n1", 1, false}, // replay
		{"n1", 2, true},
		{"n1", 5, true},  // gaps are fine
		{"n1", 3, false}, // lower than the last: replay or reordered
		{"n1", 5, false},
		{"n1", 6, true},
		{"n2", 1, true}, // nonces are independent
		{"n2", 1, false},
		{"n1", 1<<64 - 1, true},
		{"n1", 1<<64 - 1, false},
		{"nonce with \x00 and ключ", 1, true},
	} {
		if got := use(t, s, tc.nonce, tc.nc, ttl); got != tc.want {
			t.Errorf("Use(%q, %d) = %v, want %v", tc.nonce, tc.nc, got, tc.want)
		}
	}
}

func testNonceExpiry(t *testing.T, newNonces NewNoncesFunc) {
	c := NewClock(Start())
	s := newNonces(t, c.Now)
	const ttl = time.Minute
	if !use(t, s, "n", 3, ttl) {
		t.Fatalf("Use(n, 3) = false on a fresh store")
	}
	c.Advance(ttl - time.Nanosecond)
	if use(t, s, "n", 3, ttl) {
		t.Errorf("Use(n, 3) just before the record expires = true, want false")
	}
	// A refused Use does not extend the record; a successful one does, and
	// a shorter ttl never shortens it.
	c.Advance(time.Nanosecond)
	if !use(t, s, "n", 1, ttl) {
		t.Errorf("Use(n, 1) after the record expired = false, want true (the nonce is unknown again)")
	}
	if !use(t, s, "n", 2, time.Second) {
		t.Fatalf("Use(n, 2) = false")
	}
	c.Advance(30 * time.Second)
	if use(t, s, "n", 2, time.Second) {
		t.Errorf("Use(n, 2) 30 s later = true: a shorter ttl shortened the record")
	}
	c.Advance(30 * time.Second)
	if !use(t, s, "n", 2, time.Second) {
		t.Errorf("Use(n, 2) after the longest ttl = false, want true")
	}
}

func testNoncesConcurrent(t *testing.T, newNonces NewNoncesFunc) {
	c := NewClock(Start())
	s := newNonces(t, c.Now)
	const goroutines, counts = 8, 200
	// Every goroutine tries every count of one nonce, in increasing order:
	// each count must be won by at most one, and the winners' counts must
	// increase in the order they won them.
	var wins [counts + 1]atomic.Int32
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for nc := uint64(1); nc <= counts; nc++ {
				ok, err := s.Use(context.Background(), "shared", nc, time.Hour)
				if err != nil {
					t.Errorf("Use: %v", err)
					return
				}
				if ok {
					wins[nc].Add(1)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for nc := 1; nc <= counts; nc++ {
		switch n := wins[nc].Load(); n {
		case 0:
		case 1:
			total++
		default:
			t.Fatalf("count %d was accepted %d times, want at most once", nc, n)
		}
	}
	if total == 0 {
		t.Errorf("no count was accepted")
	}
	if use(t, s, "shared", counts, time.Hour) {
		t.Errorf("Use(shared, %d) after the race = true, want false", counts)
	}

	// Many goroutines racing on one count: exactly one wins.
	var won atomic.Int32
	for range goroutines {
		wg.Go(func() {
			if ok, err := s.Use(context.Background(), "race", 1, time.Hour); err == nil && ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Errorf("%d goroutines won Use(race, 1), want exactly 1", n)
	}
}

func testNoncesInvalid(t *testing.T, newNonces NewNoncesFunc) {
	c := NewClock(Start())
	s := newNonces(t, c.Now)
	ctx := context.Background()
	for _, tc := range []struct {
		nonce string
		ttl   time.Duration
	}{
		{"", time.Minute},
		{"n", 0},
		{"n", -time.Second},
	} {
		if ok, err := s.Use(ctx, tc.nonce, 1, tc.ttl); ok || !errors.Is(err, state.ErrInvalid) {
			t.Errorf("Use(%q, 1, %v) = %v, %v, want false and an error wrapping ErrInvalid", tc.nonce, tc.ttl, ok, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if ok, err := s.Use(cancelled, "n", 1, time.Minute); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("Use with a cancelled context = %v, %v, want false and context.Canceled", ok, err)
	}
	if !use(t, s, "n", 1, time.Minute) {
		t.Errorf("Use(n, 1) after the refused calls = false: they must not record anything")
	}
}

func testNoncesBounded(t *testing.T, newNonces NewNoncesFunc) {
	c := NewClock(Start())
	s := newNonces(t, c.Now)
	b, ok := s.(state.Bounded)
	if !ok {
		t.Skip("the store does not implement state.Bounded")
	}
	capacity := b.Cap()
	if capacity <= 0 || capacity > 1_000_000 {
		t.Fatalf("Cap() = %d, want a small positive capacity for this suite", capacity)
	}
	base := b.Evictions()
	for i := range 3 * capacity {
		use(t, s, fmt.Sprintf("n-%d", i), 1, time.Hour)
		if i%64 == 0 {
			use(t, s, "hot", uint64(i+1), time.Hour)
		}
	}
	if n := b.Len(); n > capacity {
		t.Errorf("Len() = %d, want at most Cap() = %d", n, capacity)
	}
	if b.Evictions() == base {
		t.Errorf("Evictions() did not grow after %d live inserts into a store of capacity %d", 3*capacity, capacity)
	}
	if use(t, s, "hot", 1, time.Hour) {
		t.Errorf("Use(hot, 1) = true: the recently used record was evicted")
	}
}
