package app

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/htgate/htgate/internal/config"
	redisstate "github.com/htgate/htgate/internal/state/redis"
)

// statePingInterval is how often the shared state's server is pinged, so
// that an outage and the recovery reach the log and /readyz.
const statePingInterval = time.Second

// sharedState is the Redis state of a gateway that shares lockouts,
// nonces and sessions with other nodes (config state:).
type sharedState struct {
	st     *redisstate.Store
	where  string // the URL without a password
	logger *slog.Logger

	mu  sync.Mutex
	err error // of the last ping; nil when it answered
}

// openSharedState returns the shared state of cfg, or nil when the state is
// kept in memory. It does not wait for the server.
func openSharedState(cfg *config.Config, logger *slog.Logger) (*sharedState, error) {
	if cfg.State == "" {
		return nil, nil
	}
	st, err := redisstate.Open(cfg.State, redisstate.Options{})
	if err != nil {
		return nil, err
	}
	where := cfg.State
	if u, err := url.Parse(cfg.State); err == nil {
		where = u.Redacted()
	}
	s := &sharedState{st: st, where: where, logger: logger}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.ping(ctx)
	if s.problem() == "" {
		logger.Info("shared state", "location", where)
	}
	return s, nil
}

// ping asks the server and records (and logs, when it changed) the outcome.
func (s *sharedState) ping(ctx context.Context) {
	err := s.st.Ping(ctx)
	s.mu.Lock()
	was := s.err
	s.err = err
	s.mu.Unlock()
	switch {
	case err != nil && was == nil:
		s.logger.Error("shared state unreachable: refusing logins it must decide (503) until it answers", "location", s.where, "err", err)
	case err == nil && was != nil:
		s.logger.Info("shared state reachable again", "location", s.where)
	}
}

// monitor pings the server every statePingInterval until ctx is done.
func (s *sharedState) monitor(ctx context.Context) {
	t := time.NewTicker(statePingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, statePingInterval)
		s.ping(pctx)
		cancel()
	}
}

// problem says why the server did not answer the last ping, "" when it did.
func (s *sharedState) problem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return ""
	}
	return "shared state " + s.where + " unreachable (lockout checks, Digest and form logins are refused with 503): " + s.err.Error()
}

// readiness returns why the node is not ready: the shared state or the
// managed store cannot be reached. Empty when it is ready.
func (a *App) readiness() []string {
	var out []string
	if a.prot != nil && a.prot.shared != nil {
		if p := a.prot.shared.problem(); p != "" {
			out = append(out, p)
		}
	}
	if a.managed != nil {
		if p := a.managed.problem(); p != "" {
			out = append(out, p)
		}
	}
	return out
}
