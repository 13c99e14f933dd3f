package gateway

import (
	"context"
	"net/http"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/policy"
)

// authorize evaluates the rule's Require expression (step 6), asking for
// authentication (step 5) only when the expression needs a user. It returns
// the principal (nil when no authentication was needed) and whether the
// request may proceed; when not, d says how to refuse.
func (g *Gateway) authorize(ctx context.Context, dry bool, p *Policy, rule *policy.Rule, r *http.Request, d *htgate.Decision) (*htgate.Principal, bool) {
	facts := policy.Facts{Client: d.Client, Method: r.Method}
	switch rule.Require.Evaluate(facts, tracer(d)) {
	case policy.Granted:
		d.Record("authz", htgate.OutcomePass, "granted without authentication")
		return nil, true
	case policy.Denied:
		d.Refuse(http.StatusForbidden, htgate.ReasonConfigDenied, "authz", "denied before authentication: the rule refuses this request whoever signs in")
		return nil, false
	}
	principal, ok := g.authenticate(ctx, dry, p, rule, r, d)
	if !ok || !g.checkAccount(p, rule, d, principal) {
		return nil, false
	}
	if rule.GroupSource != "" {
		groups, err := g.groupsOf(p, rule.GroupSource, principal.Name)
		if err != nil {
			d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "authz", "group file "+rule.GroupSource+" cannot be read: "+err.Error())
			g.opts.Logger.Error("group source unreadable", "source", rule.GroupSource, "err", err, "ref_id", d.RefID)
			return nil, false
		}
		principal.Groups = groups
	}
	facts.Authenticated = true
	facts.User = principal.Name
	facts.Groups = principal.Groups
	if rule.Require.Evaluate(facts, tracer(d)) != policy.Granted {
		d.Refuse(http.StatusForbidden, htgate.ReasonACLDenied, "authz", "user "+principal.Name+" is authenticated but not allowed by rule "+rule.ID)
		return nil, false
	}
	if d.Tracing {
		d.Record("authz", htgate.OutcomePass, "user "+principal.Name+" allowed")
	}
	d.Principal = principal
	return principal, true
}

func (g *Gateway) groupsOf(p *Policy, source, user string) ([]string, error) {
	src, ok := p.Groups[source]
	if !ok {
		return nil, errUnknownSource
	}
	groups, err := src.Current()
	if err != nil {
		return nil, err
	}
	return groups.Of(user), nil
}

// tracer records each Require clause in the decision's trace.
func tracer(d *htgate.Decision) func(string, policy.Result) {
	if !d.Tracing {
		return nil
	}
	return func(detail string, res policy.Result) {
		outcome := htgate.OutcomeInfo
		switch res {
		case policy.Granted:
			outcome = htgate.OutcomePass
		case policy.Denied:
			outcome = htgate.OutcomeFail
		}
		d.Record("require", outcome, detail)
	}
}
