package passwd

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	shaPW  = "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=" // "pw"
	shaPW2 = "{SHA}8Wyi36Noi/CMek4hVErxW9WYy3A=" // "pw2"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := WriteFileAtomic(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHtpasswdFileReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, path, "alice:"+shaPW+"\n")
	var logs bytes.Buffer
	f, err := OpenHtpasswd(path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version() != 1 || f.Err() != nil || f.Path() != path {
		t.Fatalf("after open: Version() = %d, Err() = %v, Path() = %q", f.Version(), f.Err(), f.Path())
	}
	if _, ok := f.Snapshot().Lookup("alice"); !ok {
		t.Fatal("alice not found after open")
	}

	// Unchanged file: no reload.
	if changed, err := f.Refresh(ctx); changed || err != nil {
		t.Errorf("Refresh(unchanged) = %v, %v, want false, nil", changed, err)
	}
	if f.Version() != 1 {
		t.Errorf("Version() = %d after a no-op Refresh, want 1", f.Version())
	}

	old := f.Snapshot()
	writeFile(t, path, "alice:"+shaPW+"\nbob:"+shaPW2+"\nbad line\n")
	if changed, err := f.Refresh(ctx); !changed || err != nil {
		t.Fatalf("Refresh(changed) = %v, %v, want true, nil", changed, err)
	}
	if f.Version() != 2 {
		t.Errorf("Version() = %d after reload, want 2", f.Version())
	}
	if h, ok := f.Snapshot().Lookup("bob"); !ok || h != shaPW2 {
		t.Errorf("Lookup(bob) = %q, %v after reload", h, ok)
	}
	if _, ok := old.Lookup("bob"); ok {
		t.Errorf("the old snapshot changed")
	}
	if !strings.Contains(logs.String(), "line=3") || strings.Contains(logs.String(), shaPW2) {
		t.Errorf("log should name line 3 and no hash:\n%s", logs.String())
	}

	// In-place rewrite with the same size: caught by mtime/ctime.
	if err := os.WriteFile(path, []byte("carol:"+shaPW+"\nbob:"+shaPW2+"\nbad line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err := f.Refresh(ctx); !changed || err != nil {
		t.Fatalf("Refresh(in-place rewrite) = %v, %v, want true, nil", changed, err)
	}

	// A read error keeps the old snapshot and is reported by Err.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	before := f.Snapshot()
	if changed, err := f.Refresh(ctx); changed || err == nil {
		t.Errorf("Refresh(deleted) = %v, %v, want false, error", changed, err)
	}
	if f.Err() == nil || f.Snapshot() != before || f.Version() != 3 {
		t.Errorf("after a failed Refresh: Err() = %v, same snapshot %v, Version() = %d", f.Err(), f.Snapshot() == before, f.Version())
	}
	writeFile(t, path, "dave:"+shaPW+"\n")
	if changed, err := f.Refresh(ctx); !changed || err != nil {
		t.Fatalf("Refresh(restored) = %v, %v, want true, nil", changed, err)
	}
	if f.Err() != nil || f.Version() != 4 {
		t.Errorf("after recovery: Err() = %v, Version() = %d, want nil, 4", f.Err(), f.Version())
	}

	// A cancelled context refreshes nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Refresh(cctx); err == nil {
		t.Errorf("Refresh(cancelled ctx) error = nil")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenHtpasswd(filepath.Join(dir, "missing"), nil); err == nil {
		t.Errorf("OpenHtpasswd(missing) error = nil")
	}
	if _, err := OpenHtpasswd(dir, nil); err == nil {
		t.Errorf("OpenHtpasswd(directory) error = nil")
	}
	if _, err := OpenGroups(filepath.Join(dir, "missing"), nil); err == nil {
		t.Errorf("OpenGroups(missing) error = nil")
	}
}

func TestWatchStopsAndDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "groups")
	writeFile(t, path, "g: u\n")
	f, err := OpenGroups(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Watch(ctx, 0) // a zero interval must not panic; a done ctx returns at once
}

func TestGroupFileReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "groups")
	writeFile(t, path, "admins: alice\n")
	f, err := OpenGroups(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Snapshot().Has("alice", "admins") || f.Version() != 1 || f.Path() != path {
		t.Fatalf("after open: Has(alice, admins) = false or Version() = %d", f.Version())
	}
	writeFile(t, path, "admins: bob\n")
	if changed, err := f.Refresh(ctx); !changed || err != nil {
		t.Fatalf("Refresh() = %v, %v", changed, err)
	}
	if f.Snapshot().Has("alice", "admins") || !f.Snapshot().Has("bob", "admins") || f.Version() != 2 || f.Err() != nil {
		t.Errorf("after reload: wrong members or Version() = %d", f.Version())
	}
}

// TestConcurrentReload hammers Snapshot and Lookup while the file is
// rewritten and reloaded; run with -race.
func TestConcurrentReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, path, "alice:"+shaPW+"\n")
	f, err := OpenHtpasswd(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var watching sync.WaitGroup
	watching.Go(func() { f.Watch(ctx, time.Millisecond) })

	var stop atomic.Bool
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for !stop.Load() {
				v := f.Version()
				h := f.Snapshot()
				if _, ok := h.Lookup("alice"); !ok {
					t.Error("alice missing from a snapshot")
					return
				}
				if f.Version() < v {
					t.Error("Version went backwards")
					return
				}
			}
		})
	}
	for i := range 20 {
		writeFile(t, path, "alice:"+shaPW+"\n"+strings.Repeat("#", i)+"\nbob:"+shaPW2+"\n")
		time.Sleep(2 * time.Millisecond)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.Version() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	readers.Wait()
	cancel()
	watching.Wait()
	if f.Version() < 2 {
		t.Errorf("Watch never reloaded: Version() = %d", f.Version())
	}
	if _, ok := f.Snapshot().Lookup("bob"); !ok {
		t.Errorf("bob missing after reloads")
	}
}

func TestWatchLogsErrorsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, path, "alice:"+shaPW+"\n")
	var mu sync.Mutex
	var logs bytes.Buffer
	f, err := OpenHtpasswd(path, slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Watch(ctx, time.Millisecond); close(done) }()
	time.Sleep(30 * time.Millisecond)
	writeFile(t, path, "bob:"+shaPW+"\n")
	deadline := time.Now().Add(5 * time.Second)
	for f.Version() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if n := strings.Count(out, "reload failed"); n != 1 {
		t.Errorf("reload failure logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "readable again") || !strings.Contains(out, "reloaded") {
		t.Errorf("recovery not logged:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
