package config

import (
	"strings"
	"testing"
)

func TestValidateAdmin(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // a substring of the one error; "" for none
	}{
		{"off", "", ""},
		{"loopback", "admin_listen: 127.0.0.1:9080", ""},
		{"loopback v6", "admin_listen: '[::1]:9080'", ""},
		{"localhost", "admin_listen: localhost:9080", ""},
		{"everywhere", "admin_listen: ':9080'", "reachable from other machines"},
		{"public", "admin_listen: 192.0.2.1:9080", "reachable from other machines"},
		{"public with TLS", "admin_listen: 192.0.2.1:9443\nadmin: {tls_cert: c.pem, tls_key: k.pem}", ""},
		{"public insecure", "admin_listen: 0.0.0.0:9080\nadmin: {insecure: true}", ""},
		{"half TLS", "admin_listen: 127.0.0.1:9443\nadmin: {tls_cert: c.pem}", "set both or neither"},
		{"no port", "admin_listen: 127.0.0.1", "not HOST:PORT"},
		{"idle above lifetime", "admin: {session_idle: 2h, session_lifetime: 1h}", "longer than"},
		{"negative", "admin: {session_idle: -1m}", "cannot be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("root: /srv\n"+tt.yaml), "/etc/htgate")
			if err != nil {
				t.Fatal(err)
			}
			errs := c.Validate()
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("Validate(%q) = %v, want no error", tt.yaml, errs)
			case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want)):
				t.Errorf("Validate(%q) = %v, want one error with %q", tt.yaml, errs, tt.want)
			}
		})
	}
	c, err := Parse([]byte("root: /srv\nadmin: {tls_cert: c.pem, tls_key: /k.pem}"), "/etc/htgate")
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.TLSCert != "/etc/htgate/c.pem" || c.Admin.TLSKey != "/k.pem" {
		t.Errorf("TLS files = %q, %q: want resolved against the config's directory", c.Admin.TLSCert, c.Admin.TLSKey)
	}
	if c.Admin.SessionIdle != DefaultAdminSessionIdle || c.Admin.SessionLifetime != DefaultAdminSessionLifetime {
		t.Errorf("session defaults = %v, %v", c.Admin.SessionIdle, c.Admin.SessionLifetime)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"127.0.0.1", true}, {"127.1.2.3", true}, {"::1", true}, {"[::1]", true}, {"LOCALHOST", true},
		{"", false}, {"0.0.0.0", false}, {"::", false}, {"192.0.2.1", false}, {"example.com", false}, {"::ffff:127.0.0.1", true},
	}
	for _, tt := range tests {
		if got := IsLoopbackHost(tt.in); got != tt.want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
