package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Defaults of ForwardOptions.
const (
	// TunnelIdleTimeout ends a CONNECT tunnel in which no byte moved in
	// either direction for this long.
	TunnelIdleTimeout = 5 * time.Minute
)

// ErrDestinationRefused is wrapped by the error a Forward passes to
// OnError when the destination is an address it may not reach (loopback,
// private, link-local, unspecified or multicast, unless
// ForwardOptions.AllowPrivate).
var ErrDestinationRefused = errors.New("upstream: destination refused")

// ForwardOptions configures a Forward. The zero value is ready to use.
type ForwardOptions struct {
	// AllowPrivate lets the proxy reach loopback, private (RFC 1918,
	// fc00::/7), link-local, CGNAT (100.64.0.0/10), unspecified and
	// multicast addresses. Default false: a forward proxy is for outbound
	// access, and one that reaches the machine's own services and the
	// private network behind it is a server-side request forgery waiting
	// to happen. The check is made on the address actually dialled, after
	// name resolution, so a name that resolves to 127.0.0.1 is refused too.
	AllowPrivate bool
	// DialTimeout bounds the TCP connect to a destination. Default
	// DialTimeout (10 s).
	DialTimeout time.Duration
	// TunnelIdle ends a CONNECT tunnel idle in both directions for this
	// long. Default TunnelIdleTimeout (5 min).
	TunnelIdle time.Duration
	// OnError answers a request that could not be forwarded: the
	// destination refused (err wraps ErrDestinationRefused), unreachable
	// or timed out. Default: a plain 403 or 502.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives one line per failed forward. Default: discard.
	Logger *slog.Logger
}

// Forward is the backend of a forward proxy: it sends an absolute-form
// request ("GET http://example.com/ HTTP/1.1") to the host it names with
// httputil.ReverseProxy, and tunnels a CONNECT request through a hijacked
// connection. Proxy-Authorization, the credentials meant for the proxy, is
// never forwarded; neither are the hop-by-hop headers. It is safe for
// concurrent use.
type Forward struct {
	opts   ForwardOptions
	dialer *net.Dialer
	rp     *httputil.ReverseProxy
	tr     *http.Transport
}

var _ Backend = (*Forward)(nil)

// NewForward returns a Forward.
func NewForward(opts ForwardOptions) *Forward {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DialTimeout
	}
	if opts.TunnelIdle <= 0 {
		opts.TunnelIdle = TunnelIdleTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Forward{opts: opts}
	f.dialer = &net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivate {
		f.dialer.Control = refusePrivate
	}
	f.tr = NewTransport()
	f.tr.DialContext = f.dialer.DialContext
	f.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			u := *pr.In.URL
			u.User = nil // credentials in the URL are not forwarded either
			pr.Out.URL = &u
			pr.Out.Host = ""
			pr.Out.RequestURI = ""
			pr.Out.Header.Del("Proxy-Authorization")
			pr.Out.Header.Del("Proxy-Connection")
		},
		Transport: f.tr,
		ErrorLog:  slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			f.fail(w, r, err)
		},
	}
	return f
}

// CloseIdleConnections closes the transport's idle keep-alive connections.
func (f *Forward) CloseIdleConnections() { f.tr.CloseIdleConnections() }

// refusePrivate is a net.Dialer Control that refuses addresses a public
// forward proxy must not reach.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s is not an address", ErrDestinationRefused, address)
	}
	if a := ap.Addr().Unmap(); !PublicAddr(a) {
		return fmt.Errorf("%w: %s is not a public address", ErrDestinationRefused, a)
	}
	return nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// PublicAddr reports whether a is an address a forward proxy may reach by
// default: not loopback, private, link-local, CGNAT, unspecified or
// multicast.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() &&
		!a.IsLinkLocalMulticast() && !a.IsInterfaceLocalMulticast() && !a.IsMulticast() &&
		!a.IsUnspecified() && !cgnat.Contains(a)
}

// Serve implements Backend. req is used for nothing but the reference id:
// the destination is the request's own.
func (f *Forward) Serve(w http.ResponseWriter, r *http.Request, _ Request) {
	if r.Method == http.MethodConnect {
		f.tunnel(w, r)
		return
	}
	if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
		http.Error(w, "only http and https URLs are proxied", http.StatusBadRequest)
		return
	}
	f.rp.ServeHTTP(w, r)
}

// tunnel serves CONNECT: dial the destination, answer 200, then copy
// bytes both ways until either side closes or the tunnel is idle for
// TunnelIdle.
func (f *Forward) tunnel(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 {
		http.Error(w, "CONNECT is served over HTTP/1.1 only", http.StatusHTTPVersionNotSupported)
		return
	}
	host := r.URL.Host
	if host == "" {
		host = r.Host
	}
	if _, port, err := net.SplitHostPort(host); err != nil || port == "" {
		http.Error(w, "CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.opts.DialTimeout)
	dst, err := f.dialer.DialContext(ctx, "tcp", host)
	cancel()
	if err != nil {
		f.fail(w, r, err)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		dst.Close()
		http.Error(w, "the connection cannot be tunnelled", http.StatusInternalServerError)
		return
	}
	// net/http may have set deadlines (read_header, read, write); the
	// tunnel keeps its own.
	_ = conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		conn.Close()
		dst.Close()
		return
	}
	// Bytes the client sent after the CONNECT request that net/http has
	// already read (a TLS ClientHello sent eagerly).
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		if _, err := dst.Write(b); err != nil {
			conn.Close()
			dst.Close()
			return
		}
	}
	splice(conn, dst, f.opts.TunnelIdle)
}

// splice copies both ways between a and b until one side is done or
// neither moves a byte for idle; then both are closed.
func splice(a, b net.Conn, idle time.Duration) {
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			_ = src.SetReadDeadline(time.Now().Add(idle))
			n, err := src.Read(buf)
			if n > 0 {
				_ = dst.SetWriteDeadline(time.Now().Add(idle))
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		// Half-close so the other direction can finish; then unblock it.
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	wg.Add(2)
	go cp(b, a)
	go cp(a, b)
	wg.Wait()
	a.Close()
	b.Close()
}

func (f *Forward) fail(w http.ResponseWriter, r *http.Request, err error) {
	f.opts.Logger.WarnContext(r.Context(), "forward proxy: cannot reach the destination", "host", r.URL.Host, "err", err)
	if f.opts.OnError != nil {
		f.opts.OnError(w, r, err)
		return
	}
	if errors.Is(err, ErrDestinationRefused) {
		http.Error(w, "destination refused", http.StatusForbidden)
		return
	}
	http.Error(w, "destination unreachable", http.StatusBadGateway)
}
