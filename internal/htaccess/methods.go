package htaccess

import "strings"

// Apache's method numbers (httpd.h M_GET ... M_MERGE); a method it does
// not know is M_INVALID. HEAD is M_GET: whatever applies to GET applies
// to HEAD.
var methodNames = [...]string{
	"GET", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
	"VERSION-CONTROL", "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL",
	"REPORT", "MKWORKSPACE", "MKACTIVITY", "BASELINE-CONTROL", "MERGE",
}

// methodInvalid is M_INVALID, the number of every method Apache does not
// know (including lower-case spellings: method names are case-sensitive).
const methodInvalid = len(methodNames)

// methodMask is a set of method numbers, Apache's "limited" bits.
type methodMask uint64

// allMethods is a directive outside any <Limit>.
const allMethods = ^methodMask(0)

// requireBit is the bit Apache clears inside <RequireAll>/<RequireAny>/
// <RequireNone> (so that sections may not appear there); no method has it.
const requireBit = methodMask(1) << 63

func (m methodMask) has(method int) bool { return m&(1<<uint(method)) != 0 }

// MethodNumber returns Apache's number for a request method: HEAD is GET,
// and an unknown method (or a known one in another letter case) is the
// number of M_INVALID.
func MethodNumber(method string) int {
	if method == "HEAD" {
		return 0
	}
	for i, n := range methodNames {
		if n == method {
			return i
		}
	}
	return methodInvalid
}

// methodName is the canonical name of Apache method number n ("" for
// M_INVALID).
func methodName(n int) string {
	if n >= 0 && n < len(methodNames) {
		return methodNames[n]
	}
	return ""
}

// KnownMethod reports whether Apache knows method (case-sensitively).
func KnownMethod(method string) bool { return MethodNumber(method) != methodInvalid }

// describeMask writes the methods of m for dumps.
func describeMask(m methodMask) string {
	if m|requireBit == allMethods {
		return "all"
	}
	var names []string
	for i := range methodNames {
		if m.has(i) {
			names = append(names, methodNames[i])
		}
	}
	if m.has(methodInvalid) {
		names = append(names, "(unknown)")
	}
	return strings.Join(names, " ")
}

// CanonicalMethod returns the name Apache's method number of method
// stands for: "GET" for HEAD, the name itself for a method Apache knows,
// and "" for any other (an unknown method, or a known one in another
// letter case). Require method compares with it.
func CanonicalMethod(method string) string { return methodName(MethodNumber(method)) }
