package passwd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// HtpasswdFile is an htpasswd file on disk whose current snapshot is swapped
// atomically when the file changes. Readers (Snapshot, Version, Err) only do
// atomic loads, so a request in flight never waits for a reload; a reload
// that fails keeps the previous snapshot.
type HtpasswdFile struct {
	w *watched[Htpasswd]
}

// OpenHtpasswd loads the htpasswd file at path. It fails if the file is
// missing or unreadable now; later failures only keep the old snapshot (see
// Refresh). LineErrors of every load are logged at warning level (they name
// users and lines, never hashes). A nil logger discards.
func OpenHtpasswd(path string, logger *slog.Logger) (*HtpasswdFile, error) {
	w, err := openWatched(path, logger, "htpasswd", func(r io.Reader, name string) (*Htpasswd, []*LineError, error) {
		return ParseHtpasswd(r, name)
	})
	if err != nil {
		return nil, err
	}
	return &HtpasswdFile{w: w}, nil
}

// Path returns the file's path.
func (f *HtpasswdFile) Path() string { return f.w.path }

// Snapshot returns the current snapshot; it never returns nil.
func (f *HtpasswdFile) Snapshot() *Htpasswd { return f.w.snap.Load() }

// Version returns the number of successful loads so far (1 after
// OpenHtpasswd). It changes exactly when Snapshot does, so a cache of
// verified credentials can key on it.
func (f *HtpasswdFile) Version() uint64 { return f.w.version.Load() }

// Err returns the error of the most recent Refresh, or nil if it succeeded or
// found the file unchanged. While it is non-nil the snapshot is the last one
// that loaded, which may be stale (say, the file was deleted); a gateway that
// prefers to fail closed may answer 500 instead of using it.
func (f *HtpasswdFile) Err() error { return f.w.loadErr() }

// Refresh reloads the file if its size, modification time or identity
// (inode, change time) changed since the last load, and reports whether it
// swapped in a new snapshot. On error the old snapshot stays; the error is
// also kept for Err. Concurrent calls are serialised.
func (f *HtpasswdFile) Refresh(ctx context.Context) (changed bool, err error) {
	return f.w.refresh(ctx)
}

// DefaultWatchInterval is the interval Watch uses when given one <= 0.
const DefaultWatchInterval = time.Second

// Watch calls Refresh every interval (DefaultWatchInterval if interval <= 0)
// until ctx is done, logging reloads and errors (an error is logged when it
// first appears and when it clears, not on every attempt).
func (f *HtpasswdFile) Watch(ctx context.Context, interval time.Duration) { f.w.watch(ctx, interval) }

// GroupFile is a group file on disk, reloaded like HtpasswdFile.
type GroupFile struct {
	w *watched[Groups]
}

// OpenGroups loads the group file at path; see OpenHtpasswd.
func OpenGroups(path string, logger *slog.Logger) (*GroupFile, error) {
	w, err := openWatched(path, logger, "group file", ParseGroups)
	if err != nil {
		return nil, err
	}
	return &GroupFile{w: w}, nil
}

// Path returns the file's path.
func (f *GroupFile) Path() string { return f.w.path }

// Snapshot returns the current snapshot; it never returns nil.
func (f *GroupFile) Snapshot() *Groups { return f.w.snap.Load() }

// Version returns the number of successful loads so far; see
// HtpasswdFile.Version.
func (f *GroupFile) Version() uint64 { return f.w.version.Load() }

// Err returns the error of the most recent Refresh; see HtpasswdFile.Err.
func (f *GroupFile) Err() error { return f.w.loadErr() }

// Refresh reloads the file if it changed; see HtpasswdFile.Refresh.
func (f *GroupFile) Refresh(ctx context.Context) (changed bool, err error) {
	return f.w.refresh(ctx)
}

// Watch calls Refresh every interval until ctx is done; see
// HtpasswdFile.Watch.
func (f *GroupFile) Watch(ctx context.Context, interval time.Duration) { f.w.watch(ctx, interval) }

// watched holds the reload machinery shared by both file kinds.
type watched[T any] struct {
	path   string
	kind   string
	parse  func(io.Reader, string) (*T, []*LineError, error)
	logger *slog.Logger

	snap    atomic.Pointer[T]
	version atomic.Uint64
	err     atomic.Pointer[error]

	mu    sync.Mutex // serialises refresh; guards stamp
	stamp fileStamp
}

func openWatched[T any](path string, logger *slog.Logger, kind string, parse func(io.Reader, string) (*T, []*LineError, error)) (*watched[T], error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &watched[T]{path: path, kind: kind, parse: parse, logger: logger}
	snap, stamp, err := w.load()
	if err != nil {
		return nil, err
	}
	w.snap.Store(snap)
	w.stamp = stamp
	w.version.Store(1)
	return w, nil
}

// load reads and parses the file, returning the stamp of what it read.
func (w *watched[T]) load() (*T, fileStamp, error) {
	f, err := os.Open(w.path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("load %s %s: %w", w.kind, w.path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("load %s %s: %w", w.kind, w.path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fileStamp{}, fmt.Errorf("load %s %s: not a regular file", w.kind, w.path)
	}
	snap, lineErrs, err := w.parse(f, w.path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("load %s: %w", w.kind, err)
	}
	for _, le := range lineErrs {
		w.logger.Warn("credential file line ignored", "file", le.File, "line", le.Line, "problem", le.Msg)
	}
	return snap, stampOf(fi), nil
}

func (w *watched[T]) refresh(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	changed, err := w.refreshLocked()
	if err != nil {
		w.err.Store(&err)
	} else {
		w.err.Store(nil)
	}
	return changed, err
}

func (w *watched[T]) refreshLocked() (bool, error) {
	fi, err := os.Stat(w.path)
	if err != nil {
		return false, fmt.Errorf("reload %s %s: %w", w.kind, w.path, err)
	}
	if stampOf(fi) == w.stamp {
		return false, nil
	}
	snap, stamp, err := w.load()
	if err != nil {
		return false, err
	}
	w.snap.Store(snap)
	w.stamp = stamp
	w.version.Add(1)
	return true, nil
}

func (w *watched[T]) loadErr() error {
	if p := w.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (w *watched[T]) watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := w.refresh(ctx)
		switch {
		case err != nil && errors.Is(err, ctx.Err()):
			return
		case err != nil:
			if err.Error() != lastErr {
				w.logger.Error("credential file reload failed; keeping the previous version", "file", w.path, "err", err)
				lastErr = err.Error()
			}
		default:
			if lastErr != "" {
				w.logger.Info("credential file readable again", "file", w.path)
				lastErr = ""
			}
			if changed {
				w.logger.Info("credential file reloaded", "file", w.path, "version", w.version.Load())
			}
		}
	}
}

// fileStamp identifies one version of a file without reading it.
type fileStamp struct {
	size  int64
	mtime int64    // UnixNano
	sys   sysStamp // inode, device and change time where the OS has them
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), sys: sysStampOf(fi)}
}
