package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

func TestLogSink(t *testing.T) {
	var buf bytes.Buffer
	s := LogSink{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	until := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Record(context.Background(), Event{Kind: "lockout", Key: "client+user", Client: "192.0.2.1", User: "alice", Until: until, Level: 2})
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	want := map[string]any{"msg": "audit", "kind": "lockout", "key": "client+user", "client": "192.0.2.1", "user": "alice", "until": "2026-01-02T03:04:05Z", "level": float64(2)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["ref_id"]; ok {
		t.Errorf("empty ref_id written: %v", got)
	}
}
