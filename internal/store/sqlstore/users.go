package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Users = (*DB)(nil)

const userColumns = `id, name, display_name, hash, locked, created_at, changed_at`

func scanUser(sc interface{ Scan(...any) error }) (int64, store.User, error) {
	var (
		id               int64
		u                store.User
		created, changed int64
	)
	err := sc.Scan(&id, &u.Name, &u.DisplayName, &u.Hash, &u.Locked, &created, &changed)
	u.Created, u.Changed = fromMicros(created), fromMicros(changed)
	u.Groups = []string{}
	return id, u, err
}

// AddUser implements store.Users.
func (db *DB) AddUser(ctx context.Context, u store.User) (store.User, error) {
	name, err := store.UserName(u.Name)
	if err != nil {
		return store.User{}, err
	}
	display := u.DisplayName
	if display == "" && u.Name != name {
		display = u.Name
	}
	if err := store.CheckText("display name", display); err != nil {
		return store.User{}, err
	}
	if err := store.CheckHash(u.Hash); err != nil {
		return store.User{}, err
	}
	out := store.User{Name: name, DisplayName: display, Hash: u.Hash, Locked: u.Locked, Groups: []string{}}
	err = db.write(ctx, change{parts: partCredentials, action: "user.add", target: name, users: []string{name}}, func(tx *sql.Tx, now int64, c *change) error {
		n, err := affected(tx.ExecContext(ctx, `INSERT INTO users (name, display_name, hash, locked, created_at, changed_at)
VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING`, name, display, u.Hash, u.Locked, now))
		if err != nil {
			return fmt.Errorf("store: add user %q: %w", name, err)
		}
		if n == 0 {
			return conflict("user %q", name)
		}
		if u.Locked {
			c.detail = "locked"
		}
		out.Created, out.Changed = fromMicros(now), fromMicros(now)
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// User implements store.Users.
func (db *DB) User(ctx context.Context, name string) (store.User, error) {
	n, err := store.UserName(name)
	if err != nil {
		return store.User{}, err
	}
	var u store.User
	err = db.read(ctx, func(tx *sql.Tx) error {
		var id int64
		id, u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, n))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user %q", n)
		}
		if err != nil {
			return fmt.Errorf("store: user %q: %w", n, err)
		}
		u.Groups, err = stringList(ctx, tx, `SELECT g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id
WHERE m.user_id = $1 ORDER BY g.name`, id)
		return err
	})
	return u, err
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context, p store.Page) ([]store.User, error) {
	users := []store.User{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE name > $1 ORDER BY name LIMIT $2`, p.After, p.Size())
		if err != nil {
			return fmt.Errorf("store: list users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			_, u, err := scanUser(rows)
			if err != nil {
				return fmt.Errorf("store: list users: %w", err)
			}
			users = append(users, u)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: list users: %w", err)
		}
		if len(users) == 0 {
			return nil
		}
		// The groups of the page's users, in one query over the same range.
		byName := make(map[string]int, len(users))
		for i, u := range users {
			byName[u.Name] = i
		}
		grows, err := tx.QueryContext(ctx, `SELECT u.name, g.name FROM group_members m
JOIN users u ON u.id = m.user_id JOIN user_groups g ON g.id = m.group_id
WHERE u.name > $1 AND u.name <= $2 ORDER BY g.name`, p.After, users[len(users)-1].Name)
		if err != nil {
			return fmt.Errorf("store: list users' groups: %w", err)
		}
		defer grows.Close()
		for grows.Next() {
			var user, group string
			if err := grows.Scan(&user, &group); err != nil {
				return fmt.Errorf("store: list users' groups: %w", err)
			}
			if i, ok := byName[user]; ok {
				users[i].Groups = append(users[i].Groups, group)
			}
		}
		return grows.Err()
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

// UpdateUser implements store.Users.
func (db *DB) UpdateUser(ctx context.Context, name string, up store.UserUpdate) (store.User, error) {
	n, err := store.UserName(name)
	if err != nil {
		return store.User{}, err
	}
	var actions []string
	if up.DisplayName != nil {
		if err := store.CheckText("display name", *up.DisplayName); err != nil {
			return store.User{}, err
		}
		actions = append(actions, "user.update")
	}
	if up.Hash != nil {
		if err := store.CheckHash(*up.Hash); err != nil {
			return store.User{}, err
		}
		actions = append(actions, "user.passwd")
	}
	if up.Locked != nil {
		if *up.Locked {
			actions = append(actions, "user.lock")
		} else {
			actions = append(actions, "user.unlock")
		}
	}
	if len(actions) == 0 {
		return db.User(ctx, n)
	}
	err = db.write(ctx, change{parts: partCredentials, action: strings.Join(actions, "+"), target: n, users: []string{n}}, func(tx *sql.Tx, now int64, c *change) error {
		id, err := idOf(ctx, tx, "users", "user", n)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET display_name = COALESCE($1, display_name), hash = COALESCE($2, hash),
locked = COALESCE($3, locked), changed_at = $4 WHERE id = $5`, up.DisplayName, up.Hash, up.Locked, now, id); err != nil {
			return fmt.Errorf("store: update user %q: %w", n, err)
		}
		if up.Hash != nil {
			// Digest secrets were derived from the old password.
			if _, err := tx.ExecContext(ctx, `DELETE FROM digest_secrets WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("store: update user %q: %w", n, err)
			}
		}
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return db.User(ctx, n)
}

// RemoveUser implements store.Users.
func (db *DB) RemoveUser(ctx context.Context, name string) error {
	n, err := store.UserName(name)
	if err != nil {
		return err
	}
	return db.write(ctx, change{parts: partCredentials | partRules, action: "user.remove", target: n, users: []string{n}}, func(tx *sql.Tx, _ int64, _ *change) error {
		k, err := affected(tx.ExecContext(ctx, `DELETE FROM users WHERE name = $1`, n))
		if err != nil {
			return fmt.Errorf("store: remove user %q: %w", n, err)
		}
		if k == 0 {
			return notFound("user %q", n)
		}
		return nil
	})
}

// stringList returns the first column of every row of a query.
func stringList(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}
