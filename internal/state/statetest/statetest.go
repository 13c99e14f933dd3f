// Package statetest is the conformance suite that every implementation of
// the state interfaces passes: windows, expiry on an injected clock,
// repeat-offence levels, atomicity under concurrent callers (run it with
// -race) and, for stores that implement state.Bounded, the memory bound.
// It imports state and testing only.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/state"
)

// Clock is a fake clock for tests: it stands still until Advance. It is
// safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Start returns the reading of every suite clock when a test begins.
func Start() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// NewFunc returns a fresh, empty store that reads time from now.
type NewFunc func(t *testing.T, now func() time.Time) state.Store

// Run runs the conformance suite against the stores newStore makes. A store
// that implements state.Bounded is also filled past its capacity, so give
// such a store a small capacity (a few thousand entries).
func Run(t *testing.T, newStore NewFunc) {
	t.Run("Counters", func(t *testing.T) { testCounters(t, newStore) })
	t.Run("CountersConcurrent", func(t *testing.T) { testCountersConcurrent(t, newStore) })
	t.Run("Bans", func(t *testing.T) { testBans(t, newStore) })
	t.Run("BanLevels", func(t *testing.T) { testBanLevels(t, newStore) })
	t.Run("BansList", func(t *testing.T) { testBansList(t, newStore) })
	t.Run("BansConcurrent", func(t *testing.T) { testBansConcurrent(t, newStore) })
	t.Run("Marks", func(t *testing.T) { testMarks(t, newStore) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, newStore) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, newStore) })
	t.Run("Bounded", func(t *testing.T) { testBounded(t, newStore) })
}

func setup(t *testing.T, newStore NewFunc) (state.Store, *Clock, context.Context) {
	t.Helper()
	c := NewClock(Start())
	return newStore(t, c.Now), c, context.Background()
}

func incr(t *testing.T, s state.Counters, key string, window time.Duration) int64 {
	t.Helper()
	n, err := s.Incr(context.Background(), key, window)
	if err != nil {
		t.Fatalf("Incr(%q, %v): %v", key, window, err)
	}
	return n
}

func get(t *testing.T, s state.Counters, key string) int64 {
	t.Helper()
	n, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return n
}

