package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/store/postgres"
	"github.com/htgate/htgate/internal/store/storetest"
	"github.com/htgate/htgate/internal/testsvc"
)

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	base := testsvc.Postgres(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, testsvc.PostgresSchema(t, base)) })
}

// TestConcurrentOpen opens one new schema from several goroutines at once:
// the migration lock lets exactly one create the tables.
func TestConcurrentOpen(t *testing.T) {
	url := testsvc.PostgresSchema(t, testsvc.Postgres(t))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := postgres.Open(t.Context(), url, postgres.Options{})
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestWatch checks that a write through one store wakes the watcher of
// another in the same schema, and not one in another schema.
func TestWatch(t *testing.T) {
	base := testsvc.Postgres(t)
	url := testsvc.PostgresSchema(t, base)
	a, b := open(t, url), open(t, url)
	other := open(t, testsvc.PostgresSchema(t, base))
	defer a.Close()
	defer b.Close()
	defer other.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	watch := func(db *postgres.DB) chan struct{} {
		ch := make(chan struct{}, 16)
		go db.Watch(ctx, func() { ch <- struct{}{} }, nil)
		select {
		case <-ch: // listening
		case <-time.After(5 * time.Second):
			t.Fatal("Watch did not start listening")
		}
		return ch
	}
	got, gotOther := watch(b), watch(other)
	wctx := store.WithActor(ctx, store.Actor{Name: "test"})
	start := time.Now()
	if _, err := a.AddUser(wctx, store.User{Name: "alice", Hash: storetest.SHA1Hash}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
		t.Logf("notified %v after the commit returned", time.Since(start))
	case <-time.After(time.Second):
		t.Fatal("no notification within 1 s of a write")
	}
	select {
	case <-gotOther:
		t.Error("a store of another schema was notified")
	case <-time.After(100 * time.Millisecond):
	}
	// A failed write sends nothing.
	if _, err := a.AddUser(wctx, store.User{Name: "alice", Hash: storetest.SHA1Hash}); err == nil {
		t.Fatal("second AddUser(alice) succeeded")
	}
	select {
	case <-got:
		t.Error("notified of a write that was rolled back")
	case <-time.After(200 * time.Millisecond):
	}
}
