package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of `htgate serve`. Every field documents
// its default; a zero value means that default.
type Config struct {
	// Listen is the address the gateway listens on. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// Root is a static docroot to serve. Exactly one of Root and Upstream is set.
	Root string `yaml:"root"`
	// Upstream is the URL of an HTTP server to reverse-proxy to.
	Upstream string `yaml:"upstream"`
	// HTAccess honours the .htaccess files under Root the way Apache httpd
	// 2.4 does (docs/apache-compat.md). Needs Root. Default false.
	HTAccess bool `yaml:"htaccess"`
	// Apache describes the Apache whose .htaccess handling is emulated.
	Apache Apache `yaml:"apache"`
	// Realm is the default realm of rules that name none. Default "Restricted".
	Realm string `yaml:"realm"`
	// LogFormat is "json" (default) or "text".
	LogFormat string `yaml:"log_format"`
	// AccessLog turns the per-request log line on or off. Default on.
	AccessLog *bool `yaml:"access_log"`
	// TrustedProxies lists addresses and CIDRs whose X-Forwarded-For and
	// Forwarded headers are believed. Default: none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ForwardedHeader is the header the trusted proxies write with the
	// client's address: "X-Forwarded-For" (default; nginx, Caddy, Traefik
	// and HAProxy write it) or "Forwarded" (RFC 7239). The other one is
	// ignored, so that a client cannot smuggle its own through the proxy.
	ForwardedHeader string `yaml:"forwarded_header"`
	// IdentityHeaders are extra header names htgate strips from clients and
	// sets to the authenticated user (Remote-User, X-Remote-User and
	// X-Forwarded-User always are).
	IdentityHeaders []string `yaml:"identity_headers"`
	// CaseSensitivePaths makes rule paths match case-sensitively. Default
	// false: /ADMIN is protected by a rule for /admin, since many upstreams
	// (IIS, case-insensitive file systems) would serve it.
	CaseSensitivePaths bool `yaml:"case_sensitive_paths"`
	// Limits bounds request headers.
	Limits Limits `yaml:"limits"`
	// Timeouts bound slow clients.
	Timeouts Timeouts `yaml:"timeouts"`
	// CredentialCache bounds the verified-credential cache.
	CredentialCache CredentialCache `yaml:"credential_cache"`
	// ErrorPages customises the responder.
	ErrorPages ErrorPages `yaml:"error_pages"`
	// Guard is the brute-force protection (on by default).
	Guard Guard `yaml:"guard"`
	// ClientLimits bound each client's concurrent requests and rate (off by default).
	ClientLimits ClientLimits `yaml:"client_limits"`
	// MetricsListen is the address of the operations listener: /metrics
	// (Prometheus), /healthz, /readyz and /lockouts. Default: none. Keep it
	// on loopback: lockouts can be cleared there (only by loopback clients).
	MetricsListen string `yaml:"metrics_listen"`
	// AdminListen is the address of the admin listener: the admin REST API
	// (/api/, described at /api/openapi.json), the web admin panel,
	// /metrics, /healthz and /readyz. It needs a managed store (data).
	// Default: none (off); 127.0.0.1:9080 is the documented choice. A
	// non-loopback address needs admin.tls_cert and admin.tls_key, or
	// admin.insecure: true.
	AdminListen string `yaml:"admin_listen"`
	// Admin configures the admin listener.
	Admin Admin `yaml:"admin"`
	// Data is the directory of the managed store (users, groups, protected
	// URLs, tokens, audit log: `htgate user`, `htgate url`, ...), created
	// with mode 0700 when it is given and missing. Default: ./htgate-data
	// when that directory exists, otherwise no managed store.
	Data string `yaml:"data"`
	// Store is the managed store's URL, instead of Data: "sqlite://PATH"
	// (a database file) or "postgres://USER@HOST:PORT/DB" (shared by
	// several nodes). Default: Data's file.
	Store string `yaml:"store"`
	// State is where lockouts, failure counters, Digest nonce counts and
	// form-login sessions are kept: "" (in this process's memory) or
	// "redis://HOST:PORT/DB" (shared by several nodes).
	State string `yaml:"state"`
	// Passwords are the hashing parameters of passwords htgate sets
	// (managed users and admins).
	Passwords Passwords `yaml:"passwords"`
	// AuditRetention is how long audit events are kept. Default 2160h (90
	// days); negative keeps them forever.
	AuditRetention time.Duration `yaml:"audit_retention"`
	// Sessions are the lifetimes of form-login sessions.
	Sessions Sessions `yaml:"sessions"`
	// Rules protect paths.
	Rules []Rule `yaml:"rules"`
	// TLS serves HTTPS (and HTTP/2) on Listen (integrations.go).
	TLS TLS `yaml:"tls"`
	// ForwardAuth is the forward-authentication endpoint (integrations.go).
	ForwardAuth ForwardAuth `yaml:"forward_auth"`
	// ForwardProxy makes the listener a forward proxy (integrations.go).
	ForwardProxy ForwardProxy `yaml:"forward_proxy"`

	// dir is the directory of the config file; relative paths resolve against it.
	dir string
}

