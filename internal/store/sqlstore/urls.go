package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/htgate/htgate/internal/store"
)

var (
	_ store.URLs   = (*DB)(nil)
	_ store.Grants = (*DB)(nil)
)

const urlColumns = `id, host, path, realm, schemes, valid_user, created_at, changed_at`

// urlRow is a protected URL as stored, before its grants are attached.
type urlRow struct {
	u         store.URL
	validUser bool
}

func scanURL(sc interface{ Scan(...any) error }) (urlRow, error) {
	var (
		r                urlRow
		schemes          string
		created, changed int64
	)
	err := sc.Scan(&r.u.ID, &r.u.Host, &r.u.Path, &r.u.Realm, &schemes, &r.validUser, &created, &changed)
	r.u.Schemes = splitList(schemes, ",")
	r.u.Created, r.u.Changed = fromMicros(created), fromMicros(changed)
	r.u.Grants = []store.Grant{}
	if r.validUser {
		r.u.Grants = append(r.u.Grants, store.Grant{Kind: store.GrantValidUser})
	}
	return r, err
}

func splitList(s, sep string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

func urlDesc(k store.URLKey) string {
	if k.Host == "" {
		return k.Path
	}
	return k.Host + k.Path
}

// Protect implements store.URLs.
func (db *DB) Protect(ctx context.Context, u store.URL) (store.URL, error) {
	key, err := store.CanonicalURLKey(u.URLKey)
	if err != nil {
		return store.URL{}, err
	}
	if err := store.CheckText("realm", u.Realm); err != nil {
		return store.URL{}, err
	}
	schemes, err := store.CanonicalSchemes(u.Schemes)
	if err != nil {
		return store.URL{}, err
	}
	out := store.URL{URLKey: key, Realm: u.Realm, Schemes: schemes, Grants: []store.Grant{}}
	detail := "schemes " + strings.Join(schemes, ",")
	if u.Realm != "" {
		detail += ", realm " + strconv.Quote(u.Realm)
	}
	err = db.write(ctx, change{parts: partRules, action: "url.protect", target: urlDesc(key), detail: detail}, func(tx *sql.Tx, now int64, _ *change) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO protected_urls (host, path, realm, schemes, valid_user, created_at, changed_at)
VALUES ($1, $2, $3, $4, FALSE, $5, $5) ON CONFLICT DO NOTHING RETURNING id`,
			key.Host, key.Path, u.Realm, strings.Join(schemes, ","), now).Scan(&out.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return conflict("protected URL %s", urlDesc(key))
		}
		if err != nil {
			return fmt.Errorf("store: protect %s: %w", urlDesc(key), err)
		}
		out.Created, out.Changed = fromMicros(now), fromMicros(now)
		return nil
	})
	if err != nil {
		return store.URL{}, err
	}
	return out, nil
}

// URL implements store.URLs.
func (db *DB) URL(ctx context.Context, key store.URLKey) (store.URL, error) {
	k, err := store.CanonicalURLKey(key)
	if err != nil {
		return store.URL{}, err
	}
	var out store.URL
	err = db.read(ctx, func(tx *sql.Tx) error {
		r, err := scanURL(tx.QueryRowContext(ctx, `SELECT `+urlColumns+` FROM protected_urls WHERE path = $1 AND host = $2`, k.Path, k.Host))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("protected URL %s", urlDesc(k))
		}
		if err != nil {
			return fmt.Errorf("store: protected URL %s: %w", urlDesc(k), err)
		}
		urls := []store.URL{r.u}
		if err := attachGrants(ctx, tx, urls); err != nil {
			return err
		}
		out = urls[0]
		return nil
	})
	return out, err
}

// ListURLs implements store.URLs.
func (db *DB) ListURLs(ctx context.Context, p store.Page) ([]store.URL, error) {
	after := store.ParseURLKey(p.After)
	urls := []store.URL{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+urlColumns+` FROM protected_urls
WHERE path > $1 OR (path = $1 AND host > $2) ORDER BY path, host LIMIT $3`, after.Path, after.Host, p.Size())
		if err != nil {
			return fmt.Errorf("store: list URLs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanURL(rows)
			if err != nil {
				return fmt.Errorf("store: list URLs: %w", err)
			}
			urls = append(urls, r.u)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: list URLs: %w", err)
		}
		return attachGrants(ctx, tx, urls)
	})
	if err != nil {
		return nil, err
	}
	return urls, nil
}

// attachGrants appends the user and group grants of urls, each sorted by
// name, after any valid-user grant scanURL put first.
func attachGrants(ctx context.Context, tx *sql.Tx, urls []store.URL) error {
	if len(urls) == 0 {
		return nil
	}
	index := make(map[int64]int, len(urls))
	in := make([]string, len(urls))
	args := make([]any, len(urls))
	for i, u := range urls {
		index[u.ID] = i
		in[i] = "$" + strconv.Itoa(i+1)
		args[i] = u.ID
	}
	list := strings.Join(in, ", ")
	for _, q := range []struct {
		kind  store.GrantKind
		query string
	}{
		{store.GrantUser, `SELECT g.url_id, u.name FROM url_user_grants g JOIN users u ON u.id = g.user_id WHERE g.url_id IN (` + list + `) ORDER BY u.name`},
		{store.GrantGroup, `SELECT g.url_id, x.name FROM url_group_grants g JOIN user_groups x ON x.id = g.group_id WHERE g.url_id IN (` + list + `) ORDER BY x.name`},
	} {
		if err := scanGrants(ctx, tx, q.kind, q.query, args, func(id int64, g store.Grant) {
			if i, ok := index[id]; ok {
				urls[i].Grants = append(urls[i].Grants, g)
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

func scanGrants(ctx context.Context, tx *sql.Tx, kind store.GrantKind, query string, args []any, add func(int64, store.Grant)) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: grants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("store: grants: %w", err)
		}
		add(id, store.Grant{Kind: kind, Name: name})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: grants: %w", err)
	}
	return nil
}

// UpdateURL implements store.URLs.
func (db *DB) UpdateURL(ctx context.Context, key store.URLKey, up store.URLUpdate) (store.URL, error) {
	k, err := store.CanonicalURLKey(key)
	if err != nil {
		return store.URL{}, err
	}
	var details []string
	if up.Realm != nil {
		if err := store.CheckText("realm", *up.Realm); err != nil {
			return store.URL{}, err
		}
		details = append(details, "realm "+strconv.Quote(*up.Realm))
	}
	var schemes *string
	if up.Schemes != nil {
		s, err := store.CanonicalSchemes(up.Schemes)
		if err != nil {
			return store.URL{}, err
		}
		joined := strings.Join(s, ",")
		schemes = &joined
		details = append(details, "schemes "+joined)
	}
	if len(details) == 0 {
		return db.URL(ctx, k)
	}
	err = db.write(ctx, change{parts: partRules, action: "url.update", target: urlDesc(k), detail: strings.Join(details, ", ")}, func(tx *sql.Tx, now int64, _ *change) error {
		n, err := affected(tx.ExecContext(ctx, `UPDATE protected_urls SET realm = COALESCE($1, realm), schemes = COALESCE($2, schemes), changed_at = $3
WHERE path = $4 AND host = $5`, up.Realm, schemes, now, k.Path, k.Host))
		if err != nil {
			return fmt.Errorf("store: update %s: %w", urlDesc(k), err)
		}
		if n == 0 {
			return notFound("protected URL %s", urlDesc(k))
		}
		return nil
	})
	if err != nil {
		return store.URL{}, err
	}
	return db.URL(ctx, k)
}

// Unprotect implements store.URLs.
func (db *DB) Unprotect(ctx context.Context, key store.URLKey) error {
	k, err := store.CanonicalURLKey(key)
	if err != nil {
		return err
	}
	return db.write(ctx, change{parts: partRules, action: "url.unprotect", target: urlDesc(k)}, func(tx *sql.Tx, _ int64, _ *change) error {
		n, err := affected(tx.ExecContext(ctx, `DELETE FROM protected_urls WHERE path = $1 AND host = $2`, k.Path, k.Host))
		if err != nil {
			return fmt.Errorf("store: unprotect %s: %w", urlDesc(k), err)
		}
		if n == 0 {
			return notFound("protected URL %s", urlDesc(k))
		}
		return nil
	})
}

// urlID returns the id of a protected URL inside a write.
func urlID(ctx context.Context, tx *sql.Tx, k store.URLKey) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM protected_urls WHERE path = $1 AND host = $2`, k.Path, k.Host).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("protected URL %s", urlDesc(k))
	}
	if err != nil {
		return 0, fmt.Errorf("store: find protected URL %s: %w", urlDesc(k), err)
	}
	return id, nil
}

