package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Snapshotter = (*DB)(nil)

// Snapshot implements store.Snapshotter: it reads the meta row and then only
// the parts whose sub-version moved since prev, all in one read transaction.
func (db *DB) Snapshot(ctx context.Context, prev *store.Snapshot) (*store.Snapshot, error) {
	s := &store.Snapshot{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		var version, credVersion, rulesVersion int64
		if err := tx.QueryRowContext(ctx, `SELECT version, credentials_version, rules_version FROM meta WHERE id = 1`).Scan(&version, &credVersion, &rulesVersion); err != nil {
			return fmt.Errorf("store: snapshot: read versions: %w", err)
		}
		s.Version = uint64(version)
		var prevCreds *store.Credentials
		if prev != nil {
			prevCreds = prev.Credentials
			if prev.Credentials != nil && prev.Credentials.Version() == uint64(credVersion) {
				s.Credentials = prev.Credentials
			}
			if prev.Rules != nil && prev.Rules.Version() == uint64(rulesVersion) {
				s.Rules = prev.Rules
			}
		}
		var err error
		if s.Credentials == nil {
			if s.Credentials, err = loadCredentials(ctx, tx, uint64(credVersion), prevCreds); err != nil {
				return err
			}
		}
		if s.Rules == nil {
			if s.Rules, err = loadRules(ctx, tx, uint64(rulesVersion)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// loadCredentials reads every user with their groups (one ordered join, so
// that a user's rows are consecutive) and every digest secret.
func loadCredentials(ctx context.Context, tx *sql.Tx, version uint64, prev *store.Credentials) (*store.Credentials, error) {
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&count); err != nil {
		return nil, fmt.Errorf("store: snapshot: count users: %w", err)
	}
	b := store.NewCredentialsBuilder(version, count)
	rows, err := tx.QueryContext(ctx, `SELECT u.id, u.name, u.hash, u.locked, g.name FROM users u
LEFT JOIN group_members m ON m.user_id = u.id LEFT JOIN user_groups g ON g.id = m.group_id ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: users: %w", err)
	}
	defer rows.Close()
	var (
		id, lastID int64 = 0, -1
		name, hash sql.RawBytes
		group      sql.RawBytes
		locked     bool
		key        string
	)
	for rows.Next() {
		if err := rows.Scan(&id, &name, &hash, &locked, &group); err != nil {
			return nil, fmt.Errorf("store: snapshot: users: %w", err)
		}
		if id != lastID {
			key = b.AddUser(name, hash, locked)
			lastID = id
		}
		if group != nil {
			b.AddMember(key, group)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: snapshot: users: %w", err)
	}
	drows, err := tx.QueryContext(ctx, `SELECT u.name, d.username, d.realm, d.algorithm, d.ha1 FROM digest_secrets d JOIN users u ON u.id = d.user_id`)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: digest secrets: %w", err)
	}
	defer drows.Close()
	for drows.Next() {
		var d store.DigestSecret
		if err := drows.Scan(&d.User, &d.Username, &d.Realm, &d.Algorithm, &d.HA1); err != nil {
			return nil, fmt.Errorf("store: snapshot: digest secrets: %w", err)
		}
		b.AddDigest(d)
	}
	if err := drows.Err(); err != nil {
		return nil, fmt.Errorf("store: snapshot: digest secrets: %w", err)
	}
	return b.Build(prev), nil
}

// loadRules reads every protected URL with its grants.
func loadRules(ctx context.Context, tx *sql.Tx, version uint64) (*store.Rules, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+urlColumns+` FROM protected_urls ORDER BY path, host`)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: URLs: %w", err)
	}
	defer rows.Close()
	var urls []store.URL
	index := map[int64]int{}
	for rows.Next() {
		r, err := scanURL(rows)
		if err != nil {
			return nil, fmt.Errorf("store: snapshot: URLs: %w", err)
		}
		index[r.u.ID] = len(urls)
		urls = append(urls, r.u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: snapshot: URLs: %w", err)
	}
	for _, q := range []struct {
		kind  store.GrantKind
		query string
	}{
		{store.GrantUser, `SELECT g.url_id, u.name FROM url_user_grants g JOIN users u ON u.id = g.user_id ORDER BY u.name`},
		{store.GrantGroup, `SELECT g.url_id, x.name FROM url_group_grants g JOIN user_groups x ON x.id = g.group_id ORDER BY x.name`},
	} {
		if err := scanGrants(ctx, tx, q.kind, q.query, nil, func(id int64, g store.Grant) {
			if i, ok := index[id]; ok {
				urls[i].Grants = append(urls[i].Grants, g)
			}
		}); err != nil {
			return nil, err
		}
	}
	return store.NewRules(version, urls), nil
}
