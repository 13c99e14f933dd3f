package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/audit"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/gateway"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/upstream"
)

// App is a running htgate: the gateway, its HTTP server and the watchers of
// its credential files.
type App struct {
	cfg       *config.Config
	logger    *slog.Logger
	gateway   *gateway.Gateway
	responder *respond.Responder
	server    *http.Server
	listener  net.Listener
	prot      *protection
	ops       *http.Server
	opsLn     net.Listener
	admin     *adminListener // admin.go; nil without admin_listen
	proxy     *forwardProxy  // integrations.go; nil without forward_proxy
	certs     *certReloader  // integrations.go; nil without tls

	mu          sync.Mutex
	stopWatches context.CancelFunc

	// managed is the managed store (nil without one) and yaml the policy
	// generation of the configuration; pmu orders the policy swaps of
	// Reload and of the store watcher (managed.go).
	managed   *managed
	yaml      *loadedPolicy
	pmu       sync.Mutex
	stopStore context.CancelFunc
	storeDone chan struct{}
}

// Open builds the gateway from cfg and binds its listener; Run serves.
func Open(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*App, error) {
	a, err := build(ctx, cfg, logger, true)
	if err != nil {
		return nil, err
	}
	if err := a.listen(); err != nil {
		a.Close()
		return nil, err
	}
	a.warnPlainAuth()
	return a, nil
}

// Build builds the gateway from cfg without listening or watching files:
// what explain needs to run the gateway's own decision code.
func Build(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*App, error) {
	return build(ctx, cfg, logger, false)
}

func build(ctx context.Context, cfg *config.Config, logger *slog.Logger, watch bool) (*App, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	a := &App{cfg: cfg, logger: logger}
	responder, err := respond.New(respond.Options{
		Logger:       logger,
		TemplatesDir: cfg.ErrorPages.TemplatesDir,
		ContactHint:  cfg.ErrorPages.Contact,
	})
	if err != nil {
		return nil, fmt.Errorf("error pages: %w", err)
	}
	a.responder = responder
	backend, err := a.backend()
	if err != nil {
		return nil, err
	}
	lp, err := buildPolicy(cfg, logger)
	if err != nil {
		return nil, err
	}
	trusted, err := gateway.ParseTrusted(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	prot, err := buildProtection(cfg, audit.LogSink{Logger: logger}, logger)
	if err != nil {
		return nil, err
	}
	a.prot = prot
	var cache *gateway.CredentialCache
	if cfg.CredentialCache.Size > 0 {
		cache, err = gateway.NewCredentialCache(cfg.CredentialCache.Size, cfg.CredentialCache.TTL, nil)
		if err != nil {
			return nil, fmt.Errorf("credential cache: %w", err)
		}
	}
	opts := gateway.Options{
		Backend:   backend,
		Responder: responder,
		Limits:    a.limits(),
		ClientIP:  gateway.ClientIP{Trusted: trusted, Header: cfg.ForwardedHeader},
		Cache:     cache,
		Logger:    logger,
		AccessLog: cfg.AccessLogEnabled(),
		Failures:  prot.metrics,
		Nonces:    newNonces(),
		FormLogin: newFormLogin(cfg),
		ForwardAuth: gateway.ForwardAuth{
			Path:     cfg.ForwardAuth.Path,
			Disabled: cfg.ForwardAuth.Disabled,
		},
	}
	if prot.guard != nil {
		opts.Guard = prot.guard
	}
	if prot.shared != nil {
		opts.Nonces = prot.shared.st
		if opts.FormLogin != nil {
			opts.FormLogin.Sessions = prot.shared.st.Sessions()
		}
	}
	if prot.limiter != nil {
		opts.Limiter, opts.LimitStatus = prot.limiter, prot.status
	}
	if opts.HTAccess, err = buildHTAccess(cfg, logger); err != nil {
		return nil, fmt.Errorf("htaccess: %w", err)
	}
	a.yaml = lp
	if a.managed, err = openManaged(ctx, cfg, logger); err != nil {
		return nil, err
	}
	initial := lp.policy
	if a.managed != nil {
		if initial, err = compose(lp, a.managed.current(), cfg.Realm, logger); err != nil {
			a.managed.close()
			return nil, err
		}
		initial.Tokens = a.managed
	}
	a.gateway = gateway.New(initial, opts)
	if cfg.ForwardProxy.Enabled {
		if a.proxy, err = a.buildForwardProxy(opts); err != nil {
			if a.managed != nil {
				a.managed.close()
			}
			return nil, err
		}
	}
	if watch {
		a.startWatches(ctx, lp)
		if a.proxy != nil {
			a.proxy.startWatches(ctx)
		}
		if a.managed != nil {
			sctx, cancel := context.WithCancel(ctx)
			a.stopStore, a.storeDone = cancel, make(chan struct{})
			go func() {
				defer close(a.storeDone)
				a.watchStore(sctx)
			}()
		}
		if prot.guard != nil {
			go prot.guard.Run(ctx, sweepInterval)
		}
		if prot.shared != nil {
			go prot.shared.monitor(ctx)
		}
	}
	return a, nil
}

// listen binds the listener and builds the HTTP server.
func (a *App) listen() error {
	cfg := a.cfg
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a.listener = ln
	a.server = &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: cfg.Timeouts.ReadHeader,
		ReadTimeout:       cfg.Timeouts.Read,
		WriteTimeout:      cfg.Timeouts.Write,
		IdleTimeout:       cfg.Timeouts.Idle,
		MaxHeaderBytes:    cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	// The limits' listener wrapper sees the raw request framing that
	// net/http hides (Content-Length with Transfer-Encoding), and sets
	// the server's MaxHeaderBytes.
	a.listener = a.limits().Install(a.server, ln)
	if cfg.TLS.Enabled() {
		// The limits' wrapper sees the TLS handshake and stands aside:
		// framing ambiguities hidden by net/http are not seen under TLS
		// (see gateway.Limits).
		certs, err := newCertReloader(cfg.TLS.Cert, cfg.TLS.Key, a.logger)
		if err != nil {
			ln.Close()
			return err
		}
		a.certs = certs
		a.server.TLSConfig = tlsConfig(certs)
	}
	if cfg.MetricsListen != "" {
		ol, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics_listen: %w", err)
		}
		a.opsLn = ol
		a.ops = &http.Server{Handler: a.opsHandler(), ReadHeaderTimeout: 10 * time.Second}
	}
	if err := a.listenAdmin(); err != nil {
		ln.Close()
		if a.opsLn != nil {
			a.opsLn.Close()
		}
		return err
	}
	return nil
}

