package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Importer = (*DB)(nil)

// tally counts outcomes for a batch's audit event.
type tally [4]int

func (t *tally) add(o store.Outcome) { t[o.Result]++ }

func (t tally) String() string {
	return fmt.Sprintf("%d imported, %d replaced, %d skipped, %d failed", t[store.Imported], t[store.Replaced], t[store.Skipped], t[store.Failed])
}

func (t tally) changed() bool { return t[store.Imported]+t[store.Replaced] > 0 }

func failed(err error) store.Outcome { return store.Outcome{Result: store.Failed, Err: err} }

// importBatch runs one import batch: one transaction, one audit event,
// and a version bump only when something was stored.
func (db *DB) importBatch(ctx context.Context, action string, n int, fn func(tx *sql.Tx, now int64, out []store.Outcome) error) ([]store.Outcome, error) {
	out := make([]store.Outcome, n)
	err := db.write(ctx, change{action: action}, func(tx *sql.Tx, now int64, c *change) error {
		if err := fn(tx, now, out); err != nil {
			return err
		}
		var t tally
		for _, o := range out {
			t.add(o)
		}
		c.detail = fmt.Sprintf("batch of %d: %s", n, t)
		if t.changed() {
			c.parts, c.allUsers = partCredentials, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ImportUsers implements store.Importer.
func (db *DB) ImportUsers(ctx context.Context, users []store.User, replace bool) ([]store.Outcome, error) {
	return db.importBatch(ctx, "import.users", len(users), func(tx *sql.Tx, now int64, out []store.Outcome) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO users (name, display_name, hash, locked, created_at, changed_at)
VALUES ($1, $2, $3, FALSE, $4, $4) ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("store: import users: %w", err)
		}
		defer ins.Close()
		var upd, clear *sql.Stmt
		if replace {
			if upd, err = tx.PrepareContext(ctx, `UPDATE users SET hash = $1, changed_at = $2 WHERE name = $3 RETURNING id`); err != nil {
				return fmt.Errorf("store: import users: %w", err)
			}
			defer upd.Close()
			if clear, err = tx.PrepareContext(ctx, `DELETE FROM digest_secrets WHERE user_id = $1`); err != nil {
				return fmt.Errorf("store: import users: %w", err)
			}
			defer clear.Close()
		}
		for i, u := range users {
			name, err := store.UserName(u.Name)
			if err != nil {
				out[i] = failed(err)
				continue
			}
			if err := store.CheckHash(u.Hash); err != nil {
				out[i] = failed(err)
				continue
			}
			display := u.DisplayName
			if display == "" && name != u.Name {
				display = u.Name
			}
			if err := store.CheckText("display name", display); err != nil {
				out[i] = failed(err)
				continue
			}
			k, err := affected(ins.ExecContext(ctx, name, display, u.Hash, now))
			if err != nil {
				return fmt.Errorf("store: import user %q: %w", name, err)
			}
			switch {
			case k == 1:
				out[i] = store.Outcome{Result: store.Imported}
			case !replace:
				out[i] = store.Outcome{Result: store.Skipped, Err: conflict("user %q", name)}
			default:
				var id int64
				if err := upd.QueryRowContext(ctx, u.Hash, now, name).Scan(&id); err != nil {
					return fmt.Errorf("store: replace user %q: %w", name, err)
				}
				if _, err := clear.ExecContext(ctx, id); err != nil {
					return fmt.Errorf("store: replace user %q: %w", name, err)
				}
				out[i] = store.Outcome{Result: store.Replaced}
			}
		}
		return nil
	})
}

// ImportDigestSecrets implements store.Importer.
func (db *DB) ImportDigestSecrets(ctx context.Context, secrets []store.DigestSecret, replace bool) ([]store.Outcome, error) {
	return db.importBatch(ctx, "import.digest", len(secrets), func(tx *sql.Tx, now int64, out []store.Outcome) error {
		addUser, err := tx.PrepareContext(ctx, `INSERT INTO users (name, display_name, hash, locked, created_at, changed_at)
VALUES ($1, $2, '', FALSE, $3, $3) ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("store: import digest secrets: %w", err)
		}
		defer addUser.Close()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO digest_secrets (user_id, realm, algorithm, username, ha1)
SELECT id, $1, $5, $2, $3 FROM users WHERE name = $4 ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("store: import digest secrets: %w", err)
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE digest_secrets SET username = $1, ha1 = $2
WHERE realm = $3 AND algorithm = $5 AND user_id = (SELECT id FROM users WHERE name = $4)`)
		if err != nil {
			return fmt.Errorf("store: import digest secrets: %w", err)
		}
		defer upd.Close()
		for i, s := range secrets {
			name, err := store.UserName(s.User)
			if err != nil {
				out[i] = failed(err)
				continue
			}
			username := s.Username
			if username == "" {
				username = s.User
			}
			if err := store.CheckText("realm", s.Realm); err != nil {
				out[i] = failed(err)
				continue
			}
			if err := store.CheckText("user name", username); err != nil || strings.Contains(username, ":") {
				out[i] = failed(fmt.Errorf("%w: user name %q", store.ErrInvalid, username))
				continue
			}
			alg, err := store.CheckHA1(s.Algorithm, s.HA1)
			if err != nil {
				out[i] = failed(err)
				continue
			}
			display := ""
			if name != username {
				display = username
			}
			if _, err := addUser.ExecContext(ctx, name, display, now); err != nil {
				return fmt.Errorf("store: import digest user %q: %w", name, err)
			}
			k, err := affected(ins.ExecContext(ctx, s.Realm, username, s.HA1, name, alg))
			if err != nil {
				return fmt.Errorf("store: import digest secret of %q: %w", name, err)
			}
			switch {
			case k == 1:
				out[i] = store.Outcome{Result: store.Imported}
			case !replace:
				out[i] = store.Outcome{Result: store.Skipped, Err: conflict("%s digest secret of user %q in realm %q", alg, name, s.Realm)}
			default:
				if _, err := upd.ExecContext(ctx, username, s.HA1, s.Realm, name, alg); err != nil {
					return fmt.Errorf("store: replace digest secret of %q: %w", name, err)
				}
				out[i] = store.Outcome{Result: store.Replaced}
			}
		}
		return nil
	})
}

// ImportMembers implements store.Importer.
func (db *DB) ImportMembers(ctx context.Context, ms []store.Membership) ([]store.Outcome, error) {
	return db.importBatch(ctx, "import.groups", len(ms), func(tx *sql.Tx, now int64, out []store.Outcome) error {
		groups := map[string]int64{}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("store: import members: %w", err)
		}
		defer ins.Close()
		for i, m := range ms {
			g, u, err := memberNames(m.Group, m.User)
			if err != nil {
				out[i] = failed(err)
				continue
			}
			uid, err := idOf(ctx, tx, "users", "user", u)
			if errors.Is(err, store.ErrNotFound) {
				out[i] = failed(fmt.Errorf("%w (import the users first)", err))
				continue
			}
			if err != nil {
				return err
			}
			gid, ok := groups[g]
			if !ok {
				if _, err := tx.ExecContext(ctx, `INSERT INTO user_groups (name, created_at, changed_at) VALUES ($1, $2, $2) ON CONFLICT DO NOTHING`, g, now); err != nil {
					return fmt.Errorf("store: import group %q: %w", g, err)
				}
				if gid, err = idOf(ctx, tx, "user_groups", "group", g); err != nil {
					return err
				}
				groups[g] = gid
			}
			k, err := affected(ins.ExecContext(ctx, gid, uid))
			if err != nil {
				return fmt.Errorf("store: import member %q of %q: %w", u, g, err)
			}
			if k == 0 {
				out[i] = store.Outcome{Result: store.Skipped, Err: conflict("user %q in group %q", u, g)}
				continue
			}
			out[i] = store.Outcome{Result: store.Imported}
		}
		return nil
	})
}
