package gateway

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
)

// htRecheck is how often a credential file named by a .htaccess is
// stat'ed for changes (or, when it could not be opened, tried again).
const htRecheck = time.Second

// lazyFile opens a credential file the first time a request needs it and
// refreshes it at most once per htRecheck, on the request path: no
// goroutine watches it. A file that cannot be opened is an error for the
// requests that need it (the gateway answers 500) and is tried again
// after htRecheck.
type lazyFile[F interface {
	Refresh(context.Context) (bool, error)
	Err() error
}] struct {
	path   string
	open   func(string, *slog.Logger) (F, error)
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	f       F
	opened  bool
	err     error
	checked time.Time
}

// get returns the open file, or why it cannot be used now.
func (l *lazyFile[F]) get() (F, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.checked.IsZero() || now.Sub(l.checked) >= htRecheck {
		l.checked = now
		if !l.opened {
			f, err := l.open(l.path, l.logger)
			l.f, l.err, l.opened = f, err, err == nil
		} else {
			// Refresh keeps the last good snapshot when the file turns bad;
			// Err reports it, and the request fails closed below.
			_, _ = l.f.Refresh(context.Background())
		}
	}
	if !l.opened {
		var zero F
		return zero, l.err
	}
	if err := l.f.Err(); err != nil {
		var zero F
		return zero, err
	}
	return l.f, nil
}

type lazyHtpasswd struct{ lazyFile[*passwd.HtpasswdFile] }

func (s *lazyHtpasswd) Current() (Credentials, uint64, error) {
	f, err := s.get()
	if err != nil {
		return nil, 0, err
	}
	return f.Snapshot(), f.Version(), nil
}

type lazyHtdigest struct{ lazyFile[*passwd.HtdigestFile] }

func (s *lazyHtdigest) Current() (DigestSnapshot, uint64, error) {
	f, err := s.get()
	if err != nil {
		return nil, 0, err
	}
	return f.Snapshot(), f.Version(), nil
}

type lazyGroups struct{ lazyFile[*passwd.GroupFile] }

func (s *lazyGroups) Current() (Groups, error) {
	f, err := s.get()
	if err != nil {
		return nil, err
	}
	return f.Snapshot(), nil
}

// htSources are the credential and group files the docroot's .htaccess
// files name, opened lazily, and a Policy that holds them for the
// authentication step. The Policy is copied on write, so that requests
// read its maps without a lock.
type htSources struct {
	logger *slog.Logger
	now    func() time.Time
	mu     sync.Mutex
	pol    atomic.Pointer[Policy]
}

func newHTSources(logger *slog.Logger, now func() time.Time) *htSources {
	s := &htSources{logger: logger, now: now}
	s.pol.Store(&Policy{
		Credentials: map[string]CredentialSource{},
		Groups:      map[string]GroupSource{},
		Digests:     map[string]DigestSource{},
	})
	return s
}

// policyFor returns a Policy holding the sources rule names.
func (s *htSources) policyFor(rule *policy.Rule) *Policy {
	p := s.pol.Load()
	if s.has(p, rule) {
		return p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p = s.pol.Load()
	if s.has(p, rule) {
		return p
	}
	np := &Policy{Credentials: maps.Clone(p.Credentials), Groups: maps.Clone(p.Groups), Digests: maps.Clone(p.Digests)}
	if rule.Source != "" && np.Credentials[rule.Source] == nil {
		np.Credentials[rule.Source] = &lazyHtpasswd{lazyFile[*passwd.HtpasswdFile]{path: rule.Source, open: passwd.OpenHtpasswd, logger: s.logger, now: s.now}}
	}
	if rule.DigestSource != "" && np.Digests[rule.DigestSource] == nil {
		np.Digests[rule.DigestSource] = &lazyHtdigest{lazyFile[*passwd.HtdigestFile]{path: rule.DigestSource, open: passwd.OpenHtdigest, logger: s.logger, now: s.now}}
	}
	if rule.GroupSource != "" && np.Groups[rule.GroupSource] == nil {
		np.Groups[rule.GroupSource] = &lazyGroups{lazyFile[*passwd.GroupFile]{path: rule.GroupSource, open: passwd.OpenGroups, logger: s.logger, now: s.now}}
	}
	s.pol.Store(np)
	return np
}

func (s *htSources) has(p *Policy, rule *policy.Rule) bool {
	return (rule.Source == "" || p.Credentials[rule.Source] != nil) &&
		(rule.DigestSource == "" || p.Digests[rule.DigestSource] != nil) &&
		(rule.GroupSource == "" || p.Groups[rule.GroupSource] != nil)
}
