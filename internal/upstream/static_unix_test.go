//go:build unix

package upstream

import (
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestStaticFIFO checks that a FIFO in the docroot is 404 at once, not a
// request that blocks until a writer shows up.
func TestStaticFIFO(t *testing.T) {
	dir := newDocroot(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	s := newTestStatic(t, dir, StaticOptions{})
	done := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		s.Serve(w, httptest.NewRequest("GET", "/fifo", nil), Request{Path: "/fifo"})
		done <- w.Code
	}()
	select {
	case code := <-done:
		if code != 404 {
			t.Errorf("GET /fifo = %d, want 404", code)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("GET /fifo blocked")
	}
}
