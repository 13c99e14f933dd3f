package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/scheme"
)

// CredentialSource is where a rule's users and password hashes come from
// (an htpasswd file now; the managed store later).
type CredentialSource interface {
	// Current returns the credentials in force and their version, which
	// changes whenever any user or hash changes. An error means the source
	// cannot be read now: the gateway fails closed with 500.
	Current() (Credentials, uint64, error)
}

// Credentials is one immutable snapshot of a credential source.
type Credentials interface {
	// Lookup returns the stored hash of user.
	Lookup(user string) (hash string, ok bool)
	// Dummy returns a hash of the same format and cost as the source's
	// hashes, verified for unknown users so that they cost the same time.
	Dummy() string
}

// GroupSource says which groups a user belongs to.
type GroupSource interface {
	// Current returns the group memberships in force.
	Current() (Groups, error)
}

// Groups is one immutable snapshot of group memberships.
type Groups interface {
	// Of returns the groups user belongs to.
	Of(user string) []string
}

var errUnknownSource = errors.New("the rule names a source that is not loaded")

// authenticate checks the credentials the request presents against the
// rule's source (step 5). On failure it sets a 401 with every challenge
// the rule accepts.
func (g *Gateway) authenticate(ctx context.Context, dry bool, p *Policy, rule *policy.Rule, r *http.Request, d *htgate.Decision) (*htgate.Principal, bool) {
	header, err := scheme.Credentials(r.Header, "Authorization")
	if err != nil {
		g.challenge(rule, d, htgate.ReasonLogonFailed, "Authorization header rejected: "+err.Error())
		return nil, false
	}
	if header == "" {
		if rule.HasScheme(schemeForm) && g.form != nil {
			if pr, ok := g.sessionPrincipal(ctx, p, rule, r, d); ok {
				return pr, true
			}
			if wantsLoginPage(r) {
				g.redirectToLogin(rule, d)
				return nil, false
			}
		}
		g.challenge(rule, d, htgate.ReasonCredentialsMissing, "no Authorization header: credentials needed")
		return nil, false
	}
	switch name, _ := scheme.ParseAuthorization(header); {
	case name == scheme.Basic && rule.HasScheme(scheme.Basic):
		return g.authenticateBasic(ctx, dry, p, rule, d, header)
	case name == scheme.Digest && rule.HasScheme(scheme.Digest):
		return g.authenticateDigest(ctx, dry, p, rule, r, d, header)
	case name == scheme.Bearer && rule.HasScheme(scheme.Bearer):
		return g.authenticateBearer(ctx, dry, p, rule, d, header)
	default:
		g.challenge(rule, d, htgate.ReasonLogonFailed, "scheme "+quoteScheme(name)+" is not accepted here (accepted: "+acceptedSchemes(rule)+")")
		return nil, false
	}
}

// authenticateBasic checks Basic credentials (RFC 7617) against the rule's
// credential source, through the verified-credential cache.
func (g *Gateway) authenticateBasic(ctx context.Context, dry bool, p *Policy, rule *policy.Rule, d *htgate.Decision, header string) (*htgate.Principal, bool) {
	creds, err := scheme.ParseBasic(header)
	if err != nil {
		if !g.checkGuard(ctx, rule, d, "") {
			return nil, false
		}
		g.challenge(rule, d, htgate.ReasonLogonFailed, "malformed Basic credentials: "+err.Error())
		if g.opts.Guard != nil && !dry {
			// Counted against the client only: there is no trustworthy user name.
			if err := g.opts.Guard.Failure(ctx, d.Client, ""); err != nil {
				g.opts.Logger.ErrorContext(ctx, "guard could not record a failure", "err", err, "ref_id", d.RefID)
			}
		}
		return nil, false
	}
	creds.User = canonicalUser(p, rule, creds.User) // managed users: one name for "Alice" and "alice"
	d.User = creds.User
	if !g.checkGuard(ctx, rule, d, creds.User) {
		return nil, false
	}
	src, ok := p.Credentials[rule.Source]
	if !ok {
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "authn", "credential source "+rule.Source+" is not loaded")
		return nil, false
	}
	snapshot, version, err := src.Current()
	if err != nil {
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "authn", "credential source "+rule.Source+" cannot be read: "+err.Error())
		g.opts.Logger.ErrorContext(ctx, "credential source unreadable", "source", rule.Source, "err", err, "ref_id", d.RefID)
		return nil, false
	}
	valid, cached, err := g.verify(ctx, dry, d.Client, rule.Source, version, snapshot, creds.User, creds.Password)
	var refused *refusedByGuard
	if errors.As(err, &refused) {
		g.refuseByGuard(rule, d, refused.v)
		return nil, false
	}
	if err != nil {
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "authn", "hash of user "+creds.User+" cannot be verified: "+err.Error())
		g.opts.Logger.ErrorContext(ctx, "hash unverifiable", "source", rule.Source, "user", creds.User, "err", err, "ref_id", d.RefID)
		return nil, false
	}
	if !valid {
		// The trace may say which; the client is never told (no user enumeration).
		g.challenge(rule, d, htgate.ReasonLogonFailed, "user "+creds.User+": unknown user or wrong password in "+rule.Source)
		return nil, false
	}
	if d.Tracing {
		how := "password verified"
		if cached {
			how = "password verified (cached)"
		}
		d.Record("authn", htgate.OutcomePass, "Basic: user "+creds.User+" "+how+" against "+rule.Source)
	}
	return &htgate.Principal{Name: creds.User, Scheme: "basic"}, true
}

