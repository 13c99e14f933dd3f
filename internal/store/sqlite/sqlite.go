package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/store/sqlstore"
)

// Dialect is SQLite's: rowid primary keys, TEXT compared byte by byte.
var Dialect = sqlstore.Dialect{Name: "sqlite", IDType: "INTEGER PRIMARY KEY", KeyType: "TEXT"}

// FileName is the database file's name inside a data directory.
const FileName = "htgate.db"

// Options tune Open. Zero fields take the documented defaults.
type Options struct {
	// BusyTimeout is how long a write waits for another process's write
	// lock before failing. Default 10s.
	BusyTimeout time.Duration
	// Readers bounds the concurrent read connections. Default 4.
	Readers int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DB is the managed store on a SQLite file.
type DB struct {
	*sqlstore.DB
	path string
}

var (
	_ store.Store       = (*DB)(nil)
	_ store.Users       = (*DB)(nil)
	_ store.Groups      = (*DB)(nil)
	_ store.URLs        = (*DB)(nil)
	_ store.Grants      = (*DB)(nil)
	_ store.Tokens      = (*DB)(nil)
	_ store.Admins      = (*DB)(nil)
	_ store.Audit       = (*DB)(nil)
	_ store.Importer    = (*DB)(nil)
	_ store.Snapshotter = (*DB)(nil)
)

// Open opens (creating it, mode 0600, if needed) the database file at path
// and brings its schema up to date. Its directory must exist.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// Create the file with owner-only permissions; SQLite gives its -wal and
	// -shm files the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	f.Close()
	w, err := sql.Open("sqlite", dsn(abs, opts.BusyTimeout, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	// One writer connection: writes of this process queue in Go, and take
	// turns with other processes through the busy timeout.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn(abs, opts.BusyTimeout, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	db, err := sqlstore.New(ctx, w, r, Dialect, sqlstore.Options{Now: opts.Now})
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	return &DB{DB: db, path: abs}, nil
}

// dsn is the driver's data source name: the pragmas every connection runs.
func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Path is the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// IntegrityCheck runs PRAGMA integrity_check and returns nil when SQLite
// answers "ok".
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.Writer().QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []error
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, errors.New(line))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: integrity check of %s failed: %w", db.path, errors.Join(problems...))
	}
	return nil
}
