package probe_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/probe"
	"github.com/htgate/htgate/internal/respond"
)

// TestProbeHtgateResponder probes htgate's own refusals (the responder the
// gateway answers with) for every reason code: none may earn a finding of
// severity error. Only this test imports respond; package probe does not.
func TestProbeHtgateResponder(t *testing.T) {
	rsp, err := respond.New(respond.Options{})
	if err != nil {
		t.Fatal(err)
	}
	challenges := []htgate.Challenge{
		{Scheme: "Basic", Params: []htgate.Param{{Name: "realm", Value: `Members "A"`}, {Name: "charset", Value: "UTF-8"}}},
		{Scheme: "Bearer", Params: []htgate.Param{{Name: "realm", Value: "api"}}},
	}
	for _, reason := range respond.KnownReasons() {
		t.Run(string(reason), func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				d := &htgate.Decision{RefID: "REF1", Reason: reason, Challenges: challenges}
				if reason == htgate.ReasonLockedOut || reason == htgate.ReasonTooManyRequests {
					d.RetryAfter = 90 * time.Second
				}
				rsp.Refuse(w, r, d)
			}))
			defer srv.Close()
			for _, accept := range []string{"text/html", "application/json", "*/*"} {
				rep, err := probe.Probe(t.Context(), srv.URL+"/members/", probe.Options{
					Client:  srv.Client(),
					Headers: http.Header{"Accept": {accept}},
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range rep.Findings {
					if f.Severity == probe.SeverityError {
						t.Errorf("Accept %q: status %d: error finding %s: %s", accept, rep.Status, f.ID, f.Message)
					}
				}
				if rep.Status == http.StatusUnauthorized && len(rep.Challenges) != 2 {
					t.Errorf("Accept %q: challenges = %+v, want Basic and Bearer", accept, rep.Challenges)
				}
			}
		})
	}
}
