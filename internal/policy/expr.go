package policy

import (
	"net/netip"
	"strconv"
	"strings"
)

// Kind is the kind of a Require clause or container.
type Kind uint8

// Kinds of Expr. The zero Kind is ValidUser, so the zero Expr means
// "Require valid-user".
const (
	ValidUser  Kind = iota // Require valid-user
	User                   // Require user NAME... (Args)
	Group                  // Require group NAME... (Args)
	IP                     // Require ip NET... (Nets)
	Method                 // Require method NAME... (Args)
	AllGranted             // Require all granted
	AllDenied              // Require all denied
	All                    // <RequireAll> (Sub)
	Any                    // <RequireAny> (Sub)
	None                   // <RequireNone> (Sub)
	Host                   // Require host NAME... (Args), Apache mod_authz_host; see Facts.Resolver
	ForwardDNS             // Require forward-dns NAME... (Args)
	Local                  // Require local
	Env                    // Require env VAR... (Args); see Facts.Env
	Cond                   // Require expr (Cond)
)

var kindNames = [...]string{
	ValidUser:  "valid-user",
	User:       "user",
	Group:      "group",
	IP:         "ip",
	Method:     "method",
	AllGranted: "all granted",
	AllDenied:  "all denied",
	All:        "RequireAll",
	Any:        "RequireAny",
	None:       "RequireNone",
	Host:       "host",
	ForwardDNS: "forward-dns",
	Local:      "local",
	Env:        "env",
	Cond:       "expr",
}

// String returns the Require keyword of k ("valid-user", "all granted") or
// the container name ("RequireAll").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// IsContainer reports whether k is All, Any or None.
func (k Kind) IsContainer() bool { return k == All || k == Any || k == None }

// Expr is a Require expression: one clause (a Require line) or a container
// of clauses (<RequireAll>, <RequireAny>, <RequireNone>). The zero Expr is
// "Require valid-user".
//
// Which fields are used depends on Kind: User, Group and Method use Args;
// IP uses Nets; All, Any and None use Sub; ValidUser, AllGranted and
// AllDenied use none. Negate ("Require not ...") is only valid on a clause
// directly inside an All container; see Validate.
type Expr struct {
	Kind   Kind
	Args   []string
	Nets   []netip.Prefix
	Sub    []Expr
	Negate bool
	// Cond is the condition of a Cond clause (Require expr).
	Cond Condition
}

// Result is the outcome of evaluating an Expr, as in mod_authz_core.
//
// At the top of a rule the gateway reads it as follows: Granted lets the
// request through; DeniedNoUser means "authenticate first" (401 with the
// rule's challenges when there are no or bad credentials); Denied and Neutral
// refuse (403: config_denied before authentication, acl_denied after). The
// zero Result is Denied.
type Result uint8

// Results.
const (
	Denied       Result = iota // refused
	Granted                    // allowed
	Neutral                    // no opinion (a negated clause that did not match); refuses at the top
	DeniedNoUser               // refused for now: an authenticated user could change the answer
)

// String returns "denied", "granted", "neutral" or "denied-no-user".
func (r Result) String() string {
	switch r {
	case Denied:
		return "denied"
	case Granted:
		return "granted"
	case Neutral:
		return "neutral"
	case DeniedNoUser:
		return "denied-no-user"
	}
	return "result(" + strconv.Itoa(int(r)) + ")"
}

// phrase is the wording of r in trace lines, after Apache's log messages.
func (r Result) phrase() string {
	if r == DeniedNoUser {
		return "denied (no authenticated user yet)"
	}
	return r.String()
}

// Facts are what an Expr is evaluated against.
type Facts struct {
	// Authenticated is true once a credential source has verified User.
	Authenticated bool
	// User is the authenticated user name; ignored unless Authenticated.
	User string
	// Groups are the groups of User from the rule's group source.
	Groups []string
	// Client is the client address after trusted-proxy resolution; the
	// zero Addr matches no ip clause.
	Client netip.Addr
	// Method is the request method as sent.
	Method string

	// The facts below are read only by the Apache clauses of .htaccess
	// files (host, forward-dns, local, env, expr); see ApacheFacts.
	ApacheFacts
}

