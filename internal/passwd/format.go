package passwd

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Format names a password hash format.
type Format string

// Hash formats. Identify returns every one of them except FormatPlain, which
// exists only so that Hash can write what `htpasswd -p` writes.
const (
	FormatBcrypt      Format = "bcrypt"      // $2y$, $2a$, $2b$ (Apache: htpasswd -B)
	FormatAPR1        Format = "apr1"        // $apr1$, Apache's MD5-crypt (htpasswd -m, the default)
	FormatMD5Crypt    Format = "md5crypt"    // $1$, FreeBSD MD5-crypt
	FormatSHA1        Format = "sha1"        // {SHA}, unsalted SHA-1 (htpasswd -s)
	FormatSHA256Crypt Format = "sha256crypt" // $5$, SHA-crypt (htpasswd -2)
	FormatSHA512Crypt Format = "sha512crypt" // $6$, SHA-crypt (htpasswd -5)
	FormatDES         Format = "des"         // 13-character traditional crypt(3) (htpasswd -d)
	FormatArgon2id    Format = "argon2id"    // $argon2id$v=19$..., PHC string format (htgate only)
	FormatPlain       Format = "plain"       // the password itself (htpasswd -p); never matches on Linux
	FormatUnknown     Format = "unknown"     // none of the above
)

// Errors returned by Check and Verify. Verify wraps them with details; test
// with errors.Is.
var (
	// ErrUnknownFormat means the hash is in no format this package reads.
	ErrUnknownFormat = errors.New("unrecognised hash format")
	// ErrMalformedHash means the hash claims a known format but does not
	// follow it (wrong length, bad alphabet, bad parameters).
	ErrMalformedHash = errors.New("malformed hash")
	// ErrCostLimit means the hash is well formed but its cost exceeds the
	// limits below, so verifying it would let one request pin a CPU or
	// exhaust memory.
	ErrCostLimit = errors.New("hash cost exceeds htgate's limit")
)

// Cost limits. A hash above them is refused (it never matches) rather than
// verified; each limit is far above what htpasswd writes by default.
const (
	MinBcryptCost         = 4               // bcrypt's own minimum
	MaxBcryptCost         = 17              // Apache's htpasswd -C accepts 4 to 17
	DefaultBcryptCost     = 10              // Hash's default (htpasswd's own default is 5)
	MinSHACryptRounds     = 1000            // SHA-crypt's minimum
	MaxSHACryptRounds     = 10_000_000      // a few seconds of CPU per verification
	DefaultSHACryptRounds = 5000            // SHA-crypt's implicit default
	MaxArgon2Memory       = 2 * 1024 * 1024 // KiB (2 GiB, RFC 9106's first recommendation)
	MaxArgon2Work         = 4 * 1024 * 1024 // memory in KiB times iterations
)

// HashOptions tunes Hash. The zero value gives the documented defaults.
type HashOptions struct {
	// BcryptCost is the bcrypt cost, MinBcryptCost to MaxBcryptCost.
	// Default: DefaultBcryptCost (10).
	BcryptCost int
	// SHACryptRounds is the SHA-crypt round count, MinSHACryptRounds to
	// MaxSHACryptRounds. Default: 0, which writes no "rounds=" field and
	// means 5000 rounds; any other value is written out, as htpasswd -r does.
	SHACryptRounds int
	// Argon2 are the argon2id parameters. Default: 64 MiB, 3 iterations,
	// 2 lanes (DefaultArgon2Memory, DefaultArgon2Time, DefaultArgon2Threads).
	Argon2 Argon2Params
}

// Identify names the format a hash claims by its prefix or shape. It does
// not check that the rest of the hash is well formed; Check does.
func Identify(hash string) Format {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return FormatBcrypt
	case strings.HasPrefix(hash, apr1Prefix):
		return FormatAPR1
	case strings.HasPrefix(hash, md5CryptPrefix):
		return FormatMD5Crypt
	case strings.HasPrefix(hash, sha1Prefix):
		return FormatSHA1
	case strings.HasPrefix(hash, sha256CryptPrefix):
		return FormatSHA256Crypt
	case strings.HasPrefix(hash, sha512CryptPrefix):
		return FormatSHA512Crypt
	case strings.HasPrefix(hash, argon2idPrefix):
		return FormatArgon2id
	case isDESShape(hash):
		return FormatDES
	}
	return FormatUnknown
}

// Check reports whether hash is a well-formed hash of a format this package
// verifies, within the cost limits. A nil result means Verify can match it.
func Check(hash string) error {
	_, err := parse(hash)
	return err
}

// Verify reports whether password matches hash. The comparison is constant
// time for the computed digest. The error is non-nil only when the hash is
// unknown, malformed or above the cost limits (wrapping ErrUnknownFormat,
// ErrMalformedHash or ErrCostLimit); such a hash never matches.
//
// As on Apache httpd for Linux, an entry in no recognised format is handed to
// crypt(3): here that means traditional DES when it has the 13-character
// shape, and no match otherwise (plaintext passwords never match).
func Verify(hash string, password []byte) (bool, error) {
	p, err := parse(hash)
	if err != nil {
		return false, err
	}
	return p.verify(password)
}

// Cost returns the format of hash and its cost: the bcrypt cost, the
// SHA-crypt rounds, 1000 for MD5-crypt, 25 for DES, 1 for {SHA} and memory
// (KiB) times iterations for argon2id. A hash that Check refuses has cost 0.
func Cost(hash string) (Format, int) {
	p, err := parse(hash)
	if err != nil {
		return Identify(hash), 0
	}
	return p.format(), p.cost()
}

