package passwd

import (
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"

	"github.com/GehirnInc/crypt/sha256_crypt"
	"github.com/GehirnInc/crypt/sha512_crypt"
)

// SHA-crypt (Ulrich Drepper's $5$ and $6$, htpasswd -2 and -5):
// prefix, an optional "rounds=N$" (1000 to 999999999, default 5000), up to
// 16 salt characters, "$", and 43 ($5$) or 86 ($6$) hash characters. The
// digest comes from github.com/GehirnInc/crypt; this file parses strictly and
// hands it only a canonical "prefix[rounds=N$]salt" string, because that
// package mis-reads the salt of a full hash that has a rounds field.
//
// Like libxcrypt (Debian's crypt(3)), a rounds value out of range or written
// non-canonically (leading zeros) is malformed; glibc would clamp it and then
// produce a different string, so it could never match either.

const (
	sha256CryptPrefix = "$5$"
	sha512CryptPrefix = "$6$"
	shaCryptMaxSalt   = 16
	shaCryptMaxRounds = 999_999_999
	roundsField       = "rounds="
)

type shaCryptHash struct {
	hash   string
	f      Format
	rounds int // 0: no rounds field (5000)
	salt   string
}

func shaCryptSumLen(f Format) int {
	if f == FormatSHA256Crypt {
		return 43
	}
	return 86
}

func shaCryptPrefix(f Format) string {
	if f == FormatSHA256Crypt {
		return sha256CryptPrefix
	}
	return sha512CryptPrefix
}

func parseSHACrypt(hash string, f Format) (*shaCryptHash, error) {
	rest := hash[len(shaCryptPrefix(f)):]
	h := &shaCryptHash{hash: hash, f: f}
	if strings.HasPrefix(rest, roundsField) {
		num, after, ok := strings.Cut(rest[len(roundsField):], "$")
		if !ok || num == "" || len(num) > 9 || num[0] == '0' {
			return nil, malformed(f, "rounds must be a number from %d to %d", MinSHACryptRounds, shaCryptMaxRounds)
		}
		for i := 0; i < len(num); i++ {
			if !isDigit(num[i]) {
				return nil, malformed(f, "rounds must be a number from %d to %d", MinSHACryptRounds, shaCryptMaxRounds)
			}
		}
		n, _ := strconv.Atoi(num) // at most 9 digits: cannot fail
		if n < MinSHACryptRounds {
			return nil, malformed(f, "rounds %d below %d", n, MinSHACryptRounds)
		}
		h.rounds = n
		rest = after
	}
	salt, sum, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, malformed(f, "missing '$' after the salt")
	}
	if len(salt) > shaCryptMaxSalt {
		return nil, malformed(f, "salt longer than %d characters", shaCryptMaxSalt)
	}
	if !validSalt(salt) {
		return nil, malformed(f, "invalid character in salt")
	}
	if n := shaCryptSumLen(f); len(sum) != n || !allCrypt64(sum) {
		return nil, malformed(f, "hash must be %d characters of the crypt alphabet", n)
	}
	h.salt = salt
	if h.rounds > MaxSHACryptRounds {
		return nil, fmt.Errorf("%w: %s rounds %d is above %d", ErrCostLimit, f, h.rounds, MaxSHACryptRounds)
	}
	return h, nil
}

func (h *shaCryptHash) format() Format { return h.f }

func (h *shaCryptHash) cost() int {
	if h.rounds == 0 {
		return DefaultSHACryptRounds
	}
	return h.rounds
}

func (h *shaCryptHash) verify(password []byte) (bool, error) {
	got, err := computeSHACrypt(h.f, password, h.salt, h.rounds)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.hash)) == 1, nil
}

func (h *shaCryptHash) dummy(password []byte) (string, error) {
	return computeSHACrypt(h.f, password, randomSalt(len(h.salt)), h.rounds)
}

// hashSHACrypt hashes with a fresh salt; rounds 0 means the implicit 5000.
func hashSHACrypt(f Format, password []byte, salt string, rounds int) (string, error) {
	if rounds != 0 && (rounds < MinSHACryptRounds || rounds > MaxSHACryptRounds) {
		return "", fmt.Errorf("%s rounds %d: must be %d to %d", f, rounds, MinSHACryptRounds, MaxSHACryptRounds)
	}
	return computeSHACrypt(f, password, salt, rounds)
}

func computeSHACrypt(f Format, password []byte, salt string, rounds int) (string, error) {
	setting := shaCryptPrefix(f)
	if rounds != 0 {
		setting += roundsField + strconv.Itoa(rounds) + "$"
	}
	setting += salt
	c := sha512_crypt.New()
	if f == FormatSHA256Crypt {
		c = sha256_crypt.New()
	}
	out, err := c.Generate(password, []byte(setting))
	if err != nil {
		return "", fmt.Errorf("%s: %w", f, err)
	}
	return out, nil
}
