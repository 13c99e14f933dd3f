package app

import "testing"

func TestStoreLocationString(t *testing.T) {
	tests := []struct {
		loc      StoreLocation
		want     string
		postgres bool
	}{
		{StoreLocation{Data: "/var/lib/htgate"}, "/var/lib/htgate", false},
		{StoreLocation{URL: "sqlite:///var/lib/htgate/htgate.db"}, "sqlite:///var/lib/htgate/htgate.db", false},
		{StoreLocation{URL: "postgres://htgate@db:5432/htgate"}, "postgres://htgate@db:5432/htgate", true},
		{StoreLocation{URL: "postgres://htgate:s3cret@db:5432/htgate?sslmode=require"}, "postgres://htgate:xxxxx@db:5432/htgate?sslmode=require", true},
		{StoreLocation{URL: "postgresql://db/htgate"}, "postgresql://db/htgate", true},
	}
	for _, tt := range tests {
		if got := tt.loc.String(); got != tt.want {
			t.Errorf("StoreLocation%+v.String() = %q, want %q", tt.loc, got, tt.want)
		}
		if got := tt.loc.isPostgres(); got != tt.postgres {
			t.Errorf("StoreLocation%+v.isPostgres() = %v, want %v", tt.loc, got, tt.postgres)
		}
	}
}