// grantArgs canonicalises a grant.
func grantArgs(key store.URLKey, g store.Grant) (store.URLKey, store.Grant, error) {
	k, err := store.CanonicalURLKey(key)
	if err != nil {
		return k, g, err
	}
	switch g.Kind {
	case store.GrantUser:
		g.Name, err = store.UserName(g.Name)
	case store.GrantGroup:
		g.Name, err = store.GroupName(g.Name)
	case store.GrantValidUser:
		if g.Name != "" {
			err = fmt.Errorf("%w: a valid-user grant names nobody", store.ErrInvalid)
		}
	default:
		err = fmt.Errorf("%w: grant kind %q: want user, group or valid-user", store.ErrInvalid, g.Kind)
	}
	return k, g, err
}

// Grant implements store.Grants.
func (db *DB) Grant(ctx context.Context, key store.URLKey, g store.Grant) error {
	k, g, err := grantArgs(key, g)
	if err != nil {
		return err
	}
	return db.write(ctx, change{parts: partRules, action: "url.grant", target: urlDesc(k), detail: g.String()}, func(tx *sql.Tx, now int64, _ *change) error {
		id, err := urlID(ctx, tx, k)
		if err != nil {
			return err
		}
		var n int64
		switch g.Kind {
		case store.GrantValidUser:
			n, err = affected(tx.ExecContext(ctx, `UPDATE protected_urls SET valid_user = TRUE WHERE id = $1 AND NOT valid_user`, id))
		case store.GrantUser:
			var uid int64
			if uid, err = idOf(ctx, tx, "users", "user", g.Name); err != nil {
				return err
			}
			n, err = affected(tx.ExecContext(ctx, `INSERT INTO url_user_grants (url_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, uid))
		case store.GrantGroup:
			var gid int64
			if gid, err = idOf(ctx, tx, "user_groups", "group", g.Name); err != nil {
				return err
			}
			n, err = affected(tx.ExecContext(ctx, `INSERT INTO url_group_grants (url_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, gid))
		}
		if err != nil {
			return fmt.Errorf("store: grant %s to %s: %w", urlDesc(k), g, err)
		}
		if n == 0 {
			return conflict("%s on %s", g, urlDesc(k))
		}
		return touchURL(ctx, tx, id, now)
	})
}

// Revoke implements store.Grants.
func (db *DB) Revoke(ctx context.Context, key store.URLKey, g store.Grant) error {
	k, g, err := grantArgs(key, g)
	if err != nil {
		return err
	}
	return db.write(ctx, change{parts: partRules, action: "url.revoke", target: urlDesc(k), detail: g.String()}, func(tx *sql.Tx, now int64, _ *change) error {
		id, err := urlID(ctx, tx, k)
		if err != nil {
			return err
		}
		var n int64
		switch g.Kind {
		case store.GrantValidUser:
			n, err = affected(tx.ExecContext(ctx, `UPDATE protected_urls SET valid_user = FALSE WHERE id = $1 AND valid_user`, id))
		case store.GrantUser:
			n, err = affected(tx.ExecContext(ctx, `DELETE FROM url_user_grants WHERE url_id = $1 AND user_id = (SELECT id FROM users WHERE name = $2)`, id, g.Name))
		case store.GrantGroup:
			n, err = affected(tx.ExecContext(ctx, `DELETE FROM url_group_grants WHERE url_id = $1 AND group_id = (SELECT id FROM user_groups WHERE name = $2)`, id, g.Name))
		}
		if err != nil {
			return fmt.Errorf("store: revoke %s on %s: %w", g, urlDesc(k), err)
		}
		if n == 0 {
			return notFound("grant %s on %s", g, urlDesc(k))
		}
		return touchURL(ctx, tx, id, now)
	})
}

func touchURL(ctx context.Context, tx *sql.Tx, id, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE protected_urls SET changed_at = $1 WHERE id = $2`, now, id); err != nil {
		return fmt.Errorf("store: touch URL: %w", err)
	}
	return nil
}

// soleAccessQuery finds the URLs that user $1 can enter and nobody else
// can: no other user granted directly or through a group, and no
// valid-user grant unless $1 is the only user.
const soleAccessQuery = `SELECT ` + urlColumns + ` FROM protected_urls p WHERE
(p.valid_user
 OR EXISTS (SELECT 1 FROM url_user_grants g WHERE g.url_id = p.id AND g.user_id = $1)
 OR EXISTS (SELECT 1 FROM url_group_grants g JOIN group_members m ON m.group_id = g.group_id WHERE g.url_id = p.id AND m.user_id = $1))
AND NOT EXISTS (SELECT 1 FROM url_user_grants g WHERE g.url_id = p.id AND g.user_id <> $1)
AND NOT EXISTS (SELECT 1 FROM url_group_grants g JOIN group_members m ON m.group_id = g.group_id WHERE g.url_id = p.id AND m.user_id <> $1)
AND NOT (p.valid_user AND EXISTS (SELECT 1 FROM users u WHERE u.id <> $1))
ORDER BY p.path, p.host`

// SoleAccess implements store.Grants.
func (db *DB) SoleAccess(ctx context.Context, user string) ([]store.URL, error) {
	n, err := store.UserName(user)
	if err != nil {
		return nil, err
	}
	urls := []store.URL{}
	err = db.read(ctx, func(tx *sql.Tx) error {
		uid, err := idOf(ctx, tx, "users", "user", n)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, soleAccessQuery, uid)
		if err != nil {
			return fmt.Errorf("store: sole access of %q: %w", n, err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanURL(rows)
			if err != nil {
				return fmt.Errorf("store: sole access of %q: %w", n, err)
			}
			urls = append(urls, r.u)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: sole access of %q: %w", n, err)
		}
		return attachGrants(ctx, tx, urls)
	})
	if err != nil {
		return nil, err
	}
	return urls, nil
}
