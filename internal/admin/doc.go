// Package admin is htgate's admin REST API (JSON under /api/, described by
// the OpenAPI 3.1 document at /api/openapi.json) and its web admin panel
// (server-rendered html/template pages with embedded assets, usable without
// JavaScript), served together on their own listener.
//
// It owns admin authentication: admin accounts verified with passwd.Verify
// (a dummy hash for unknown names), panel sessions in memory (HttpOnly,
// SameSite=Strict cookies; idle and absolute lifetimes; a new id at every
// login; logout ends the session on the server), CSRF protection of every
// state-changing form (a synchronizer token per session, and the Origin or
// Referer must be this server), admin API tokens for scripts (Bearer,
// stored hashed through store.Tokens) and the two roles, admin and viewer.
// Every change goes through the store with the acting admin attached
// (store.WithActor), so the store audits it in the same transaction.
//
// It imports htgate, store, passwd, scheme (the format of users' Bearer
// tokens) and the standard library; never
// a store driver, the gateway or the guard (brute-force protection comes in
// through the LoginGuard interface, which package app adapts).
package admin
