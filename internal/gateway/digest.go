package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/scheme"
)

// DigestSource is where a rule's Digest secrets come from: the stored
// H(user ":" realm ":" password) of each user (an htdigest file now).
type DigestSource interface {
	// Current returns the snapshot in force and its version. An error
	// means the source cannot be read now: the gateway fails closed with
	// 500.
	Current() (DigestSnapshot, uint64, error)
}

// DigestSnapshot is one immutable snapshot of a Digest source. Algorithms
// are named as passwd.DigestMD5 and passwd.DigestSHA256 (the base hash of
// the -sess variants too).
type DigestSnapshot interface {
	// Lookup returns H(user ":" realm ":" password) with algorithm, in
	// lower-case hex.
	Lookup(user, realm, algorithm string) (ha1 string, ok bool)
	// Dummy returns an H(A1) of algorithm's length that matches no user,
	// computed with for unknown users so that they cost the same time.
	Dummy(algorithm string) string
	// UserByHash resolves RFC 7616's userhash, H(user ":" realm).
	UserByHash(userhash, realm, algorithm string) (user string, ok bool)
	// Algorithms lists the algorithms for which every user of realm has
	// an H(A1), SHA-256 first.
	Algorithms(realm string) []string
}

// HtdigestSource adapts a watched htdigest file to DigestSource.
type HtdigestSource struct{ File *passwd.HtdigestFile }

// Current returns the file's snapshot and version, or the error that makes
// the file unusable now.
func (s HtdigestSource) Current() (DigestSnapshot, uint64, error) {
	if err := s.File.Err(); err != nil {
		return nil, 0, err
	}
	return s.File.Snapshot(), s.File.Version(), nil
}

// digestChallengeState says how the Digest challenges of one 401 differ
// from the rule's plain ones.
type digestChallengeState struct {
	// stale: the response was right but the nonce was not acceptable.
	stale bool
	// opaque: send the realm's opaque even on an Apache rule (the client
	// sent an opaque Apache would not have issued).
	opaque bool
}

// digestChallenges returns the rule's Digest challenges with a fresh nonce:
// mod_auth_digest's single challenge for Apache rules, otherwise one per
// algorithm with qop, opaque, charset and userhash.
func (g *Gateway) digestChallenges(rule *policy.Rule, st digestChallengeState) []htgate.Challenge {
	algs := g.digestAlgorithms(rule, g.digestSnapshot(g.policy.Load(), rule))
	opaque := ""
	if !rule.Apache || st.opaque {
		opaque = g.opts.DigestKey.Opaque(rule.Realm)
	}
	o := scheme.DigestChallengeOptions{
		Algorithms: algs,
		Nonce:      g.opts.DigestKey.Mint(g.opts.Now(), rule.Realm, opaque),
		Opaque:     opaque,
		Qop:        digestQop(rule),
		Stale:      st.stale,
		Domain:     rule.DigestDomain,
		Apache:     rule.Apache,
	}
	if rule.Apache {
		// mod_auth_digest sends one challenge, for its one algorithm.
		o.Algorithms = algs[:1]
	} else {
		o.Charset, o.Userhash = true, true
	}
	return scheme.DigestChallenge(rule.Realm, o)
}

// digestSnapshot returns the snapshot of the rule's Digest source, or nil
// when it is not loaded or unreadable.
func (g *Gateway) digestSnapshot(p *Policy, rule *policy.Rule) DigestSnapshot {
	if p == nil {
		return nil
	}
	src, ok := p.Digests[rule.DigestSource]
	if !ok {
		return nil
	}
	snap, _, err := src.Current()
	if err != nil {
		return nil
	}
	return snap
}

