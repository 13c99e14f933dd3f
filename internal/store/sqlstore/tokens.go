package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Tokens = (*DB)(nil)

const tokenSelect = `SELECT t.id, COALESCE(u.name, ''), COALESCE(a.name, ''), t.hash, t.name, t.scopes, t.expires_at, t.revoked_at, t.created_at
FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id LEFT JOIN admins a ON a.id = t.admin_id`

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var (
		t                store.Token
		scopes           string
		expires, revoked sql.NullInt64
		created          int64
	)
	err := sc.Scan(&t.ID, &t.User, &t.Admin, &t.Hash, &t.Name, &scopes, &expires, &revoked, &created)
	t.Scopes = splitList(scopes, " ")
	t.Expires, t.Revoked, t.Created = fromNullMicros(expires), fromNullMicros(revoked), fromMicros(created)
	return t, err
}

// AddToken implements store.Tokens.
func (db *DB) AddToken(ctx context.Context, t store.Token) (store.Token, error) {
	if err := store.CheckText("token id", t.ID); err != nil || t.ID == "" || strings.ContainsAny(t.ID, " /") {
		return store.Token{}, fmt.Errorf("%w: token id %q: want a non-empty word", store.ErrInvalid, t.ID)
	}
	if err := store.CheckTokenHash(t.Hash); err != nil {
		return store.Token{}, err
	}
	if err := store.CheckText("token name", t.Name); err != nil {
		return store.Token{}, err
	}
	if err := store.CheckScopes(t.Scopes); err != nil {
		return store.Token{}, err
	}
	if (t.User == "") == (t.Admin == "") {
		return store.Token{}, fmt.Errorf("%w: a token belongs to a user or to an admin (exactly one)", store.ErrInvalid)
	}
	var err error
	owner, table, kind := t.User, "users", "user"
	if t.Admin != "" {
		owner, table, kind = t.Admin, "admins", "admin"
	}
	if owner, err = store.UserName(owner); err != nil {
		return store.Token{}, err
	}
	out := t
	out.Scopes = append([]string{}, t.Scopes...)
	out.Revoked = time.Time{}
	err = db.write(ctx, change{action: "token.issue", target: t.ID, detail: kind + " " + owner}, func(tx *sql.Tx, now int64, _ *change) error {
		oid, err := idOf(ctx, tx, table, kind, owner)
		if err != nil {
			return err
		}
		var uid, aid sql.NullInt64
		if kind == "user" {
			uid = sql.NullInt64{Int64: oid, Valid: true}
			out.User = owner
		} else {
			aid = sql.NullInt64{Int64: oid, Valid: true}
			out.Admin = owner
		}
		n, err := affected(tx.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, admin_id, hash, name, scopes, expires_at, revoked_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8) ON CONFLICT DO NOTHING`,
			t.ID, uid, aid, t.Hash, t.Name, strings.Join(t.Scopes, " "), nullMicros(t.Expires), now))
		if err != nil {
			return fmt.Errorf("store: add token %q: %w", t.ID, err)
		}
		if n == 0 {
			return conflict("token %q (or its hash)", t.ID)
		}
		out.Created = fromMicros(now)
		return nil
	})
	if err != nil {
		return store.Token{}, err
	}
	if !out.Expires.IsZero() {
		out.Expires = fromMicros(micros(out.Expires))
	}
	return out, nil
}

// Token implements store.Tokens.
func (db *DB) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := scanToken(db.r.QueryRowContext(ctx, tokenSelect+` WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, notFound("token %q", id)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("store: token %q: %w", id, err)
	}
	return t, nil
}

// TokenByHash implements store.Tokens.
func (db *DB) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(db.r.QueryRowContext(ctx, tokenSelect+` WHERE t.hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, notFound("token")
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("store: token by hash: %w", err)
	}
	return t, nil
}

// ListTokens implements store.Tokens.
func (db *DB) ListTokens(ctx context.Context, f store.TokenFilter) ([]store.Token, error) {
	where, args := "", []any{}
	switch {
	case f.User != "":
		n, err := store.UserName(f.User)
		if err != nil {
			return nil, err
		}
		where, args = ` WHERE u.name = $1`, append(args, n)
	case f.Admin != "":
		n, err := store.UserName(f.Admin)
		if err != nil {
			return nil, err
		}
		where, args = ` WHERE a.name = $1`, append(args, n)
	}
	rows, err := db.r.QueryContext(ctx, tokenSelect+where+` ORDER BY t.created_at DESC, t.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken implements store.Tokens.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	return db.write(ctx, change{action: "token.revoke", target: id}, func(tx *sql.Tx, now int64, _ *change) error {
		n, err := affected(tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, now, id))
		if err != nil {
			return fmt.Errorf("store: revoke token %q: %w", id, err)
		}
		if n == 0 {
			return notFound("token %q", id)
		}
		return nil
	})
}
