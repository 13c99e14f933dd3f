package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Admins = (*DB)(nil)

const adminColumns = `name, hash, role, locked, created_at, changed_at`

func scanAdmin(sc interface{ Scan(...any) error }) (store.Admin, error) {
	var (
		a                store.Admin
		created, changed int64
	)
	err := sc.Scan(&a.Name, &a.Hash, &a.Role, &a.Locked, &created, &changed)
	a.Created, a.Changed = fromMicros(created), fromMicros(changed)
	return a, err
}

// AddAdmin implements store.Admins.
func (db *DB) AddAdmin(ctx context.Context, a store.Admin) (store.Admin, error) {
	n, err := store.UserName(a.Name)
	if err != nil {
		return store.Admin{}, err
	}
	role, err := store.CheckRole(a.Role)
	if err != nil {
		return store.Admin{}, err
	}
	if a.Hash == "" {
		return store.Admin{}, fmt.Errorf("%w: an admin account needs a password hash", store.ErrInvalid)
	}
	if err := store.CheckHash(a.Hash); err != nil {
		return store.Admin{}, err
	}
	out := store.Admin{Name: n, Hash: a.Hash, Role: role, Locked: a.Locked}
	err = db.write(ctx, change{action: "admin.add", target: n, detail: "role " + string(role)}, func(tx *sql.Tx, now int64, _ *change) error {
		k, err := affected(tx.ExecContext(ctx, `INSERT INTO admins (name, hash, role, locked, created_at, changed_at)
VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING`, n, a.Hash, string(role), a.Locked, now))
		if err != nil {
			return fmt.Errorf("store: add admin %q: %w", n, err)
		}
		if k == 0 {
			return conflict("admin %q", n)
		}
		out.Created, out.Changed = fromMicros(now), fromMicros(now)
		return nil
	})
	if err != nil {
		return store.Admin{}, err
	}
	return out, nil
}

// Admin implements store.Admins.
func (db *DB) Admin(ctx context.Context, name string) (store.Admin, error) {
	n, err := store.UserName(name)
	if err != nil {
		return store.Admin{}, err
	}
	a, err := scanAdmin(db.r.QueryRowContext(ctx, `SELECT `+adminColumns+` FROM admins WHERE name = $1`, n))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Admin{}, notFound("admin %q", n)
	}
	if err != nil {
		return store.Admin{}, fmt.Errorf("store: admin %q: %w", n, err)
	}
	return a, nil
}

// ListAdmins implements store.Admins.
func (db *DB) ListAdmins(ctx context.Context) ([]store.Admin, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+adminColumns+` FROM admins ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list admins: %w", err)
	}
	defer rows.Close()
	out := []store.Admin{}
	for rows.Next() {
		a, err := scanAdmin(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list admins: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list admins: %w", err)
	}
	return out, nil
}

// UpdateAdmin implements store.Admins.
func (db *DB) UpdateAdmin(ctx context.Context, name string, up store.AdminUpdate) (store.Admin, error) {
	n, err := store.UserName(name)
	if err != nil {
		return store.Admin{}, err
	}
	var actions []string
	if up.Hash != nil {
		if *up.Hash == "" {
			return store.Admin{}, fmt.Errorf("%w: an admin account needs a password hash", store.ErrInvalid)
		}
		if err := store.CheckHash(*up.Hash); err != nil {
			return store.Admin{}, err
		}
		actions = append(actions, "admin.passwd")
	}
	var role *string
	if up.Role != nil {
		r, err := store.CheckRole(*up.Role)
		if err != nil {
			return store.Admin{}, err
		}
		s := string(r)
		role = &s
		actions = append(actions, "admin.role")
	}
	if up.Locked != nil {
		if *up.Locked {
			actions = append(actions, "admin.lock")
		} else {
			actions = append(actions, "admin.unlock")
		}
	}
	if len(actions) == 0 {
		return db.Admin(ctx, n)
	}
	detail := ""
	if role != nil {
		detail = "role " + *role
	}
	err = db.write(ctx, change{action: strings.Join(actions, "+"), target: n, detail: detail}, func(tx *sql.Tx, now int64, _ *change) error {
		k, err := affected(tx.ExecContext(ctx, `UPDATE admins SET hash = COALESCE($1, hash), role = COALESCE($2, role),
locked = COALESCE($3, locked), changed_at = $4 WHERE name = $5`, up.Hash, role, up.Locked, now, n))
		if err != nil {
			return fmt.Errorf("store: update admin %q: %w", n, err)
		}
		if k == 0 {
			return notFound("admin %q", n)
		}
		return nil
	})
	if err != nil {
		return store.Admin{}, err
	}
	return db.Admin(ctx, n)
}

// RemoveAdmin implements store.Admins.
func (db *DB) RemoveAdmin(ctx context.Context, name string) error {
	n, err := store.UserName(name)
	if err != nil {
		return err
	}
	return db.write(ctx, change{action: "admin.remove", target: n}, func(tx *sql.Tx, _ int64, _ *change) error {
		k, err := affected(tx.ExecContext(ctx, `DELETE FROM admins WHERE name = $1`, n))
		if err != nil {
			return fmt.Errorf("store: remove admin %q: %w", n, err)
		}
		if k == 0 {
			return notFound("admin %q", n)
		}
		return nil
	})
}
