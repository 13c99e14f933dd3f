package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte("root: site\nrules:\n  - path: /members\n    htpasswd: members.htpasswd\n"), "/etc/htgate")
	if err != nil {
		t.Fatal(err)
	}
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("Validate() = %v, want none", errs)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"root", c.Root, "/etc/htgate/site"},
		{"realm", c.Rules[0].Realm, "Restricted"},
		{"htpasswd", c.Rules[0].Htpasswd, "/etc/htgate/members.htpasswd"},
		{"read_header", c.Timeouts.ReadHeader, 10 * time.Second},
		{"max_field_bytes", c.Limits.MaxFieldBytes, 8190},
		{"max_fields", c.Limits.MaxFields, 100},
		{"cache", c.CredentialCache.Size, 10000},
		{"access_log", c.AccessLogEnabled(), true},
		{"log_format", c.LogFormat, "json"},
	}
	for _, tt := range checks {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "root: x\nrooot: y\n", "field rooot not found"},
		{"bad duration", "root: x\ntimeouts: {idle: forever}\n", "parse YAML"},
		{"two documents", "root: x\n---\nroot: y\n", "more than one document"},
		{"wrong type", "rules: 3\n", "parse YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %v, want containing %q", tt.yaml, err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings, one per expected error
	}{
		{"ok upstream", "upstream: http://127.0.0.1:3000\n", nil},
		{"neither", "listen: :1\n", []string{"root or upstream"}},
		{"both", "root: x\nupstream: http://a\n", []string{"set only one"}},
		{"bad upstream scheme", "upstream: ftp://a\n", []string{"scheme must be http"}},
		{"upstream without host", "upstream: http://\n", []string{"has no host"}},
		{"bad log format", "root: x\nlog_format: xml\n", []string{"log_format"}},
		{"bad proxy", "root: x\ntrusted_proxies: [10.0.0.0/8, nope]\n", []string{"trusted_proxies[1]"}},
		{"relative rule path", "root: x\nrules: [{path: admin, htpasswd: f}]\n", []string{"rules[0].path"}},
		{"missing htpasswd", "root: x\nrules: [{path: /admin}]\n", []string{"rules[0].htpasswd"}},
		{"digest", "root: x\nrules: [{path: /a, schemes: [Digest], htdigest: f, digest_algorithms: [sha-256, MD5-sess], nonce_lifetime: 1m}]\n", nil},
		{"basic and digest", "root: x\nrules: [{path: /a, schemes: [basic, digest], htpasswd: f, htdigest: g}]\n", nil},
		{"digest needs htdigest", "root: x\nrules: [{path: /a, schemes: [basic, digest], htpasswd: f}]\n", []string{"rules[0].htdigest"}},
		{"digest only needs no htpasswd", "root: x\nrules: [{path: /a, schemes: [digest], htdigest: f}]\n", nil},
		{"htdigest without digest", "root: x\nrules: [{path: /a, htpasswd: f, htdigest: g}]\n", []string{"digest is not in schemes"}},
		{"bad scheme", "root: x\nrules: [{path: /a, schemes: [ntlm, basic, basic], htpasswd: f}]\n", []string{"schemes[0]", "schemes[2]"}},
		{"form and bearer", "root: x\nrules: [{path: /a, schemes: [form, basic, bearer], htpasswd: f}]\n", nil},
		{"form needs htpasswd", "root: x\nrules: [{path: /a, schemes: [form]}]\n", []string{"rules[0].htpasswd"}},
		{"session lifetimes", "root: x\nsessions: {idle: 2h, absolute: 1h}\n", []string{"sessions.idle"}},
		{"negative session lifetime", "root: x\nsessions: {absolute: -1h}\n", []string{"sessions.absolute"}},
		{"bad algorithm", "root: x\nrules: [{path: /a, schemes: [digest], htdigest: f, digest_algorithms: [SHA-512-256]}]\n", []string{"digest_algorithms[0]"}},
		{"bad lifetime", "root: x\nrules: [{path: /a, schemes: [digest], htdigest: f, nonce_lifetime: 48h}]\n", []string{"nonce_lifetime"}},
		{"ip only needs no htpasswd", "root: x\nrules: [{path: /admin, require: [ip 10.0.0.0/8]}]\n", nil},
		{"groups need group file", "root: x\nrules: [{path: /a, htpasswd: f, groups: [g]}]\n", []string{"rules[0].group_file"}},
		{"duplicate rule", "root: x\nrules: [{path: /a, htpasswd: f}, {path: /a, htpasswd: g}]\n", []string{"same host and path as rules[0]"}},
		{"same path other host", "root: x\nrules: [{path: /a, htpasswd: f}, {path: /a, host: b.example, htpasswd: g}]\n", nil},
		{"tiny limits", "root: x\nlimits: {max_field_bytes: 10}\n", []string{"limits"}},
		{"two problems", "log_format: xml\n", []string{"root or upstream", "log_format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "")
			if err != nil {
				t.Fatal(err)
			}
			errs := c.Validate()
			if len(errs) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d errors %q", errs, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("Validate()[%d] = %q, want containing %q", i, errs[i], w)
				}
			}
		})
	}
}

func TestLoadExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "examples", "htgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("example config: %v", errs)
	}
	if _, err := os.Stat(c.Rules[0].Htpasswd); err != nil {
		t.Errorf("example htpasswd path %q does not resolve: %v", c.Rules[0].Htpasswd, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("root: site\nrules:\n  - path: /members\n    htpasswd: m\n"))
	f.Add([]byte("upstream: http://127.0.0.1:1\ntimeouts: {idle: 5s}\n"))
	f.Add([]byte("rules: [{path: /a, require: [\"not ip 10.0.0.0/8\"]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "/base")
		if err != nil {
			return
		}
		_ = c.Validate()
		if c.Listen == "" || c.Realm == "" {
			t.Fatalf("defaults not applied: %+v", c)
		}
	})
}

func TestParseDigestRule(t *testing.T) {
	c, err := Parse([]byte("root: site\nrules:\n  - path: /members\n    schemes: [Basic, DIGEST]\n    htpasswd: users\n    htdigest: users.htdigest\n    nonce_lifetime: 30s\n"), "/etc/htgate")
	if err != nil {
		t.Fatal(err)
	}
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("Validate() = %v, want none", errs)
	}
	r := c.Rules[0]
	if r.Htdigest != "/etc/htgate/users.htdigest" || strings.Join(r.Schemes, ",") != "basic,digest" || r.NonceLifetime != 30*time.Second {
		t.Errorf("rule = %+v, want htdigest resolved, schemes lower-cased, nonce_lifetime 30s", r)
	}
}
