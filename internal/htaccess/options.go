package htaccess

import (
	"fmt"
	"strings"
)

// Override is a set of AllowOverride classes: which directives a
// .htaccess file may use.
type Override uint8

// AllowOverride classes.
const (
	OverrideAuthConfig Override = 1 << iota // AuthType, AuthName, Require, ...
	OverrideFileInfo                        // ErrorDocument, Redirect, AddType, ...
	OverrideIndexes                         // DirectoryIndex, DirectorySlash, ...
	OverrideLimit                           // <Limit>, Order, Allow, Deny
	OverrideOptions                         // Options

	// OverrideAll is AllowOverride All.
	OverrideAll = OverrideAuthConfig | OverrideFileInfo | OverrideIndexes | OverrideLimit | OverrideOptions
	// DefaultOverride is "AllowOverride AuthConfig FileInfo Indexes Limit",
	// the setting the conformance goldens were recorded with.
	DefaultOverride = OverrideAuthConfig | OverrideFileInfo | OverrideIndexes | OverrideLimit
)

var overrideNames = []struct {
	name string
	o    Override
}{
	{"AuthConfig", OverrideAuthConfig},
	{"FileInfo", OverrideFileInfo},
	{"Indexes", OverrideIndexes},
	{"Limit", OverrideLimit},
	{"Options", OverrideOptions},
}

// ParseOverride parses the arguments of an AllowOverride directive:
// "All", "None" or a list of AuthConfig, FileInfo, Indexes, Limit and
// Options, separated by blanks or commas, case-insensitive. "Options=..."
// is read as Options.
func ParseOverride(s string) (Override, error) {
	var o Override
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(words) == 0 {
		return 0, fmt.Errorf("AllowOverride: empty")
	}
	for _, w := range words {
		if k := strings.IndexByte(w, '='); k >= 0 {
			w = w[:k]
		}
		switch {
		case strings.EqualFold(w, "All"):
			o |= OverrideAll
			continue
		case strings.EqualFold(w, "None"):
			continue
		}
		found := false
		for _, n := range overrideNames {
			if strings.EqualFold(w, n.name) {
				o |= n.o
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("AllowOverride: unknown class %q (want All, None, AuthConfig, FileInfo, Indexes, Limit or Options)", w)
		}
	}
	return o, nil
}

// String formats o as AllowOverride arguments.
func (o Override) String() string {
	if o == 0 {
		return "None"
	}
	if o == OverrideAll {
		return "All"
	}
	var parts []string
	for _, n := range overrideNames {
		if o&n.o != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, " ")
}

// Options describe the Apache server whose per-directory configuration is
// emulated. The zero value is the configuration the conformance goldens
// were recorded with: the modules authn_core, authn_file, authz_core,
// authz_host, authz_user, authz_groupfile, auth_basic, auth_digest, alias,
// dir and mime (plus Apache's compiled-in core modules), and
// "AllowOverride AuthConfig FileInfo Indexes Limit".
type Options struct {
	// AllowOverride lists the classes of directives .htaccess files may
	// use. Zero means DefaultOverride.
	AllowOverride Override
	// AccessCompat loads mod_access_compat: the Apache 2.2 directives
	// Order, Allow, Deny and Satisfy, with Apache 2.4's semantics. Default
	// false: like an Apache without that module, they are unknown
	// directives (500).
	AccessCompat bool
	// ServerRoot resolves relative AuthUserFile and AuthGroupFile paths
	// (and IfFile), as Apache's ServerRoot does. Default empty: a relative
	// path is an error (500), never a guess.
	ServerRoot string
	// Defines are the names <IfDefine> tests (apache2 -D NAME). Default none.
	Defines []string
}

func (o Options) override() Override {
	if o.AllowOverride == 0 {
		return DefaultOverride
	}
	return o.AllowOverride
}

// ApacheVersion is the version <IfVersion> compares against: the Apache
// httpd release the conformance goldens were recorded with.
const ApacheVersion = "2.4.71"

// baseModules are the modules of the emulated server, by their source file
// name and module identifier (both are accepted by <IfModule>).
var baseModules = []string{
	"core.c", "core_module", "mod_so.c", "so_module", "mod_watchdog.c", "watchdog_module",
	"http_core.c", "http_module", "mod_log_config.c", "log_config_module",
	"mod_logio.c", "logio_module", "mod_version.c", "version_module", "mod_unixd.c", "unixd_module",
	"event.c", "mpm_event_module",
	"mod_authn_core.c", "authn_core_module", "mod_authn_file.c", "authn_file_module",
	"mod_authz_core.c", "authz_core_module", "mod_authz_host.c", "authz_host_module",
	"mod_authz_user.c", "authz_user_module", "mod_authz_groupfile.c", "authz_groupfile_module",
	"mod_auth_basic.c", "auth_basic_module", "mod_auth_digest.c", "auth_digest_module",
	"mod_alias.c", "alias_module", "mod_dir.c", "dir_module", "mod_mime.c", "mime_module",
}

// hasModule reports whether <IfModule name> is true.
func (o Options) hasModule(name string) bool {
	if o.AccessCompat && (name == "mod_access_compat.c" || name == "access_compat_module") {
		return true
	}
	for _, m := range baseModules {
		if m == name {
			return true
		}
	}
	return false
}