// Evaluate evaluates e against f with the semantics of Apache 2.4
// mod_authz_core (apply_authz_sections), which are:
//
// Each clause yields Granted, Denied or, for a clause about the user (valid-user,
// user, group) when nobody is authenticated yet, DeniedNoUser. ip, method
// and all granted/denied never depend on the user.
//
//   - "not" turns Granted into Denied and Denied or DeniedNoUser into Neutral:
//     a negated clause can refuse a request but never grant it on its own.
//   - RequireAny starts Neutral and folds its children in order: a Granted
//     child grants at once (later children are not evaluated); otherwise
//     DeniedNoUser wins over Denied, which wins over Neutral.
//   - RequireAll starts Neutral: a Denied child denies at once (later
//     children are not evaluated); otherwise DeniedNoUser wins over Granted,
//     which wins over Neutral. So an unauthenticated request to
//     RequireAll{valid-user, ip 10.0.0.0/8} from 10.1.2.3 is DeniedNoUser
//     (ask for credentials, 401) and from 192.0.2.1 is Denied (403 at once:
//     no password would help).
//   - RequireNone is a negated RequireAny: Denied if any child is Granted,
//     Neutral otherwise; it never grants on its own.
//   - Several Require lines outside any container are an implicit RequireAny
//     in Apache; here a rule has one Expr, so write an Any.
//
// Apache runs authorization before authentication and goes on to
// authenticate only when the answer is DeniedNoUser; a Granted answer lets an
// anonymous request through and Denied or Neutral refuse it with 403. Unlike
// Apache, method names are compared case-insensitively, so that "delete"
// cannot slip past "not method DELETE" to an upstream that upper-cases
// methods. User and group names are compared exactly.
//
// trace, when not nil, is called once per evaluated clause and container,
// children before their container, with a line such as
// "require user alice bob: denied (user is carol)" and the clause's result
// (after negation). With a nil trace Evaluate does not allocate.
func (e Expr) Evaluate(f Facts, trace func(detail string, result Result)) Result {
	return e.eval(&f, trace)
}

func (e *Expr) eval(f *Facts, trace func(string, Result)) Result {
	var r Result
	switch e.Kind {
	case ValidUser:
		r = Granted
		if !f.Authenticated {
			r = DeniedNoUser
		}
	case User:
		switch {
		case !f.Authenticated:
			r = DeniedNoUser
		case contains(e.Args, f.User):
			r = Granted
		}
	case Group:
		switch {
		case !f.Authenticated:
			r = DeniedNoUser
		case inGroup(e.Args, f.Groups) != "":
			r = Granted
		}
	case IP:
		if netsContain(e.Nets, f.Client) {
			r = Granted
		}
	case Method:
		for _, m := range e.Args {
			if strings.EqualFold(m, f.Method) {
				r = Granted
				break
			}
		}
	case AllGranted:
		r = Granted
	case AllDenied:
		r = Denied
	case Host, ForwardDNS, Local, Env, Cond:
		r = e.evalApache(f)
	case All:
		r = Neutral
		for i := range e.Sub {
			c := e.Sub[i].eval(f, trace)
			if c == Denied {
				r = Denied
				break
			}
			if c != Neutral && (c == DeniedNoUser || r == Neutral) {
				r = c
			}
		}
	case Any, None:
		r = Neutral
		for i := range e.Sub {
			c := e.Sub[i].eval(f, trace)
			if c == Granted {
				r = Granted
				break
			}
			if c != Neutral && (c == DeniedNoUser && r == Denied || r == Neutral) {
				r = c
			}
		}
		if e.Kind == None {
			r = negate(r)
		}
	default:
		r = Denied // unknown kind: fail closed
	}
	raw := r
	if e.Negate {
		r = negate(r)
	}
	if trace != nil {
		trace(e.describe(f, raw, r), r)
	}
	return r
}