// digestAlgorithms returns the algorithms the rule offers and accepts, in
// order: its DigestAlgorithms; for an Apache rule without any, MD5; for
// htgate's own rule without any, those the source can verify for every
// user of the realm (SHA-256 before MD5), or both when that cannot be told.
func (g *Gateway) digestAlgorithms(rule *policy.Rule, snap DigestSnapshot) []scheme.DigestAlgorithm {
	var out []scheme.DigestAlgorithm
	for _, name := range rule.DigestAlgorithms {
		if a, ok := scheme.ParseDigestAlgorithm(name); ok && name != "" {
			out = append(out, a)
		}
	}
	switch {
	case len(out) > 0:
		return out
	case rule.Apache:
		return []scheme.DigestAlgorithm{scheme.DigestMD5}
	case snap != nil:
		for _, name := range snap.Algorithms(rule.Realm) {
			if a, ok := scheme.ParseDigestAlgorithm(name); ok {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		out = []scheme.DigestAlgorithm{scheme.DigestSHA256, scheme.DigestMD5}
	}
	return out
}

// digestQop returns the qop values the rule accepts: "auth" by default.
func digestQop(rule *policy.Rule) []string {
	if len(rule.DigestQop) == 0 {
		return []string{"auth"}
	}
	return rule.DigestQop
}

// acceptsQop reports whether the rule accepts a response with qop ("" for
// an RFC 2069 response without one).
func acceptsQop(rule *policy.Rule, qop string) bool {
	want := qop
	if qop == "" {
		want = "none"
	}
	for _, q := range digestQop(rule) {
		if strings.EqualFold(q, want) {
			return true
		}
	}
	return false
}

// digestOutcome is what verifying a Digest response found.
type digestOutcome uint8

const (
	digestWrong    digestOutcome = iota // wrong password, unknown user
	digestBadNonce                      // right response, nonce not one htgate issued
	digestStale                         // right response, nonce expired or of another realm
	digestReplay                        // right response, nonce count already used
	digestOK
)

// authenticateDigest checks Digest credentials (RFC 7616) against the
// rule's Digest source. The order of the checks is mod_auth_digest's:
// parameters, uri (a mismatch is 400), realm, algorithm and qop, the
// response, and only then the nonce and its count, so that stale=true is
// sent only to a client whose response was right.
func (g *Gateway) authenticateDigest(ctx context.Context, dry bool, p *Policy, rule *policy.Rule, r *http.Request, d *htgate.Decision, header string) (*htgate.Principal, bool) {
	creds, err := scheme.ParseDigest(header)
	if err != nil {
		g.refuseDigestProtocol(ctx, dry, rule, d, false, "malformed Digest credentials: "+err.Error())
		return nil, false
	}
	src, ok := p.Digests[rule.DigestSource]
	if !ok {
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "authn", "Digest credential source "+rule.DigestSource+" is not loaded")
		return nil, false
	}
	snap, _, err := src.Current()
	if err != nil {
		d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "authn", "Digest credential source "+rule.DigestSource+" cannot be read: "+err.Error())
		g.opts.Logger.ErrorContext(ctx, "credential source unreadable", "source", rule.DigestSource, "err", err, "ref_id", d.RefID)
		return nil, false
	}
	alg, algOK := scheme.ParseDigestAlgorithm(creds.Algorithm)

	// Who claims to be there: the name, or the user a userhash stands for.
	user, known := creds.Username, true
	if creds.Userhash {
		if rule.Apache {
			g.refuseDigestProtocol(ctx, dry, rule, d, false, "userhash credentials: this area does not offer userhash")
			return nil, false
		}
		user, known = snap.UserByHash(creds.Username, rule.Realm, alg.Base().String())
		if !known {
			user = creds.Username
		}
	}
	d.User = user
	if !g.checkGuard(ctx, rule, d, user) {
		return nil, false
	}
	if !digestURIMatches(r, creds.URI) {
		// RFC 7616 §3.4.6 and mod_auth_digest: 400, no challenge.
		d.Refuse(http.StatusBadRequest, htgate.ReasonBadRequest, "authn", "Digest uri parameter does not match the request target")
		return nil, false
	}
	if creds.Realm != rule.Realm {
		g.refuseDigestProtocol(ctx, dry, rule, d, true, "Digest realm parameter "+quoteRealm(creds.Realm)+" is not this area's realm")
		return nil, false
	}
	if !algOK || !containsAlg(g.digestAlgorithms(rule, snap), alg) {
		g.refuseDigestProtocol(ctx, dry, rule, d, true, "Digest algorithm "+quoteScheme(creds.Algorithm)+" is not accepted here")
		return nil, false
	}
	if !acceptsQop(rule, creds.Qop) || (creds.Qop != "" && !strings.EqualFold(creds.Qop, "auth")) || (creds.Qop == "" && alg != scheme.DigestMD5) {
		g.refuseDigestProtocol(ctx, dry, rule, d, true, "Digest qop "+quoteScheme(creds.Qop)+" is not accepted here (accepted: "+strings.Join(digestQop(rule), ", ")+")")
		return nil, false
	}
	ha1, found := "", false
	if known {
		ha1, found = snap.Lookup(user, rule.Realm, alg.Base().String())
	}
	if !found {
		ha1 = snap.Dummy(alg.Base().String())
	}

	var issued time.Time
	check := func() (digestOutcome, error) {
		if !scheme.VerifyDigest(&creds, alg, ha1, r.Method) || !found {
			return digestWrong, nil
		}
		var ns scheme.NonceState
		ns, issued = g.opts.DigestKey.Check(creds.Nonce, rule.Realm, creds.Opaque, g.opts.Now(), rule.EffectiveNonceLifetime())
		switch ns {
		case scheme.NonceMalformed:
			return digestBadNonce, nil
		case scheme.NonceForged, scheme.NonceExpired:
			return digestStale, nil
		}
		if dry || g.opts.Nonces == nil {
			return digestOK, nil
		}
		count := creds.Count
		if creds.Qop == "" {
			count = 1 // an RFC 2069 response has no count: its nonce is used once
		}
		ttl := issued.Add(rule.EffectiveNonceLifetime() + scheme.NonceClockSkew).Sub(g.opts.Now())
		if ttl < time.Second {
			ttl = time.Second
		}
		fresh, err := g.opts.Nonces.Use(ctx, creds.Nonce, count, ttl)
		if err != nil {
			return digestWrong, err
		}
		if !fresh {
			return digestReplay, nil
		}
		return digestOK, nil
	}
	outcome, err := g.guardedDigest(ctx, dry, d, user, check)
	var refused *refusedByGuard
	if errors.As(err, &refused) {
		g.refuseByGuard(rule, d, refused.v)
		return nil, false
	}
	if err != nil {
		d.Refuse(http.StatusServiceUnavailable, htgate.ReasonServerError, "authn", "Digest nonce counts cannot be checked: "+err.Error())
		g.opts.Logger.ErrorContext(ctx, "nonce store unavailable: refusing", "err", err, "ref_id", d.RefID)
		g.countFailure(htgate.ReasonServerError)
		return nil, false
	}
	switch outcome {
	case digestWrong:
		g.challenge(rule, d, htgate.ReasonLogonFailed, "Digest: user "+user+": unknown user or wrong password in "+rule.DigestSource)
		return nil, false
	case digestBadNonce:
		g.challenge(rule, d, htgate.ReasonLogonFailed, "Digest: user "+user+": the nonce was not issued by htgate")
		return nil, false
	case digestStale:
		d.Refuse(http.StatusUnauthorized, htgate.ReasonCredentialsMissing, "authn",
			"Digest: user "+user+": response right but the nonce is expired or of another realm: stale=true, the client retries with the new nonce")
		d.Challenges = append(d.Challenges, g.challengesWith(rule, digestChallengeState{stale: true, opaque: creds.Opaque != ""})...)
		return nil, false
	case digestReplay:
		d.Refuse(http.StatusUnauthorized, htgate.ReasonLogonFailed, "authn",
			"Digest: user "+user+": nonce count "+creds.NC+" already used with this nonce (a replay, or requests out of order): stale=true")
		d.Challenges = append(d.Challenges, g.challengesWith(rule, digestChallengeState{stale: true, opaque: creds.Opaque != ""})...)
		g.countFailure(htgate.ReasonLogonFailed)
		return nil, false
	}
	if d.Tracing {
		d.Record("authn", htgate.OutcomePass, "Digest "+alg.String()+": user "+user+" verified against "+rule.DigestSource+
			" (nonce issued "+g.opts.Now().Sub(issued).Round(time.Second).String()+" ago)")
	}
	return &htgate.Principal{Name: user, Scheme: scheme.Digest}, true
}

