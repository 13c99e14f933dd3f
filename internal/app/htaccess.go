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
	opts := htaccess.Options{
		AccessCompat: cfg.Apache.AccessCompat,
		ServerRoot:   cfg.Apache.ServerRoot,
	}
	if s := cfg.Apache.AllowOverride; s != "" {
		o, err := htaccess.ParseOverride(s)
		if err != nil {
			return nil, fmt.Errorf("apache.allow_override: %w", err)
		}
		if o == 0 {
			// AllowOverride None: .htaccess files are not read at all.
			logger.Warn("htaccess: apache.allow_override is None; .htaccess files are ignored")
			return nil, nil
		}
		opts.AllowOverride = o
	}
	l, err := htaccess.NewLoader(cfg.Root, htaccess.LoaderOptions{Options: opts})
	if err != nil {
		return nil, err
	}
	return &gateway.HTAccess{Loader: l}, nil
}