// Passwords are the hashing parameters of new passwords.
type Passwords struct {
	// Format is argon2id (default) or bcrypt.
	Format string `yaml:"format"`
	// BcryptCost is the bcrypt cost, 4 to 17. Default 10.
	BcryptCost int `yaml:"bcrypt_cost"`
	// Argon2 are the argon2id parameters.
	Argon2 Argon2 `yaml:"argon2"`
}

// Argon2 are argon2id parameters (RFC 9106).
type Argon2 struct {
	// MemoryKiB is the memory in KiB. Default 65536 (64 MiB).
	MemoryKiB uint32 `yaml:"memory_kib"`
	// Iterations is the number of passes. Default 3.
	Iterations uint32 `yaml:"iterations"`
	// Threads is the parallelism. Default 2.
	Threads uint8 `yaml:"threads"`
}

// Apache describes the emulated Apache server configuration for
// .htaccess files. The zero value is the configuration the conformance
// goldens were recorded with.
type Apache struct {
	// AllowOverride lists what .htaccess files may configure, as Apache's
	// directive: "All", "None" or classes among AuthConfig, FileInfo,
	// Indexes, Limit and Options. Default "AuthConfig FileInfo Indexes Limit".
	AllowOverride string `yaml:"allow_override"`
	// AccessCompat loads mod_access_compat: Order, Allow, Deny and
	// Satisfy. Default false (they are unknown directives: 500).
	AccessCompat bool `yaml:"access_compat"`
	// ServerRoot resolves relative AuthUserFile and AuthGroupFile paths.
	// Default none: a relative path is an error (500 for its directory).
	ServerRoot string `yaml:"server_root"`
}

