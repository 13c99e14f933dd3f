package upstream

import (
	"errors"
	"net/http"
	"net/netip"
)

// Request is what the gateway decided and what a Backend must honour.
type Request struct {
	// Path is the canonical, decoded path the matcher saw. A Backend uses
	// it (never r.URL.Path) to decide what to serve. "" means "/".
	Path string
	// EscapedPath is the escaped form of Path, the bytes that go on the wire
	// upstream. It must decode to Path; "" means the default escaping of Path.
	EscapedPath string
	// User is the authenticated user name, "" when anonymous.
	User string
	// Groups are the user's groups, sent upstream as Remote-Groups.
	Groups []string
	// KeepAuthorization passes the client's Authorization header upstream.
	// Default false: it is stripped.
	KeepAuthorization bool
	// RefID is the reference id, sent upstream as X-Request-Id.
	RefID string
	// Client is the client address after trusted-proxy resolution. When
	// valid it is sent upstream as X-Forwarded-For and X-Real-Ip; the zero
	// value means the address of the connection's peer.
	Client netip.Addr
}

// Backend serves a request the gateway has allowed.
type Backend interface {
	Serve(w http.ResponseWriter, r *http.Request, req Request)
}

// ErrInvalidRequest is wrapped by the error a Proxy passes to OnError when
// the Request itself cannot be forwarded safely: EscapedPath does not decode
// to Path, the path holds an encoded '/', '\' or NUL, or a user or group
// name cannot be carried in a header. Such a request never reaches the
// upstream; it points at a bug in the caller, so 500 is the fitting answer.
var ErrInvalidRequest = errors.New("upstream: invalid request")
