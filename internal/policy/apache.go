package policy

import (
	"net/netip"
	"strings"
)

// ApacheFacts are the facts only the Apache clauses of .htaccess files
// read (Require host, forward-dns, local, env and expr). The policy package
// does no I/O: the caller supplies DNS answers and request variables
// through these functions, and a nil one makes its clauses deny.
type ApacheFacts struct {
	// Server is the local address of the client's connection; Require
	// local grants it as well as loopback clients. Zero: unknown.
	Server netip.Addr
	// Resolver answers DNS questions for host and forward-dns clauses.
	Resolver Resolver
	// Env looks up request environment variables (Require env).
	Env func(name string) (value string, ok bool)
	// Var looks up request variables for Require expr conditions, named
	// as Apache's ap_expr names them ("REQUEST_METHOD", "HTTP_HOST",
	// "HTTP:User-Agent" for any request header, ...).
	Var func(name string) string
}

// Resolver answers the DNS questions of mod_authz_host's host and
// forward-dns providers.
type Resolver interface {
	// HostName returns the client's host name, verified by a
	// double-reverse lookup (the name resolves back to the address), or ""
	// when it has none.
	HostName(client netip.Addr) string
	// Addrs returns the addresses name resolves to.
	Addrs(name string) []netip.Addr
}

// Condition is the condition of a Require expr clause, compiled by the
// .htaccess reader.
type Condition interface {
	// Match evaluates the condition against f.
	Match(f *Facts) bool
	// NeedsUser reports whether the condition reads the user name, so
	// that a false result before authentication asks for credentials.
	NeedsUser() bool
	// String is the condition's source text.
	String() string
}

// evalApache evaluates the Apache clauses, with mod_authz_host's and
// mod_authz_core's semantics.
func (e *Expr) evalApache(f *Facts) Result {
	switch e.Kind {
	case Host:
		if f.Resolver != nil && f.Client.IsValid() {
			if name := f.Resolver.HostName(f.Client.Unmap()); name != "" {
				for _, d := range e.Args {
					if InDomain(d, name) {
						return Granted
					}
				}
			}
		}
	case ForwardDNS:
		if f.Resolver != nil && f.Client.IsValid() {
			c := f.Client.Unmap().WithZone("")
			for _, name := range e.Args {
				for _, a := range f.Resolver.Addrs(name) {
					if a.Unmap().WithZone("") == c {
						return Granted
					}
				}
			}
		}
	case Local:
		if f.Client.IsValid() {
			c := f.Client.Unmap().WithZone("")
			if c.IsLoopback() || f.Server.IsValid() && c == f.Server.Unmap().WithZone("") {
				return Granted
			}
		}
	case Env:
		if f.Env != nil {
			for _, v := range e.Args {
				if _, ok := f.Env(v); ok {
					return Granted
				}
			}
		}
	case Cond:
		return e.evalCond(*f)
	}
	return Denied
}

// evalCond evaluates a Cond clause on a copy of the facts, so that only
// such clauses pay for the copy the condition may keep.
func (e *Expr) evalCond(f Facts) Result {
	switch {
	case e.Cond == nil:
		return Denied
	case e.Cond.Match(&f):
		return Granted
	case e.Cond.NeedsUser() && !f.Authenticated:
		return DeniedNoUser
	}
	return Denied
}

// whyApache explains the raw result of an Apache clause.
func (e *Expr) whyApache(f *Facts) string {
	switch e.Kind {
	case Host:
		if f.Resolver == nil || !f.Client.IsValid() {
			return "client host name unknown"
		}
		if name := f.Resolver.HostName(f.Client.Unmap()); name != "" {
			return "client is " + name
		}
		return "client " + f.Client.String() + " has no verified host name"
	case ForwardDNS, Local:
		return "client is " + f.Client.String()
	case Env:
		return "environment variables"
	}
	return ""
}

// validateApache checks an Apache clause's arguments.
func (e *Expr) validateApache() error {
	if len(e.Nets) > 0 || len(e.Sub) > 0 {
		return invalid("%s takes no networks or clauses", e.Kind)
	}
	switch e.Kind {
	case Host, ForwardDNS, Env:
		if len(e.Args) == 0 {
			return invalid("%s needs at least one name", e.Kind)
		}
		for _, a := range e.Args {
			if err := checkName(e.Kind, a); err != nil {
				return err
			}
		}
	case Local:
		if len(e.Args) > 0 {
			return invalid("local takes no arguments")
		}
	case Cond:
		if e.Cond == nil || len(e.Args) > 0 {
			return invalid("expr needs a condition")
		}
	}
	return nil
}

// InDomain reports whether the host name what is domain or inside it, by
// whole labels and case-insensitively, as mod_authz_host's in_domain does:
// "example.com" and ".example.com" both match "www.example.com", and
// "example.com" matches itself but not "badexample.com".
func InDomain(domain, what string) bool {
	domain = strings.TrimSuffix(domain, ".")
	what = strings.TrimSuffix(what, ".")
	if domain == "" || len(what) < len(domain) {
		return false
	}
	if !strings.EqualFold(domain, what[len(what)-len(domain):]) {
		return false
	}
	if len(what) == len(domain) {
		return true
	}
	return domain[0] == '.' || what[len(what)-len(domain)-1] == '.'
}
