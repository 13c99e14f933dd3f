package app

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/htgate/htgate/internal/guard"
)

// opsHandler serves the operations listener: /metrics, /healthz, /readyz
// and, for loopback clients only, /lockouts (GET lists them; POST
// /lockouts/clear?client=ADDR&user=NAME clears them, both optional).
func (a *App) opsHandler() http.Handler {
	mux := http.NewServeMux()
	health := a.healthHandler()
	for _, p := range []string{"GET /metrics", "GET /healthz", "GET /readyz"} {
		mux.Handle(p, health)
	}
	mux.HandleFunc("GET /lockouts", a.loopbackOnly(a.listLockouts))
	mux.HandleFunc("POST /lockouts/clear", a.loopbackOnly(a.clearLockouts))
	return mux
}

// healthHandler serves /metrics, /healthz and /readyz, on the operations
// listener and on the admin listener alike.
func (a *App) healthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.prot.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if problems := a.readiness(); len(problems) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			for _, p := range problems {
				_, _ = w.Write([]byte("not ready: " + p + "\n"))
			}
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// LockoutJSON is a lockout as /lockouts and `htgate lockout ls --json` show it.
type LockoutJSON struct {
	Key    string `json:"key"`
	Client string `json:"client,omitempty"`
	User   string `json:"user,omitempty"`
	Until  string `json:"until"`
	Level  int    `json:"level"`
}

func lockoutsJSON(ls []guard.Lockout) []LockoutJSON {
	out := make([]LockoutJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, LockoutJSON{Key: string(l.Key), Client: l.Client, User: l.User, Until: l.Until.UTC().Format("2006-01-02T15:04:05Z"), Level: l.Level})
	}
	return out
}

func (a *App) listLockouts(w http.ResponseWriter, r *http.Request) {
	if a.prot.guard == nil {
		writeJSON(w, http.StatusOK, []LockoutJSON{})
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ls, err := a.prot.guard.Lockouts(r.Context(), limit)
	if err != nil {
		http.Error(w, "lockout state unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, lockoutsJSON(ls))
}

func (a *App) clearLockouts(w http.ResponseWriter, r *http.Request) {
	if a.prot.guard == nil {
		writeJSON(w, http.StatusOK, []LockoutJSON{})
		return
	}
	var client netip.Addr
	if s := r.URL.Query().Get("client"); s != "" {
		c, err := netip.ParseAddr(s)
		if err != nil {
			http.Error(w, "client: not an address", http.StatusBadRequest)
			return
		}
		client = c
	}
	cleared, err := a.prot.guard.Clear(r.Context(), client, r.URL.Query().Get("user"))
	if err != nil {
		http.Error(w, "lockout state unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, lockoutsJSON(cleared))
}

// loopbackOnly refuses clients that are not on this machine: these
// endpoints change security state and have no login of their own.
func (a *App) loopbackOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		addr, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !addr.Unmap().IsLoopback() {
			http.Error(w, "only from this machine", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
