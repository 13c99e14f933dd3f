package app

import (
	"fmt"
	"log/slog"

	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/gateway"
	"github.com/htgate/htgate/internal/htaccess"
)

// buildHTAccess returns the gateway's .htaccess machinery when the
// configuration turns it on (htaccess: true with a root), nil otherwise.
func buildHTAccess(cfg *config.Config, logger *slog.Logger) (*gateway.HTAccess, error) {
	if !cfg.HTAccess || cfg.Root == "" {
		return nil, nil
	}
	opts, on, err := htaccessOptions(cfg)
	if err != nil {
		return nil, err
	}
	if !on {
		// AllowOverride None: .htaccess files are not read at all.
		logger.Warn("htaccess: apache.allow_override is None; .htaccess files are ignored")
		return nil, nil
	}
	l, err := htaccess.NewLoader(cfg.Root, htaccess.LoaderOptions{Options: opts})
	if err != nil {
		return nil, err
	}
	return &gateway.HTAccess{Loader: l}, nil
}

// htaccessOptions turns the apache: settings into parser options; on is
// false for AllowOverride None.
func htaccessOptions(cfg *config.Config) (opts htaccess.Options, on bool, err error) {
	opts = htaccess.Options{
		AccessCompat: cfg.Apache.AccessCompat,
		ServerRoot:   cfg.Apache.ServerRoot,
	}
	if s := cfg.Apache.AllowOverride; s != "" {
		o, err := htaccess.ParseOverride(s)
		if err != nil {
			return opts, false, fmt.Errorf("apache.allow_override: %w", err)
		}
		if o == 0 {
			return opts, false, nil
		}
		opts.AllowOverride = o
	}
	return opts, true, nil
}
