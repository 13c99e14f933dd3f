package admin

import (
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// session is a signed-in panel session. Its fields other than the
// immutable ones are guarded by sessions.mu.
type session struct {
	key     [32]byte // SHA-256 of the cookie value; the value itself is not kept
	admin   string
	csrf    string // synchronizer token of the session's forms
	created time.Time

	seen   time.Time
	flash  string // a confirmation shown once on the next page
	secret string // a new API token, shown once on the tokens page
}

// sessions holds the panel sessions in memory: a restart signs everyone
// out, and each node of a cluster has its own (sign in on the node you
// use).
type sessions struct {
	idle, lifetime time.Duration
	limit          int
	now            func() time.Time

	mu sync.Mutex
	m  map[[32]byte]*session
}

func newSessions(idle, lifetime time.Duration, limit int, now func() time.Time) *sessions {
	return &sessions{idle: idle, lifetime: lifetime, limit: limit, now: now, m: make(map[[32]byte]*session)}
}

// create starts a session for admin and returns the cookie value: 256
// random bits. Callers end the session the request came with first, so
// that a login never keeps a session id chosen by someone else.
func (ss *sessions) create(admin string) (string, *session) {
	value := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	now := ss.now()
	s := &session{
		key:     sha256.Sum256([]byte(value)),
		admin:   admin,
		csrf:    base64.RawURLEncoding.EncodeToString(randomBytes(32)),
		created: now,
		seen:    now,
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= ss.limit {
		ss.evictLocked(now)
	}
	ss.m[s.key] = s
	return value, s
}

// evictLocked drops expired sessions and, if still full, the least
// recently used one.
func (ss *sessions) evictLocked(now time.Time) {
	var oldest *session
	for k, s := range ss.m {
		if ss.expiredLocked(s, now) {
			delete(ss.m, k)
			continue
		}
		if oldest == nil || s.seen.Before(oldest.seen) {
			oldest = s
		}
	}
	if len(ss.m) >= ss.limit && oldest != nil {
		delete(ss.m, oldest.key)
	}
}

func (ss *sessions) expiredLocked(s *session, now time.Time) bool {
	return now.Sub(s.seen) >= ss.idle || now.Sub(s.created) >= ss.lifetime
}

// get returns the live session of a cookie value and marks it used, or
// nil. An expired session is ended.
func (ss *sessions) get(value string) *session {
	if value == "" || len(value) > 128 {
		return nil
	}
	key := sha256.Sum256([]byte(value))
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[key]
	if s == nil {
		return nil
	}
	if ss.expiredLocked(s, now) {
		delete(ss.m, key)
		return nil
	}
	s.seen = now
	return s
}

// end ends a session.
func (ss *sessions) end(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, s.key)
}

// endAdmin ends every session of admin except keep (which may be nil).
func (ss *sessions) endAdmin(admin string, keep *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, s := range ss.m {
		if s.admin == admin && s != keep {
			delete(ss.m, k)
		}
	}
}

// setFlash sets the confirmation the next page shows.
func (ss *sessions) setFlash(s *session, msg string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s.flash = msg
}

// takeFlash returns the confirmation and clears it.
func (ss *sessions) takeFlash(s *session) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	m := s.flash
	s.flash = ""
	return m
}

// setSecret keeps a new token until the tokens page shows it once.
func (ss *sessions) setSecret(s *session, secret string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s.secret = secret
}

// takeSecret returns the new token and forgets it.
func (ss *sessions) takeSecret(s *session) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	t := s.secret
	s.secret = ""
	return t
}

// len returns the number of sessions (for tests).
func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}
