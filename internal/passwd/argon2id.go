package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id in the PHC string format written by the reference implementation:
// "$argon2id$v=19$m=<KiB>,t=<iterations>,p=<threads>$<salt>$<hash>", salt
// and hash in standard base 64 without padding. Only version 19 (0x13), the
// one golang.org/x/crypto/argon2 implements, and no optional fields
// (keyid, data). Apache does not read argon2id; htgate writes it on request.

const argon2idPrefix = "$argon2id$"

// Argon2Params are argon2id cost parameters. Zero fields take the defaults
// DefaultArgon2Memory, DefaultArgon2Time and DefaultArgon2Threads.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8  // lanes
}

// Default argon2id parameters of Hash: 64 MiB, 3 iterations, 2 lanes.
const (
	DefaultArgon2Memory  = 64 * 1024 // KiB
	DefaultArgon2Time    = 3
	DefaultArgon2Threads = 2
)

const (
	argon2SaltLen    = 16
	argon2KeyLen     = 32
	argon2MinSaltLen = 8
	argon2MaxSaltLen = 64
	argon2MinKeyLen  = 16
	argon2MaxKeyLen  = 64
)

type argon2idHash struct {
	p    Argon2Params
	salt []byte
	key  []byte
}

func parseArgon2id(hash string) (*argon2idHash, error) {
	fields := strings.Split(hash[len(argon2idPrefix):], "$")
	if len(fields) != 4 {
		return nil, malformed(FormatArgon2id, "want v=, parameters, salt and hash fields")
	}
	if fields[0] != "v=19" {
		return nil, malformed(FormatArgon2id, "only version 19 is supported")
	}
	var p Argon2Params
	params := strings.Split(fields[1], ",")
	if len(params) != 3 {
		return nil, malformed(FormatArgon2id, "parameters must be m=,t=,p=")
	}
	m, okM := phcUint(params[0], "m=", 1<<32-1)
	t, okT := phcUint(params[1], "t=", 1<<32-1)
	l, okP := phcUint(params[2], "p=", 255)
	if !okM || !okT || !okP || t < 1 || l < 1 || m < 8*l {
		return nil, malformed(FormatArgon2id, "parameters must be m=,t=,p= with t >= 1, 1 <= p <= 255, m >= 8p")
	}
	p.Memory, p.Time, p.Threads = uint32(m), uint32(t), uint8(l)
	salt, err := base64.RawStdEncoding.Strict().DecodeString(fields[2])
	if err != nil || len(salt) < argon2MinSaltLen || len(salt) > argon2MaxSaltLen {
		return nil, malformed(FormatArgon2id, "salt must be %d to %d bytes of unpadded base 64", argon2MinSaltLen, argon2MaxSaltLen)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(fields[3])
	if err != nil || len(key) < argon2MinKeyLen || len(key) > argon2MaxKeyLen {
		return nil, malformed(FormatArgon2id, "hash must be %d to %d bytes of unpadded base 64", argon2MinKeyLen, argon2MaxKeyLen)
	}
	if err := checkArgon2Limits(p); err != nil {
		return nil, err
	}
	return &argon2idHash{p: p, salt: salt, key: key}, nil
}

// phcUint parses "name=digits" without sign or leading zeros, at most max.
func phcUint(s, name string, max uint64) (uint64, bool) {
	num, ok := strings.CutPrefix(s, name)
	if !ok || num == "" || len(num) > 10 || (num[0] == '0' && len(num) > 1) {
		return 0, false
	}
	for i := 0; i < len(num); i++ {
		if !isDigit(num[i]) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

func checkArgon2Limits(p Argon2Params) error {
	if p.Memory > MaxArgon2Memory || uint64(p.Memory)*uint64(p.Time) > MaxArgon2Work {
		return fmt.Errorf("%w: argon2id m=%d,t=%d is above m=%d and m*t=%d", ErrCostLimit, p.Memory, p.Time, MaxArgon2Memory, MaxArgon2Work)
	}
	return nil
}

func (h *argon2idHash) format() Format { return FormatArgon2id }
func (h *argon2idHash) cost() int      { return int(h.p.Memory) * int(h.p.Time) }

func (h *argon2idHash) verify(password []byte) (bool, error) {
	got := argon2.IDKey(password, h.salt, h.p.Time, h.p.Memory, h.p.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

func (h *argon2idHash) dummy(password []byte) (string, error) {
	return encodeArgon2id(password, h.p, len(h.salt), len(h.key)), nil
}

// hashArgon2id hashes with p (zero fields take the defaults).
func hashArgon2id(password []byte, p Argon2Params) (string, error) {
	if p.Memory == 0 {
		p.Memory = DefaultArgon2Memory
	}
	if p.Time == 0 {
		p.Time = DefaultArgon2Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultArgon2Threads
	}
	if p.Memory < 8*uint32(p.Threads) {
		return "", fmt.Errorf("argon2id: memory %d KiB is below 8 KiB per thread", p.Memory)
	}
	if err := checkArgon2Limits(p); err != nil {
		return "", err
	}
	return encodeArgon2id(password, p, argon2SaltLen, argon2KeyLen), nil
}

func encodeArgon2id(password []byte, p Argon2Params, saltLen, keyLen int) string {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, uint32(keyLen))
	return fmt.Sprintf("%sv=19$m=%d,t=%d,p=%d$%s$%s", argon2idPrefix, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}
