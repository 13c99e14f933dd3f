// Package passwd owns password hash formats and the credential files of
// Apache httpd: htpasswd files (every hash format Apache 2.4 reads on Linux,
// plus argon2id), htdigest files (Digest H(A1) values, MD5 as Apache
// writes them and SHA-256 as an htgate extension), group files, their
// atomic reload while requests are in flight, and atomic, line-preserving
// rewrites for `htgate htpasswd` and `htgate htdigest`.
//
// It imports the standard library, golang.org/x/crypto (bcrypt, argon2) and
// github.com/GehirnInc/crypt (MD5-crypt, SHA-crypt); it never imports other
// htgate packages, so every other package may use it.
package passwd
