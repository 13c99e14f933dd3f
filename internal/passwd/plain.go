package passwd

import (
	"errors"
	"strings"
)

// Plaintext (htpasswd -p). Apache httpd verifies plaintext entries only on
// Windows and NetWare; on Linux an entry in no recognised format goes to
// crypt(3), which (short of a 13-character entry that happens to be a DES
// hash) never matches. htgate follows Linux: Identify never returns
// FormatPlain, and Verify refuses such entries with ErrUnknownFormat. Hash
// still writes them so that `htgate htpasswd -p` does what Apache's does.

// hashPlain returns password unchanged, refusing bytes that would break the
// user:hash line it is written into.
func hashPlain(password []byte) (string, error) {
	if strings.ContainsAny(string(password), ":\r\n\x00") {
		return "", errors.New("plain: a plaintext password cannot contain ':', CR, LF or NUL")
	}
	return string(password), nil
}
