package scheme

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
	"time"
)

// NonceKey mints and checks Digest server nonces that carry their own
// issue time and are authenticated with a server secret, as
// mod_auth_digest's are, so that no nonce needs to be stored to be
// checked:
//
//	nonce = base64url(time || random || HMAC-SHA256(key, time || random || realm || opaque))
//
// time is the issue instant in Unix nanoseconds (8 bytes, big-endian) and
// random 8 bytes, so that two nonces are never equal; the nonce is 64
// characters long. The realm and opaque are bound in, so that a nonce of
// one realm is not accepted in another. A NonceKey is safe for concurrent
// use.
type NonceKey struct {
	key  [32]byte
	macs sync.Pool
}

// Nonce layout.
const (
	nonceTimeLen = 8
	nonceRandLen = 8
	nonceMACLen  = sha256.Size
	nonceRawLen  = nonceTimeLen + nonceRandLen + nonceMACLen
	// NonceLen is the length of a nonce NonceKey mints.
	NonceLen = (nonceRawLen*8 + 5) / 6
)

// NonceClockSkew is how far in the future a nonce's issue time may be and
// still be accepted (clock steps; several nodes sharing a secret).
const NonceClockSkew = 5 * time.Second

// MinNonceSecret is the shortest secret NewNonceKey accepts.
const MinNonceSecret = 16

// NewNonceKey returns a key derived from secret, or a random one when
// secret is empty: nonces then do not survive a restart, which clients
// handle as stale nonces. Nodes that must accept each other's nonces share
// a secret of at least MinNonceSecret bytes.
func NewNonceKey(secret []byte) (*NonceKey, error) {
	k := &NonceKey{}
	switch {
	case len(secret) == 0:
		if _, err := rand.Read(k.key[:]); err != nil {
			return nil, err
		}
	case len(secret) < MinNonceSecret:
		return nil, errors.New("scheme: Digest nonce secret shorter than 16 bytes")
	default:
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("htgate digest nonce key v1"))
		m.Sum(k.key[:0])
	}
	k.macs.New = func() any { return hmac.New(sha256.New, k.key[:]) }
	return k, nil
}

// Mint returns a new nonce issued at now for realm and opaque.
func (k *NonceKey) Mint(now time.Time, realm, opaque string) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTimeLen], uint64(now.UnixNano()))
	_, _ = rand.Read(raw[nonceTimeLen : nonceTimeLen+nonceRandLen])
	k.mac(raw[nonceTimeLen+nonceRandLen:nonceTimeLen+nonceRandLen], raw[:nonceTimeLen+nonceRandLen], realm, opaque)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// NonceState is the verdict of NonceKey.Check.
type NonceState uint8

// Nonce states.
const (
	// NonceValid: minted by this key for this realm and opaque, not expired.
	NonceValid NonceState = iota
	// NonceMalformed: not something this key ever mints.
	NonceMalformed
	// NonceForged: well formed, but not minted by this key for this realm
	// and opaque (another realm's nonce, another secret, tampering).
	NonceForged
	// NonceExpired: minted by this key, but older than the lifetime (or
	// from further in the future than NonceClockSkew).
	NonceExpired
)

// String names the state for traces.
func (s NonceState) String() string {
	switch s {
	case NonceValid:
		return "valid"
	case NonceMalformed:
		return "malformed"
	case NonceForged:
		return "not issued for this realm"
	case NonceExpired:
		return "expired"
	}
	return "unknown"
}

// Check says whether nonce was minted by k for realm and opaque and is at
// most lifetime old at now (lifetime <= 0: it never expires), and returns
// its issue time when it was minted by k. The MAC is compared in constant
// time.
func (k *NonceKey) Check(nonce, realm, opaque string, now time.Time, lifetime time.Duration) (NonceState, time.Time) {
	if len(nonce) != NonceLen {
		return NonceMalformed, time.Time{}
	}
	var raw [nonceRawLen + 2]byte
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(nonce))
	if err != nil || n != nonceRawLen {
		return NonceMalformed, time.Time{}
	}
	var want [nonceMACLen]byte
	k.mac(want[:0], raw[:nonceTimeLen+nonceRandLen], realm, opaque)
	if subtle.ConstantTimeCompare(want[:], raw[nonceTimeLen+nonceRandLen:nonceRawLen]) != 1 {
		return NonceForged, time.Time{}
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:nonceTimeLen])))
	age := now.Sub(issued)
	if age < -NonceClockSkew || (lifetime > 0 && age > lifetime) {
		return NonceExpired, issued
	}
	return NonceValid, issued
}

// Opaque returns the opaque value of realm: constant for a realm and key,
// unguessable without the key, 22 characters.
func (k *NonceKey) Opaque(realm string) string {
	var sum [nonceMACLen]byte
	h := k.macs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte("htgate digest opaque v1\x00"))
	h.Write([]byte(realm))
	h.Sum(sum[:0])
	k.macs.Put(h)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// mac appends to dst the MAC of the nonce's time and random part, realm
// and opaque, each length-prefixed so that no two inputs collide.
func (k *NonceKey) mac(dst, head []byte, realm, opaque string) []byte {
	h := k.macs.Get().(hash.Hash)
	h.Reset()
	var n [4]byte
	h.Write([]byte("htgate digest nonce v1\x00"))
	h.Write(head)
	binary.BigEndian.PutUint32(n[:], uint32(len(realm)))
	h.Write(n[:])
	h.Write([]byte(realm))
	binary.BigEndian.PutUint32(n[:], uint32(len(opaque)))
	h.Write(n[:])
	h.Write([]byte(opaque))
	out := h.Sum(dst)
	k.macs.Put(h)
	return out
}