// OpsAddr is the address of the operations listener, nil when there is none.
func (a *App) OpsAddr() net.Addr {
	if a.opsLn == nil {
		return nil
	}
	return a.opsLn.Addr()
}

func (a *App) limits() gateway.Limits {
	return gateway.Limits{
		MaxFieldBytes:  a.cfg.Limits.MaxFieldBytes,
		MaxFields:      a.cfg.Limits.MaxFields,
		MaxHeaderBytes: a.cfg.Limits.MaxHeaderBytes,
	}
}

// backend builds the static file server or the reverse proxy.
func (a *App) backend() (upstream.Backend, error) {
	if a.cfg.Root == "" && a.cfg.Upstream == "" {
		return noBackend{a}, nil // forward proxy only
	}
	if a.cfg.Root != "" {
		s, err := upstream.NewStatic(a.cfg.Root, upstream.StaticOptions{
			Logger:   a.logger,
			OnStatus: a.refuseStatus,
		})
		if err != nil {
			return nil, fmt.Errorf("root: %w", err)
		}
		return s, nil
	}
	target, err := url.Parse(a.cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	p, err := upstream.NewProxy(target, upstream.ProxyOptions{
		IdentityHeaders: a.cfg.IdentityHeaders,
		Logger:          a.logger,
		OnError: func(w http.ResponseWriter, r *http.Request, _ error) {
			// The proxy has logged the error with the reference id.
			a.refuse(w, r, http.StatusBadGateway, htgate.ReasonUpstreamUnavailable)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	return p, nil
}

// refuseStatus renders a backend's own refusal (403 for .ht* files, 404)
// through the responder, so it looks like every other htgate page.
func (a *App) refuseStatus(w http.ResponseWriter, r *http.Request, status int) {
	if a.gateway != nil && a.gateway.ServeErrorDocument(w, r, status) {
		return // a .htaccess ErrorDocument
	}
	reason := htgate.ReasonConfigDenied
	switch status {
	case http.StatusNotFound:
		reason = htgate.ReasonNotFound
	case http.StatusMethodNotAllowed:
		reason = htgate.ReasonMethodNotAllowed
	case http.StatusInternalServerError:
		reason = htgate.ReasonServerError
	}
	a.refuse(w, r, status, reason)
}

func (a *App) refuse(w http.ResponseWriter, r *http.Request, status int, reason htgate.Reason) {
	a.responder.Error(w, r, status, reason, gateway.RefIDOf(w))
}

// Addr is the address the gateway listens on.
func (a *App) Addr() net.Addr { return a.listener.Addr() }

// Gateway returns the request path (for explain and tests).
func (a *App) Gateway() *gateway.Gateway { return a.gateway }

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (up to timeouts.shutdown) and
// returns.
func (a *App) Run(ctx context.Context) error {
	a.logger.Info("htgate listening", "addr", a.listener.Addr().String(), "rules", len(a.cfg.Rules), "root", a.cfg.Root, "upstream", a.cfg.Upstream)
	errc := make(chan error, 3)
	go func() {
		if a.certs != nil {
			errc <- a.server.ServeTLS(a.listener, "", "")
			return
		}
		errc <- a.server.Serve(a.listener)
	}()
	if a.ops != nil {
		a.logger.Info("operations listener", "addr", a.opsLn.Addr().String(), "paths", "/metrics /healthz /readyz /lockouts")
		go func() {
			if err := a.ops.Serve(a.opsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	a.serveAdmin(errc)
	select {
	case err := <-errc:
		a.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.logger.Info("shutting down", "grace", a.cfg.Timeouts.Shutdown.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Timeouts.Shutdown)
	defer cancel()
	err := a.server.Shutdown(sctx)
	if a.ops != nil {
		_ = a.ops.Shutdown(sctx)
	}
	a.shutdownAdmin(sctx)
	a.Close()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Reload applies a new configuration's rules and credential files without
// dropping a request. Listener, root and upstream changes need a restart
// and are reported as such. On error the old policy stays in force.
func (a *App) Reload(ctx context.Context, cfg *config.Config) error {
	if errs := cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	lp, err := buildPolicy(cfg, a.logger)
	if err != nil {
		return err
	}
	if cfg.Listen != a.cfg.Listen || cfg.Root != a.cfg.Root || cfg.Upstream != a.cfg.Upstream {
		a.logger.Warn("listen, root and upstream changes take effect only after a restart")
	}
	if cfg.TLS != a.cfg.TLS || cfg.ForwardProxy.Enabled != a.cfg.ForwardProxy.Enabled || cfg.ForwardAuth != a.cfg.ForwardAuth {
		a.logger.Warn("tls, forward_auth and forward_proxy changes take effect only after a restart (a renewed certificate in the same files is picked up by itself)")
	}
	if cfg.Data != a.cfg.Data || cfg.Store != a.cfg.Store {
		a.logger.Warn("data and store changes take effect only after a restart")
	}
	a.pmu.Lock()
	prev := a.yaml
	a.yaml = lp
	if err := a.applyPolicy(); err != nil {
		a.yaml = prev
		a.pmu.Unlock()
		return err
	}
	a.pmu.Unlock()
	a.startWatches(ctx, lp)
	a.logger.Info("configuration reloaded", "rules", len(cfg.Rules))
	return nil
}

// startWatches watches lp's files and stops the previous generation's watchers.
func (a *App) startWatches(ctx context.Context, lp *loadedPolicy) {
	wctx, cancel := context.WithCancel(ctx)
	for _, f := range lp.files {
		go f.Watch(wctx, watchInterval)
	}
	a.mu.Lock()
	old := a.stopWatches
	a.stopWatches = cancel
	a.mu.Unlock()
	if old != nil {
		old()
	}
}

// Close stops the watchers and closes the managed store. Run calls it on
// return.
func (a *App) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopWatches != nil {
		a.stopWatches()
		a.stopWatches = nil
	}
	if a.stopStore != nil {
		a.stopStore()
		<-a.storeDone
		a.stopStore = nil
	}
	if a.managed != nil {
		if err := a.managed.close(); err != nil {
			a.logger.Warn("managed store: close", "err", err)
		}
	}
	if a.prot != nil && a.prot.shared != nil {
		_ = a.prot.shared.st.Close()
	}
}
