package config

import (
	"strings"
	"testing"
)

func TestValidateStoreAndState(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // a substring of the one error; "" for none
	}{
		{"memory", "", ""},
		{"redis", "state: redis://127.0.0.1:6379/0", ""},
		{"redis with prefix", "state: 'redis://127.0.0.1:6379/0?prefix=site1:'", ""},
		{"rediss", "state: rediss://cache.internal:6380/1", ""},
		{"memcached", "state: memcached://127.0.0.1:11211", "want redis://"},
		{"bare host", "state: 127.0.0.1:6379", "want redis://"},
		{"postgres store", "store: postgres://htgate@db.internal/htgate\nstate: redis://127.0.0.1:6379/0", ""},
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
}
