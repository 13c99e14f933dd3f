package state

import (
	"context"
	"time"
)

// Session is one form-login session of the gateway.
type Session struct {
	// User is the signed-in user (canonical name).
	User string
	// Source is the credential source the user was verified against, so
	// that a session of one rule's users is not taken for another's.
	Source string
	// Created is when the user signed in.
	Created time.Time
	// Expires is the absolute end of the session, whatever its use.
	Expires time.Time
}

// Sessions holds form-login sessions under keys the caller derives from
// the session ids (htgate uses their SHA-256, so that a dump of the store
// does not hold a live session id). A session ends when it is deleted,
// when it has not been used for its idle lifetime, or at its Expires.
type Sessions interface {
	// Create stores s under key, idle for at most idle from now. It
	// replaces a session of the same key. idle must be positive.
	Create(ctx context.Context, key string, s Session, idle time.Duration) error
	// Get returns the live session of key and makes it idle for idle from
	// now again (never past its Expires); ok is false when there is none,
	// it went idle or it expired.
	Get(ctx context.Context, key string, idle time.Duration) (s Session, ok bool, err error)
	// Delete ends the sessions of keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
}
