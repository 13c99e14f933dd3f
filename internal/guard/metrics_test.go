package guard

import (
	"context"
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/state/memory"
	"github.com/htgate/htgate/internal/state/statetest"
)

// gather returns the value of every metric reg holds, by name and labels.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.Counter != nil:
				out[name] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[name] = m.Gauge.GetValue()
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	clock := statetest.NewClock(statetest.Start())
	st := memory.New(memory.Options{MaxKeys: 16, Now: clock.Now})
	g, err := New(Policy{}, st, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLimiter(ClientLimits{MaxConcurrent: 1, MaxClients: 16}, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, g, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg, g, l); err == nil {
		t.Errorf("registering the metrics twice: no error, want one")
	}

	ctx := context.Background()
	for i := range 100 { // 100 addresses, 3 keys each, into tables of 16: evictions
		addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		for range 5 {
			if err := g.Failure(ctx, addr, "alice"); err != nil {
				t.Fatal(err)
			}
			m.Failure(htgate.ReasonLogonFailed)
		}
		release, _, _ := l.Acquire(addr)
		release()
	}
	m.Failure(htgate.ReasonLockedOut)
	var nilMetrics *Metrics
	nilMetrics.Failure(htgate.ReasonLogonFailed)

	got := gather(t, reg)
	if v := got["htgate_auth_failures_total{reason=logon_failed}"]; v != 500 {
		t.Errorf("htgate_auth_failures_total{reason=logon_failed} = %v, want 500", v)
	}
	if v := got["htgate_auth_failures_total{reason=locked_out}"]; v != 1 {
		t.Errorf("htgate_auth_failures_total{reason=locked_out} = %v, want 1", v)
	}
	if v, ok := got["htgate_auth_failures_total{reason=too_many_requests}"]; !ok || v != 0 {
		t.Errorf("htgate_auth_failures_total{reason=too_many_requests} = %v, %v, want 0 from the start", v, ok)
	}
	if v, want := got["htgate_lockouts_active"], float64(g.ActiveLockouts()); v != want || v == 0 {
		t.Errorf("htgate_lockouts_active = %v, want %v > 0", v, want)
	}
	if v, want := got["htgate_guard_evictions_total"], float64(st.Evictions()+l.Evictions()); v != want || v == 0 {
		t.Errorf("htgate_guard_evictions_total = %v, want %v > 0", v, want)
	}

	// Without a guard or limiter the metrics read 0.
	reg2 := prometheus.NewRegistry()
	if _, err := NewMetrics(reg2, nil, nil); err != nil {
		t.Fatal(err)
	}
	got = gather(t, reg2)
	if got["htgate_lockouts_active"] != 0 || got["htgate_guard_evictions_total"] != 0 {
		t.Errorf("metrics without guard and limiter = %v, want zeros", got)
	}
	if _, err := NewMetrics(nil, g, l); err == nil {
		t.Errorf("NewMetrics(nil registerer): no error, want one")
	}
}
