package probe

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/htgate/htgate"
)

// digestAlgorithm is one algorithm of RFC 7616 §3.2.
type digestAlgorithm struct {
	name     string // canonical spelling without "-sess"
	strength int
	newHash  func() hash.Hash
}

var errDigestUnsupported = errors.New("unsupported Digest challenge")

// lookupDigestAlgorithm resolves an algorithm parameter ("" means MD5).
func lookupDigestAlgorithm(name string) (alg digestAlgorithm, sess bool, ok bool) {
	n := strings.ToUpper(name)
	if base, found := strings.CutSuffix(n, "-SESS"); found {
		n, sess = base, true
	}
	switch n {
	case "", "MD5":
		return digestAlgorithm{"MD5", 1, md5.New}, sess, true
	case "SHA-256":
		return digestAlgorithm{"SHA-256", 2, sha256.New}, sess, true
	case "SHA-512-256":
		return digestAlgorithm{"SHA-512-256", 3, sha512.New512_256}, sess, true
	}
	return digestAlgorithm{}, false, false
}

// isMD5Digest reports whether a Digest challenge uses MD5 (the default).
func isMD5Digest(c Challenge) bool {
	a, _ := c.Param("algorithm")
	alg, _, ok := lookupDigestAlgorithm(a)
	return ok && alg.name == "MD5"
}

// digestQop picks the qop to answer with: "auth" if offered, else
// "auth-int" (the probe sends no body, so its hash is the empty body's),
// else "" for an RFC 2069 challenge without qop. ok is false when qop
// lists only values the probe does not know.
func digestQop(c Challenge) (qop string, ok bool) {
	v, present := c.Param("qop")
	if !present {
		return "", true
	}
	hasInt := false
	for _, q := range strings.Split(v, ",") {
		switch strings.ToLower(strings.TrimSpace(q)) {
		case "auth":
			return "auth", true
		case "auth-int":
			hasInt = true
		}
	}
	if hasInt {
		return "auth-int", true
	}
	return "", false
}

// pickDigest returns the strongest Digest challenge the probe can answer.
func pickDigest(cs []Challenge) (Challenge, bool) {
	var best Challenge
	bestStrength := 0
	for _, c := range cs {
		if !c.Is("Digest") {
			continue
		}
		if n, _ := c.Param("nonce"); n == "" {
			continue
		}
		a, _ := c.Param("algorithm")
		alg, _, ok := lookupDigestAlgorithm(a)
		if !ok {
			continue
		}
		if _, ok := digestQop(c); !ok {
			continue
		}
		if alg.strength > bestStrength {
			best, bestStrength = c, alg.strength
		}
	}
	return best, bestStrength > 0
}

// newCnonce returns a fresh client nonce.
func newCnonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make Digest cnonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// digestAuthorization computes the Authorization header value that answers
// the Digest challenge c for a request (RFC 7616 §3.4).
func digestAuthorization(c Challenge, method, uri, user, password, cnonce string, nc uint32) (string, error) {
	algParam, hasAlg := c.Param("algorithm")
	alg, sess, ok := lookupDigestAlgorithm(algParam)
	if !ok {
		return "", fmt.Errorf("%w: algorithm %q", errDigestUnsupported, algParam)
	}
	qop, ok := digestQop(c)
	if !ok {
		return "", fmt.Errorf("%w: qop %q", errDigestUnsupported, mustParam(c, "qop"))
	}
	realm, _ := c.Param("realm")
	nonce, _ := c.Param("nonce")
	h := func(s string) string {
		d := alg.newHash()
		d.Write([]byte(s))
		return hex.EncodeToString(d.Sum(nil))
	}
	ha1 := h(user + ":" + realm + ":" + password)
	if sess {
		ha1 = h(ha1 + ":" + nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	if qop == "auth-int" {
		ha2 = h(method + ":" + uri + ":" + h(""))
	}
	ncs := fmt.Sprintf("%08x", nc)
	var response string
	if qop == "" {
		response = h(ha1 + ":" + nonce + ":" + ha2)
	} else {
		response = h(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":" + qop + ":" + ha2)
	}

	var b strings.Builder
	b.WriteString("Digest ")
	userhash := false
	if v, _ := c.Param("userhash"); strings.EqualFold(v, "true") {
		userhash = true
		b.WriteString("username=" + htgate.QuoteString(h(user+":"+realm)))
	} else if needsExtValue(user) {
		b.WriteString("username*=UTF-8''" + extValue(user))
	} else {
		b.WriteString("username=" + htgate.QuoteString(user))
	}
	b.WriteString(", realm=" + htgate.QuoteString(realm))
	b.WriteString(", nonce=" + htgate.QuoteString(nonce))
	b.WriteString(", uri=" + htgate.QuoteString(uri))
	if hasAlg {
		b.WriteString(", algorithm=" + algParam)
	}
	b.WriteString(", response=" + htgate.QuoteString(response))
	if qop != "" {
		b.WriteString(", qop=" + qop + ", nc=" + ncs + ", cnonce=" + htgate.QuoteString(cnonce))
	}
	if opaque, ok := c.Param("opaque"); ok {
		b.WriteString(", opaque=" + htgate.QuoteString(opaque))
	}
	if userhash {
		b.WriteString(", userhash=true")
	}
	return b.String(), nil
}

// needsExtValue reports whether a user name cannot travel in a plain
// quoted-string (RFC 7616 §3.4.4): non-ASCII or control characters.
func needsExtValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return true
		}
	}
	return false
}

// extValue percent-encodes s as the value-chars of an RFC 8187 ext-value.
func extValue(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func mustParam(c Challenge, name string) string {
	v, _ := c.Param(name)
	return v
}