// Limits are request header limits, as Apache and nginx keep them.
type Limits struct {
	// MaxFieldBytes bounds one header field (name, colon, value). Default 8190 (Apache's LimitRequestFieldSize).
	MaxFieldBytes int `yaml:"max_field_bytes"`
	// MaxFields bounds the number of header fields. Default 100 (Apache's LimitRequestFields).
	MaxFields int `yaml:"max_fields"`
	// MaxHeaderBytes bounds the whole header block. Default 65536.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

// Timeouts of the HTTP server.
type Timeouts struct {
	// ReadHeader bounds the time to read request headers. Default 10s.
	ReadHeader time.Duration `yaml:"read_header"`
	// Read bounds the time to read a whole request, body included. Default 0 (none: uploads may be slow; ReadHeader still applies).
	Read time.Duration `yaml:"read"`
	// Write bounds the time to write a response. Default 0 (none: streaming responses and WebSockets must live).
	Write time.Duration `yaml:"write"`
	// Idle bounds keep-alive connections waiting for the next request. Default 120s.
	Idle time.Duration `yaml:"idle"`
	// Shutdown bounds the graceful shutdown on SIGTERM. Default 30s.
	Shutdown time.Duration `yaml:"shutdown"`
}

// CredentialCache bounds the cache of verified credentials.
type CredentialCache struct {
	// Size is the number of entries. Default 10000; negative disables the cache.
	Size int `yaml:"size"`
	// TTL is how long a verified credential is trusted without re-verifying. Default 5m.
	TTL time.Duration `yaml:"ttl"`
}

// ErrorPages customises what visitors see.
type ErrorPages struct {
	// TemplatesDir holds html/template files and messages that replace the embedded ones.
	TemplatesDir string `yaml:"templates_dir"`
	// Contact is shown on error pages ("contact webmaster@example.com").
	Contact string `yaml:"contact"`
}

// Guard configures the brute-force protection. Zero fields take the
// defaults (in the range fail2ban and Authelia use); a negative number
// turns that count off.
type Guard struct {
	// Disabled turns the guard off. Default false: it is on.
	Disabled bool `yaml:"disabled"`
	// MaxFailuresPerClientUser bans an (address, user) pair. Default 5.
	MaxFailuresPerClientUser int `yaml:"max_failures_per_client_user"`
	// MaxFailuresPerClient bans an address, whatever the user names. Default 20.
	MaxFailuresPerClient int `yaml:"max_failures_per_client"`
	// MaxFailuresPerUser bans a user name across addresses (slow, distributed guessing). Default 10.
	MaxFailuresPerUser int `yaml:"max_failures_per_user"`
	// FindTime is the window failures are counted in. Default 10m.
	FindTime time.Duration `yaml:"find_time"`
	// BanTime is the first ban; it doubles on each repeat offence. Default 5m.
	BanTime time.Duration `yaml:"ban_time"`
	// MaxBanTime caps the ban. Default 24h.
	MaxBanTime time.Duration `yaml:"max_ban_time"`
	// TrustedSuccessWindow: a user name ban does not apply to an address
	// that logged in as that user within this window. Default 24h.
	TrustedSuccessWindow time.Duration `yaml:"trusted_success_window"`
	// AllowList lists addresses and CIDRs that are never banned. Default none;
	// with htaccess: true, the loopback addresses (set it, even to [], to choose).
	AllowList []string `yaml:"allow_list"`
	// AnswerStatus is 429 (default) or 401, for clients that only understand 401.
	AnswerStatus int `yaml:"answer_status"`
	// MaxKeys bounds the memory of the failure counters and bans. Default 200000 each.
	MaxKeys int `yaml:"max_keys"`
}

// ClientLimits are per-client limits in the spirit of IIS Dynamic IP
// Restrictions. Both limits are off by default.
type ClientLimits struct {
	// MaxConcurrent bounds requests in flight per client address. Default 0: no limit.
	MaxConcurrent int `yaml:"max_concurrent"`
	// RatePerSecond bounds the request rate per client address. Default 0: no limit.
	RatePerSecond float64 `yaml:"rate_per_second"`
	// Burst is the number of requests allowed at once above the rate. Default: max(1, rate).
	Burst int `yaml:"burst"`
	// AllowList lists addresses and CIDRs without limits.
	AllowList []string `yaml:"allow_list"`
	// Status answers a client over its limits: 429 (default) or 503.
	Status int `yaml:"status"`
}

// Rule protects a path (and optionally a host).
type Rule struct {
	// Path is the protected path prefix, matched by whole segments ("/admin" covers "/admin/x", not "/administrator").
	Path string `yaml:"path"`
	// Host restricts the rule to one host name. Default: every host.
	Host string `yaml:"host"`
	// Realm is shown in the browser's login dialog. Default: Config.Realm.
	Realm string `yaml:"realm"`
	// Schemes lists the accepted authentication schemes, in the order
	// their challenges are sent: basic, digest, or both. Default [basic].
	Schemes []string `yaml:"schemes"`
	// Htpasswd is the credential file (Apache htpasswd format), for basic.
	Htpasswd string `yaml:"htpasswd"`
	// Htdigest is the Digest credential file (Apache htdigest format,
	// "user:realm:hash"; `htgate htdigest` writes it), for digest. Its
	// entries must be for the rule's realm.
	Htdigest string `yaml:"htdigest"`
	// DigestAlgorithms lists the Digest algorithms offered, in order:
	// SHA-256, SHA-256-sess, MD5, MD5-sess. Default: those the htdigest
	// file holds a hash of for every user of the realm, SHA-256 first
	// (a file written by Apache's htdigest holds MD5 only).
	DigestAlgorithms []string `yaml:"digest_algorithms"`
	// NonceLifetime is how long a Digest nonce is accepted; the client
	// then silently gets a new one (stale=true). Default 5m, at most 24h.
	NonceLifetime time.Duration `yaml:"nonce_lifetime"`
	// GroupFile is an Apache group file, needed for Groups.
	GroupFile string `yaml:"group_file"`
	// Users may enter (any of them). With Groups and Require empty: every valid user.
	Users []string `yaml:"users"`
	// Groups may enter (members of any of them).
	Groups []string `yaml:"groups"`
	// Require lists Apache-style Require lines ("valid-user", "user a b", "group g", "ip 10.0.0.0/8", "all granted", "not ip ..."); any of them grants, as Apache's implicit RequireAny.
	Require []string `yaml:"require"`
	// PassAuthorization forwards the client's Authorization header upstream. Default false.
	PassAuthorization bool `yaml:"pass_authorization"`
}

// Load reads and decodes the YAML file at path, applies defaults and
// resolves relative paths against the file's directory. It does not
// validate: call Validate.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// maxConfigBytes bounds the size of a config file.
const maxConfigBytes = 8 << 20

// Parse decodes YAML data strictly; dir is the base for relative paths.
func Parse(data []byte, dir string) (*Config, error) {
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config is larger than %d bytes", maxConfigBytes)
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse YAML: more than one document")
	}
	c.dir = dir
	c.ApplyDefaults()
	return c, nil
}

