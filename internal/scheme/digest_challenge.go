package scheme

import (
	"strings"

	"github.com/htgate/htgate"
)

// DigestChallengeOptions shape the Digest challenges of one 401.
type DigestChallengeOptions struct {
	// Algorithms get one challenge each, in order (the client picks the
	// first it supports). Empty means MD5.
	Algorithms []DigestAlgorithm
	// Nonce is the server nonce, shared by the challenges (NonceKey.Mint).
	Nonce string
	// Opaque, when not empty, is sent for the client to return unchanged.
	Opaque string
	// Qop lists the qop values offered ("auth"); empty or "none" alone
	// sends no qop parameter (RFC 2069 style, Apache's AuthDigestQop none).
	Qop []string
	// Stale says that the client's response was right but its nonce was
	// not acceptable: retry with the new one without asking the user.
	Stale bool
	// Domain lists the URIs of the protection space (domain parameter).
	Domain []string
	// Userhash offers userhash=true (RFC 7616 §3.4.4); charset=UTF-8 is
	// sent as well when Charset is set.
	Userhash bool
	Charset  bool
	// Apache writes the challenge as mod_auth_digest does: realm, nonce,
	// algorithm, opaque, domain, stale, qop, in that order, never charset
	// or userhash. Otherwise the order is RFC 7616's example: realm, qop,
	// algorithm, nonce, opaque, domain, stale, charset, userhash.
	Apache bool
}

// DigestChallenge returns the Digest challenges (RFC 7616 §3.3) for realm,
// one per algorithm of o, for example
//
//	Digest realm="Members", qop="auth", algorithm=SHA-256, nonce="…", opaque="…", charset=UTF-8, userhash=true
//	Digest realm="Members", nonce="…", algorithm=MD5, qop="auth"   (o.Apache)
func DigestChallenge(realm string, o DigestChallengeOptions) []htgate.Challenge {
	algs := o.Algorithms
	if len(algs) == 0 {
		algs = []DigestAlgorithm{DigestMD5}
	}
	var qop string
	for _, q := range o.Qop {
		if strings.EqualFold(q, "none") {
			continue
		}
		if qop != "" {
			qop += ","
		}
		qop += q
	}
	out := make([]htgate.Challenge, 0, len(algs))
	for _, a := range algs {
		params := make([]htgate.Param, 0, 9)
		add := func(name, value string, token bool) {
			params = append(params, htgate.Param{Name: name, Value: value, Token: token})
		}
		add("realm", realm, false)
		if o.Apache {
			add("nonce", o.Nonce, false)
			add("algorithm", a.String(), true)
			if o.Opaque != "" {
				add("opaque", o.Opaque, false)
			}
			if len(o.Domain) > 0 {
				add("domain", strings.Join(o.Domain, " "), false)
			}
			if o.Stale {
				add("stale", "true", true)
			}
			if qop != "" {
				add("qop", qop, false)
			}
		} else {
			if qop != "" {
				add("qop", qop, false)
			}
			add("algorithm", a.String(), true)
			add("nonce", o.Nonce, false)
			if o.Opaque != "" {
				add("opaque", o.Opaque, false)
			}
			if len(o.Domain) > 0 {
				add("domain", strings.Join(o.Domain, " "), false)
			}
			if o.Stale {
				add("stale", "true", true)
			}
			if o.Charset {
				add("charset", "UTF-8", true)
			}
			if o.Userhash {
				add("userhash", "true", true)
			}
		}
		out = append(out, htgate.Challenge{Scheme: "Digest", Params: params})
	}
	return out
}
