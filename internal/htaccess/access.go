package htaccess

import (
	"net/netip"
	"strings"

	"github.com/htgate/htgate/internal/policy"
)

// accessOrder is mod_access_compat's Order.
type accessOrder uint8

const (
	orderDenyAllow accessOrder = iota // the default
	orderAllowDeny
	orderMutualFailure
)

// satisfy is mod_access_compat's Satisfy.
type satisfy uint8

const (
	satisfyNoSpec satisfy = iota
	satisfyAll
	satisfyAny
)

// allowKind is the kind of an Allow or Deny entry.
type allowKind uint8

const (
	allowAll allowKind = iota
	allowEnv
	allowNotEnv
	allowIP
	allowHost
)

// allowDeny is one argument of an Allow from or Deny from directive.
type allowDeny struct {
	kind    allowKind
	value   string // env variable or host name
	net     netip.Prefix
	limited methodMask
}

// accessConf is mod_access_compat's per-directory configuration
// (Order, Allow, Deny, Satisfy), per method as Apache keeps it.
type accessConf struct {
	order   [methodInvalid + 1]accessOrder
	satisfy [methodInvalid + 1]satisfy
	allows  []allowDeny
	denys   []allowDeny
}

// parseAllowDeny reads one "from" argument; ok is false when it looks like
// a network but is not one.
func parseAllowDeny(w string, limited methodMask) (allowDeny, bool) {
	a := allowDeny{limited: limited}
	switch {
	case len(w) >= 5 && strings.EqualFold(w[:5], "env=!"):
		a.kind, a.value = allowNotEnv, w[5:]
	case len(w) >= 4 && strings.EqualFold(w[:4], "env="):
		a.kind, a.value = allowEnv, w[4:]
	case strings.EqualFold(w, "all"):
		a.kind = allowAll
	default:
		e, err := policy.ParseRequire("ip " + w)
		if err == nil && len(e.Nets) == 1 {
			a.kind, a.net = allowIP, e.Nets[0]
			return a, true
		}
		if strings.Contains(w, "/") {
			return a, false
		}
		a.kind, a.value = allowHost, w
	}
	return a, true
}

// find is mod_access_compat's find_allowdeny: whether an entry of list
// applies to the request.
func find(list []allowDeny, method int, f *policy.Facts) bool {
	host, gotHost := "", false
	for _, a := range list {
		if !a.limited.has(method) {
			continue
		}
		switch a.kind {
		case allowAll:
			return true
		case allowEnv, allowNotEnv:
			set := false
			if f.Env != nil {
				_, set = f.Env(a.value)
			}
			if set == (a.kind == allowEnv) {
				return true
			}
		case allowIP:
			if c := f.Client; c.IsValid() && a.net.Contains(c.Unmap().WithZone("")) {
				return true
			}
		case allowHost:
			if !gotHost {
				gotHost = true
				if f.Resolver != nil && f.Client.IsValid() {
					host = f.Resolver.HostName(f.Client.Unmap())
				}
			}
			if host != "" && policy.InDomain(a.value, host) {
				return true
			}
		}
	}
	return false
}

// allowed is check_dir_access: whether the client passes Order, Allow and
// Deny for the method.
func (a *accessConf) allowed(method int, f *policy.Facts) bool {
	switch a.order[method] {
	case orderAllowDeny:
		return find(a.allows, method, f) && !find(a.denys, method, f)
	case orderMutualFailure:
		return find(a.allows, method, f) && !find(a.denys, method, f)
	}
	if find(a.allows, method, f) {
		return true
	}
	return !find(a.denys, method, f)
}
