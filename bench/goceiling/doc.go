// Command goceiling is the ceiling for a Go web server in the whole-server
// benchmark (bench/run.sh): a bare net/http file server with no
// authentication, no logging and no middleware. htgate serving the same file
// on the same core cannot be expected to beat it. It imports only the
// standard library and is not part of htgate.
package main