func testCounters(t *testing.T, newStore NewFunc) {
	s, clock, ctx := setup(t, newStore)
	const w = 10 * time.Minute
	for want := int64(1); want <= 3; want++ {
		if got := incr(t, s, "a", w); got != want {
			t.Errorf("Incr(%q) = %d, want %d", "a", got, want)
		}
	}
	if got := incr(t, s, "b", w); got != 1 {
		t.Errorf("Incr(%q) = %d, want 1 (keys are independent)", "b", got)
	}
	if got := get(t, s, "a"); got != 3 {
		t.Errorf("Get(%q) = %d, want 3", "a", got)
	}
	if got := get(t, s, "absent"); got != 0 {
		t.Errorf("Get(%q) = %d, want 0", "absent", got)
	}

	// The window starts at the first Incr and later ones do not extend it.
	clock.Advance(w - time.Nanosecond)
	if got := incr(t, s, "a", w); got != 4 {
		t.Errorf("Incr(%q) just before the window ends = %d, want 4", "a", got)
	}
	clock.Advance(time.Nanosecond)
	if got := get(t, s, "a"); got != 0 {
		t.Errorf("Get(%q) when the window ended = %d, want 0", "a", got)
	}
	if got := incr(t, s, "a", w); got != 1 {
		t.Errorf("Incr(%q) after the window = %d, want 1 (a new window)", "a", got)
	}
	clock.Advance(w / 2)
	if got := incr(t, s, "a", w); got != 2 {
		t.Errorf("Incr(%q) in the new window = %d, want 2", "a", got)
	}

	// Delete forgets counts at once; absent keys are fine.
	incr(t, s, "c", w)
	if err := s.Delete(ctx, "a", "c", "never-seen"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, key := range []string{"a", "c"} {
		if got := get(t, s, key); got != 0 {
			t.Errorf("Get(%q) after Delete = %d, want 0", key, got)
		}
	}
	if got := incr(t, s, "a", w); got != 1 {
		t.Errorf("Incr(%q) after Delete = %d, want 1", "a", got)
	}
	if err := s.Delete(ctx); err != nil {
		t.Errorf("Delete() with no keys: %v", err)
	}

	// Keys are opaque bytes.
	for _, key := range []string{"c=192.0.2.1,u=alice", "u=\x00\xff", "ключ", " "} {
		if got := incr(t, s, key, w); got != 1 {
			t.Errorf("Incr(%q) = %d, want 1", key, got)
		}
		if got := get(t, s, key); got != 1 {
			t.Errorf("Get(%q) = %d, want 1", key, got)
		}
	}
}

func testCountersConcurrent(t *testing.T, newStore NewFunc) {
	s, _, _ := setup(t, newStore)
	const goroutines, each = 8, 250
	results := make([][]int64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				n, err := s.Incr(context.Background(), "shared", time.Hour)
				if err != nil {
					t.Errorf("Incr: %v", err)
					return
				}
				results[g] = append(results[g], n)
				if _, err := s.Incr(context.Background(), fmt.Sprintf("own-%d", g), time.Hour); err != nil {
					t.Errorf("Incr: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Every count from 1 to the total was returned exactly once.
	var all []int64
	for _, r := range results {
		all = append(all, r...)
	}
	slices.Sort(all)
	for i, n := range all {
		if n != int64(i+1) {
			t.Fatalf("concurrent Incr returned counts %v..., want each of 1..%d once", all[max(0, i-2):i+1], goroutines*each)
		}
	}
	if got := get(t, s, "shared"); got != goroutines*each {
		t.Errorf("Get(shared) = %d, want %d", got, goroutines*each)
	}
	for g := range goroutines {
		key := fmt.Sprintf("own-%d", g)
		if got := get(t, s, key); got != each {
			t.Errorf("Get(%q) = %d, want %d", key, got, each)
		}
	}
}

var sched = state.Schedule{Base: 5 * time.Minute, Max: 24 * time.Hour, Remember: 24 * time.Hour}

func ban(t *testing.T, s state.Bans, key string, sc state.Schedule) (state.Ban, bool) {
	t.Helper()
	b, created, err := s.Ban(context.Background(), key, sc)
	if err != nil {
		t.Fatalf("Ban(%q): %v", key, err)
	}
	return b, created
}

func active(t *testing.T, s state.Bans, keys ...string) []state.Ban {
	t.Helper()
	bans, err := s.Active(context.Background(), keys...)
	if err != nil {
		t.Fatalf("Active(%q): %v", keys, err)
	}
	return bans
}

func equalBans(a, b []state.Ban) bool {
	return slices.EqualFunc(a, b, func(x, y state.Ban) bool {
		return x.Key == y.Key && x.Until.Equal(y.Until) && x.Level == y.Level
	})
}

func testBans(t *testing.T, newStore NewFunc) {
	s, clock, ctx := setup(t, newStore)
	if got := active(t, s, "x", "y"); got != nil {
		t.Errorf("Active on an empty store = %v, want nil", got)
	}
	b, created := ban(t, s, "x", sched)
	want := state.Ban{Key: "x", Until: Start().Add(5 * time.Minute), Level: 1}
	if !created || !equalBans([]state.Ban{b}, []state.Ban{want}) {
		t.Errorf("Ban(x) = %v, %v, want %v, true", b, created, want)
	}

	// A second Ban while the first is in force changes nothing.
	clock.Advance(time.Minute)
	b, created = ban(t, s, "x", sched)
	if created || !equalBans([]state.Ban{b}, []state.Ban{want}) {
		t.Errorf("Ban(x) while banned = %v, %v, want %v, false", b, created, want)
	}

	by, _ := ban(t, s, "y", sched)
	if got := active(t, s, "y", "absent", "x"); !equalBans(got, []state.Ban{by, want}) {
		t.Errorf("Active(y, absent, x) = %v, want %v (in the order of the keys)", got, []state.Ban{by, want})
	}

	// The ban ends by itself at Until.
	clock.Advance(4*time.Minute - time.Nanosecond)
	if got := active(t, s, "x"); len(got) != 1 {
		t.Errorf("Active(x) 1ns before Until = %v, want the ban", got)
	}
	clock.Advance(time.Nanosecond)
	if got := active(t, s, "x"); got != nil {
		t.Errorf("Active(x) at Until = %v, want nil", got)
	}

	// Unban ends a ban at once.
	if err := s.Unban(ctx, "y", "never-banned"); err != nil {
		t.Fatalf("Unban: %v", err)
	}
	if got := active(t, s, "y"); got != nil {
		t.Errorf("Active(y) after Unban = %v, want nil", got)
	}
}

func testBanLevels(t *testing.T, newStore NewFunc) {
	s, clock, ctx := setup(t, newStore)
	sc := state.Schedule{Base: 5 * time.Minute, Max: 30 * time.Minute, Remember: time.Hour}
	// Each ban while the previous level is remembered doubles, up to Max.
	for i, wantD := range []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 30 * time.Minute} {
		now := clock.Now()
		b, created := ban(t, s, "k", sc)
		if !created || b.Level != i+1 || !b.Until.Equal(now.Add(wantD)) {
			t.Fatalf("Ban #%d = %v, %v, want level %d until %v", i+1, b, created, i+1, now.Add(wantD))
		}
		clock.Advance(wantD) // the ban ends
	}

	// The level is remembered for Remember after the ban ends, then forgotten.
	clock.Advance(time.Hour - time.Nanosecond)
	if b, _ := ban(t, s, "k", sc); b.Level != 6 {
		t.Errorf("Ban just inside Remember: level %d, want 6", b.Level)
	}
	clock.Advance(30*time.Minute + time.Hour)
	if b, _ := ban(t, s, "k", sc); b.Level != 1 {
		t.Errorf("Ban after Remember: level %d, want 1", b.Level)
	}

	// Remember 0 forgets the level when the ban ends.
	zero := state.Schedule{Base: time.Minute}
	ban(t, s, "z", zero)
	clock.Advance(time.Minute)
	if b, _ := ban(t, s, "z", zero); b.Level != 1 || !b.Until.Equal(clock.Now().Add(time.Minute)) {
		t.Errorf("Ban with Remember 0 after the ban ended = %v, want level 1 for 1m", b)
	}

	// Unban also forgets the level.
	clock.Advance(time.Minute)
	ban(t, s, "u", sc)
	clock.Advance(sc.Base)
	if err := s.Unban(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if b, _ := ban(t, s, "u", sc); b.Level != 1 {
		t.Errorf("Ban after Unban: level %d, want 1", b.Level)
	}
}

func testBansList(t *testing.T, newStore NewFunc) {
	s, clock, ctx := setup(t, newStore)
	short := state.Schedule{Base: time.Minute, Remember: time.Hour}
	long := state.Schedule{Base: time.Hour}
	ban(t, s, "long", long)
	ban(t, s, "short-b", short)
	ban(t, s, "short-a", short)
	ban(t, s, "gone", short)
	if err := s.Unban(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	list := func(limit int) []string {
		t.Helper()
		bans, err := s.List(ctx, limit)
		if err != nil {
			t.Fatalf("List(%d): %v", limit, err)
		}
		var keys []string
		for _, b := range bans {
			keys = append(keys, b.Key)
		}
		return keys
	}
	if got, want := list(0), []string{"short-a", "short-b", "long"}; !slices.Equal(got, want) {
		t.Errorf("List(0) = %q, want %q (by Until, then Key)", got, want)
	}
	if got, want := list(2), []string{"short-a", "short-b"}; !slices.Equal(got, want) {
		t.Errorf("List(2) = %q, want %q", got, want)
	}
	// Ended bans are not listed even while their level is remembered.
	clock.Advance(time.Minute)
	if got, want := list(-1), []string{"long"}; !slices.Equal(got, want) {
		t.Errorf("List(-1) after the short bans ended = %q, want %q", got, want)
	}
}

func testBansConcurrent(t *testing.T, newStore NewFunc) {
	s, clock, _ := setup(t, newStore)
	for round := 1; round <= 3; round++ {
		const goroutines = 16
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
			levels  []int
		)
		for range goroutines {
			wg.Go(func() {
				b, c, err := s.Ban(context.Background(), "hot", sched)
				if err != nil {
					t.Errorf("Ban: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				levels = append(levels, b.Level)
				if c {
					created++
				}
			})
		}
		wg.Wait()
		if created != 1 {
			t.Errorf("round %d: %d concurrent Bans created %d bans, want exactly 1", round, goroutines, created)
		}
		for _, l := range levels {
			if l != round {
				t.Errorf("round %d: a concurrent Ban returned level %d, want %d", round, l, round)
			}
		}
		clock.Advance(sched.Duration(round))
	}
}

func testMarks(t *testing.T, newStore NewFunc) {
	s, clock, ctx := setup(t, newStore)
	marked := func(key string) bool {
		t.Helper()
		ok, err := s.Marked(ctx, key)
		if err != nil {
			t.Fatalf("Marked(%q): %v", key, err)
		}
		return ok
	}
	if marked("m") {
		t.Errorf("Marked(m) on an empty store = true, want false")
	}
	if err := s.Mark(ctx, "m", time.Hour); err != nil {
		t.Fatalf("Mark: %v", err)
	}
	if !marked("m") {
		t.Errorf("Marked(m) after Mark = false, want true")
	}
	clock.Advance(30 * time.Minute)
	if err := s.Mark(ctx, "m", time.Hour); err != nil { // extends to 90m
		t.Fatal(err)
	}
	clock.Advance(59 * time.Minute)
	if !marked("m") {
		t.Errorf("Marked(m) before the renewed mark expired = false, want true")
	}
	clock.Advance(time.Minute)
	if marked("m") {
		t.Errorf("Marked(m) after the mark expired = true, want false")
	}
	if err := s.Mark(ctx, "n", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Unmark(ctx, "n", "never-marked"); err != nil {
		t.Fatalf("Unmark: %v", err)
	}
	if marked("n") {
		t.Errorf("Marked(n) after Unmark = true, want false")
	}
}

func testInvalid(t *testing.T, newStore NewFunc) {
	s, _, ctx := setup(t, newStore)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Incr empty key", func() error { _, err := s.Incr(ctx, "", time.Minute); return err }()},
		{"Incr zero window", func() error { _, err := s.Incr(ctx, "k", 0); return err }()},
		{"Incr negative window", func() error { _, err := s.Incr(ctx, "k", -time.Second); return err }()},
		{"Get empty key", func() error { _, err := s.Get(ctx, ""); return err }()},
		{"Ban empty key", func() error { _, _, err := s.Ban(ctx, "", sched); return err }()},
		{"Ban zero base", func() error { _, _, err := s.Ban(ctx, "k", state.Schedule{}); return err }()},
		{"Ban negative remember", func() error {
			_, _, err := s.Ban(ctx, "k", state.Schedule{Base: time.Minute, Remember: -1})
			return err
		}()},
		{"Mark empty key", s.Mark(ctx, "", time.Minute)},
		{"Mark zero ttl", s.Mark(ctx, "k", 0)},
		{"Marked empty key", func() error { _, err := s.Marked(ctx, ""); return err }()},
	} {
		if !errors.Is(tc.err, state.ErrInvalid) {
			t.Errorf("%s: error %v, want one wrapping state.ErrInvalid", tc.name, tc.err)
		}
	}
	// Nothing was stored by the refused calls.
	if n := get(t, s, "k"); n != 0 {
		t.Errorf("Get(k) after refused Incrs = %d, want 0", n)
	}
	if got := active(t, s, "k"); got != nil {
		t.Errorf("Active(k) after refused Bans = %v, want nil", got)
	}
}

func testCancelled(t *testing.T, newStore NewFunc) {
	s, _, _ := setup(t, newStore)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Incr", func() error { _, err := s.Incr(ctx, "k", time.Minute); return err }()},
		{"Get", func() error { _, err := s.Get(ctx, "k"); return err }()},
		{"Delete", s.Delete(ctx, "k")},
		{"Ban", func() error { _, _, err := s.Ban(ctx, "k", sched); return err }()},
		{"Active", func() error { _, err := s.Active(ctx, "k"); return err }()},
		{"Unban", s.Unban(ctx, "k")},
		{"List", func() error { _, err := s.List(ctx, 0); return err }()},
		{"Mark", s.Mark(ctx, "k", time.Minute)},
		{"Marked", func() error { _, err := s.Marked(ctx, "k"); return err }()},
		{"Unmark", s.Unmark(ctx, "k")},
	} {
		if !errors.Is(tc.err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error %v, want one wrapping context.Canceled", tc.name, tc.err)
		}
	}
}

func testBounded(t *testing.T, newStore NewFunc) {
	s, clock, ctx := setup(t, newStore)
	b, ok := s.(state.Bounded)
	if !ok {
		t.Skip("the store does not implement state.Bounded")
	}
	capacity := b.Cap()
	if capacity <= 0 || capacity > 1_000_000 {
		t.Fatalf("Cap() = %d, want a small positive capacity for this suite", capacity)
	}

	// Entries that expired make room like any others.
	for i := range 2 * capacity {
		if _, err := s.Incr(ctx, fmt.Sprintf("old-%d", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute)
	base := b.Evictions()

	// Filling the store far past its capacity keeps it bounded and counts
	// the evictions of live entries.
	const hot = "hot"
	for i := range 3 * capacity {
		if _, err := s.Incr(ctx, fmt.Sprintf("new-%d", i), time.Hour); err != nil {
			t.Fatal(err)
		}
		if i%64 == 0 { // a key in use stays
			if _, err := s.Incr(ctx, hot, time.Hour); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Ban(ctx, hot, sched); err != nil {
				t.Fatal(err)
			}
			if err := s.Mark(ctx, hot, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if i%1024 == 0 {
			if n := b.Len(); n > capacity {
				t.Fatalf("Len() = %d after %d inserts, want at most Cap() = %d", n, i+1, capacity)
			}
		}
	}
	if n := b.Len(); n > capacity {
		t.Errorf("Len() = %d, want at most Cap() = %d", n, capacity)
	}
	if ev := b.Evictions() - base; ev == 0 {
		t.Errorf("Evictions() did not grow after %d live inserts into a store of capacity %d", 3*capacity, capacity)
	}
	if got := get(t, s, hot); got == 0 {
		t.Errorf("Get(%q) = 0, want the recently used counter to survive eviction", hot)
	}
	if got := active(t, s, hot); len(got) != 1 {
		t.Errorf("Active(%q) = %v, want the recently used ban to survive eviction", hot, got)
	}
}