// ApplyDefaults fills every zero field with its documented default and
// resolves relative file paths against the config file's directory.
func (c *Config) ApplyDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.Realm == "" {
		c.Realm = "Restricted"
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
	}
	if c.ForwardedHeader == "" {
		c.ForwardedHeader = "X-Forwarded-For"
	}
	if c.Limits.MaxFieldBytes == 0 {
		c.Limits.MaxFieldBytes = 8190
	}
	if c.Limits.MaxFields == 0 {
		c.Limits.MaxFields = 100
	}
	if c.Limits.MaxHeaderBytes == 0 {
		c.Limits.MaxHeaderBytes = 64 << 10
	}
	if c.Timeouts.ReadHeader == 0 {
		c.Timeouts.ReadHeader = 10 * time.Second
	}
	if c.Timeouts.Idle == 0 {
		c.Timeouts.Idle = 120 * time.Second
	}
	if c.Timeouts.Shutdown == 0 {
		c.Timeouts.Shutdown = 30 * time.Second
	}
	if c.CredentialCache.Size == 0 {
		c.CredentialCache.Size = 10000
	}
	if c.HTAccess && c.Guard.AllowList == nil {
		// Apache locks nobody out: with .htaccess emulation, clients on
		// the loopback interface (a local proxy without trusted_proxies,
		// a local test suite) are not banned unless allow_list says so.
		c.Guard.AllowList = []string{"127.0.0.0/8", "::1"}
	}
	if c.CredentialCache.TTL == 0 {
		c.CredentialCache.TTL = 5 * time.Minute
	}
	c.Root = c.resolve(c.Root)
	c.Apache.ServerRoot = c.resolve(c.Apache.ServerRoot)
	c.Data = c.resolve(c.Data)
	if c.Passwords.Format == "" {
		c.Passwords.Format = "argon2id"
	}
	if c.AuditRetention == 0 {
		c.AuditRetention = 90 * 24 * time.Hour
	}
	if c.Sessions.Idle == 0 {
		c.Sessions.Idle = 24 * time.Minute
	}
	if c.Sessions.Absolute == 0 {
		c.Sessions.Absolute = 12 * time.Hour
	}
	c.ErrorPages.TemplatesDir = c.resolve(c.ErrorPages.TemplatesDir)
	c.applyAdminDefaults()
	c.applyIntegrationDefaults()
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Realm == "" {
			r.Realm = c.Realm
		}
		r.Htpasswd = c.resolve(r.Htpasswd)
		r.Htdigest = c.resolve(r.Htdigest)
		for j, sc := range r.Schemes {
			r.Schemes[j] = strings.ToLower(sc)
		}
		r.GroupFile = c.resolve(r.GroupFile)
	}
	// Paths are resolved once; later additions (command-line flags) are
	// relative to the working directory.
	c.dir = ""
}