// refuseDigestProtocol answers credentials that break the Digest protocol
// (malformed, another realm, an algorithm or qop not offered): 401 with
// the challenges, counted by the guard against the client only, since
// there is no password guess to count against the user.
// guardChecked says that the guard already let the request in.
func (g *Gateway) refuseDigestProtocol(ctx context.Context, dry bool, rule *policy.Rule, d *htgate.Decision, guardChecked bool, detail string) {
	if !guardChecked && !g.checkGuard(ctx, rule, d, "") {
		return
	}
	g.challenge(rule, d, htgate.ReasonLogonFailed, detail)
	if g.opts.Guard != nil && !dry {
		if err := g.opts.Guard.Failure(ctx, d.Client, ""); err != nil {
			g.opts.Logger.ErrorContext(ctx, "guard could not record a failure", "err", err, "ref_id", d.RefID)
		}
	}
}

// guardedDigest runs a Digest check with the guard's place taken, like
// guardedCheck for passwords: a wrong response is a failure, a verified
// request a success; a right response whose nonce or count is refused is
// neither (it proves no password guess, and replaying a captured request
// must not earn a success).
func (g *Gateway) guardedDigest(ctx context.Context, dry bool, d *htgate.Decision, user string, check func() (digestOutcome, error)) (digestOutcome, error) {
	if g.opts.Guard == nil || dry {
		return check()
	}
	v, att, err := g.opts.Guard.Enter(ctx, d.Client, user)
	if err != nil && ctx.Err() == nil {
		g.opts.Logger.ErrorContext(ctx, "guard state unavailable: refusing", "err", err)
	}
	if err != nil || !v.Allowed {
		return digestWrong, &refusedByGuard{v: v}
	}
	outcome, checkErr := check()
	var recErr error
	switch {
	case checkErr != nil:
		att.Release()
	case outcome == digestOK:
		recErr = att.Success(ctx)
	case outcome == digestWrong:
		recErr = att.Failure(ctx)
	default:
		att.Release()
	}
	if recErr != nil {
		g.opts.Logger.ErrorContext(ctx, "guard could not record an attempt", "err", recErr)
	}
	return outcome, checkErr
}

