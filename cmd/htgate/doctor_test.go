package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDoctorFindsEveryProblem(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"doctor", "--config", "testdata/doctor/bad/htgate.yaml", "--json"}, nil, &out, &errOut)
	if code != 1 {
		t.Fatalf("doctor on a bad config: exit %d (stderr %q), want 1", code, errOut.String())
	}
	var findings []struct{ ID, Severity, Where string }
	if err := json.Unmarshal(out.Bytes(), &findings); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out.String())
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.Severity+" "+f.ID+" "+f.Where)
	}
	want := []string{
		"error file-unreadable rules[3] (/missing)",
		"error nobody-can-enter rules[1] (/empty)",
		"error credentials-in-docroot rules[2] (/downloadable)",
		"error nobody-can-enter rules[4] (/named)",
		"warning malformed-line rules[0] (/members)",
		"warning malformed-line rules[0] (/members)",
		"warning weak-hash rules[0] (/members)",
		"warning weak-hash rules[0] (/members)",
		"warning basic-without-tls listen",
		"warning guard-disabled guard",
	}
	less := func(a, b string) bool { return a < b }
	if diff := cmp.Diff(want, got, cmpSortStrings(less)); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%s", diff, out.String())
	}
	for _, f := range findings {
		if f.Severity == "" || f.ID == "" {
			t.Errorf("finding without id or severity: %+v", f)
		}
	}
}

func TestDoctorCleanConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"doctor", "--config", "../../examples/htgate.yaml"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("doctor on the example: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "no problems found") {
		t.Errorf("output %q", out.String())
	}
}

func TestDoctorText(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "u"), []byte("a:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"doctor", "--root", dir, "--protect", "/x", "--htpasswd", filepath.Join(dir, "u")}, nil, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "credentials-in-docroot") || !strings.Contains(out.String(), "fix: Move the file out of the docroot") || !strings.Contains(out.String(), "1 errors, 1 warnings") {
		t.Errorf("exit %d, output:\n%s%s", code, out.String(), errOut.String())
	}
}

// cmpSortStrings compares string slices as multisets.
func cmpSortStrings(less func(a, b string) bool) cmp.Option {
	return cmp.Transformer("sort", func(in []string) []string {
		out := append([]string(nil), in...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if less(out[j], out[i]) {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	})
}

func TestDoctorReportsHtaccessErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sub", ".htaccess"), []byte("AuthType Basic\nFrobnicate on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"doctor", "--root", root, "--htaccess"}, nil, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "htaccess-error") || !strings.Contains(out.String(), ".htaccess:2:") {
		t.Errorf("exit %d, output:\n%s%s", code, out.String(), errOut.String())
	}
}
