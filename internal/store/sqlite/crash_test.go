//go:build unix

package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/store"
)

// crashEnv names the database the helper process writes to.
const crashEnv = "HTGATE_CRASH_DB"

// TestHelperProcess is not a test: TestCrashSafety runs the test binary
// again with -test.run=TestHelperProcess to get a process it can kill. It
// writes users from several goroutines for as long as it lives and prints
// each name on stdout once the write is acknowledged (committed).
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("only run by TestCrashSafety")
	}
	ctx := store.WithActor(context.Background(), store.Actor{Name: "crash-helper"})
	db, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	ack := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(out, s)
		out.Flush()
	}
	ack("ready")
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				var err error
				if w%2 == 0 {
					_, err = db.AddUser(ctx, store.User{Name: name, Hash: "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="})
				} else {
					// Batches too: every item is acknowledged with its batch.
					batch := make([]store.User, 50)
					for j := range batch {
						batch[j] = store.User{Name: fmt.Sprintf("%s-%d", name, j), Hash: "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="}
					}
					_, err = db.ImportUsers(ctx, batch, false)
					name += "-*"
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "write failed:", err)
					os.Exit(3)
				}
				ack(name)
			}
		}()
	}
	wg.Wait()
}

// TestCrashSafety kills a process with SIGKILL in the middle of many
// concurrent writes, then checks that the database opens, passes PRAGMA
// integrity_check, and holds every write that was acknowledged.
func TestCrashSafety(t *testing.T) {
	for round := range 2 {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnv+"="+path)
			cmd.Stderr = os.Stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var acked []string
			sc := bufio.NewScanner(stdout)
			deadline := time.After(30 * time.Second)
			want := 250 + 150*round
			lines := make(chan string)
			go func() {
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
		read:
			for len(acked) < want {
				select {
				case l, ok := <-lines:
					if !ok {
						break read
					}
					if l != "ready" {
						acked = append(acked, l)
					}
				case <-deadline:
					break read
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// Acknowledgements already on their way out are acknowledged too.
			for l := range lines {
				if l != "ready" {
					acked = append(acked, l)
				}
			}
			err = cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("helper did not die by SIGKILL: %v (acknowledged %d writes)", err, len(acked))
			}
			if len(acked) < want {
				t.Fatalf("only %d writes acknowledged before the deadline, want %d", len(acked), want)
			}
			db, err := Open(context.Background(), path, Options{})
			if err != nil {
				t.Fatalf("open after SIGKILL: %v", err)
			}
			defer db.Close()
			if err := db.IntegrityCheck(context.Background()); err != nil {
				t.Fatal(err)
			}
			snap, err := db.Snapshot(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			missing := 0
			for _, name := range acked {
				names := []string{name}
				if base, ok := strings.CutSuffix(name, "-*"); ok {
					names = names[:0]
					for j := range 50 {
						names = append(names, fmt.Sprintf("%s-%d", base, j))
					}
				}
				for _, n := range names {
					if !snap.Credentials.Exists(n) {
						missing++
						if missing < 10 {
							t.Errorf("acknowledged write %s is missing", n)
						}
					}
				}
			}
			if missing > 0 {
				t.Errorf("%d acknowledged writes missing", missing)
			}
			v, err := db.Version(context.Background())
			if err != nil || v < uint64(len(acked)) {
				t.Errorf("version %d after %d acknowledged writes (%v)", v, len(acked), err)
			}
			t.Logf("killed after %d acknowledged writes; %d users stored; integrity ok", len(acked), snap.Credentials.Len())
		})
	}
}
