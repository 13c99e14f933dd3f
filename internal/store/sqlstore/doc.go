// Package sqlstore implements every role of package store over
// database/sql, for any SQL database with a Dialect: SQLite (store/sqlite)
// now and PostgreSQL later. The schema is one set of embedded, versioned
// migrations (migrations/NNNN_name.sql) shared by every dialect; the only
// differences are the two column types a Dialect substitutes for {{id}}
// and {{key}}. Queries use $1-style placeholders, ON CONFLICT and
// RETURNING, which both databases read the same way.
//
// Every write is one transaction that also bumps the store's version (and
// the credentials or rules sub-version the gateway reloads by) and appends
// its audit event, so a change, its audit record and its visibility to the
// gateway are all or nothing.
//
// It imports store, names (through store), passwd and the standard library;
// never a driver.
package sqlstore