// AccessLogEnabled reports whether per-request log lines are written.
func (c *Config) AccessLogEnabled() bool { return c.AccessLog == nil || *c.AccessLog }

func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Validate returns every problem of the configuration, each naming the
// field it is about. It has no side effects and touches no file.
func (c *Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case c.Root == "" && c.Upstream == "" && !c.ForwardProxy.Enabled:
		add("root or upstream: one of them is required (a docroot to serve or a URL to proxy to)")
	case c.Root != "" && c.Upstream != "":
		add("root and upstream: set only one")
	}
	if c.HTAccess && c.Root == "" {
		add("htaccess: needs root (.htaccess files are read from a static docroot)")
	}
	for _, e := range c.Sessions.validate() {
		add("%s", e)
	}
	if c.Upstream != "" {
		u, err := url.Parse(c.Upstream)
		switch {
		case err != nil:
			add("upstream: %w", err)
		case u.Scheme != "http" && u.Scheme != "https":
			add("upstream: scheme must be http or https, got %q", u.Scheme)
		case u.Host == "":
			add("upstream: %q has no host", c.Upstream)
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		add("log_format: must be json or text, got %q", c.LogFormat)
	}
	if h := strings.ToLower(c.ForwardedHeader); h != "x-forwarded-for" && h != "forwarded" {
		add("forwarded_header: must be X-Forwarded-For or Forwarded, got %q", c.ForwardedHeader)
	}
	for i, h := range c.IdentityHeaders {
		if h == "" || strings.ContainsAny(h, " \t\r\n:") {
			add("identity_headers[%d]: %q is not a header name", i, h)
		}
	}
	if c.Limits.MaxFieldBytes < 256 || c.Limits.MaxFields < 8 || c.Limits.MaxHeaderBytes < c.Limits.MaxFieldBytes {
		add("limits: max_field_bytes must be at least 256, max_fields at least 8, and max_header_bytes at least max_field_bytes")
	}
	if c.Timeouts.ReadHeader < 0 || c.Timeouts.Read < 0 || c.Timeouts.Write < 0 || c.Timeouts.Idle < 0 || c.Timeouts.Shutdown < 0 {
		add("timeouts: durations cannot be negative")
	}
	if s := c.Guard.AnswerStatus; s != 0 && s != 401 && s != 429 {
		add("guard.answer_status: must be 429 or 401, got %d", s)
	}
	if s := c.ClientLimits.Status; s != 0 && s != 429 && s != 503 {
		add("client_limits.status: must be 429 or 503, got %d", s)
	}
	if c.ClientLimits.MaxConcurrent < 0 || c.ClientLimits.RatePerSecond < 0 || c.ClientLimits.Burst < 0 {
		add("client_limits: values cannot be negative")
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"trusted_proxies", c.TrustedProxies}, {"guard.allow_list", c.Guard.AllowList}, {"client_limits.allow_list", c.ClientLimits.AllowList}} {
		if _, err := ParsePrefixes(l.list); err != nil {
			add("%s%w", l.name, err)
		}
	}
	switch c.Passwords.Format {
	case "argon2id", "bcrypt":
	default:
		add("passwords.format: must be argon2id or bcrypt, got %q", c.Passwords.Format)
	}
	if n := c.Passwords.BcryptCost; n != 0 && (n < 4 || n > 17) {
		add("passwords.bcrypt_cost: must be between 4 and 17, got %d", n)
	}
	if a := c.Passwords.Argon2; (a.MemoryKiB != 0 && (a.MemoryKiB < 8*1024 || a.MemoryKiB > 2*1024*1024)) ||
		(a.Iterations != 0 && a.Iterations > 64) || uint64(a.MemoryKiB)*uint64(max(a.Iterations, 1)) > 4*1024*1024 {
		add("passwords.argon2: memory_kib must be 8192 to 2097152, iterations at most 64, and memory times iterations at most 4 GiB")
	}
	if c.Store != "" && c.Data != "" {
		add("store and data: set only one")
	}
	if c.State != "" && !strings.HasPrefix(c.State, "redis://") && !strings.HasPrefix(c.State, "rediss://") {
		add("state: want redis://HOST:PORT/DB or rediss://... (or nothing for this process's memory)")
	}
	errs = append(errs, c.validateAdmin()...)
	errs = append(errs, c.validateIntegrations()...)
	seen := map[string]int{}
	for i, r := range c.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if !strings.HasPrefix(r.Path, "/") {
			add("%s.path: must start with /, got %q", where, r.Path)
		}
		key := strings.ToLower(r.Host) + " " + r.Path
		if j, dup := seen[key]; dup {
			add("%s: same host and path as rules[%d]", where, j)
		}
		seen[key] = i
		schemes := r.Schemes
		if len(schemes) == 0 {
			schemes = []string{"basic"}
		}
		seenScheme := map[string]bool{}
		for j, sc := range schemes {
			switch {
			case sc != "basic" && sc != "digest" && sc != "bearer" && sc != "form":
				add("%s.schemes[%d]: %q is not basic, digest, bearer or form", where, j, sc)
			case seenScheme[sc]:
				add("%s.schemes[%d]: %s is listed twice", where, j, sc)
			}
			seenScheme[sc] = true
		}
		if (seenScheme["basic"] || seenScheme["form"]) && r.Htpasswd == "" && needsUser(r) {
			add("%s.htpasswd: a credential file is required to check users", where)
		}
		if seenScheme["digest"] && r.Htdigest == "" && needsUser(r) {
			add("%s.htdigest: an htdigest file is required for the digest scheme", where)
		}
		if r.Htdigest != "" && !seenScheme["digest"] {
			add("%s.htdigest: set, but digest is not in schemes", where)
		}
		for j, a := range r.DigestAlgorithms {
			if !validDigestAlgorithm(a) {
				add("%s.digest_algorithms[%d]: %q is not SHA-256, SHA-256-sess, MD5 or MD5-sess", where, j, a)
			}
		}
		if r.NonceLifetime < 0 || r.NonceLifetime > 24*time.Hour {
			add("%s.nonce_lifetime: must be between 0 (the default, 5m) and 24h", where)
		}
		if len(r.Groups) > 0 && r.GroupFile == "" {
			add("%s.group_file: required when groups are listed", where)
		}
		if strings.ContainsAny(r.Realm, "\r\n") {
			add("%s.realm: must be one line", where)
		}
	}
	return errs
}

// validDigestAlgorithm reports whether a is a Digest algorithm htgate
// implements, compared case-insensitively.
func validDigestAlgorithm(a string) bool {
	for _, v := range []string{"SHA-256", "SHA-256-sess", "MD5", "MD5-sess"} {
		if strings.EqualFold(a, v) {
			return true
		}
	}
	return false
}

// needsUser reports whether a rule can only be satisfied by an authenticated user.
func needsUser(r Rule) bool {
	if len(r.Users) > 0 || len(r.Groups) > 0 || len(r.Require) == 0 {
		return true
	}
	for _, line := range r.Require {
		f := strings.Fields(strings.ToLower(line))
		if len(f) > 0 && f[0] == "not" {
			f = f[1:]
		}
		if len(f) > 0 && (f[0] == "valid-user" || f[0] == "user" || f[0] == "group") {
			return true
		}
	}
	return false
}

// ParsePrefixes parses addresses ("10.1.2.3", "::1") and CIDRs
// ("10.0.0.0/8") into prefixes; an address becomes a one-address prefix.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %q is neither an address nor a CIDR", i, s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
