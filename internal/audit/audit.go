package audit

import (
	"context"
	"log/slog"
	"time"
)

// Event is one audited fact: a lockout, a release, a refused login, an
// admin change. It never carries a password, hash or token.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`             // "lockout", "release", "failure", ...
	RefID  string    `json:"ref_id,omitempty"` // the request's reference id, when there is one
	Client string    `json:"client,omitempty"` // address or prefix
	User   string    `json:"user,omitempty"`
	Key    string    `json:"key,omitempty"` // what was locked: "client", "user", "client+user"
	Until  time.Time `json:"until,omitzero"`
	Level  int       `json:"level,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Sink records events. Record must not block the request path for long.
type Sink interface {
	Record(ctx context.Context, e Event)
}

// LogSink writes each event as one structured log line with msg "audit".
type LogSink struct{ Logger *slog.Logger }

// Record writes e to the logger.
func (s LogSink) Record(ctx context.Context, e Event) {
	attrs := []slog.Attr{slog.String("kind", e.Kind)}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("ref_id", e.RefID)
	add("key", e.Key)
	add("client", e.Client)
	add("user", e.User)
	if !e.Until.IsZero() {
		attrs = append(attrs, slog.Time("until", e.Until))
	}
	if e.Level != 0 {
		attrs = append(attrs, slog.Int("level", e.Level))
	}
	add("detail", e.Detail)
	s.Logger.LogAttrs(ctx, slog.LevelWarn, "audit", attrs...)
}
