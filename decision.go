package htgate

import (
	"net/netip"
	"time"
)

// Outcome of one traced step.
type Outcome string

// Step outcomes.
const (
	OutcomePass Outcome = "pass" // the step let the request go on
	OutcomeFail Outcome = "fail" // the step refused the request
	OutcomeInfo Outcome = "info" // the step recorded a fact without deciding
	OutcomeSkip Outcome = "skip" // the step did not apply
)

// TraceStep is one line of a Decision's trace: which step of the request
// path ran, what it decided and why.
type TraceStep struct {
	Step    string  `json:"step"`
	Outcome Outcome `json:"outcome"`
	Detail  string  `json:"detail"`
}

// RuleRef identifies the protection rule that matched a request.
type RuleRef struct {
	ID     string `json:"id"`
	Origin string `json:"origin,omitempty"` // where the rule was defined, e.g. "htgate.yaml rules[1]"
	Host   string `json:"host,omitempty"`
	Path   string `json:"path"`
	Realm  string `json:"realm,omitempty"`
}

// Decision is the one value that travels through the request path and
// records what was decided and why. The responder, the access log and
// explain all read it.
type Decision struct {
	// RefID is the reference id shown to the visitor and written to the logs.
	RefID string `json:"ref_id"`
	// Method and Path are the request method and the canonical path.
	Method string `json:"method"`
	Path   string `json:"path"`
	Host   string `json:"host,omitempty"`
	// Client is the client address after trusted-proxy resolution.
	Client netip.Addr `json:"client"`
	// Status is the HTTP status the gateway answers with (200 when forwarded).
	Status int `json:"status"`
	// Reason is why; ReasonNone when allowed.
	Reason Reason `json:"reason"`
	// Rule is the matched rule, nil when no rule protects the path.
	Rule *RuleRef `json:"rule,omitempty"`
	// User is the user name presented or authenticated (never a password).
	User string `json:"user,omitempty"`
	// Principal is set once the user is authenticated.
	Principal *Principal `json:"-"`
	// Challenges are sent with a 401 (or 407).
	Challenges []Challenge `json:"challenges,omitempty"`
	// RetryAfter is sent with a 429 or 503 when non-zero.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Detail says, for an admin, why the failing step refused (never a secret).
	Detail string `json:"detail,omitempty"`
	// Trace lists every step in order, when Tracing is on.
	Trace []TraceStep `json:"trace"`
	// Tracing turns the trace on (explain does; the hot path does not, so
	// that an allowed request builds no strings).
	Tracing bool `json:"-"`
}

// Record appends a step to the trace when tracing is on. Callers that
// build the detail string should check d.Tracing first.
func (d *Decision) Record(step string, outcome Outcome, detail string) {
	if !d.Tracing {
		return
	}
	d.Trace = append(d.Trace, TraceStep{Step: step, Outcome: outcome, Detail: detail})
}

// Refuse sets the status and reason of a refusal and records the failing step.
func (d *Decision) Refuse(status int, reason Reason, step, detail string) {
	d.Status = status
	d.Reason = reason
	d.Detail = detail
	d.Record(step, OutcomeFail, detail)
}
