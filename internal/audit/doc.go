// Package audit defines audit events (who, what, when, from where, with
// which reference id) and the one-method Sink they are recorded to. It
// imports the standard library only.
package audit
