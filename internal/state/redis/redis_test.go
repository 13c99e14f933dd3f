package redis_test

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/htgate/htgate/internal/state"
	"github.com/htgate/htgate/internal/state/redis"
	"github.com/htgate/htgate/internal/state/statetest"
	"github.com/htgate/htgate/internal/testsvc"
)

// newStore returns a store with a key prefix of its own, closed and
// cleaned up when t ends.
func newStore(t *testing.T, now func() time.Time) *redis.Store {
	t.Helper()
	url := testsvc.Redis(t)
	s, err := redis.Open(url, redis.Options{Prefix: testsvc.RedisPrefix(t, url), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T, now func() time.Time) state.Store { return newStore(t, now) })
}

func TestNonces(t *testing.T) {
	statetest.RunNonces(t, func(t *testing.T, now func() time.Time) state.Nonces { return newStore(t, now) })
}

func TestSessions(t *testing.T) {
	statetest.RunSessions(t, func(t *testing.T, now func() time.Time) state.Sessions { return newStore(t, now).Sessions() })
}

// TestUnreachable checks that every operation fails (rather than answers)
// when the server does not answer, so that the guard fails closed.
func TestUnreachable(t *testing.T) {
	s, err := redis.Open("redis://127.0.0.1:1/0", redis.Options{Prefix: "x:"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	start := time.Now()
	defer func() {
		// Refused at once, not after a long dial: the request waits for it.
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("six operations without a server took %v, want well under 2 s", d)
		}
	}()
	if _, err := s.Incr(ctx, "k", time.Minute); err == nil {
		t.Error("Incr succeeded without a server")
	}
	if _, err := s.Active(ctx, "k"); err == nil {
		t.Error("Active succeeded without a server")
	}
	if _, err := s.Marked(ctx, "k"); err == nil {
		t.Error("Marked succeeded without a server")
	}
	if _, err := s.Use(ctx, "n", 1, time.Minute); err == nil {
		t.Error("Use succeeded without a server")
	}
	if _, _, err := s.Sessions().Get(ctx, "k", time.Minute); err == nil {
		t.Error("Sessions().Get succeeded without a server")
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping succeeded without a server")
	}
}

var _ goredis.UniversalClient = (*goredis.Client)(nil)
