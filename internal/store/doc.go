// Package store defines the managed store of htgate: users and their
// password hashes, groups, protected URLs and who may enter them, API
// tokens, admin accounts and the audit log (DESIGN §3). It holds the model
// types, small role interfaces (Users, Groups, URLs, Grants, Tokens, Admins,
// Audit, Importer, Snapshotter) that every backend implements, the sentinel
// errors they return, and Snapshot, the immutable in-memory view the
// gateway enforces.
//
// Backends live in subpackages: store/sqlstore is the database/sql
// implementation and its embedded migrations (one schema for every SQL
// dialect), store/sqlite opens it on an embedded SQLite file,
// store/postgres on PostgreSQL (with change notifications), and
// store/storetest is the conformance suite every backend passes.
// store/fileimport brings Apache's htpasswd, htdigest and group files in
// through the Importer role.
//
// It imports htgate's names and passwd packages and the standard library;
// it never imports a driver.
package store
