// Package policy owns the protection rules: which rule covers a request
// (a tree keyed by path segments, see Table) and who may enter (Require
// expressions with Apache 2.4 mod_authz_core semantics, see Expr). It is pure:
// no I/O, no clock, no net/http. It imports the standard library and the
// root htgate package only; an architecture test keeps it that way.
package policy
