package store

import "errors"

// Sentinel errors of every backend. Methods wrap them with details; test
// with errors.Is.
var (
	// ErrNotFound means the user, group, URL, grant, token or admin named
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the thing to add already exists (a user or group of
	// the same canonical name, a URL with the same host and path, a grant or
	// membership already given).
	ErrConflict = errors.New("already exists")
	// ErrInvalid means the input breaks a rule of the model: a name RFC 8265
	// refuses, a path that is not canonical, a hash in no known format, an
	// unknown scheme or role. The message names the field.
	ErrInvalid = errors.New("invalid")
)
