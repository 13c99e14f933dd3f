package gateway

import (
	"net/http"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/policy"
)

// match finds the rule that protects the request (step 3) and records it.
func (g *Gateway) match(p *Policy, r *http.Request, d *htgate.Decision) *policy.Rule {
	// Match folds the host's case and drops its port and trailing dot itself.
	rule := p.Rules.Match(r.Host, d.Path)
	if rule == nil {
		if d.Tracing {
			d.Record("match", htgate.OutcomeSkip, "no rule protects "+d.Path+": public")
		}
		return nil
	}
	d.Rule = rule.Ref()
	if !d.Tracing {
		return rule
	}
	detail := "rule " + rule.ID + " protects " + rule.Path
	if rule.Host != "" {
		detail += " on host " + rule.Host
	}
	if rule.Origin != "" {
		detail += " (" + rule.Origin + ")"
	}
	d.Record("match", htgate.OutcomeInfo, detail)
	return rule
}
