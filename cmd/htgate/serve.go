package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/app"
	"github.com/htgate/htgate/internal/config"
)

type serveFlags struct {
	configFile     string
	root           string
	upstream       string
	addr           string
	protect        []string
	htpasswd       string
	realm          string
	logFormat      string
	trustedProxies []string
	accessLog      bool
	htaccess       bool
	data           string
	storeURL       string
	stateURL       string
	guard          bool
	metricsAddr    string
	adminAddr      string
	tlsCert        string
	tlsKey         string
	forwardProxy   bool
	proxyPrivate   bool
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway in front of a docroot or an upstream",
		Long: `Run the gateway. It serves a static docroot (--root) or reverse-proxies to an
upstream (--upstream), and protects paths with HTTP authentication.

Rules come from a YAML file (--config) or, for a quick start, from --protect,
--htpasswd and --realm. SIGTERM or Ctrl-C shuts down gracefully; SIGHUP
reloads the configuration and credential files (which are also reloaded by
themselves when they change).

Protected URLs and users of the managed store (htgate url, htgate user, htgate
import) come from --data DIR, or ./htgate-data when it exists; a change made
there is enforced within a second, without a restart.`,
		Example: `  htgate serve --config examples/htgate.yaml
  htgate serve --root ./public --data ./htgate-data
  htgate serve --upstream http://127.0.0.1:3000 --protect /admin --htpasswd ./.htpasswd
  htgate serve --root ./public --addr :8080 --protect /members --htpasswd ./members.htpasswd --realm "Members"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), cmd, f)
		},
	}
	fl := cmd.Flags()
	addConfigFlags(cmd, &f)
	fl.StringVar(&f.addr, "addr", "", "listen address (default 127.0.0.1:8080)")
	fl.StringVar(&f.logFormat, "log-format", "", "log format: json or text (default json)")
	fl.BoolVar(&f.accessLog, "access-log", true, "write one log line per request")
	fl.BoolVar(&f.guard, "guard", true, "brute-force protection (lockouts); --guard=false turns it off")
	fl.StringVar(&f.adminAddr, "admin-addr", "", "admin panel and REST API listener, e.g. 127.0.0.1:9080 (needs --data)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "operations listener for /metrics, /healthz, /readyz, /lockouts (e.g. 127.0.0.1:9090)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS and HTTP/2 with this PEM certificate chain (reloaded when it changes); needs --tls-key")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fl.BoolVar(&f.forwardProxy, "forward-proxy", false, "also act as a forward proxy (absolute-form requests and CONNECT) with 407 proxy authentication; --htpasswd without --protect names its users")
	fl.BoolVar(&f.proxyPrivate, "proxy-allow-private", false, "let the forward proxy reach loopback and private addresses (default: public destinations only)")
	return cmd
}

// addConfigFlags adds the flags that describe what the gateway enforces,
// shared by serve and explain.
func addConfigFlags(cmd *cobra.Command, f *serveFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.configFile, "config", "", "YAML configuration file")
	fl.StringVar(&f.root, "root", "", "serve this static docroot")
	fl.BoolVar(&f.htaccess, "htaccess", false, "honour .htaccess files under --root as Apache httpd 2.4 does")
	fl.StringVar(&f.upstream, "upstream", "", "reverse-proxy to this URL (http or https)")
	fl.StringArrayVar(&f.protect, "protect", nil, "protect this path prefix (repeatable); needs --htpasswd")
	fl.StringVar(&f.htpasswd, "htpasswd", "", "htpasswd file for the --protect paths")
	fl.StringVar(&f.realm, "realm", "", `realm shown in the login dialog (default "Restricted")`)
	fl.StringArrayVar(&f.trustedProxies, "trusted-proxy", nil, "address or CIDR whose X-Forwarded-For is believed (repeatable)")
	fl.StringVar(&f.data, "data", "", "managed store directory (htgate user/url ...), created if missing (default ./htgate-data when it exists)")
	fl.StringVar(&f.storeURL, "store", "", "managed store URL instead of --data: sqlite://PATH or postgres://USER@HOST:PORT/DB (shared by several nodes)")
	fl.StringVar(&f.stateURL, "state", "", "where lockouts, nonces and sessions are kept: redis://HOST:PORT/DB (shared by several nodes; default this process's memory)")
}

// buildConfig merges the config file (if any) with the flags; flags win.
func buildConfig(cmd *cobra.Command, f serveFlags) (*config.Config, error) {
	var cfg *config.Config
	if f.configFile != "" {
		c, err := config.Load(f.configFile)
		if err != nil {
			return nil, err
		}
		cfg = c
	} else {
		cfg = &config.Config{}
	}
	if f.htaccess {
		cfg.HTAccess = true
	}
	if f.root != "" {
		cfg.Root, cfg.Upstream = f.root, ""
	}
	if f.upstream != "" {
		cfg.Upstream, cfg.Root = f.upstream, ""
	}
	if f.root != "" && f.upstream != "" {
		return nil, errors.New("--root and --upstream: give only one")
	}
	if f.addr != "" {
		cfg.Listen = f.addr
	}
	if f.logFormat != "" {
		cfg.LogFormat = f.logFormat
	}
	if f.realm != "" {
		cfg.Realm = f.realm
	}
	if fl := cmd.Flags().Lookup("access-log"); fl != nil && fl.Changed {
		v := f.accessLog
		cfg.AccessLog = &v
	}
	if fl := cmd.Flags().Lookup("guard"); fl != nil && fl.Changed {
		cfg.Guard.Disabled = !f.guard
	}
	if f.metricsAddr != "" {
		cfg.MetricsListen = f.metricsAddr
	}
	if f.adminAddr != "" {
		cfg.AdminListen = f.adminAddr
	}
	cfg.TrustedProxies = append(cfg.TrustedProxies, f.trustedProxies...)
	if f.data != "" && f.storeURL != "" {
		return nil, errors.New("--data and --store: give only one")
	}
	if f.data != "" {
		cfg.Data, cfg.Store = f.data, ""
	}
	if f.storeURL != "" {
		cfg.Store, cfg.Data = f.storeURL, ""
	}
	if f.stateURL != "" {
		cfg.State = f.stateURL
	}
	if f.tlsCert != "" || f.tlsKey != "" {
		cfg.TLS.Cert, cfg.TLS.Key = f.tlsCert, f.tlsKey
	}
	if f.forwardProxy {
		cfg.ForwardProxy.Enabled = true
		if f.htpasswd != "" && len(f.protect) == 0 {
			cfg.ForwardProxy.Htpasswd = f.htpasswd
			if f.realm != "" {
				cfg.ForwardProxy.Realm = f.realm
			}
			f.htpasswd = ""
		}
	}
	if f.proxyPrivate {
		cfg.ForwardProxy.AllowPrivate = true
	}
	if len(f.protect) > 0 && f.htpasswd == "" {
		return nil, errors.New("--protect needs --htpasswd FILE (create one with: htgate htpasswd -c FILE USER)")
	}
	if f.htpasswd != "" && len(f.protect) == 0 {
		return nil, errors.New("--htpasswd needs at least one --protect PATH")
	}
	for _, p := range f.protect {
		cfg.Rules = append(cfg.Rules, config.Rule{Path: p, Htpasswd: f.htpasswd, Realm: f.realm})
	}
	cfg.ApplyDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  %w", errors.Join(errs...))
	}
	return cfg, nil
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

func runServe(ctx context.Context, cmd *cobra.Command, f serveFlags) error {
	cfg, err := buildConfig(cmd, f)
	if err != nil {
		return err
	}
	logger := newLogger(cmd.ErrOrStderr(), cfg.LogFormat)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				next, err := buildConfig(cmd, f)
				if err == nil {
					err = a.Reload(ctx, next)
				}
				if err != nil {
					logger.Error("reload failed; the previous configuration stays in force", "err", err)
				}
			}
		}
	}()
	return a.Run(ctx)
}
