package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Snapshotter = (*DB)(nil)

// Snapshot implements store.Snapshotter: it reads the meta row and then only
// the parts whose sub-version moved since prev, all in one read transaction.
func (db *DB) Snapshot(ctx context.Context, prev *store.Snapshot) (*store.Snapshot, error) {
	s := &store.Snapshot{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		var version, credVersion, rulesVersion, horizon int64
		if err := tx.QueryRowContext(ctx, `SELECT version, credentials_version, rules_version, changes_horizon FROM meta WHERE id = 1`).Scan(&version, &credVersion, &rulesVersion, &horizon); err != nil {
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
		if s.Credentials == nil && prevCreds != nil && int64(prevCreds.Version()) >= horizon {
			if s.Credentials, err = updateCredentials(ctx, tx, uint64(credVersion), prevCreds); err != nil {
				return err
			}
		}
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
	if err := scanDigests(ctx, tx, `SELECT u.name, d.username, d.realm, d.algorithm, d.ha1 FROM digest_secrets d JOIN users u ON u.id = d.user_id`, nil, b.AddDigest); err != nil {
		return nil, err
	}
	return b.Build(prev), nil
}

// updateCredentials builds prev's successor from the users changed since
// prev: it reads only them. It returns nil (read in full instead) when an
// import changed everyone or the overlay would grow past store.MaxOverlay.
func updateCredentials(ctx context.Context, tx *sql.Tx, version uint64, prev *store.Credentials) (*store.Credentials, error) {
	changed, err := stringList(ctx, tx, `SELECT DISTINCT user_name FROM credential_changes WHERE version > $1 ORDER BY user_name`, int64(prev.Version()))
	if err != nil {
		return nil, err
	}
	_, overlay := prev.Incremental()
	if len(changed) == 0 || changed[0] == "" || overlay+len(changed) > store.MaxOverlay {
		return nil, nil
	}
	u := store.NewCredentialsUpdate(prev, version, changed)
	for start := 0; start < len(changed); start += 500 {
		chunk := changed[start:min(start+500, len(changed))]
		in := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, n := range chunk {
			in[i], args[i] = "$"+strconv.Itoa(i+1), n
		}
		list := strings.Join(in, ", ")
		rows, err := tx.QueryContext(ctx, `SELECT u.name, u.hash, u.locked, g.name FROM users u
LEFT JOIN group_members m ON m.user_id = u.id LEFT JOIN user_groups g ON g.id = m.group_id WHERE u.name IN (`+list+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: snapshot: changed users: %w", err)
		}
		seen := map[string]bool{}
		for rows.Next() {
			var name, hash string
			var locked bool
			var group sql.NullString
			if err := rows.Scan(&name, &hash, &locked, &group); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: snapshot: changed users: %w", err)
			}
			if !seen[name] {
				seen[name] = true
				u.SetUser(name, hash, locked)
			}
			if group.Valid {
				u.AddMember(name, group.String)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: snapshot: changed users: %w", err)
		}
		if err := scanDigests(ctx, tx, `SELECT u.name, d.username, d.realm, d.algorithm, d.ha1 FROM digest_secrets d
JOIN users u ON u.id = d.user_id WHERE u.name IN (`+list+`)`, args, u.AddDigest); err != nil {
			return nil, err
		}
	}
	return u.Build(), nil
}

// scanDigests feeds the digest secrets a query returns to add.
func scanDigests(ctx context.Context, tx *sql.Tx, query string, args []any, add func(store.DigestSecret)) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: snapshot: digest secrets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d store.DigestSecret
		if err := rows.Scan(&d.User, &d.Username, &d.Realm, &d.Algorithm, &d.HA1); err != nil {
			return fmt.Errorf("store: snapshot: digest secrets: %w", err)
		}
		add(d)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: snapshot: digest secrets: %w", err)
	}
	return nil
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
