package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Groups = (*DB)(nil)

// AddGroup implements store.Groups.
func (db *DB) AddGroup(ctx context.Context, name string) (store.Group, error) {
	n, err := store.GroupName(name)
	if err != nil {
		return store.Group{}, err
	}
	g := store.Group{Name: n, Members: []string{}}
	err = db.write(ctx, change{action: "group.add", target: n}, func(tx *sql.Tx, now int64, _ *change) error {
		k, err := affected(tx.ExecContext(ctx, `INSERT INTO user_groups (name, created_at, changed_at) VALUES ($1, $2, $2) ON CONFLICT DO NOTHING`, n, now))
		if err != nil {
			return fmt.Errorf("store: add group %q: %w", n, err)
		}
		if k == 0 {
			return conflict("group %q", n)
		}
		g.Created, g.Changed = fromMicros(now), fromMicros(now)
		return nil
	})
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// Group implements store.Groups.
func (db *DB) Group(ctx context.Context, name string) (store.Group, error) {
	n, err := store.GroupName(name)
	if err != nil {
		return store.Group{}, err
	}
	var g store.Group
	err = db.read(ctx, func(tx *sql.Tx) error {
		var id, created, changed int64
		err := tx.QueryRowContext(ctx, `SELECT id, name, created_at, changed_at FROM user_groups WHERE name = $1`, n).Scan(&id, &g.Name, &created, &changed)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("group %q", n)
		}
		if err != nil {
			return fmt.Errorf("store: group %q: %w", n, err)
		}
		g.Created, g.Changed = fromMicros(created), fromMicros(changed)
		g.Members, err = stringList(ctx, tx, `SELECT u.name FROM group_members m JOIN users u ON u.id = m.user_id
WHERE m.group_id = $1 ORDER BY u.name`, id)
		return err
	})
	return g, err
}

// ListGroups implements store.Groups.
func (db *DB) ListGroups(ctx context.Context, p store.Page) ([]store.Group, error) {
	groups := []store.Group{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, created_at, changed_at FROM user_groups WHERE name > $1 ORDER BY name LIMIT $2`, p.After, p.Size())
		if err != nil {
			return fmt.Errorf("store: list groups: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var g store.Group
			var created, changed int64
			if err := rows.Scan(&g.Name, &created, &changed); err != nil {
				return fmt.Errorf("store: list groups: %w", err)
			}
			g.Created, g.Changed, g.Members = fromMicros(created), fromMicros(changed), []string{}
			groups = append(groups, g)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: list groups: %w", err)
		}
		if len(groups) == 0 {
			return nil
		}
		byName := make(map[string]int, len(groups))
		for i, g := range groups {
			byName[g.Name] = i
		}
		mrows, err := tx.QueryContext(ctx, `SELECT g.name, u.name FROM group_members m
JOIN users u ON u.id = m.user_id JOIN user_groups g ON g.id = m.group_id
WHERE g.name > $1 AND g.name <= $2 ORDER BY u.name`, p.After, groups[len(groups)-1].Name)
		if err != nil {
			return fmt.Errorf("store: list members: %w", err)
		}
		defer mrows.Close()
		for mrows.Next() {
			var group, user string
			if err := mrows.Scan(&group, &user); err != nil {
				return fmt.Errorf("store: list members: %w", err)
			}
			if i, ok := byName[group]; ok {
				groups[i].Members = append(groups[i].Members, user)
			}
		}
		return mrows.Err()
	})
	if err != nil {
		return nil, err
	}
	return groups, nil
}

// RemoveGroup implements store.Groups.
func (db *DB) RemoveGroup(ctx context.Context, name string) error {
	n, err := store.GroupName(name)
	if err != nil {
		return err
	}
	return db.write(ctx, change{parts: partCredentials | partRules, action: "group.remove", target: n}, func(tx *sql.Tx, _ int64, c *change) error {
		// Its members' groups change.
		members, err := stringList(ctx, tx, `SELECT u.name FROM group_members m JOIN users u ON u.id = m.user_id
JOIN user_groups g ON g.id = m.group_id WHERE g.name = $1`, n)
		if err != nil {
			return err
		}
		c.users = members
		k, err := affected(tx.ExecContext(ctx, `DELETE FROM user_groups WHERE name = $1`, n))
		if err != nil {
			return fmt.Errorf("store: remove group %q: %w", n, err)
		}
		if k == 0 {
			return notFound("group %q", n)
		}
		return nil
	})
}

// AddMember implements store.Groups.
func (db *DB) AddMember(ctx context.Context, group, user string) error {
	g, u, err := memberNames(group, user)
	if err != nil {
		return err
	}
	return db.write(ctx, change{parts: partCredentials, action: "group.member.add", target: g, detail: "user " + u, users: []string{u}}, func(tx *sql.Tx, now int64, _ *change) error {
		gid, uid, err := memberIDs(ctx, tx, g, u)
		if err != nil {
			return err
		}
		k, err := affected(tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, gid, uid))
		if err != nil {
			return fmt.Errorf("store: add %q to group %q: %w", u, g, err)
		}
		if k == 0 {
			return conflict("user %q in group %q", u, g)
		}
		return touchGroup(ctx, tx, gid, now)
	})
}

// RemoveMember implements store.Groups.
func (db *DB) RemoveMember(ctx context.Context, group, user string) error {
	g, u, err := memberNames(group, user)
	if err != nil {
		return err
	}
	return db.write(ctx, change{parts: partCredentials, action: "group.member.remove", target: g, detail: "user " + u, users: []string{u}}, func(tx *sql.Tx, now int64, _ *change) error {
		gid, uid, err := memberIDs(ctx, tx, g, u)
		if err != nil {
			return err
		}
		k, err := affected(tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, gid, uid))
		if err != nil {
			return fmt.Errorf("store: remove %q from group %q: %w", u, g, err)
		}
		if k == 0 {
			return notFound("user %q in group %q", u, g)
		}
		return touchGroup(ctx, tx, gid, now)
	})
}

func memberNames(group, user string) (string, string, error) {
	g, err := store.GroupName(group)
	if err != nil {
		return "", "", err
	}
	u, err := store.UserName(user)
	if err != nil {
		return "", "", err
	}
	return g, u, nil
}

func memberIDs(ctx context.Context, tx *sql.Tx, group, user string) (gid, uid int64, err error) {
	if gid, err = idOf(ctx, tx, "user_groups", "group", group); err != nil {
		return 0, 0, err
	}
	if uid, err = idOf(ctx, tx, "users", "user", user); err != nil {
		return 0, 0, err
	}
	return gid, uid, nil
}

func touchGroup(ctx context.Context, tx *sql.Tx, id, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE user_groups SET changed_at = $1 WHERE id = $2`, now, id); err != nil {
		return fmt.Errorf("store: touch group: %w", err)
	}
	return nil
}
