package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/htgate/htgate/internal/store"
)

var _ store.Audit = (*DB)(nil)

// maxAuditField bounds each text field of an audit event, so that a
// hostile request cannot fill the log with one huge entry.
const maxAuditField = 1024

func clip(s string) string {
	if len(s) <= maxAuditField {
		return s
	}
	// Cut at a rune boundary.
	i := maxAuditField
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

func insertAudit(ctx context.Context, q queryer, e store.AuditEvent) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO audit_events (at, actor, action, target, client, ref_id, reason, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		micros(e.Time), clip(e.Actor), clip(e.Action), clip(e.Target), clip(e.Client), clip(e.RefID), clip(e.Reason), clip(e.Detail)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: record audit event: %w", err)
	}
	return id, nil
}

// Record implements store.Audit.
func (db *DB) Record(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	e.Time = fromMicros(micros(e.Time))
	if e.Actor == "" {
		e.Actor = store.ActorFrom(ctx).Name
	}
	id, err := insertAudit(ctx, db.w, e)
	if err != nil {
		return store.AuditEvent{}, err
	}
	e.ID = id
	return e, nil
}

// AuditEvents implements store.Audit.
func (db *DB) AuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	q := `SELECT id, at, actor, action, target, client, ref_id, reason, detail FROM audit_events WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + cond + " $" + strconv.Itoa(len(args))
	}
	for _, c := range []struct{ col, v string }{
		{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"client", f.Client}, {"reason", f.Reason},
	} {
		if c.v != "" {
			add(c.col+" =", c.v)
		}
	}
	if !f.Since.IsZero() {
		add("at >=", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at <", micros(f.Until))
	}
	if f.BeforeID > 0 {
		add("id <", f.BeforeID)
	}
	args = append(args, f.Size())
	q += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	defer rows.Close()
	out := []store.AuditEvent{}
	for rows.Next() {
		var e store.AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Client, &e.RefID, &e.Reason, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit events: %w", err)
		}
		e.Time = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	return out, nil
}

// PruneAudit implements store.Audit.
func (db *DB) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	n, err := affected(db.w.ExecContext(ctx, `DELETE FROM audit_events WHERE at < $1`, micros(before)))
	if err != nil {
		return 0, fmt.Errorf("store: prune audit events: %w", err)
	}
	return n, nil
}
