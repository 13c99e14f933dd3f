// Package postgres opens the managed store (store/sqlstore) on a
// PostgreSQL database with github.com/jackc/pgx/v5 (its database/sql
// driver for the store's queries, a plain connection for LISTEN). The
// schema is sqlstore's shared migrations with PostgreSQL's two column
// types (Dialect); the only PostgreSQL-specific schema object is the
// trigger of change propagation (notifySetup): every write bumps
// meta.version inside its transaction, and the trigger sends
// NOTIFY htgate_store in that same transaction, delivered when it commits.
// Watch listens for it so that every node reloads within milliseconds; the
// gateway keeps polling Version as a fallback.
//
// A store URL is a libpq/pgx connection URL; a search_path parameter
// (postgres://host/db?search_path=NAME) puts the tables in that schema,
// which must exist.
//
// It imports store, store/sqlstore and pgx; only internal/app and tests
// import it.
package postgres
