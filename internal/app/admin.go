package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/htgate/htgate/internal/admin"
	"github.com/htgate/htgate/internal/audit"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/guard"
	"github.com/htgate/htgate/internal/state/memory"
)

// adminListener is the admin listener (admin_listen): the admin API, the
// web panel and the health endpoints, on their own server.
type adminListener struct {
	server *http.Server
	ln     net.Listener
	tls    bool
}

// listenAdmin binds the admin listener when admin_listen is set. It needs
// the managed store: the panel manages it.
func (a *App) listenAdmin() error {
	cfg := a.cfg
	if cfg.AdminListen == "" {
		return nil
	}
	if a.managed == nil {
		return fmt.Errorf("admin_listen: the admin panel manages the managed store, and there is none: give --data DIR (or data: in the configuration)")
	}
	h, err := a.adminHandler()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	useTLS := cfg.Admin.TLSCert != ""
	if useTLS {
		cert, err := tls.LoadX509KeyPair(cfg.Admin.TLSCert, cfg.Admin.TLSKey)
		if err != nil {
			return fmt.Errorf("admin.tls_cert, admin.tls_key: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("admin_listen: %w", err)
	}
	a.admin = &adminListener{server: srv, ln: ln, tls: useTLS}
	return nil
}

// adminHandler builds the admin API and panel on the managed store, with
// a brute-force guard of its own for the login (its own memory, so that a
// lockout on the gateway never locks the admin out of the panel, nor the
// other way round).
func (a *App) adminHandler() (http.Handler, error) {
	cfg := a.cfg
	g, err := adminGuard(cfg, audit.LogSink{Logger: a.logger})
	if err != nil {
		return nil, err
	}
	return admin.New(admin.Options{
		Store:  a.managed.st,
		Logger: a.logger,
		HashPassword: func(p []byte) (string, error) {
			return HashPassword(cfg.Passwords, p, false)
		},
		LoginGuard:      loginGuard{g},
		Health:          a.healthHandler(),
		SessionIdle:     cfg.Admin.SessionIdle,
		SessionLifetime: cfg.Admin.SessionLifetime,
	})
}

// adminGuard is the guard of the admin login: the guard section's
// numbers (the admin login is guarded even when the gateway's guard is
// disabled), on an in-memory state of its own.
func adminGuard(cfg *config.Config, sink audit.Sink) (*guard.Guard, error) {
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
	}
	g, err := guard.New(pol, memory.New(memory.Options{MaxKeys: 10_000}), guard.Options{OnEvent: func(e guard.Event) {
		if e.Kind == guard.EventFailure {
			return // failed logins are in the audit log already
		}
		sink.Record(context.Background(), audit.Event{
			Time: e.Time, Kind: "admin." + string(e.Kind), Key: string(e.Key), Client: e.Client,
			User: e.User, Until: e.Until, Level: e.Level, Detail: e.Detail,
		})
	}})
	if err != nil {
		return nil, fmt.Errorf("admin login guard: %w", err)
	}
	return g, nil
}

// loginGuard adapts guard.Guard to admin.LoginGuard.
type loginGuard struct{ g *guard.Guard }

// Enter implements admin.LoginGuard.
func (l loginGuard) Enter(ctx context.Context, client netip.Addr, name string) (admin.Attempt, time.Duration, error) {
	v, att, err := l.g.Enter(ctx, client, name)
	if err != nil {
		return nil, 0, err
	}
	if !v.Allowed || att == nil {
		return nil, max(v.RetryAfter, time.Second), nil
	}
	return att, 0, nil
}

// serveAdmin serves the admin listener until it is shut down; errors go
// to errc.
func (a *App) serveAdmin(errc chan<- error) {
	if a.admin == nil {
		return
	}
	scheme := "http"
	if a.admin.tls {
		scheme = "https"
	}
	a.logger.Info("admin listener", "url", scheme+"://"+a.admin.ln.Addr().String()+"/", "paths", "/ (panel) /api/ /metrics /healthz /readyz")
	go func() {
		var err error
		if a.admin.tls {
			err = a.admin.server.ServeTLS(a.admin.ln, "", "")
		} else {
			err = a.admin.server.Serve(a.admin.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("admin listener: %w", err)
		}
	}()
}

// shutdownAdmin stops the admin listener gracefully.
func (a *App) shutdownAdmin(ctx context.Context) {
	if a.admin != nil {
		_ = a.admin.server.Shutdown(ctx)
	}
}

// AdminAddr is the address of the admin listener, nil when there is none.
func (a *App) AdminAddr() net.Addr {
	if a.admin == nil {
		return nil
	}
	return a.admin.ln.Addr()
}