// quoteRealm quotes a client's realm for traces, at most 64 bytes of it.
func quoteRealm(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}

func containsAlg(list []scheme.DigestAlgorithm, a scheme.DigestAlgorithm) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// digestURIMatches reports whether the uri parameter of Digest credentials
// names the request target, as mod_auth_digest decides it: the same bytes
// as the target sent, or, once both are parsed and percent-decoded, the
// same path and query, and the same host and port if uri has a host (an
// absolute-form target compares with an origin-form uri, and the other way
// round). A missing query never matches a present one.
func digestURIMatches(r *http.Request, uri string) bool {
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	if uri == target {
		return true
	}
	d, err := url.Parse(uri)
	if err != nil || d.Opaque != "" || d.User != nil || d.Fragment != "" {
		return false
	}
	t, err := url.Parse(target)
	if err != nil {
		return false
	}
	if d.Host != "" {
		reqHost := t.Host
		if reqHost == "" {
			reqHost = r.Host
		}
		host, port := splitHostPort(reqHost)
		if port == "" {
			port = "80"
			if r.TLS != nil {
				port = "443"
			}
		}
		dHost, dPort := splitHostPort(d.Host)
		if !strings.EqualFold(dHost, host) {
			return false
		}
		if dPort == "" {
			dPort = "80"
			if strings.EqualFold(d.Scheme, "https") {
				dPort = "443"
			}
		}
		if dPort != port {
			return false
		}
	}
	if d.Path != t.Path {
		return false
	}
	if d.ForceQuery != t.ForceQuery || (d.RawQuery == "") != (t.RawQuery == "") {
		return false
	}
	dq, err1 := url.PathUnescape(d.RawQuery)
	tq, err2 := url.PathUnescape(t.RawQuery)
	return err1 == nil && err2 == nil && dq == tq
}

// splitHostPort splits "host:port", "host", "[v6]:port" or "[v6]".
func splitHostPort(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
}
