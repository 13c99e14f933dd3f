package gateway

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// How ClientIP.Resolve decided the client address (its via result).
const (
	ViaPeer          = "peer"            // the connection's peer address
	ViaXForwardedFor = "x-forwarded-for" // an X-Forwarded-For entry added by a trusted proxy
	ViaForwarded     = "forwarded"       // a Forwarded (RFC 7239) for= parameter added by a trusted proxy
)

// ClientIP decides the client address of a request (step 2 of DESIGN §2):
// the connection's peer, or, when the peer is a trusted proxy, the address
// that proxy saw, read from Forwarded or X-Forwarded-For.
//
// Security: a client can put anything into these headers. Only entries
// appended by trusted proxies count, so the headers are read from right to
// left, skipping trusted hops, and the first untrusted address wins; the
// walk stops at anything that is not an address. When the trusted proxies
// write only one of the two headers, set Header to it: otherwise a client
// could send the other header, which the proxy passes on untouched, and
// choose its own address.
type ClientIP struct {
	// Trusted lists the proxies whose forwarding headers are believed.
	// Empty (the default) trusts nobody: the client is always the peer.
	Trusted []netip.Prefix
	// Header is the header the trusted proxies write: "Forwarded" or
	// "X-Forwarded-For" (in any letter case). Empty (the default) reads
	// Forwarded when the request has one, else X-Forwarded-For. Any other
	// value reads no header: the client is the peer.
	Header string
}

