package testsvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Default server URLs.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedis    = "redis://127.0.0.1:6379/0"
)

// unavailable fails the test in CI and skips it elsewhere.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not reachable (CI is set, so this fails rather than skips): %v", what, err)
	}
	t.Skipf("%s is not reachable: %v (start it, see .ci/run; in CI this fails)", what, err)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Postgres returns the URL of the test database after checking that it
// answers.
func Postgres(t testing.TB) string {
	t.Helper()
	shared(t)
	u := env("HTGATE_TEST_POSTGRES", DefaultPostgres)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	return u
}

// Random returns n random bytes in hex.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// PostgresSchema creates a new schema in the database of base and returns
// base with search_path set to it. The schema is dropped when t ends.
func PostgresSchema(t testing.TB, base string) string {
	t.Helper()
	schema := "htgate_test_" + Random(6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Redis returns the URL of the test Redis after checking that it answers.
func Redis(t testing.TB) string {
	t.Helper()
	shared(t)
	u := env("HTGATE_TEST_REDIS", DefaultRedis)
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("HTGATE_TEST_REDIS: %v", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unavailable(t, "Redis", err)
	}
	return u
}

// RedisPrefix returns a new key prefix ("htgate-test-RANDOM:") whose keys
// are deleted when t ends.
func RedisPrefix(t testing.TB, u string) string {
	t.Helper()
	prefix := fmt.Sprintf("htgate-test-%s:", Random(6))
	t.Cleanup(func() {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return
		}
		c := redis.NewClient(opt)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up redis prefix %s: %v", prefix, err)
			return
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("clean up redis prefix %s: %v", prefix, err)
				return
			}
			keys = keys[n:]
		}
	})
	return prefix
}