// DummyHash returns a hash of a random password in the same format and with
// the same cost parameters as hash, so that verifying a password against it
// takes as long as verifying against hash. Gateways verify the password of an
// unknown user against it. For a hash that Check refuses it returns a bcrypt
// hash of cost DefaultBcryptCost.
func DummyHash(hash string) string {
	p, err := parse(hash)
	if err == nil {
		if d, err := p.dummy(randomPassword()); err == nil {
			return d
		}
	}
	d, err := hashBcrypt(randomPassword(), DefaultBcryptCost)
	if err != nil {
		// Only a broken crypto/rand gets here, and crypto/rand never
		// returns errors; a hash that matches nothing keeps us safe anyway.
		return "$2y$10$" + strings.Repeat(".", 53)
	}
	return d
}

// Hash hashes password in format f with random salts from crypto/rand.
// FormatUnknown is refused. Hash refuses costs that Verify would refuse.
//
// Truncations follow the algorithms (and Apache's htpasswd): bcrypt uses the
// first 72 bytes of the password and DES the low 7 bits of the first 8.
func Hash(f Format, password []byte, opts HashOptions) (string, error) {
	switch f {
	case FormatBcrypt:
		cost := opts.BcryptCost
		if cost == 0 {
			cost = DefaultBcryptCost
		}
		return hashBcrypt(password, cost)
	case FormatAPR1:
		return hashMD5Crypt(apr1Prefix, password, randomSalt(8))
	case FormatMD5Crypt:
		return hashMD5Crypt(md5CryptPrefix, password, randomSalt(8))
	case FormatSHA1:
		return hashSHA1(password), nil
	case FormatSHA256Crypt, FormatSHA512Crypt:
		return hashSHACrypt(f, password, randomSalt(16), opts.SHACryptRounds)
	case FormatDES:
		return hashDES(password, randomSalt(2))
	case FormatArgon2id:
		return hashArgon2id(password, opts.Argon2)
	case FormatPlain:
		return hashPlain(password)
	}
	return "", fmt.Errorf("hash %s: %w", f, ErrUnknownFormat)
}

// parsed is a hash split into its parameters by its format's parser.
type parsed interface {
	format() Format
	cost() int
	verify(password []byte) (bool, error)
	// dummy hashes password with the same parameters and a fresh salt.
	dummy(password []byte) (string, error)
}

// parse dispatches on Identify to the format's strict parser.
func parse(hash string) (parsed, error) {
	switch Identify(hash) {
	case FormatBcrypt:
		return parseBcrypt(hash)
	case FormatAPR1:
		return parseMD5Crypt(hash, apr1Prefix)
	case FormatMD5Crypt:
		return parseMD5Crypt(hash, md5CryptPrefix)
	case FormatSHA1:
		return parseSHA1(hash)
	case FormatSHA256Crypt:
		return parseSHACrypt(hash, FormatSHA256Crypt)
	case FormatSHA512Crypt:
		return parseSHACrypt(hash, FormatSHA512Crypt)
	case FormatArgon2id:
		return parseArgon2id(hash)
	case FormatDES:
		return parseDES(hash)
	}
	return nil, unknownFormatError(hash)
}

// unknownFormatError names crypt(3) formats that Apache on Linux would hand
// to the C library but htgate does not implement, so the message says more
// than "unknown".
func unknownFormatError(hash string) error {
	known := []struct{ prefix, name string }{
		{"$y$", "yescrypt"}, {"$gy$", "gost-yescrypt"}, {"$7$", "scrypt"},
		{"$2x$", "bcrypt $2x$ (crypt_blowfish bug compatibility)"},
		{"$2$", "original bcrypt $2$"}, {"$sha1$", "NetBSD sha1crypt"},
		{"$md5", "Sun MD5-crypt"}, {"$3$", "NT hash"}, {"_", "BSDi extended DES"},
		{"$argon2i$", "argon2i"}, {"$argon2d$", "argon2d"},
		{"{SSHA}", "salted SHA-1 {SSHA}"},
	}
	for _, k := range known {
		if strings.HasPrefix(hash, k.prefix) {
			return fmt.Errorf("%w: %s is not supported", ErrUnknownFormat, k.name)
		}
	}
	if strings.HasPrefix(hash, "$") {
		return fmt.Errorf("%w: no supported format starts like this", ErrUnknownFormat)
	}
	return fmt.Errorf("%w: not a hash (plaintext passwords never match on Linux, as in Apache)", ErrUnknownFormat)
}

// malformed wraps ErrMalformedHash with a detail.
func malformed(f Format, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedHash, f, fmt.Sprintf(format, args...))
}

// cryptAlphabet is the base-64 alphabet of crypt(3), in value order.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// cryptValue returns the 6-bit value of a crypt(3) base-64 character.
func cryptValue(c byte) (byte, bool) {
	switch {
	case c == '.' || c == '/':
		return c - '.', true
	case c >= '0' && c <= '9':
		return c - '0' + 2, true
	case c >= 'A' && c <= 'Z':
		return c - 'A' + 12, true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 38, true
	}
	return 0, false
}

// allCrypt64 reports whether every byte of s is in cryptAlphabet.
func allCrypt64(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := cryptValue(s[i]); !ok {
			return false
		}
	}
	return true
}

// randomSalt returns n random characters of cryptAlphabet.
func randomSalt(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	for i := range b {
		b[i] = cryptAlphabet[b[i]&63]
	}
	return string(b)
}

// randomPassword returns a random password for dummy hashes.
func randomPassword() []byte {
	b := make([]byte, 18)
	rand.Read(b)
	out := make([]byte, base64.RawURLEncoding.EncodedLen(len(b)))
	base64.RawURLEncoding.Encode(out, b)
	return out
}
