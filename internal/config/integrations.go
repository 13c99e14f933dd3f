package config

import (
	"fmt"
	"net"
	"strings"
)

// TLS makes the gateway's listener serve HTTPS (and HTTP/2).
type TLS struct {
	// Cert and Key are PEM files: the certificate chain and its private
	// key. Both or neither. They are re-read when they change (checked at
	// most once a second), so a renewed certificate is served without a
	// restart. Default: none, plain HTTP.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.Cert != "" }

// ForwardAuth configures the forward-authentication endpoint for nginx
// auth_request, Traefik forwardAuth and Caddy forward_auth
// (docs/integrations.md). It answers only trusted_proxies.
type ForwardAuth struct {
	// Path is the endpoint's path. Default "/.htgate/verify".
	Path string `yaml:"path"`
	// Disabled turns the endpoint off. Default false (on; it refuses every
	// peer that is not in trusted_proxies).
	Disabled bool `yaml:"disabled"`
}

// ForwardProxy makes the listener a forward proxy with authentication
// (407 with Proxy-Authenticate), besides whatever root or upstream serve
// to ordinary requests.
//
// The credentials and who may use the proxy are one rule, written like the
// entries of rules (realm, htpasswd, group_file, users, groups, require);
// it applies to every proxied request. Its path is always "/"; a host is
// not allowed.
type ForwardProxy struct {
	// Enabled turns the forward proxy on. Default false.
	Enabled bool `yaml:"enabled"`
	// AllowPrivate lets the proxy reach loopback, private, link-local and
	// CGNAT addresses (checked on the address dialled, after DNS). Default
	// false: only public destinations.
	AllowPrivate bool `yaml:"allow_private"`
	// Rule says who may use the proxy: realm (default "Proxy"), htpasswd,
	// group_file, users, groups, require. Without htpasswd and require the
	// proxy refuses everyone.
	Rule `yaml:",inline"`
}

// DefaultProxyRealm is the realm of the forward proxy's challenge.
const DefaultProxyRealm = "Proxy"

// applyIntegrationDefaults fills the defaults of tls, forward_auth and
// forward_proxy and resolves their files.
func (c *Config) applyIntegrationDefaults() {
	c.TLS.Cert = c.resolve(c.TLS.Cert)
	c.TLS.Key = c.resolve(c.TLS.Key)
	if c.ForwardAuth.Path == "" {
		c.ForwardAuth.Path = "/.htgate/verify"
	}
	fp := &c.ForwardProxy
	if fp.Realm == "" {
		fp.Realm = DefaultProxyRealm
	}
	fp.Path = "/"
	fp.Htpasswd = c.resolve(fp.Htpasswd)
	fp.GroupFile = c.resolve(fp.GroupFile)
	for j, sc := range fp.Schemes {
		fp.Schemes[j] = strings.ToLower(sc)
	}
}

// validateIntegrations checks tls, forward_auth and forward_proxy.
func (c *Config) validateIntegrations() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		add("tls.cert and tls.key: set both or neither")
	}
	if p := c.ForwardAuth.Path; !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# \t") {
		add("forward_auth.path: must be a path starting with /, got %q", p)
	}
	fp := c.ForwardProxy
	if !fp.Enabled {
		return errs
	}
	if fp.Host != "" {
		add("forward_proxy.host: not allowed (the rule applies to every destination)")
	}
	for j, sc := range fp.Schemes {
		if sc != "basic" {
			add("forward_proxy.schemes[%d]: only basic is supported for proxy authentication, got %q", j, sc)
		}
	}
	if fp.Htdigest != "" {
		add("forward_proxy.htdigest: proxy authentication is Basic only")
	}
	if fp.Htpasswd == "" && needsUser(fp.Rule) {
		add("forward_proxy.htpasswd: a credential file is required to check the proxy's users")
	}
	if len(fp.Groups) > 0 && fp.GroupFile == "" {
		add("forward_proxy.group_file: required when groups are listed")
	}
	if strings.ContainsAny(fp.Realm, "\r\n") {
		add("forward_proxy.realm: must be one line")
	}
	return errs
}

// PlainAuthOnNetwork reports whether the gateway would ask for passwords
// in clear text on a listener other machines can reach: no TLS, a
// non-loopback listen address, and a rule (or the forward proxy) that
// accepts Basic. The start-up warning uses it.
func (c *Config) PlainAuthOnNetwork() bool {
	if c.TLS.Enabled() {
		return false
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil || IsLoopbackHost(host) {
		return false
	}
	if c.ForwardProxy.Enabled || c.HTAccess {
		return true
	}
	for _, r := range c.Rules {
		if len(r.Schemes) == 0 {
			return true
		}
		for _, s := range r.Schemes {
			if s == "basic" || s == "form" {
				return true
			}
		}
	}
	return false
}
