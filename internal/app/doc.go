// Package app is the composition root: it builds the gateway, its
// credential sources and its HTTP server from a config.Config, runs it,
// reloads it and shuts it down. It is the only package that picks
// implementations (and, later, store and state drivers).
package app
