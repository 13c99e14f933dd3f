package config

import (
	"strings"
	"testing"
)

func TestIntegrationsConfig(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    []string // substrings, one per error; nil: valid
	}{
		{"defaults", "root: /srv\n", nil},
		{"tls", "root: /srv\ntls: {cert: c.pem, key: k.pem}\n", nil},
		{"tls half", "root: /srv\ntls: {cert: c.pem}\n", []string{"tls.cert and tls.key"}},
		{"verify path", "root: /srv\nforward_auth: {path: /auth}\n", nil},
		{"verify path relative", "root: /srv\nforward_auth: {path: auth}\n", []string{"forward_auth.path"}},
		{"proxy only", "forward_proxy: {enabled: true, htpasswd: users}\n", nil},
		{"proxy without users", "forward_proxy: {enabled: true}\n", []string{"forward_proxy.htpasswd"}},
		{"proxy open to all", "forward_proxy: {enabled: true, require: [all granted]}\n", nil},
		{"proxy digest", "forward_proxy: {enabled: true, htpasswd: u, schemes: [digest]}\n", []string{"forward_proxy.schemes[0]"}},
		{"proxy host", "forward_proxy: {enabled: true, htpasswd: u, host: example.com}\n", []string{"forward_proxy.host"}},
		{"proxy groups", "forward_proxy: {enabled: true, htpasswd: u, groups: [staff]}\n", []string{"forward_proxy.group_file"}},
		{"proxy off needs no site check", "root: /srv\nforward_proxy: {enabled: false}\n", nil},
		{"neither site nor proxy", "realm: x\n", []string{"root or upstream"}},
		{"unknown key", "root: /srv\nforward_proxy: {enabled: true, htpasswd: u, nope: 1}\n", []string{"parse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "/etc/htgate")
			var errs []error
			if err != nil {
				errs = []error{err}
			} else {
				errs = c.Validate()
			}
			if len(errs) != len(tt.wantErr) {
				t.Fatalf("Validate(%q) = %v, want %d errors %q", tt.yaml, errs, len(tt.wantErr), tt.wantErr)
			}
			for i, want := range tt.wantErr {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("Validate(%q)[%d] = %q, want it to mention %q", tt.yaml, i, errs[i], want)
				}
			}
		})
	}
	c, err := Parse([]byte("forward_proxy: {enabled: true, htpasswd: users, path: /x}\ntls: {cert: c.pem, key: k.pem}\n"), "/etc/htgate")
	if err != nil {
		t.Fatal(err)
	}
	if fp := c.ForwardProxy; fp.Path != "/" || fp.Realm != DefaultProxyRealm || fp.Htpasswd != "/etc/htgate/users" {
		t.Errorf("forward_proxy defaults: path %q realm %q htpasswd %q", fp.Path, fp.Realm, fp.Htpasswd)
	}
	if c.TLS.Cert != "/etc/htgate/c.pem" || c.ForwardAuth.Path != "/.htgate/verify" {
		t.Errorf("tls.cert %q, forward_auth.path %q", c.TLS.Cert, c.ForwardAuth.Path)
	}
}
