// Package testsvc gives tests the PostgreSQL and Redis servers that run on
// the CI machines: Postgres and Redis return a URL after checking that the
// server answers, PostgresSchema a schema of its own (dropped when the test
// ends) and RedisPrefix a key prefix of its own (its keys deleted when the
// test ends). Tests that only use the servers hold a shared file lock
// while they run; Disrupt, for a test that stops or restarts them, waits
// for an exclusive one, so that no other package's test sees the outage.
// When a server does not answer, the test fails if the CI
// environment variable is set and is skipped otherwise.
//
// The URLs come from HTGATE_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable) and
// HTGATE_TEST_REDIS (default redis://127.0.0.1:6379/0).
//
// Only tests import it. It imports pgx and go-redis.
package testsvc
