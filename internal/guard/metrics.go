package guard

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/htgate/htgate"
)

// Metrics are the guard's Prometheus metrics:
//
//	htgate_auth_failures_total{reason}  counter: refused authentications, by reason code
//	htgate_lockouts_active              gauge: bans this node created that are in force
//	htgate_guard_evictions_total        counter: live entries evicted from the bounded
//	                                    state store and client limiters for room
type Metrics struct {
	// AuthFailures counts refused authentications by reason code. The
	// gateway increments it (see Failure).
	AuthFailures *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (never the
// global registry). g and l may be nil: their metrics then read 0.
func NewMetrics(reg prometheus.Registerer, g *Guard, l *Limiter) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("guard metrics: no registerer")
	}
	m := &Metrics{
		AuthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "htgate_auth_failures_total",
			Help: "Authentication attempts refused, by reason code (logon_failed, locked_out, too_many_requests, ...).",
		}, []string{"reason"}),
	}
	// The usual reasons exist from the start, so that rate() sees their first increment.
	for _, r := range []htgate.Reason{htgate.ReasonLogonFailed, htgate.ReasonLockedOut, htgate.ReasonTooManyRequests} {
		m.AuthFailures.WithLabelValues(string(r))
	}
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "htgate_lockouts_active",
		Help: "Lockouts (bans of a client, user or pair) created by this node that are in force.",
	}, func() float64 {
		if g == nil {
			return 0
		}
		return float64(g.ActiveLockouts())
	})
	evictions := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "htgate_guard_evictions_total",
		Help: "Live entries evicted from the guard's bounded state and client limiters to make room (memory bound under attack).",
	}, func() float64 {
		var n uint64
		if g != nil {
			n += g.Evictions()
		}
		if l != nil {
			n += l.Evictions()
		}
		return float64(n)
	})
	for _, c := range []prometheus.Collector{m.AuthFailures, active, evictions} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("guard metrics: %w", err)
		}
	}
	return m, nil
}

// Failure counts one refused authentication with reason. A nil Metrics
// counts nothing.
func (m *Metrics) Failure(reason htgate.Reason) {
	if m == nil {
		return
	}
	m.AuthFailures.WithLabelValues(string(reason)).Inc()
}
