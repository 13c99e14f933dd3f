package passwd

import (
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/GehirnInc/crypt/apr1_crypt"
	"github.com/GehirnInc/crypt/md5_crypt"
)

// MD5-crypt (Poul-Henning Kamp's "$1$") and Apache's variant "$apr1$",
// which differs only in the magic string: prefix, up to 8 salt characters,
// "$", 22 hash characters, 1000 MD5 rounds. The digest comes from
// github.com/GehirnInc/crypt; this file parses strictly and hands it a
// canonical "prefix+salt" string only, because that package's own parsing
// of a full hash is lax.

const (
	apr1Prefix      = "$apr1$"
	md5CryptPrefix  = "$1$"
	md5CryptRounds  = 1000
	md5CryptMaxSalt = 8
	md5CryptSumLen  = 22
)

type md5CryptHash struct {
	hash   string
	prefix string
	salt   string
}

func parseMD5Crypt(hash, prefix string) (*md5CryptHash, error) {
	f := md5Format(prefix)
	rest := hash[len(prefix):]
	salt, sum, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, malformed(f, "missing '$' after the salt")
	}
	if len(salt) > md5CryptMaxSalt {
		return nil, malformed(f, "salt longer than %d characters", md5CryptMaxSalt)
	}
	if !validSalt(salt) {
		return nil, malformed(f, "invalid character in salt")
	}
	if len(sum) != md5CryptSumLen || !allCrypt64(sum) {
		return nil, malformed(f, "hash must be %d characters of the crypt alphabet", md5CryptSumLen)
	}
	return &md5CryptHash{hash: hash, prefix: prefix, salt: salt}, nil
}

func md5Format(prefix string) Format {
	if prefix == apr1Prefix {
		return FormatAPR1
	}
	return FormatMD5Crypt
}

func (h *md5CryptHash) format() Format { return md5Format(h.prefix) }
func (h *md5CryptHash) cost() int      { return md5CryptRounds }

func (h *md5CryptHash) verify(password []byte) (bool, error) {
	got, err := hashMD5Crypt(h.prefix, password, h.salt)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.hash)) == 1, nil
}

func (h *md5CryptHash) dummy(password []byte) (string, error) {
	return hashMD5Crypt(h.prefix, password, randomSalt(len(h.salt)))
}

// hashMD5Crypt computes prefix+salt+"$"+digest. The salt must not contain
// '$' and is at most 8 characters.
func hashMD5Crypt(prefix string, password []byte, salt string) (string, error) {
	c := md5_crypt.New()
	if prefix == apr1Prefix {
		c = apr1_crypt.New()
	}
	out, err := c.Generate(password, []byte(prefix+salt))
	if err != nil {
		return "", fmt.Errorf("%s: %w", md5Format(prefix), err)
	}
	return out, nil
}

// validSalt reports whether a salt is printable ASCII without '$' or ':'
// (crypt(3) stops a salt at '$'; ':' would end an htpasswd field).
func validSalt(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '$' || c == ':' {
			return false
		}
	}
	return true
}
