package testsvc

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// heldEnv is set (with t.Setenv) in a test that holds the exclusive lock,
// so that its own calls of Postgres and Redis do not wait for it.
const heldEnv = "HTGATE_TESTSVC_EXCLUSIVE"

// lockPath is the file whose flock orders the tests of every package that
// use the servers: shared for those that only use them, exclusive for
// those that stop or restart them (Disrupt).
func lockPath() string { return filepath.Join(os.TempDir(), "htgate-testsvc.lock") }

// lock takes the lock (shared or exclusive) until t ends.
func lock(t testing.TB, how int) {
	t.Helper()
	f, err := os.OpenFile(lockPath(), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatalf("service lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("service lock: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// shared takes the shared lock unless the test holds the exclusive one.
func shared(t testing.TB) {
	t.Helper()
	if os.Getenv(heldEnv) != "" {
		return
	}
	lock(t, syscall.LOCK_SH)
}

// Disrupt waits until no test of any package uses the servers and keeps
// them to t until it ends, for a test that stops or restarts them (which
// must start them again before it ends). t must not be parallel.
func Disrupt(t *testing.T) {
	t.Helper()
	lock(t, syscall.LOCK_EX)
	t.Setenv(heldEnv, "1")
}
