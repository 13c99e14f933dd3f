package fileimport

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/htgate/htgate/internal/store"
)

// The tests that import files written by Apache's tools into a real store
// are in store/sqlite (import_test.go), so that these tests and fuzzing
// do not build the SQLite driver.

func TestDetect(t *testing.T) {
	tests := []struct {
		line string
		want Format
	}{
		{"alice:$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1", Htpasswd},
		{"alice:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=", Htpasswd},
		{"alice:Members:f96c32486755148ef0804d3ec6b7fde7", Htdigest},
		{"alice:Members:" + strings.Repeat("ab", 32), Htdigest},
		{"alice:Members:F96C32486755148EF0804D3EC6B7FDE7", Htpasswd},
		{"admins: alice bob", Group},
		{"admins:alice bob", Group},
		{"admins:", Group},
		{"nocolon", Htpasswd},
	}
	for _, tt := range tests {
		if got := Detect(tt.line); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// recorder is an Importer that accepts everything and records the items.
type recorder struct{ users, secrets, members int }

func (r *recorder) ImportUsers(_ context.Context, us []store.User, _ bool) ([]store.Outcome, error) {
	r.users += len(us)
	return make([]store.Outcome, len(us)), nil
}

func (r *recorder) ImportDigestSecrets(_ context.Context, ds []store.DigestSecret, _ bool) ([]store.Outcome, error) {
	r.secrets += len(ds)
	return make([]store.Outcome, len(ds)), nil
}

func (r *recorder) ImportMembers(_ context.Context, ms []store.Membership) ([]store.Outcome, error) {
	r.members += len(ms)
	return make([]store.Outcome, len(ms)), nil
}

// FuzzRun feeds arbitrary files to every format: no panic, every entry is
// counted once, line numbers are within the file.
func FuzzRun(f *testing.F) {
	for _, s := range []string{
		"alice:$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1\n",
		"alice:Members:f96c32486755148ef0804d3ec6b7fde7\n",
		"admins: alice 'b c' \"d\\\"e\"\n",
		"a\\\nb:c\\\n",
		"# c\\\nx\r\n\n::::\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		for _, format := range []Format{Htpasswd, Htdigest, Group, ""} {
			r := &recorder{}
			sum, err := Run(context.Background(), r, strings.NewReader(data), Options{Format: format, Batch: 2})
			if err != nil {
				t.Fatalf("Run(%q, %s): %v", data, format, err)
			}
			items := r.users + r.secrets + r.members
			if sum.Imported != items {
				t.Fatalf("Run(%q, %s): %d imported, importer saw %d", data, format, sum.Imported, items)
			}
			lines := strings.Count(data, "\n") + 1
			for _, p := range sum.Problems {
				if p.Line < 1 || p.Line > lines {
					t.Fatalf("Run(%q, %s): problem on line %d of %d", data, format, p.Line, lines)
				}
			}
		}
	})
}

func BenchmarkRunHtpasswd(b *testing.B) {
	var buf bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&buf, "user%07d:$2y$05$pC7ZLVZUqVIr9fmSyHbDte6Zjtbi0gyVnWjNWBPfTXU9W8Ro5Eb3.\n", i)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Run(context.Background(), &recorder{}, bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
