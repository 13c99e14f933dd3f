package statetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/state"
)

// NewSessionsFunc returns a fresh, empty session store that reads time
// from now.
type NewSessionsFunc func(t *testing.T, now func() time.Time) state.Sessions

// RunSessions runs the conformance suite of state.Sessions against the
// stores newSessions makes.
func RunSessions(t *testing.T, newSessions NewSessionsFunc) {
	t.Run("Lifetimes", func(t *testing.T) { testSessionLifetimes(t, newSessions) })
	t.Run("Delete", func(t *testing.T) { testSessionDelete(t, newSessions) })
	t.Run("Concurrent", func(t *testing.T) { testSessionsConcurrent(t, newSessions) })
	t.Run("Invalid", func(t *testing.T) { testSessionsInvalid(t, newSessions) })
}

func getSession(t *testing.T, s state.Sessions, key string, idle time.Duration) (state.Session, bool) {
	t.Helper()
	got, ok, err := s.Get(context.Background(), key, idle)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got, ok
}

func testSessionLifetimes(t *testing.T, newSessions NewSessionsFunc) {
	c := NewClock(Start())
	s := newSessions(t, c.Now)
	ctx := context.Background()
	const idle = 10 * time.Minute
	sess := state.Session{User: "alice", Source: "users", Created: c.Now(), Expires: c.Now().Add(25 * time.Minute)}
	if err := s.Create(ctx, "k1", sess, idle); err != nil {
		t.Fatal(err)
	}
	if got, ok := getSession(t, s, "k1", idle); !ok || got.User != "alice" || got.Source != "users" || !got.Expires.Equal(sess.Expires) {
		t.Fatalf("Get(k1) = %+v, %v, want %+v", got, ok, sess)
	}
	if _, ok := getSession(t, s, "k2", idle); ok {
		t.Fatal("Get(k2) found a session never created")
	}
	// Each use extends the idle lifetime...
	for range 2 {
		c.Advance(9 * time.Minute)
		if _, ok := getSession(t, s, "k1", idle); !ok {
			t.Fatalf("Get(k1) after %v of use: gone, want live (idle lifetime extended)", c.Now().Sub(Start()))
		}
	}
	// ...but never past the absolute end (25 minutes).
	c.Advance(8 * time.Minute)
	if _, ok := getSession(t, s, "k1", idle); ok {
		t.Fatal("Get(k1) past the absolute lifetime: live, want gone")
	}
	// Unused for the idle lifetime: gone.
	if err := s.Create(ctx, "k3", state.Session{User: "bob", Expires: c.Now().Add(time.Hour)}, idle); err != nil {
		t.Fatal(err)
	}
	c.Advance(idle)
	if _, ok := getSession(t, s, "k3", idle); ok {
		t.Fatal("Get(k3) after the idle lifetime: live, want gone")
	}
}

func testSessionDelete(t *testing.T, newSessions NewSessionsFunc) {
	c := NewClock(Start())
	s := newSessions(t, c.Now)
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if err := s.Create(ctx, k, state.Session{User: k, Expires: c.Now().Add(time.Hour)}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "a", "absent"); err != nil {
		t.Fatal(err)
	}
	if _, ok := getSession(t, s, "a", time.Minute); ok {
		t.Error("Get(a) after Delete: live")
	}
	if _, ok := getSession(t, s, "b", time.Minute); !ok {
		t.Error("Get(b): gone after deleting a")
	}
}

func testSessionsConcurrent(t *testing.T, newSessions NewSessionsFunc) {
	s := newSessions(t, time.Now)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("g%d-%d", g, i)
				if err := s.Create(ctx, key, state.Session{User: key, Expires: time.Now().Add(time.Hour)}, time.Minute); err != nil {
					errs <- err
					return
				}
				if got, ok, err := s.Get(ctx, key, time.Minute); err != nil || !ok || got.User != key {
					errs <- fmt.Errorf("Get(%q) = %+v, %v, %v", key, got, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testSessionsInvalid(t *testing.T, newSessions NewSessionsFunc) {
	s := newSessions(t, time.Now)
	ctx := context.Background()
	if err := s.Create(ctx, "", state.Session{}, time.Minute); !errors.Is(err, state.ErrInvalid) {
		t.Errorf("Create(empty key) = %v, want ErrInvalid", err)
	}
	if err := s.Create(ctx, "k", state.Session{}, 0); !errors.Is(err, state.ErrInvalid) {
		t.Errorf("Create(idle 0) = %v, want ErrInvalid", err)
	}
	if _, _, err := s.Get(ctx, "k", 0); !errors.Is(err, state.ErrInvalid) {
		t.Errorf("Get(idle 0) = %v, want ErrInvalid", err)
	}
}
