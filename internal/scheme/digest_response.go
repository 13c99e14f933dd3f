package scheme

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"strings"
)

// DigestAlgorithm is one of the Digest algorithms of RFC 7616 §6.1 that
// htgate implements. The zero value is no algorithm.
type DigestAlgorithm uint8

// Digest algorithms.
const (
	DigestMD5        DigestAlgorithm = iota + 1 // MD5, what Apache's mod_auth_digest speaks
	DigestMD5Sess                               // MD5-sess
	DigestSHA256                                // SHA-256
	DigestSHA256Sess                            // SHA-256-sess
)

var digestAlgorithmNames = [...]string{"", "MD5", "MD5-sess", "SHA-256", "SHA-256-sess"}

// ParseDigestAlgorithm returns the algorithm named by an algorithm
// parameter, compared case-insensitively; "" (no parameter) means MD5.
// ok is false for an algorithm htgate does not implement (SHA-512-256
// among them).
func ParseDigestAlgorithm(name string) (DigestAlgorithm, bool) {
	if name == "" {
		return DigestMD5, true
	}
	for a := DigestMD5; a <= DigestSHA256Sess; a++ {
		if strings.EqualFold(name, digestAlgorithmNames[a]) {
			return a, true
		}
	}
	return 0, false
}

// String returns the algorithm's canonical name, e.g. "SHA-256-sess".
func (a DigestAlgorithm) String() string {
	if int(a) < len(digestAlgorithmNames) {
		return digestAlgorithmNames[a]
	}
	return ""
}

// Sess reports whether a is a session variant (-sess).
func (a DigestAlgorithm) Sess() bool { return a == DigestMD5Sess || a == DigestSHA256Sess }

// Base returns the hash the algorithm is built on: MD5 or SHA-256. It is
// also the algorithm whose H(user ":" realm ":" password) the credential
// source stores.
func (a DigestAlgorithm) Base() DigestAlgorithm {
	switch a {
	case DigestMD5Sess:
		return DigestMD5
	case DigestSHA256Sess:
		return DigestSHA256
	}
	return a
}

// HexLen is the length of the algorithm's digests in hex: 32 for MD5, 64
// for SHA-256.
func (a DigestAlgorithm) HexLen() int {
	if a.Base() == DigestSHA256 {
		return 2 * sha256.Size
	}
	return 2 * md5.Size
}

func (a DigestAlgorithm) newHash() hash.Hash {
	if a.Base() == DigestSHA256 {
		return sha256.New()
	}
	return md5.New()
}

// H returns the lower-case hex digest of the parts joined by ':', the
// H(data) and KD(secret, data) of RFC 7616 §3.4.1.
func (a DigestAlgorithm) H(parts ...string) string {
	h := a.newHash()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// DigestResponse returns the request-digest (RFC 7616 §3.4.1, or RFC 2069
// §2.1.2 when c has no qop) that c must carry for a request with method,
// computed with alg from ha1, the user's H(username ":" realm ":" password)
// in lower-case hex with alg.Base(). For a -sess algorithm the session key
// H(ha1 ":" nonce ":" cnonce) is derived first. The uri is c.URI, as the
// client hashed it. qop=auth-int is not supported: its A2 needs the body.
func DigestResponse(c *DigestCredentials, alg DigestAlgorithm, ha1, method string) string {
	if alg.Sess() {
		ha1 = alg.H(ha1, c.Nonce, c.Cnonce)
	}
	ha2 := alg.H(method, c.URI)
	if c.Qop == "" {
		return alg.H(ha1, c.Nonce, ha2)
	}
	return alg.H(ha1, c.Nonce, c.NC, c.Cnonce, c.Qop, ha2)
}

// VerifyDigest reports whether c carries the request-digest DigestResponse
// computes, compared in constant time. The hex must be lower-case, as RFC
// 7616 writes it and Apache compares it.
func VerifyDigest(c *DigestCredentials, alg DigestAlgorithm, ha1, method string) bool {
	want := DigestResponse(c, alg, ha1, method)
	return subtle.ConstantTimeCompare([]byte(want), []byte(c.Response)) == 1
}
