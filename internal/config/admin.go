package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Admin configures the admin listener (Config.AdminListen): the admin REST
// API, the web admin panel, /metrics, /healthz and /readyz.
type Admin struct {
	// TLSCert and TLSKey are PEM files; with both set the admin listener
	// serves HTTPS only. Default: none, plain HTTP, which only a loopback
	// admin_listen may use (unless Insecure).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Insecure lets a non-loopback admin_listen serve plain HTTP, for a
	// private network or behind a proxy that terminates TLS. Passwords and
	// session cookies then cross the network as the proxy sends them.
	// Default false.
	Insecure bool `yaml:"insecure"`
	// SessionIdle ends a panel session unused for this long. Default 30m.
	SessionIdle time.Duration `yaml:"session_idle"`
	// SessionLifetime ends a panel session this long after its login,
	// however busy. Default 12h.
	SessionLifetime time.Duration `yaml:"session_lifetime"`
}

// Defaults of the admin listener's sessions.
const (
	DefaultAdminSessionIdle     = 30 * time.Minute
	DefaultAdminSessionLifetime = 12 * time.Hour
)

// applyAdminDefaults fills the admin section's defaults and resolves its
// files against the config file's directory.
func (c *Config) applyAdminDefaults() {
	if c.Admin.SessionIdle == 0 {
		c.Admin.SessionIdle = DefaultAdminSessionIdle
	}
	if c.Admin.SessionLifetime == 0 {
		c.Admin.SessionLifetime = DefaultAdminSessionLifetime
	}
	c.Admin.TLSCert = c.resolve(c.Admin.TLSCert)
	c.Admin.TLSKey = c.resolve(c.Admin.TLSKey)
}

// validateAdmin checks admin_listen and the admin section: an address,
// TLS files given in pairs, and plain HTTP only on loopback unless
// admin.insecure says otherwise.
func (c *Config) validateAdmin() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	a := c.Admin
	if (a.TLSCert == "") != (a.TLSKey == "") {
		add("admin.tls_cert and admin.tls_key: set both or neither")
	}
	if a.SessionIdle < 0 || a.SessionLifetime < 0 {
		add("admin.session_idle and admin.session_lifetime: durations cannot be negative")
	} else if a.SessionIdle > a.SessionLifetime {
		add("admin.session_idle (%s) is longer than admin.session_lifetime (%s)", a.SessionIdle, a.SessionLifetime)
	}
	if c.AdminListen == "" {
		return errs
	}
	host, _, err := net.SplitHostPort(c.AdminListen)
	if err != nil {
		add("admin_listen: %q is not HOST:PORT", c.AdminListen)
		return errs
	}
	if a.TLSCert == "" && !a.Insecure && !IsLoopbackHost(host) {
		add("admin_listen: %s is reachable from other machines: set admin.tls_cert and admin.tls_key for HTTPS, use a loopback address such as 127.0.0.1:9080, or set admin.insecure: true", c.AdminListen)
	}
	return errs
}

// IsLoopbackHost reports whether a listen address's host only accepts
// connections from this machine: "localhost" or a loopback IP. An empty
// host ("":9080) listens everywhere.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}
