package policy

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalidRequire is wrapped by every error of ParseRequire and
// Expr.Validate.
var ErrInvalidRequire = errors.New("invalid Require")

// MaxDepth is how deeply containers may nest in an Expr.
const MaxDepth = 32

// Validate reports the first problem that makes e unusable as the Require
// expression of a rule, with the checks Apache makes when it reads its
// configuration:
//
//   - every clause has what its Kind needs (at least one user, group,
//     method or network; nothing for valid-user and all granted/denied) and
//     nothing else; names are non-empty UTF-8 without control characters;
//   - a container has at least one child and does not nest deeper than
//     MaxDepth;
//   - "not" is only allowed on clauses, and a negated clause or a None
//     container only directly inside an All: at the top (an implicit
//     RequireAny in Apache), in an Any or in a None it could never have an
//     effect, and Apache refuses it ("negative Require directive has no
//     effect in <RequireAny> directive");
//   - a container is not made of negated clauses only ("contains only
//     negative authorization directives"), since it could then never grant.
func (e Expr) Validate() error {
	if e.Negate || e.Kind == None {
		return invalid("%s: a negated clause cannot stand alone (put it in a RequireAll with something that can grant)", e.String())
	}
	return e.validate(1)
}

func (e *Expr) validate(depth int) error {
	if depth > MaxDepth {
		return invalid("containers nested more than %d deep", MaxDepth)
	}
	switch e.Kind {
	case ValidUser, AllGranted, AllDenied:
		if len(e.Args) > 0 || len(e.Nets) > 0 || len(e.Sub) > 0 {
			return invalid("%s takes no arguments", e.Kind)
		}
	case User, Group, Method:
		if len(e.Args) == 0 {
			return invalid("%s needs at least one name", e.Kind)
		}
		if len(e.Nets) > 0 || len(e.Sub) > 0 {
			return invalid("%s takes names only", e.Kind)
		}
		for _, a := range e.Args {
			if err := checkName(e.Kind, a); err != nil {
				return err
			}
		}
	case IP:
		if len(e.Nets) == 0 {
			return invalid("ip needs at least one address or network")
		}
		if len(e.Args) > 0 || len(e.Sub) > 0 {
			return invalid("ip takes networks only")
		}
		for _, p := range e.Nets {
			if !p.IsValid() || p.Addr().Zone() != "" {
				return invalid("ip: invalid network %s", p)
			}
		}
	case Host, ForwardDNS, Local, Env, Cond:
		if err := e.validateApache(); err != nil {
			return err
		}
	case All, Any, None:
		if e.Negate {
			return invalid("%s cannot be negated (use RequireNone)", e.Kind)
		}
		if len(e.Args) > 0 || len(e.Nets) > 0 {
			return invalid("%s takes clauses only", e.Kind)
		}
		if len(e.Sub) == 0 {
			return invalid("%s contains no clauses", e.Kind)
		}
		positive := false
		for i := range e.Sub {
			s := &e.Sub[i]
			neg := s.Negate || s.Kind == None
			if neg && e.Kind != All {
				return invalid("%s has no effect in %s", s.String(), e.Kind)
			}
			if !neg {
				positive = true
			}
			if err := s.validate(depth + 1); err != nil {
				return err
			}
		}
		if !positive {
			return invalid("%s contains only negated clauses, so it can never grant", e.String())
		}
	default:
		return invalid("unknown kind %d", e.Kind)
	}
	return nil
}

func checkName(k Kind, a string) error {
	if a == "" {
		return invalid("%s: empty name", k)
	}
	if !utf8.ValidString(a) {
		return invalid("%s: name is not valid UTF-8", k)
	}
	for _, r := range a {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return invalid("%s: name %q contains a control character", k, a)
		}
	}
	if k == Method && !isToken(a) {
		return invalid("method: %q is not a method name", a)
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequire, fmt.Sprintf(format, args...))
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
			c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}