// verify checks user and password against the snapshot, through the
// verified-credential cache. An unknown user is verified against the
// dummy hash, so it costs what a wrong password costs.
func (g *Gateway) verify(ctx context.Context, dry bool, client netip.Addr, source string, version uint64, creds Credentials, user, password string) (valid, cached bool, err error) {
	hash, known := creds.Lookup(user)
	if !known {
		hash = creds.Dummy()
	}
	check := g.guardedCheck(ctx, dry, client, user, func() (bool, error) {
		ok, err := passwd.Verify(hash, []byte(password))
		return ok && known, err
	})
	if g.opts.Cache == nil {
		ok, err := check()
		return ok, false, err
	}
	return g.opts.Cache.Verify(source, version, user, password, check)
}

// challenge sets a 401 with the rule's challenges.
func (g *Gateway) challenge(rule *policy.Rule, d *htgate.Decision, reason htgate.Reason, detail string) {
	d.Refuse(http.StatusUnauthorized, reason, "authn", detail)
	d.Challenges = append(d.Challenges, g.challenges(rule)...)
	if reason != htgate.ReasonCredentialsMissing {
		g.countFailure(reason)
	}
}

// challenges are the challenges of every scheme the rule accepts, in the
// rule's order (Basic when it lists none).
func (g *Gateway) challenges(rule *policy.Rule) []htgate.Challenge {
	return g.challengesWith(rule, digestChallengeState{})
}

// challengesWith is challenges with the Digest challenges marked stale or
// carrying an opaque as st says.
func (g *Gateway) challengesWith(rule *policy.Rule, st digestChallengeState) []htgate.Challenge {
	if len(rule.Schemes) == 0 {
		return []htgate.Challenge{basicChallenge(rule)}
	}
	out := make([]htgate.Challenge, 0, len(rule.Schemes)+1)
	for _, s := range rule.Schemes {
		switch s {
		case scheme.Basic:
			out = append(out, basicChallenge(rule))
		case scheme.Digest:
			out = append(out, g.digestChallenges(rule, st)...)
		case scheme.Bearer:
			out = append(out, scheme.BearerChallenge(rule.Realm, "", "", ""))
		}
	}
	return out
}

// basicChallenge is the rule's Basic challenge: with charset="UTF-8" for
// htgate's own rules, and without it, as Apache's mod_auth_basic sends it,
// for Apache rules.
func basicChallenge(rule *policy.Rule) htgate.Challenge {
	if rule.Apache {
		return htgate.Challenge{Scheme: "Basic", Params: []htgate.Param{{Name: "realm", Value: rule.Realm}}}
	}
	return scheme.BasicChallenge(rule.Realm)
}

// acceptedSchemes names the rule's schemes for traces, e.g. "Basic, Digest".
func acceptedSchemes(rule *policy.Rule) string {
	if len(rule.Schemes) == 0 {
		return "Basic"
	}
	var b strings.Builder
	for i, s := range rule.Schemes {
		if i > 0 {
			b.WriteString(", ")
		}
		if s != "" {
			b.WriteString(strings.ToUpper(s[:1]) + s[1:])
		}
	}
	return b.String()
}

// quoteScheme keeps an attacker's scheme token short and printable in traces.
func quoteScheme(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return "\"" + s + "\""
}
