package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/guard"
	"github.com/htgate/htgate/internal/policy"
)

// Guard is the brute-force protection the request path consults (step 4):
// Check before any password hash is computed, Enter just before one is.
type Guard interface {
	Check(ctx context.Context, client netip.Addr, user string) (guard.Verdict, error)
	Enter(ctx context.Context, client netip.Addr, user string) (guard.Verdict, *guard.Attempt, error)
	Failure(ctx context.Context, client netip.Addr, user string) error
}

// Limiter bounds concurrent requests and the request rate per client.
type Limiter interface {
	Acquire(client netip.Addr) (release func(), ok bool, retryAfter time.Duration)
}

// FailureCounter counts refused authentications by reason (metrics).
type FailureCounter interface {
	Failure(reason htgate.Reason)
}

// refusedByGuard carries a guard verdict out of the credential check.
type refusedByGuard struct{ v guard.Verdict }

func (e *refusedByGuard) Error() string { return "refused by the guard: " + e.v.Detail }

// checkGuard refuses a locked-out request before any hash is computed,
// even when it carries the right password. It fails closed.
func (g *Gateway) checkGuard(ctx context.Context, rule *policy.Rule, d *htgate.Decision, user string) bool {
	if g.opts.Guard == nil {
		return true
	}
	v, err := g.opts.Guard.Check(ctx, d.Client, user)
	if err != nil {
		g.opts.Logger.ErrorContext(ctx, "guard state unavailable: refusing", "err", err, "ref_id", d.RefID)
	}
	if err == nil && v.Allowed {
		if v.Trusted && d.Tracing {
			d.Record("guard", htgate.OutcomePass, v.Detail)
		}
		return true
	}
	g.refuseByGuard(rule, d, v)
	return false
}

// refuseByGuard answers with the guard's verdict: 429 (or 401 if so
// configured) with Retry-After, or 503 when the state cannot be read.
func (g *Gateway) refuseByGuard(rule *policy.Rule, d *htgate.Decision, v guard.Verdict) {
	status, reason := v.Status, v.Reason
	if status == 0 {
		status, reason = http.StatusServiceUnavailable, htgate.ReasonServerError
	}
	d.Refuse(status, reason, "guard", v.Detail)
	if v.RetryAfter > 0 {
		d.RetryAfter = time.Duration(v.RetryAfterSeconds()) * time.Second
	}
	if status == http.StatusUnauthorized {
		d.Challenges = append(d.Challenges, g.challenges(rule)...)
	}
	g.countFailure(reason)
}

// acquireClient applies the per-client limits; the returned release must be
// called when the response is written.
func (g *Gateway) acquireClient(d *htgate.Decision) (release func(), ok bool) {
	if g.opts.Limiter == nil {
		return nil, true
	}
	release, ok, retry := g.opts.Limiter.Acquire(d.Client)
	if ok {
		return release, true
	}
	status := g.opts.LimitStatus
	if status == 0 {
		status = http.StatusTooManyRequests
	}
	d.Refuse(status, htgate.ReasonTooManyRequests, "limits", "client "+d.Client.String()+" is over its request rate or concurrency limit")
	if retry > 0 {
		d.RetryAfter = retry
	}
	g.countFailure(htgate.ReasonTooManyRequests)
	return nil, false
}

func (g *Gateway) countFailure(reason htgate.Reason) {
	if g.opts.Failures != nil {
		g.opts.Failures.Failure(reason)
	}
}

// guardedCheck wraps a password check with the guard: it waits for its
// turn (so that concurrent guesses cannot all be hashed before the first
// failure is counted) and records the outcome. In a dry run (explain) the
// guard is consulted but nothing is recorded.
func (g *Gateway) guardedCheck(ctx context.Context, dry bool, client netip.Addr, user string, check func() (bool, error)) func() (bool, error) {
	if g.opts.Guard == nil || dry {
		return check
	}
	return func() (bool, error) {
		v, att, err := g.opts.Guard.Enter(ctx, client, user)
		if err != nil && !errors.Is(err, context.Canceled) {
			g.opts.Logger.ErrorContext(ctx, "guard state unavailable: refusing", "err", err)
		}
		if err != nil || !v.Allowed {
			return false, &refusedByGuard{v: v}
		}
		ok, hashErr := check()
		var recErr error
		switch {
		case hashErr != nil:
			att.Release()
		case ok:
			recErr = att.Success(ctx)
		default:
			recErr = att.Failure(ctx)
		}
		if recErr != nil {
			g.opts.Logger.ErrorContext(ctx, "guard could not record an attempt", "err", recErr)
		}
		return ok, hashErr
	}
}
