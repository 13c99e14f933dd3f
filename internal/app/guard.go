package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/htgate/htgate/internal/audit"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/guard"
	"github.com/htgate/htgate/internal/state"
	"github.com/htgate/htgate/internal/state/memory"
)

// sweepInterval is how often expired lockouts are reported as released.
const sweepInterval = 10 * time.Second

// protection is the brute-force guard, the per-client limiter and the
// metrics that report them.
type protection struct {
	guard    *guard.Guard
	limiter  *guard.Limiter
	metrics  *guard.Metrics
	registry *prometheus.Registry
	status   int
	// shared is the Redis state shared with other nodes (state:), nil when
	// the state is in this process's memory.
	shared *sharedState
}

// buildProtection builds the guard (unless disabled) on the in-memory
// state store, the limiter (if any limit is set) and their metrics.
func buildProtection(cfg *config.Config, sink audit.Sink, logger *slog.Logger) (*protection, error) {
	p := &protection{registry: prometheus.NewRegistry()}
	shared, err := openSharedState(cfg, logger)
	if err != nil {
		return nil, err
	}
	p.shared = shared
	if !cfg.Guard.Disabled {
		allow, err := config.ParsePrefixes(cfg.Guard.AllowList)
		if err != nil {
			return nil, fmt.Errorf("guard.allow_list%w", err)
		}
		gc := cfg.Guard
		pol := guard.Policy{
			MaxFailuresPerClientUser: gc.MaxFailuresPerClientUser,
			MaxFailuresPerClient:     gc.MaxFailuresPerClient,
			MaxFailuresPerUser:       gc.MaxFailuresPerUser,
			FindTime:                 gc.FindTime,
			BanTime:                  gc.BanTime,
			MaxBanTime:               gc.MaxBanTime,
			TrustedSuccessWindow:     gc.TrustedSuccessWindow,
			AllowList:                allow,
			AnswerStatus:             gc.AnswerStatus,
		}
		var st state.Store = memory.New(memory.Options{MaxKeys: gc.MaxKeys})
		if shared != nil {
			st = shared.st
		}
		g, err := guard.New(pol, st, guard.Options{OnEvent: func(e guard.Event) {
			if e.Kind == guard.EventFailure {
				return // failures are in the access log; lockouts and releases are audited
			}
			sink.Record(context.Background(), audit.Event{
				Time: e.Time, Kind: string(e.Kind), Key: string(e.Key), Client: e.Client,
				User: e.User, Until: e.Until, Level: e.Level, Detail: e.Detail,
			})
		}})
		if err != nil {
			return nil, fmt.Errorf("guard: %w", err)
		}
		p.guard = g
	}
	if cl := cfg.ClientLimits; cl.MaxConcurrent > 0 || cl.RatePerSecond > 0 {
		allow, err := config.ParsePrefixes(cl.AllowList)
		if err != nil {
			return nil, fmt.Errorf("client_limits.allow_list%w", err)
		}
		l, err := guard.NewLimiter(guard.ClientLimits{
			MaxConcurrent: cl.MaxConcurrent, RatePerSecond: cl.RatePerSecond, Burst: cl.Burst,
			AllowList: allow, Status: cl.Status,
		}, nil)
		if err != nil {
			return nil, fmt.Errorf("client_limits: %w", err)
		}
		p.limiter = l
		p.status = l.Limits().Status
	}
	m, err := guard.NewMetrics(p.registry, p.guard, p.limiter)
	if err != nil {
		return nil, err
	}
	p.metrics = m
	if err := p.registry.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := p.registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	return p, nil
}
