package htaccess

import (
	"github.com/htgate/htgate/internal/policy"
)

// logicOp is how a container combines its children.
type logicOp uint8

const (
	opOr  logicOp = iota // RequireAny, RequireNone, the implicit top level
	opAnd                // RequireAll
)

// authzNode is one of mod_authz_core's authz sections: a Require clause
// (clause set) or a container of them. It mirrors Apache's
// authz_section_conf, "limited" bits included, so that merging and <Limit>
// behave as Apache's do; expr turns it into a policy.Expr for one method.
type authzNode struct {
	op       logicOp
	negate   bool
	limited  methodMask
	clause   *policy.Expr // a provider clause, without negation
	children []*authzNode
}

// mergeOp is AuthMerging.
type mergeOp uint8

const (
	mergeUnset mergeOp = iota
	mergeOff
	mergeAnd
	mergeOr
)

// authzConf is mod_authz_core's per-directory configuration.
type authzConf struct {
	op              mergeOp
	section         *authzNode // the implicit top-level section; nil: no Require
	forbiddenOnFail int8       // AuthzSendForbiddenOnFailure: -1 unset, 0 off, 1 on
}

func newAuthzConf() *authzConf { return &authzConf{forbiddenOnFail: -1} }

// mergeAuthz is merge_authz_core_dir_config: a section with Require lines
// replaces the inherited ones unless AuthMerging says And or Or, in which
// case the two are combined in a new container.
func mergeAuthz(base, add *authzConf) *authzConf {
	if add == nil {
		return base
	}
	if base == nil {
		base = newAuthzConf()
	}
	var conf *authzConf
	switch {
	case add.op == mergeUnset && add.section == nil && base.section != nil:
		// Only AuthzSendForbiddenOnFailure was set: not a new authz
		// configuration as far as AuthMerging is concerned.
		c := *base
		conf = &c
	case add.op == mergeOff || add.op == mergeUnset || base.section == nil && add.section == nil:
		c := *add
		conf = &c
	default:
		var section *authzNode
		switch {
		case base.section != nil && add.section != nil:
			op := opOr
			if add.op == mergeAnd {
				op = opAnd
			}
			section = &authzNode{
				op:       op,
				limited:  base.section.limited | add.section.limited,
				children: []*authzNode{base.section, add.section},
			}
		case base.section != nil:
			section = base.section
		default:
			section = add.section
		}
		conf = &authzConf{op: add.op, section: section}
	}
	conf.forbiddenOnFail = base.forbiddenOnFail
	if add.forbiddenOnFail >= 0 {
		conf.forbiddenOnFail = add.forbiddenOnFail
	}
	return conf
}

// limitedAll reports whether no node of the tree is limited to some
// methods, so that its expression is the same for every method.
func (n *authzNode) limitedAll() bool {
	if n.limited|requireBit != allMethods {
		return false
	}
	for _, c := range n.children {
		if !c.limitedAll() {
			return false
		}
	}
	return true
}

// expr is the node for requests of Apache method number method, as
// apply_authz_sections evaluates it: a node limited to other methods is
// "granted" inside a RequireAll (parentAnd) and has no say elsewhere
// (keep is false).
func (n *authzNode) expr(method int, parentAnd bool) (e policy.Expr, keep bool) {
	if !n.limited.has(method) {
		if parentAnd {
			return policy.Expr{Kind: policy.AllGranted}, true
		}
		return policy.Expr{}, false
	}
	if n.clause != nil {
		e = *n.clause
		e.Negate = n.negate
		return e, true
	}
	e.Kind = policy.Any
	if n.op == opAnd {
		e.Kind = policy.All
	}
	e.Negate = n.negate
	e.Sub = make([]policy.Expr, 0, len(n.children))
	for _, c := range n.children {
		if s, ok := c.expr(method, n.op == opAnd); ok {
			e.Sub = append(e.Sub, s)
		}
	}
	return e, true
}