// negate applies "not": Granted becomes Denied, Denied and DeniedNoUser
// become Neutral (a refusal that did not happen cannot grant).
func negate(r Result) Result {
	switch r {
	case Granted:
		return Denied
	case Denied, DeniedNoUser:
		return Neutral
	}
	return r
}

// describe is the trace line of e; raw is its result before negation.
func (e *Expr) describe(f *Facts, raw, r Result) string {
	var b strings.Builder
	if !e.Kind.IsContainer() {
		b.WriteString("require ")
	}
	e.write(&b)
	b.WriteString(": ")
	b.WriteString(r.phrase())
	why := e.why(f, raw)
	if why != "" && r != DeniedNoUser {
		b.WriteString(" (")
		b.WriteString(why)
		b.WriteByte(')')
	}
	return b.String()
}

// why explains the raw result of a clause in a few words.
func (e *Expr) why(f *Facts, raw Result) string {
	if raw == DeniedNoUser {
		return "no authenticated user yet"
	}
	switch e.Kind {
	case ValidUser, User:
		return "user is " + f.User
	case Group:
		if g := inGroup(e.Args, f.Groups); g != "" {
			return f.User + " is in " + g
		}
		if len(e.Args) == 1 {
			return f.User + " is not in " + e.Args[0]
		}
		return f.User + " is in none of these groups"
	case IP:
		if !f.Client.IsValid() {
			return "client address unknown"
		}
		return "client is " + f.Client.String()
	case Method:
		return "method is " + f.Method
	case Host, ForwardDNS, Local, Env, Cond:
		return e.whyApache(f)
	}
	return ""
}

// NeedsUser reports whether the outcome of e can depend on who the user is:
// whether it has a valid-user, user or group clause anywhere, negated or not.
// When it is false, authenticating cannot change the result.
func (e Expr) NeedsUser() bool {
	switch e.Kind {
	case ValidUser, User, Group:
		return true
	case Cond:
		return e.Cond != nil && e.Cond.NeedsUser()
	case All, Any, None:
		for _, s := range e.Sub {
			if s.NeedsUser() {
				return true
			}
		}
	}
	return false
}

// String formats e. A clause is written as ParseRequire reads it
// ("not user alice bob", "ip 10.0.0.0/8"); a container as
// "RequireAll(valid-user; not group temps)".
func (e Expr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *Expr) write(b *strings.Builder) {
	if e.Negate {
		b.WriteString("not ")
	}
	b.WriteString(e.Kind.String())
	switch e.Kind {
	case User, Group, Method, Host, ForwardDNS, Env:
		for _, a := range e.Args {
			b.WriteByte(' ')
			b.WriteString(quoteWord(a))
		}
	case Cond:
		if e.Cond != nil {
			b.WriteByte(' ')
			b.WriteString(e.Cond.String())
		}
	case IP:
		for _, p := range e.Nets {
			b.WriteByte(' ')
			b.WriteString(formatNet(p))
		}
	case All, Any, None:
		b.WriteByte('(')
		for i := range e.Sub {
			if i > 0 {
				b.WriteString("; ")
			}
			e.Sub[i].write(b)
		}
		b.WriteByte(')')
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// inGroup returns the first of want that is among have, or "".
func inGroup(want, have []string) string {
	for _, w := range want {
		if contains(have, w) {
			return w
		}
	}
	return ""
}

// netsContain reports whether client is in one of nets. An IPv4-mapped IPv6
// client matches IPv4 networks and the zone of a link-local client is
// ignored.
func netsContain(nets []netip.Prefix, client netip.Addr) bool {
	if !client.IsValid() {
		return false
	}
	client = client.Unmap().WithZone("")
	for _, p := range nets {
		if p.Addr().Is4In6() {
			p = unmapPrefix(p)
		}
		if p.Contains(client) {
			return true
		}
	}
	return false
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96).
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}

// formatNet writes a single-address network as the bare address.
func formatNet(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}
