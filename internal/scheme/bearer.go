package scheme

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"math/big"

	"github.com/htgate/htgate"
)

// ErrNotBearer means the credentials are not of the Bearer scheme.
var ErrNotBearer = errors.New("scheme: not Bearer credentials")

// ParseBearer parses an Authorization value of the Bearer scheme (RFC 6750
// §2.1): the scheme name, case-insensitive, one or more SP or HTAB, and a
// b64token — 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
// Anything else (auth-params, a second token, a bare "=") is a
// *MalformedError; the error never quotes the token.
func ParseBearer(header string) (token string, err error) {
	name, rest := ParseAuthorization(header)
	if name != Bearer {
		return "", ErrNotBearer
	}
	if rest == "" {
		return "", &MalformedError{Scheme: Bearer, Detail: "no token"}
	}
	if !isB64token(rest) {
		return "", &MalformedError{Scheme: Bearer, Detail: "token is not a b64token"}
	}
	return rest, nil
}

// isB64token reports whether s is a b64token of RFC 6750 §2.1.
func isB64token(s string) bool {
	i := 0
	for i < len(s) && isB64tokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

func isB64tokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '+', '/':
		return true
	}
	return false
}

// Bearer error codes of RFC 6750 §3.1.
const (
	BearerInvalidRequest    = "invalid_request"
	BearerInvalidToken      = "invalid_token"
	BearerInsufficientScope = "insufficient_scope"
)

// BearerChallenge returns the Bearer challenge of RFC 6750 §3: realm, and
// when code is not empty the error code, its description and (for
// insufficient_scope) the scope the resource needs.
func BearerChallenge(realm, code, description, scope string) htgate.Challenge {
	c := htgate.Challenge{Scheme: "Bearer", Params: []htgate.Param{{Name: "realm", Value: realm}}}
	if code == "" {
		return c
	}
	c.Params = append(c.Params, htgate.Param{Name: "error", Value: code})
	if description != "" {
		c.Params = append(c.Params, htgate.Param{Name: "error_description", Value: description})
	}
	if scope != "" {
		c.Params = append(c.Params, htgate.Param{Name: "scope", Value: scope})
	}
	return c
}

// Tokens that htgate issues for protected URLs look like
//
//	htg_<43 base62 digits: 256 random bits><6 base62 digits: CRC-32 of them>
//
// The prefix makes them recognisable (secret scanners, logs); the checksum
// catches a mistyped token before any lookup.
const (
	TokenPrefix    = "htg_"
	tokenRandomLen = 43 // 62^43 > 2^256
	tokenSumLen    = 6  // 62^6 > 2^32
	// TokenLen is the length of a token htgate issues.
	TokenLen = len(TokenPrefix) + tokenRandomLen + tokenSumLen
)

// ErrTokenFormat means a string is not a well-formed htgate token: wrong
// prefix, length or alphabet, or a checksum that does not match (a typo).
var ErrTokenFormat = errors.New("scheme: not a well-formed htgate token (htg_ followed by 49 letters and digits, checksum included)")

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewToken returns a new random token.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	random := encodeBase62(new(big.Int).SetBytes(b[:]), tokenRandomLen)
	sum := tokenChecksum(random)
	return TokenPrefix + random + string(sum[:]), nil
}

// CheckToken returns ErrTokenFormat unless tok is well formed with a
// matching checksum. It does not say whether the token exists.
func CheckToken(tok string) error {
	if len(tok) != TokenLen || tok[:len(TokenPrefix)] != TokenPrefix {
		return ErrTokenFormat
	}
	body := tok[len(TokenPrefix):]
	for i := 0; i < len(body); i++ {
		if !isBase62(body[i]) {
			return ErrTokenFormat
		}
	}
	random, sum := body[:tokenRandomLen], body[tokenRandomLen:]
	want := tokenChecksum(random)
	if sum != string(want[:]) {
		return ErrTokenFormat
	}
	return nil
}

// tokenChecksum is the CRC-32 (IEEE) of a token's random part in six
// base-62 digits.
func tokenChecksum(random string) [tokenSumLen]byte {
	var out [tokenSumLen]byte
	n := uint64(crc32.Update(0, crc32.IEEETable, []byte(random)))
	for i := tokenSumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return out
}

// TokenHash returns the lower-case hex SHA-256 of tok: what the store keeps.
func TokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// encodeBase62 writes n in base 62 with exactly width digits (n must fit).
func encodeBase62(n *big.Int, width int) string {
	out := make([]byte, width)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}