// Resolve returns the client address of r and how it was decided (ViaPeer,
// ViaXForwardedFor or ViaForwarded, for the trace). The peer address comes
// from r.RemoteAddr, with IPv4-mapped IPv6 addresses unmapped and any zone
// removed; it is the zero netip.Addr when RemoteAddr holds no IP address
// (a Unix socket). Addresses from headers are normalised the same way.
//
// Only when the peer is inside a Trusted prefix are the forwarding headers
// read: from the rightmost entry leftwards, trusted hops are skipped and
// the first untrusted address is returned; if every entry is trusted, the
// leftmost one. An entry that is not an address (garbage, "unknown", an
// obfuscated "_name", a Forwarded element without for=) stops the walk, and
// the last address accepted before it (or the peer) is returned. So the
// client can be a trusted proxy itself: keep proxies' addresses out of
// IP-based allow rules.
func (c ClientIP) Resolve(r *http.Request) (client netip.Addr, via string) {
	peer := parsePeer(r.RemoteAddr)
	if !peer.IsValid() || !c.trusted(peer) {
		return peer, ViaPeer
	}
	fwd := r.Header.Values("Forwarded")
	var useFwd bool
	switch {
	case c.Header == "":
		useFwd = hasContent(fwd)
	case strings.EqualFold(c.Header, "Forwarded"):
		useFwd = true
	case strings.EqualFold(c.Header, "X-Forwarded-For"):
		useFwd = false
	default:
		return peer, ViaPeer
	}
	var w walk
	w.c, w.last = c, peer
	if useFwd {
		for i := len(fwd) - 1; i >= 0 && !w.done; i-- {
			walkForwarded(&w, fwd[i])
		}
		return w.result(ViaForwarded)
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0 && !w.done; i-- {
		walkXFF(&w, xff[i])
	}
	return w.result(ViaXForwardedFor)
}

// trusted reports whether a is inside one of c.Trusted.
func (c ClientIP) trusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// walk is the state of a right-to-left walk over forwarding entries.
type walk struct {
	c     ClientIP
	last  netip.Addr // the last accepted address (the peer to begin with)
	moved bool       // last came from a header
	done  bool       // an untrusted address or garbage ended the walk
}

// hop takes the next entry to the left; ok is false for garbage.
func (w *walk) hop(a netip.Addr, ok bool) {
	if !ok {
		w.done = true
		return
	}
	w.last, w.moved = a, true
	if !w.c.trusted(a) {
		w.done = true
	}
}

func (w *walk) result(via string) (netip.Addr, string) {
	if !w.moved {
		return w.last, ViaPeer
	}
	return w.last, via
}

// walkXFF walks one X-Forwarded-For field line from right to left.
func walkXFF(w *walk, line string) {
	for !w.done {
		i := strings.LastIndexByte(line, ',')
		entry := trimOWS(line[i+1:])
		if entry != "" { // empty list elements carry nothing
			w.hop(parseNode(entry))
		}
		if i < 0 {
			return
		}
		line = line[:i]
	}
}

// walkForwarded walks one Forwarded field line (RFC 7239) from right to
// left, one element at a time.
//
// Elements are split at every comma, quoted or not: a trusted proxy's own
// element never has a comma inside quotes, and an unbalanced quote that a
// client sends on the left must not swallow the elements the proxies
// appended on its right.
func walkForwarded(w *walk, line string) {
	for !w.done {
		i := strings.LastIndexByte(line, ',')
		if elem := trimOWS(line[i+1:]); elem != "" { // empty list elements carry nothing
			node, ok := forwardedFor(elem)
			if ok {
				w.hop(parseNode(node))
			} else {
				w.hop(netip.Addr{}, false)
			}
		}
		if i < 0 {
			return
		}
		line = line[:i]
	}
}

// forwardedFor returns the for= value of one Forwarded element
// ("for=192.0.2.1;proto=https"). ok is false when the element is not valid
// RFC 7239 syntax, has no for= or has it twice.
//
// Unquoted values are accepted with ":" "[" "]" in them, since some
// proxies forget to quote IPv6 addresses.
func forwardedFor(elem string) (node string, ok bool) {
	found := false
	for elem != "" {
		pair := elem
		if i := strings.IndexByte(elem, ';'); i >= 0 {
			pair, elem = elem[:i], elem[i+1:]
		} else {
			elem = ""
		}
		pair = trimOWS(pair)
		if pair == "" {
			continue
		}
		n := tokenLen(pair)
		if n == 0 || n >= len(pair) || pair[n] != '=' {
			return "", false
		}
		name, val := pair[:n], pair[n+1:]
		if val != "" && val[0] == '"' {
			v, rest, ok := unquote(val)
			if !ok || rest != "" {
				return "", false
			}
			val = v
		} else if val == "" || valueLen(val) != len(val) {
			return "", false
		}
		if strings.EqualFold(name, "for") {
			if found { // a parameter occurs at most once per element
				return "", false
			}
			node, found = val, true
		}
	}
	return node, found
}

// parseNode parses one X-Forwarded-For entry or Forwarded for= value:
// an IPv4 address, an IPv6 address (bracketed or not), either with an
// optional port. "unknown", obfuscated identifiers ("_hidden") and
// anything else are not addresses.
func parseNode(s string) (netip.Addr, bool) {
	switch {
	case s == "":
		return netip.Addr{}, false
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 || (end+1 < len(s) && !validPort(s[end+1:])) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
		return a.Unmap().WithZone(""), true
	case strings.Count(s, ":") == 1:
		// IPv4 with a port.
		i := strings.IndexByte(s, ':')
		if !validPort(s[i:]) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s[:i])
		if err != nil || !a.Is4() {
			return netip.Addr{}, false
		}
		return a, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// validPort reports whether s is ":" followed by a port number or an
// obfuscated port ("_abc").
func validPort(s string) bool {
	if len(s) < 2 || s[0] != ':' {
		return false
	}
	s = s[1:]
	if s[0] == '_' {
		for i := 1; i < len(s); i++ {
			if !isObfChar(s[i]) {
				return false
			}
		}
		return true
	}
	if len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

func isObfChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// parsePeer parses r.RemoteAddr ("ip:port", or a bare IP).
func parsePeer(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// ParseTrusted parses a list of trusted proxies: addresses ("127.0.0.1",
// "::1") and CIDR prefixes ("10.0.0.0/8", "fd00::/8"). An IPv4-mapped IPv6
// address or prefix is turned into its IPv4 form, since Resolve unmaps
// addresses before comparing.
func ParseTrusted(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			p, err = netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %d: %w", i+1, err)
			}
			if a := p.Addr(); a.Is4In6() {
				if p.Bits() < 96 {
					return nil, fmt.Errorf("trusted proxy %d: IPv4-mapped prefix %s is shorter than /96", i+1, p)
				}
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			if a := p.Addr(); a.Zone() != "" {
				return nil, fmt.Errorf("trusted proxy %d: prefix %s has a zone", i+1, p)
			}
			p = p.Masked()
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %d: %w", i+1, err)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("trusted proxy %d: address %s has a zone", i+1, a)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}

// hasContent reports whether any of the field lines is not blank.
func hasContent(lines []string) bool {
	for _, l := range lines {
		if trimOWS(l) != "" {
			return true
		}
	}
	return false
}

// tokenLen returns the length of the RFC 9110 token at the start of s.
func tokenLen(s string) int {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return i
		}
	}
	return len(s)
}

// valueLen returns the length of an unquoted Forwarded value at the start
// of s: a token, or (leniently) an unquoted IPv6 address or [v6]:port.
func valueLen(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isTokenChar(c) && c != ':' && c != '[' && c != ']' {
			return i
		}
	}
	return len(s)
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// unquote reads the quoted-string at the start of s (which starts with a
// double quote), returning its value and the rest of s.
func unquote(s string) (val, rest string, ok bool) {
	escaped := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			escaped = true
			i++
			if i >= len(s) {
				return "", "", false
			}
		case c == '"':
			val = s[1:i]
			if escaped {
				var b strings.Builder
				for j := 1; j < i; j++ {
					if s[j] == '\\' {
						j++
					}
					b.WriteByte(s[j])
				}
				val = b.String()
			}
			return val, s[i+1:], true
		case c < 0x20 && c != '\t', c == 0x7f:
			return "", "", false
		}
	}
	return "", "", false
}

// trimOWS removes spaces and tabs around s.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
