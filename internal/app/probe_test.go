package app

import (
	"context"
	"testing"

	"github.com/htgate/htgate/internal/probe"
)

// TestProbeAgainstHtgate runs the troubleshooter against htgate itself:
// its refusals must have no error-severity finding, and credentials must
// be recognised as accepted or rejected.
func TestProbeAgainstHtgate(t *testing.T) {
	f := start(t, membersConfig)
	ctx := context.Background()
	tests := []struct {
		name, path, user, password string
		wantStatus                 int
		wantFinding                string // must be present
	}{
		{"no credentials", "/members/", "", "", 401, "basic-over-http"},
		{"right password", "/members/page.html", "alice", "Wonderland-1", 200, ""},
		{"wrong password", "/members/", "alice", "nope", 401, "credentials-rejected"},
		{"public", "/", "", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := probe.Options{}
			if tt.user != "" {
				opts.User, opts.Password, opts.HasPassword = tt.user, tt.password, true
			}
			rep, err := probe.Probe(ctx, f.base+tt.path, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != tt.wantStatus {
				t.Errorf("status %d, want %d", rep.Status, tt.wantStatus)
			}
			found := map[string]bool{}
			for _, fd := range rep.Findings {
				found[fd.ID] = true
				if fd.Severity == probe.SeverityError && fd.ID != "credentials-rejected" {
					t.Errorf("htgate earns an error finding: %s: %s", fd.ID, fd.Message)
				}
			}
			if tt.wantFinding != "" && !found[tt.wantFinding] {
				t.Errorf("findings %v lack %q", rep.Findings, tt.wantFinding)
			}
			for _, bad := range []string{"missing-challenge", "cacheable-401", "basic-no-charset", "soft-401"} {
				if found[bad] {
					t.Errorf("htgate earns %s", bad)
				}
			}
		})
	}
}
