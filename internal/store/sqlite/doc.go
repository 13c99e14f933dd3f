// Package sqlite opens the managed store (store/sqlstore) on an embedded
// SQLite database file, with modernc.org/sqlite (pure Go, no cgo): WAL
// journal, synchronous=FULL, a busy timeout so that the CLI and a running
// server can write at once, foreign keys on, and write transactions that
// take the write lock when they begin (BEGIN IMMEDIATE).
//
// It imports store, store/sqlstore and the driver; only internal/app and
// tests import it.
package sqlite
