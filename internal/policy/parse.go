package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseRequire parses the one-line form of a Require clause used in YAML
// rules, Apache's Require directive without the word "Require":
//
//	valid-user
//	user alice bob
//	group admins "sales team"
//	ip 10.0.0.0/8 192.168.1 2001:db8::/32 172.16.0.0/255.240.0.0
//	method GET HEAD
//	all granted
//	all denied
//	not group temps
//
// Keywords are case-insensitive; names are case-sensitive, except method
// names (see Evaluate). Words are separated by spaces or tabs; a word
// containing spaces is written in double (or single) quotes, inside which a
// backslash escapes the quote character or a backslash. An ip word is a full
// IPv4 or IPv6 address, a CIDR network, an IPv4 network with a dotted
// netmask, or the first one to three octets of an IPv4 address ("192.168.1"
// is 192.168.1.0/24), as mod_authz_host accepts them; host bits of a network
// are cleared. A clause with "not" parses, but is valid in a rule only
// inside an All container (see Expr.Validate). Errors wrap
// ErrInvalidRequire.
func ParseRequire(line string) (Expr, error) {
	if !utf8.ValidString(line) {
		return Expr{}, invalid("%q is not valid UTF-8", line)
	}
	words, err := splitWords(line)
	if err != nil {
		return Expr{}, err
	}
	if len(words) == 0 {
		return Expr{}, invalid("empty")
	}
	if strings.EqualFold(words[0], "require") {
		return Expr{}, invalid("%q: leave out the word Require", line)
	}
	var e Expr
	if strings.EqualFold(words[0], "not") {
		e.Negate = true
		words = words[1:]
		if len(words) == 0 {
			return Expr{}, invalid("%q: not what?", line)
		}
	}
	kw, args := strings.ToLower(words[0]), words[1:]
	switch kw {
	case "valid-user":
		e.Kind = ValidUser
	case "user":
		e.Kind = User
	case "group":
		e.Kind = Group
	case "method":
		e.Kind = Method
	case "ip":
		e.Kind = IP
	case "all":
		if len(args) != 1 {
			return Expr{}, invalid("%q: write all granted or all denied", line)
		}
		switch strings.ToLower(args[0]) {
		case "granted":
			e.Kind = AllGranted
		case "denied":
			e.Kind = AllDenied
		default:
			return Expr{}, invalid("%q: write all granted or all denied", line)
		}
		args = nil
	case "not":
		return Expr{}, invalid("%q: not twice", line)
	default:
		return Expr{}, invalid("%q: unknown Require type %q (want valid-user, user, group, ip, method or all)", line, words[0])
	}
	switch e.Kind {
	case User, Group, Method:
		e.Args = args
	case IP:
		for _, a := range args {
			p, err := parseNet(a)
			if err != nil {
				return Expr{}, err
			}
			e.Nets = append(e.Nets, p)
		}
	default:
		if len(args) > 0 {
			return Expr{}, invalid("%q: %s takes no arguments", line, e.Kind)
		}
	}
	if err := e.validate(1); err != nil {
		return Expr{}, err
	}
	return e, nil
}

// splitWords splits line into words at spaces and tabs, with quoting as
// ParseRequire describes. Control characters other than tab are refused.
func splitWords(line string) ([]string, error) {
	var words []string
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c < 0x20 || c == 0x7f:
			return nil, invalid("%q contains a control character", line)
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(line) {
				d := line[j]
				if d < 0x20 && d != '\t' || d == 0x7f {
					return nil, invalid("%q contains a control character", line)
				}
				if d == '\\' && j+1 < len(line) && (line[j+1] == c || line[j+1] == '\\') {
					b.WriteByte(line[j+1])
					j += 2
					continue
				}
				if d == c {
					closed = true
					j++
					break
				}
				b.WriteByte(d)
				j++
			}
			if !closed {
				return nil, invalid("%q: unterminated quote", line)
			}
			if j < len(line) && line[j] != ' ' && line[j] != '\t' {
				return nil, invalid("%q: text right after a closing quote", line)
			}
			words = append(words, b.String())
			i = j
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				if d := line[j]; d < 0x20 || d == 0x7f {
					return nil, invalid("%q contains a control character", line)
				}
				j++
			}
			words = append(words, line[i:j])
			i = j
		}
	}
	return words, nil
}

// quoteWord quotes a word for splitWords when it needs it.
func quoteWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t") && s[0] != '"' && s[0] != '\'' {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// parseNet parses one argument of "ip".
func parseNet(s string) (netip.Prefix, error) {
	bad := func(why string) (netip.Prefix, error) {
		return netip.Prefix{}, invalid("ip %q: %s", s, why)
	}
	if strings.Contains(s, "%") {
		return bad("zones are not allowed")
	}
	var p netip.Prefix
	if addr, mask, ok := strings.Cut(s, "/"); ok {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return bad("not an IP address")
		}
		bits, err := maskBits(a, mask)
		if err != nil {
			return bad(err.Error())
		}
		p = netip.PrefixFrom(a, bits)
	} else if a, err := netip.ParseAddr(s); err == nil {
		p = netip.PrefixFrom(a, a.BitLen())
	} else if q, ok := partialIPv4(s); ok {
		p = q
	} else {
		return bad("not an IP address or network (host names are not supported)")
	}
	if !p.IsValid() {
		return bad("invalid prefix length")
	}
	return unmapPrefix(p.Masked()), nil
}

// maskBits parses the part after "/": a prefix length or, for IPv4, a
// dotted netmask with contiguous ones.
func maskBits(a netip.Addr, mask string) (int, error) {
	if mask != "" && strings.Trim(mask, "0123456789") == "" {
		if len(mask) > 1 && mask[0] == '0' {
			return 0, errorString("leading zero in prefix length")
		}
		n, err := strconv.Atoi(mask)
		if err != nil || n > a.BitLen() {
			return 0, errorString("invalid prefix length")
		}
		return n, nil
	}
	m, err := netip.ParseAddr(mask)
	if err != nil || !a.Is4() || !m.Is4() {
		return 0, errorString("invalid netmask")
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for v&(1<<31) != 0 {
		ones++
		v <<= 1
	}
	if v != 0 {
		return 0, errorString("netmask is not contiguous")
	}
	return ones, nil
}

// partialIPv4 parses "10", "10.1", "10.1.2" (optionally with a trailing
// dot) as a /8, /16 or /24 network.
func partialIPv4(s string) (netip.Prefix, bool) {
	s = strings.TrimSuffix(s, ".")
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return netip.Prefix{}, false
	}
	var b [4]byte
	for i, part := range parts {
		if part == "" || len(part) > 3 || strings.Trim(part, "0123456789") != "" || len(part) > 1 && part[0] == '0' {
			return netip.Prefix{}, false
		}
		n, err := strconv.Atoi(part)
		if err != nil || n > 255 {
			return netip.Prefix{}, false
		}
		b[i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(parts)), true
}

type errorString string

func (e errorString) Error() string { return string(e) }
