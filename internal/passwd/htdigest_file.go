package passwd

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// HtdigestFile is an htdigest file on disk, reloaded like HtpasswdFile:
// its current snapshot is swapped atomically when the file changes, and a
// reload that fails keeps the previous snapshot.
type HtdigestFile struct {
	w *watched[Htdigest]
}

// OpenHtdigest loads the htdigest file at path; see OpenHtpasswd.
func OpenHtdigest(path string, logger *slog.Logger) (*HtdigestFile, error) {
	w, err := openWatched(path, logger, "htdigest file", func(r io.Reader, name string) (*Htdigest, []*LineError, error) {
		return ParseHtdigest(r, name)
	})
	if err != nil {
		return nil, err
	}
	return &HtdigestFile{w: w}, nil
}

// Path returns the file's path.
func (f *HtdigestFile) Path() string { return f.w.path }

// Snapshot returns the current snapshot; it never returns nil.
func (f *HtdigestFile) Snapshot() *Htdigest { return f.w.snap.Load() }

// Version returns the number of successful loads so far; see
// HtpasswdFile.Version.
func (f *HtdigestFile) Version() uint64 { return f.w.version.Load() }

// Err returns the error of the most recent Refresh; see HtpasswdFile.Err.
func (f *HtdigestFile) Err() error { return f.w.loadErr() }

// Refresh reloads the file if it changed; see HtpasswdFile.Refresh.
func (f *HtdigestFile) Refresh(ctx context.Context) (changed bool, err error) {
	return f.w.refresh(ctx)
}

// Watch calls Refresh every interval until ctx is done; see
// HtpasswdFile.Watch.
func (f *HtdigestFile) Watch(ctx context.Context, interval time.Duration) { f.w.watch(ctx, interval) }
