package gateway

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/scheme"
)

// TokenSource is where Bearer tokens are looked up: the managed store's
// tokens, as of its latest version.
type TokenSource interface {
	// LookupToken returns the user token whose SHA-256 (lower-case hex) is
	// hash.
	LookupToken(hash string) (TokenInfo, bool)
}

// TokenInfo is what the gateway needs to know of a Bearer token.
type TokenInfo struct {
	// ID is the token's public id (traces, logs).
	ID string
	// Hash is the lower-case hex SHA-256 of the token.
	Hash string
	// User owns the token (canonical name).
	User string
	// Scopes are path prefixes, matched by whole segments; empty: any path.
	Scopes []string
	// Expires is when it stops working; zero: never.
	Expires time.Time
	// Revoked is when it was revoked; zero: it was not.
	Revoked time.Time
	// OwnerLocked says an admin locked the owner.
	OwnerLocked bool
}

// Error descriptions of the Bearer answers (RFC 6750 §3).
const (
	bearerExpired = "The access token expired"
	bearerRevoked = "The access token was revoked"
	bearerInvalid = "The access token is invalid"
	bearerScope   = "The access token is not valid for this URL"
)

// authenticateBearer checks a Bearer token (RFC 6750) against the policy's
// token source. A bad token is counted by the guard against the client
// only: there is no trustworthy user.
func (g *Gateway) authenticateBearer(ctx context.Context, dry bool, p *Policy, rule *policy.Rule, d *htgate.Decision, header string) (*htgate.Principal, bool) {
	if !g.checkGuard(ctx, rule, d, "") {
		return nil, false
	}
	tok, err := scheme.ParseBearer(header)
	if err != nil {
		g.bearerFailure(ctx, dry, rule, d, htgate.ReasonLogonFailed, bearerInvalid, "malformed Bearer credentials: "+err.Error())
		return nil, false
	}
	if err := scheme.CheckToken(tok); err != nil {
		g.bearerFailure(ctx, dry, rule, d, htgate.ReasonLogonFailed, bearerInvalid, "Bearer token is not an htgate token or its checksum is wrong (a typo)")
		return nil, false
	}
	hash := scheme.TokenHash(tok)
	var info TokenInfo
	ok := false
	if p.Tokens != nil {
		info, ok = p.Tokens.LookupToken(hash)
	}
	if !ok || subtle.ConstantTimeCompare([]byte(info.Hash), []byte(hash)) != 1 {
		g.bearerFailure(ctx, dry, rule, d, htgate.ReasonLogonFailed, bearerInvalid, "Bearer token unknown to the managed store")
		return nil, false
	}
	d.User = info.User
	now := g.opts.Now()
	switch {
	case !info.Revoked.IsZero():
		g.bearerFailure(ctx, dry, rule, d, htgate.ReasonTokenRevoked, bearerRevoked, "Bearer token "+info.ID+" of "+info.User+" was revoked at "+info.Revoked.UTC().Format(time.RFC3339))
		return nil, false
	case !info.Expires.IsZero() && !now.Before(info.Expires):
		g.bearerFailure(ctx, dry, rule, d, htgate.ReasonTokenExpired, bearerExpired, "Bearer token "+info.ID+" of "+info.User+" expired at "+info.Expires.UTC().Format(time.RFC3339))
		return nil, false
	case info.OwnerLocked:
		g.bearerFailure(ctx, dry, rule, d, htgate.ReasonLockedOut, bearerInvalid, "Bearer token "+info.ID+": its owner "+info.User+" is locked by an administrator")
		return nil, false
	}
	if !ScopeAllows(info.Scopes, d.Path) {
		d.Refuse(http.StatusForbidden, htgate.ReasonInsufficientScope, "authn", "Bearer token "+info.ID+" of "+info.User+" is limited to "+strings.Join(info.Scopes, " "))
		d.Challenges = append(d.Challenges, scheme.BearerChallenge(rule.Realm, scheme.BearerInsufficientScope, bearerScope, d.Path))
		g.countFailure(htgate.ReasonInsufficientScope)
		return nil, false
	}
	if d.Tracing {
		d.Record("authn", htgate.OutcomePass, "Bearer: token "+info.ID+" of user "+info.User+" valid")
	}
	return &htgate.Principal{Name: info.User, Scheme: "bearer"}, true
}

// bearerFailure answers a refused token with 401: the rule's challenges,
// the Bearer one carrying error="invalid_token" and the description.
func (g *Gateway) bearerFailure(ctx context.Context, dry bool, rule *policy.Rule, d *htgate.Decision, reason htgate.Reason, description, detail string) {
	d.Refuse(http.StatusUnauthorized, reason, "authn", detail)
	for _, c := range g.challenges(rule) {
		if c.Scheme == "Bearer" {
			c = scheme.BearerChallenge(rule.Realm, scheme.BearerInvalidToken, description, "")
		}
		d.Challenges = append(d.Challenges, c)
	}
	g.countFailure(reason)
	if g.opts.Guard != nil && !dry {
		if err := g.opts.Guard.Failure(ctx, d.Client, ""); err != nil {
			g.opts.Logger.ErrorContext(ctx, "guard could not record a failure", "err", err, "ref_id", d.RefID)
		}
	}
}

// ScopeAllows reports whether a token limited to scopes may reach path:
// no scopes allow everything; otherwise one scope must be path or a
// prefix of it ending at a segment boundary ("/api" allows "/api" and
// "/api/x", not "/apix"). Scopes are compared exactly (case-sensitive).
func ScopeAllows(scopes []string, path string) bool {
	if len(scopes) == 0 {
		return true
	}
	for _, s := range scopes {
		if s == "/" || s == path {
			return true
		}
		prefix := strings.TrimSuffix(s, "/")
		if strings.HasPrefix(path, prefix) && len(path) > len(prefix) && path[len(prefix)] == '/' {
			return true
		}
	}
	return false
}
