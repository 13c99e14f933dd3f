package passwd

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
)

// {SHA}: "{SHA}" and the padded standard base-64 of the unsalted SHA-1 of
// the password (htpasswd -s). Weak, read for compatibility.

const (
	sha1Prefix = "{SHA}"
	sha1B64Len = 28 // base64 of 20 bytes, with padding
)

type sha1Hash struct{ hash string }

func parseSHA1(hash string) (*sha1Hash, error) {
	b64 := hash[len(sha1Prefix):]
	if len(b64) != sha1B64Len {
		return nil, malformed(FormatSHA1, "digest must be %d base-64 characters", sha1B64Len)
	}
	if _, err := base64.StdEncoding.Strict().DecodeString(b64); err != nil {
		return nil, malformed(FormatSHA1, "digest is not base-64")
	}
	return &sha1Hash{hash: hash}, nil
}

func (h *sha1Hash) format() Format { return FormatSHA1 }
func (h *sha1Hash) cost() int      { return 1 }

func (h *sha1Hash) verify(password []byte) (bool, error) {
	got := hashSHA1(password)
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.hash)) == 1, nil
}

func (h *sha1Hash) dummy(password []byte) (string, error) { return hashSHA1(password), nil }

func hashSHA1(password []byte) string {
	sum := sha1.Sum(password)
	return sha1Prefix + base64.StdEncoding.EncodeToString(sum[:])
}
