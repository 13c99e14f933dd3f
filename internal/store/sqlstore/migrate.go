package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema change.
type Migration struct {
	// Version is the number the file name starts with (0001_initial.sql: 1).
	Version int
	// Name is the file name.
	Name string
	// Statements are the SQL statements of the file, with the dialect's
	// types substituted, comments removed.
	Statements []string
}

// Migrations returns the embedded migrations in order, written for d.
func Migrations(d Dialect) ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", e.Name())
		}
		data, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		text := strings.NewReplacer("{{id}}", d.IDType, "{{key}}", d.KeyType).Replace(string(data))
		out = append(out, Migration{Version: v, Name: e.Name(), Statements: splitStatements(text)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", out[i-1].Name, out[i].Name)
		}
	}
	return out, nil
}

// splitStatements removes "--" comment lines and splits at lines ending
// with ";". Migrations put no ";" at a line end inside a statement.
func splitStatements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// SchemaVersion is the highest migration version embedded in this build.
func SchemaVersion() int {
	ms, err := Migrations(Dialect{})
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// migrate applies the migrations the database has not seen, each in its
// own write transaction, recorded in schema_migrations. Two processes
// opening a new database at once are serialised by the write lock; the
// second finds the work done. A database newer than this build is refused.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := Migrations(db.dialect)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := db.apply(ctx, m, ms[len(ms)-1].Version); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, m Migration, latest int) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migration %s: begin: %w", m.Name, err)
	}
	defer func() { _ = tx.Rollback() }()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("store: the database has schema version %d, newer than this htgate (%d): upgrade htgate", current, latest)
	}
	if current >= m.Version {
		return nil
	}
	for i, s := range m.Statements {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("store: migration %s, statement %d: %w", m.Name, i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, micros(db.now())); err != nil {
		return fmt.Errorf("store: record migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migration %s: commit: %w", m.Name, err)
	}
	return nil
}
