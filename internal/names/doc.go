// Package names normalises the names of managed users and groups with the
// RFC 8265 PRECIS UsernameCaseMapped profile, so that "Alice", "ALICE" and
// "alice" (and the compatibility forms of a name: full-width letters,
// decomposed accents) are one account. It imports the standard library and
// golang.org/x/text only.
package names
