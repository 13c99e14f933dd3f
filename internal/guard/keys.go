package guard

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
)

// KeyKind names what a count or ban is about.
type KeyKind string

// The three kinds of keys.
const (
	KeyClientUser KeyKind = "client+user" // one address (or IPv6 prefix) and one user name
	KeyClient     KeyKind = "client"      // one address (or IPv6 prefix), any user names
	KeyUser       KeyKind = "user"        // one user name, any addresses
)

// maxUserLen is the longest user name kept as it is in a state key;
// longer ones are replaced by a hash so that hostile names cannot grow the
// state.
const maxUserLen = 64

// unknownClient stands for a request without a client address (a Unix
// socket): all such requests share one client key.
const unknownClient = "-"

// keys holds the state keys of one request, built as one string so that a
// request costs one allocation:
//
//	c=<client>,u=<user>   the pair
//	c=<client>            the client (a prefix of the pair)
//	u=<user>              the user (a suffix of the pair)
//
// A user name longer than maxUserLen is written "u#" and a hash. The
// client part never holds a comma, so the first comma ends it.
type keys struct {
	all       string
	clientEnd int // all[:clientEnd] is the client key
	userStart int // all[userStart:] is the user key; 0 if there is no user
}

func (k keys) client() string { return k.all[:k.clientEnd] }
func (k keys) pair() string   { return k.all }
func (k keys) user() string   { return k.all[k.userStart:] }
func (k keys) hasUser() bool  { return k.userStart > 0 }

// clientName returns the client part of a key for addr.
func appendClient(b []byte, addr netip.Addr, v6Bits int) []byte {
	if !addr.IsValid() {
		return append(b, unknownClient...)
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() && v6Bits < 128 {
		p, err := addr.Prefix(v6Bits)
		if err == nil {
			return p.AppendTo(b)
		}
	}
	return addr.AppendTo(b)
}

// appendUser appends the user part of a key: "=name" or "#hash".
func appendUser(b []byte, user string) []byte {
	if len(user) <= maxUserLen {
		b = append(b, '=')
		return append(b, user...)
	}
	sum := sha256.Sum256([]byte(user))
	b = append(b, '#')
	return hex.AppendEncode(b, sum[:16])
}

// makeKeys returns the keys of a request from addr for user ("" for none).
func makeKeys(addr netip.Addr, user string, v6Bits int) keys {
	var buf [128]byte
	b := append(buf[:0], "c="...)
	b = appendClient(b, addr, v6Bits)
	k := keys{clientEnd: len(b)}
	if user != "" {
		b = append(b, ',')
		k.userStart = len(b)
		b = append(b, 'u')
		b = appendUser(b, user)
	}
	k.all = string(b)
	return k
}

// clientName returns how addr appears in keys and lockouts.
func clientName(addr netip.Addr, v6Bits int) string {
	var buf [64]byte
	return string(appendClient(buf[:0], addr, v6Bits))
}

// userName returns how user appears in keys and lockouts: itself, or
// "#" and a hash if it is too long.
func userName(user string) string {
	if len(user) <= maxUserLen {
		return user
	}
	b := appendUser(nil, user)
	return string(b)
}

// parseKey splits a state key into its kind, client and user parts (user
// as userName writes it). ok is false for a key the guard did not make.
func parseKey(key string) (kind KeyKind, client, user string, ok bool) {
	switch {
	case strings.HasPrefix(key, "c="):
		rest := key[2:]
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			return KeyClient, rest, "", rest != ""
		}
		client, u := rest[:i], rest[i+1:]
		user, ok := parseUser(u)
		return KeyClientUser, client, user, ok && client != ""
	case strings.HasPrefix(key, "u"):
		user, ok := parseUser(key)
		return KeyUser, "", user, ok
	}
	return "", "", "", false
}

// parseUser reads "u=name" or "u#hash".
func parseUser(s string) (string, bool) {
	switch {
	case strings.HasPrefix(s, "u="):
		return s[2:], true
	case strings.HasPrefix(s, "u#"):
		return s[1:], true
	}
	return "", false
}
