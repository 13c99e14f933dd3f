package passwd

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt: "$2y$" cost "$" 22 salt characters and 31 hash characters, 60 in
// all. $2a$, $2b$ and $2y$ name the same algorithm in every correct
// implementation (they differ only in which historical bugs the writer had),
// so all three are verified alike; Hash writes $2y$ as Apache's htpasswd does.

// bcryptLen is the length of every bcrypt hash.
const bcryptLen = 60

// bcryptMaxPassword is the number of password bytes bcrypt uses.
const bcryptMaxPassword = 72

type bcryptHash struct {
	hash string
	c    int
}

func parseBcrypt(hash string) (*bcryptHash, error) {
	if len(hash) != bcryptLen {
		return nil, malformed(FormatBcrypt, "length %d, want %d", len(hash), bcryptLen)
	}
	if hash[6] != '$' || !isDigit(hash[4]) || !isDigit(hash[5]) {
		return nil, malformed(FormatBcrypt, "cost must be two digits")
	}
	cost := int(hash[4]-'0')*10 + int(hash[5]-'0')
	if cost < MinBcryptCost || cost > 31 {
		return nil, malformed(FormatBcrypt, "cost %d out of range %d to 31", cost, MinBcryptCost)
	}
	for i := 7; i < len(hash); i++ {
		if !isBcrypt64(hash[i]) {
			return nil, malformed(FormatBcrypt, "invalid character in salt or hash")
		}
	}
	if cost > MaxBcryptCost {
		return nil, fmt.Errorf("%w: bcrypt cost %d is above %d", ErrCostLimit, cost, MaxBcryptCost)
	}
	return &bcryptHash{hash: hash, c: cost}, nil
}

func (h *bcryptHash) format() Format { return FormatBcrypt }
func (h *bcryptHash) cost() int      { return h.c }

func (h *bcryptHash) verify(password []byte) (bool, error) {
	if len(password) > bcryptMaxPassword {
		password = password[:bcryptMaxPassword]
	}
	err := bcrypt.CompareHashAndPassword([]byte(h.hash), password)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, malformed(FormatBcrypt, "%v", err)
}

func (h *bcryptHash) dummy(password []byte) (string, error) {
	return hashBcrypt(password, h.c)
}

// hashBcrypt returns a $2y$ bcrypt hash of the first 72 bytes of password.
func hashBcrypt(password []byte, cost int) (string, error) {
	if cost < MinBcryptCost || cost > MaxBcryptCost {
		return "", fmt.Errorf("bcrypt cost %d: must be %d to %d", cost, MinBcryptCost, MaxBcryptCost)
	}
	if len(password) > bcryptMaxPassword {
		password = password[:bcryptMaxPassword]
	}
	b, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	// x/crypto writes $2a$; the algorithm is the same, Apache writes $2y$.
	b[2] = 'y'
	return string(b), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isBcrypt64 reports whether c is in bcrypt's base-64 alphabet, which has
// the same characters as crypt(3)'s in a different order.
func isBcrypt64(c byte) bool {
	_, ok := cryptValue(c)
	return ok
}
