package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestServeFlagsTLSAndForwardProxy(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("alice:{SHA}x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		f       serveFlags
		check   func(t *testing.T, cfgTLS, proxyHtpasswd, proxyRealm string, proxyOn, private bool, rules int)
		wantErr string
	}{
		{
			name: "tls",
			f:    serveFlags{root: dir, tlsCert: "c.pem", tlsKey: "k.pem"},
			check: func(t *testing.T, cfgTLS, _, _ string, proxyOn, _ bool, _ int) {
				if cfgTLS != "c.pem k.pem" || proxyOn {
					t.Errorf("tls = %q, proxy %v", cfgTLS, proxyOn)
				}
			},
		},
		{name: "tls cert without key", f: serveFlags{root: dir, tlsCert: "c.pem"}, wantErr: "tls.cert and tls.key"},
		{
			name: "forward proxy with htpasswd",
			f:    serveFlags{forwardProxy: true, htpasswd: users, realm: "Office", proxyPrivate: true},
			check: func(t *testing.T, _, pw, realm string, proxyOn, private bool, rules int) {
				if !proxyOn || pw != users || realm != "Office" || !private || rules != 0 {
					t.Errorf("forward proxy = on %v, htpasswd %q, realm %q, private %v, rules %d", proxyOn, pw, realm, private, rules)
				}
			},
		},
		{
			name:    "forward proxy and protected site",
			f:       serveFlags{root: dir, forwardProxy: true, htpasswd: users, protect: []string{"/a"}},
			wantErr: "forward_proxy.htpasswd",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := buildConfig(&cobra.Command{}, tt.f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("buildConfig = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, strings.TrimSpace(cfg.TLS.Cert+" "+cfg.TLS.Key), cfg.ForwardProxy.Htpasswd, cfg.ForwardProxy.Realm, cfg.ForwardProxy.Enabled, cfg.ForwardProxy.AllowPrivate, len(cfg.Rules))
		})
	}
}
