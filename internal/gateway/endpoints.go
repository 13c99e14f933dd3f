package gateway

import (
	"net/http"
	"strings"
)

// ReservedPrefix is the path prefix of htgate's own endpoints on the
// gateway's listener (forward authentication, login, logout). Requests
// under it that name no endpoint go through the request path as usual.
const ReservedPrefix = "/.htgate/"

// endpoint returns the handler of one of htgate's own endpoints for the
// request path, or nil when the path names none. It is the one dispatcher
// of the reserved prefix: each endpoint adds one case.
func (g *Gateway) endpoint(path string) http.HandlerFunc {
	if g.verifyPath != "" && path == g.verifyPath {
		return g.serveVerify
	}
	if !strings.HasPrefix(path, ReservedPrefix) {
		return nil
	}
	switch path[len(ReservedPrefix):] {
	// Further endpoints go here.
	case "login":
		return g.serveLogin
	case "logout":
		return g.serveLogout
	}
	return nil
}
