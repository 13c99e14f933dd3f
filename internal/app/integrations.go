package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/gateway"
	"github.com/htgate/htgate/internal/respond"
	"github.com/htgate/htgate/internal/upstream"
)

// forwardProxy is the forward proxy (forward_proxy): a gateway of its own
// whose policy is the forward_proxy rule, whose responder answers 407 and
// whose backend forwards to the destination a request names.
type forwardProxy struct {
	gateway *gateway.Gateway
	lp      *loadedPolicy
	backend *upstream.Forward
}

// buildForwardProxy builds the forward proxy's gateway from the gateway
// options of the main one (guard, limits, cache, logger are shared).
func (a *App) buildForwardProxy(opts gateway.Options) (*forwardProxy, error) {
	cfg := a.cfg
	fp := cfg.ForwardProxy
	pc := *cfg
	rule := fp.Rule
	rule.Path, rule.Host = "/", ""
	pc.Rules = []config.Rule{rule}
	lp, err := buildPolicy(&pc, a.logger)
	if err != nil {
		return nil, fmt.Errorf("forward_proxy: %w", err)
	}
	responder, err := respond.New(respond.Options{
		Logger:       a.logger,
		TemplatesDir: cfg.ErrorPages.TemplatesDir,
		ContactHint:  cfg.ErrorPages.Contact,
		Proxy:        true,
	})
	if err != nil {
		return nil, fmt.Errorf("error pages: %w", err)
	}
	backend := upstream.NewForward(upstream.ForwardOptions{
		AllowPrivate: fp.AllowPrivate,
		Logger:       a.logger,
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			status, reason := http.StatusBadGateway, htgate.ReasonUpstreamUnavailable
			if errors.Is(err, upstream.ErrDestinationRefused) {
				status, reason = http.StatusForbidden, htgate.ReasonConfigDenied
			}
			responder.Error(w, r, status, reason, gateway.RefIDOf(w))
		},
	})
	opts.Backend = backend
	opts.Responder = responder
	opts.ProxyAuth = true
	opts.HTAccess = nil
	opts.ForwardAuth = gateway.ForwardAuth{Disabled: true}
	return &forwardProxy{gateway: gateway.New(lp.policy, opts), lp: lp, backend: backend}, nil
}

// handler is what the gateway's listener serves: the gateway, and the
// forward proxy for CONNECT and absolute-form requests when it is on.
func (a *App) handler() http.Handler {
	if a.proxy == nil {
		return a.gateway
	}
	proxy := a.proxy.gateway
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gateway.IsProxyRequest(r) {
			proxy.ServeHTTP(w, r)
			return
		}
		a.gateway.ServeHTTP(w, r)
	})
}

// noBackend answers every allowed request with 404: the forward proxy
// without a root or upstream has nothing to serve to ordinary requests.
type noBackend struct{ a *App }

// Serve implements upstream.Backend.
func (n noBackend) Serve(w http.ResponseWriter, r *http.Request, _ upstream.Request) {
	n.a.refuse(w, r, http.StatusNotFound, htgate.ReasonNotFound)
}

// warnPlainAuth logs, at start-up, that passwords would cross the network
// in clear text: Basic (or form login) without TLS on a listener other
// machines can reach.
func (a *App) warnPlainAuth() {
	plain := a.cfg.PlainAuthOnNetwork()
	host, _, err := net.SplitHostPort(a.cfg.Listen)
	if !plain && err == nil && !a.cfg.TLS.Enabled() && !config.IsLoopbackHost(host) && a.gateway != nil {
		// Protected URLs of the managed store are rules too.
		for _, r := range a.gateway.Policy().Rules.Rules() {
			if len(r.Schemes) == 0 || r.HasScheme("basic") || r.HasScheme("form") {
				plain = true
				break
			}
		}
	}
	if plain {
		a.logger.Warn("passwords cross the network in clear text: Basic authentication (or form login) without TLS on a listener other machines can reach; set tls: {cert, key} (--tls-cert, --tls-key) or put a TLS-terminating proxy in front and listen on 127.0.0.1",
			"listen", a.cfg.Listen)
	}
}

// certReloader serves the certificate of tls.cert and tls.key, re-loaded
// when either file's modification time or size changes, checked at most
// once a second (on a handshake). A new pair that does not load is logged
// and the previous one kept.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp
	checked time.Time
}

// fileStamp is what tells a changed file.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

// newCertReloader loads the pair once; an error there stops the start.
func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger, now: time.Now}
	if err := c.load(); err != nil {
		return nil, err
	}
	c.checked = c.now()
	return c, nil
}

// load reads the pair and its stamps. The caller holds mu (or owns c).
func (c *certReloader) load() error {
	s1, err1 := stampOf(c.certFile)
	s2, err2 := stampOf(c.keyFile)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls.cert, tls.key: %w", err)
	}
	c.cert, c.stamp = &cert, [2]fileStamp{s1, s2}
	return nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= time.Second {
		c.checked = now
		s1, err1 := stampOf(c.certFile)
		s2, err2 := stampOf(c.keyFile)
		if err1 == nil && err2 == nil && [2]fileStamp{s1, s2} != c.stamp {
			prev := c.cert
			if err := c.load(); err != nil {
				c.cert, c.stamp = prev, [2]fileStamp{s1, s2} // retried when the files change again
				c.logger.Error("TLS certificate changed but cannot be loaded; the previous one is still served", "err", err)
			} else {
				c.logger.Info("TLS certificate reloaded", "cert", c.certFile)
			}
		}
	}
	return c.cert, nil
}

// tlsConfig is the gateway listener's TLS configuration: TLS 1.2 and up,
// HTTP/2 and HTTP/1.1 offered (ALPN), the certificate from r.
func tlsConfig(r *certReloader) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// startProxyWatches watches the forward proxy's credential files for the
// lifetime of ctx.
func (p *forwardProxy) startWatches(ctx context.Context) {
	for _, f := range p.lp.files {
		go f.Watch(ctx, watchInterval)
	}
}
