package upstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seen is what the upstream received.
type seen struct {
	Header     http.Header
	RequestURI string
	Host       string
	RawQuery   string
}

// recorder is an upstream that records the last request it received.
type recorder struct {
	mu   sync.Mutex
	last *seen
	n    int
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.last = &seen{Header: r.Header.Clone(), RequestURI: r.RequestURI, Host: r.Host, RawQuery: r.URL.RawQuery}
	rec.n++
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "upstream ok")
}

func (rec *recorder) get(t *testing.T) *seen {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.last == nil {
		t.Fatal("upstream received no request")
	}
	s := rec.last
	rec.last = nil
	return s
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.n
}

// newUpstream starts a recording upstream.
func newUpstream(t testing.TB) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

// mustURL parses a URL or fails the test.
func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newTestProxy builds a Proxy to target and closes it with the test.
func newTestProxy(t testing.TB, target string, opts ProxyOptions) *Proxy {
	t.Helper()
	p, err := NewProxy(mustURL(t, target), opts)
	if err != nil {
		t.Fatalf("NewProxy(%q) = %v", target, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// newFront starts the gateway side: a server that hands every request to
// p with the Request mk builds (the client's own path when mk is nil).
func newFront(t testing.TB, p *Proxy, mk func(r *http.Request) Request) *httptest.Server {
	t.Helper()
	if mk == nil {
		mk = func(r *http.Request) Request {
			return Request{Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RefID: "ref-1"}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Serve(w, r, mk(r))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// do sends a request with raw (uncanonicalised) header keys.
func do(t testing.TB, method, u string, hdr map[string][]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// spoofSpellings are client-sent header names that must never reach the
// upstream, whatever their case or separator.
var spoofSpellings = []string{
	"remote-user", "REMOTE-USER", "Remote_User", "remote_user", "REMOTE_USER", "rEmOtE-uSeR",
	"Remote.User", "x-remote-user", "X_Remote_User", "x_remote_user", "X-REMOTE_USER",
	"x-forwarded-user", "x-forwarded_user", "X_FORWARDED_USER", "X-Forwarded_User",
	"remote-groups", "REMOTE_GROUPS", "Remote-Email", "remote_name", "X-Forwarded-Email",
	"x_forwarded_groups", "x-original-url", "X_Original_URL", "X-ORIGINAL-URL", "x-original-uri",
	"x-rewrite-url", "X_REWRITE_URL", "x-forwarded-for", "X_Forwarded_For", "x-forwarded-host",
	"X_FORWARDED_PROTO", "x-forwarded-prefix", "forwarded", "x-real-ip", "X_Real_IP",
	"x-request-id", "X_Request_ID", "proxy-authorization", "Proxy_Authorization", "x-auth-user",
	"X_AUTH_USER",
}

func TestProxyStripsIdentityHeaders(t *testing.T) {
	rec, up := newUpstream(t)
	p := newTestProxy(t, up.URL, ProxyOptions{IdentityHeaders: []string{"X-Auth-User"}})
	for _, user := range []string{"alice", ""} {
		front := newFront(t, p, func(r *http.Request) Request {
			return Request{Path: r.URL.Path, User: user, Groups: []string{"admins", "dev"}, RefID: "ref-7"}
		})
		for _, key := range spoofSpellings {
			t.Run("user="+user+"/"+key, func(t *testing.T) {
				resp := do(t, "GET", front.URL+"/x", map[string][]string{key: {"spoofed"}})
				if resp.StatusCode != 200 {
					t.Fatalf("status = %d, want 200", resp.StatusCode)
				}
				got := rec.get(t)
				for k, vv := range got.Header {
					for _, v := range vv {
						if strings.Contains(v, "spoofed") {
							t.Errorf("client header %q arrived upstream as %q: %q", key, k, v)
						}
					}
				}
				want := map[string]string{
					"Remote-User": "", "X-Remote-User": "", "X-Forwarded-User": "", "X-Auth-User": "", "Remote-Groups": "",
					"X-Request-Id": "ref-7", "X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1",
				}
				if user != "" {
					for _, k := range []string{"Remote-User", "X-Remote-User", "X-Forwarded-User", "X-Auth-User"} {
						want[k] = user
					}
					want["Remote-Groups"] = "admins,dev"
				}
				for k, w := range want {
					if g := strings.Join(got.Header[k], "|"); g != w {
						t.Errorf("upstream %s = %q, want %q", k, g, w)
					}
				}
			})
		}
	}
}

// TestProxyStripsRawKeys calls Serve directly with header keys a server
// would never produce (lower case, surrounding blanks), as a caller with a
// hand-built request could.
func TestProxyStripsRawKeys(t *testing.T) {
	rec, up := newUpstream(t)
	p := newTestProxy(t, up.URL, ProxyOptions{})
	for _, key := range []string{"remote-user", "Remote-User ", "\tX-Remote-User", "x-forwarded-user", "x_original_url", "authorization"} {
		t.Run(key, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Header[key] = []string{"spoofed"}
			w := httptest.NewRecorder()
			p.Serve(w, r, Request{Path: "/x", User: "bob"})
			if w.Code != 200 {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			got := rec.get(t)
			for k, vv := range got.Header {
				if strings.Contains(strings.Join(vv, ","), "spoofed") {
					t.Errorf("raw key %q arrived upstream as %q", key, k)
				}
			}
			if g := got.Header.Get("Remote-User"); g != "bob" {
				t.Errorf("Remote-User = %q, want %q", g, "bob")
			}
		})
	}
}

// TestProxyConnectionHeaderAttack checks that a client naming htgate's
// headers in Connection cannot get them removed after htgate set them.
func TestProxyConnectionHeaderAttack(t *testing.T) {
	rec, up := newUpstream(t)
	p := newTestProxy(t, up.URL, ProxyOptions{})
	var inbound string
	front := newFront(t, p, func(r *http.Request) Request {
		inbound = strings.Join(r.Header["Connection"], ", ")
		return Request{Path: r.URL.Path, User: "alice", Groups: []string{"staff"}, RefID: "ref-9"}
	})
	resp := do(t, "GET", front.URL+"/x", map[string][]string{
		"Connection":  {"Remote-User, X-Remote-User, X-Forwarded-User, Remote-Groups", "X-Request-Id, X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto, X-Real-Ip"},
		"Remote-User": {"mallory"},
	})
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(inbound, "Remote-User") || !strings.Contains(inbound, "X-Forwarded-For") {
		t.Fatalf("gateway saw Connection %q; the attack did not arrive", inbound)
	}
	got := rec.get(t).Header
	want := map[string]string{
		"Remote-User": "alice", "X-Remote-User": "alice", "X-Forwarded-User": "alice", "Remote-Groups": "staff",
		"X-Request-Id": "ref-9", "X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1",
		"X-Forwarded-Host": strings.TrimPrefix(front.URL, "http://"), "X-Forwarded-Proto": "http", "Connection": "",
	}
	for k, w := range want {
		if g := strings.Join(got[k], "|"); g != w {
			t.Errorf("upstream %s = %q, want %q", k, g, w)
		}
	}
}

func TestProxyAuthorization(t *testing.T) {
	rec, up := newUpstream(t)
	p := newTestProxy(t, up.URL, ProxyOptions{})
	for _, keep := range []bool{false, true} {
		front := newFront(t, p, func(r *http.Request) Request {
			return Request{Path: r.URL.Path, User: "alice", KeepAuthorization: keep}
		})
		do(t, "GET", front.URL+"/", map[string][]string{
			"Authorization":       {"Basic YWxpY2U6c2VjcmV0"},
			"Proxy-Authorization": {"Basic cHJveHk6c2VjcmV0"},
		})
		got := rec.get(t).Header
		want := ""
		if keep {
			want = "Basic YWxpY2U6c2VjcmV0"
		}
		if g := got.Get("Authorization"); g != want {
			t.Errorf("KeepAuthorization=%v: upstream Authorization = %q, want %q", keep, g, want)
		}
		if g := got.Get("Proxy-Authorization"); g != "" {
			t.Errorf("KeepAuthorization=%v: upstream Proxy-Authorization = %q, want none", keep, g)
		}
	}
}

func TestProxyRequestID(t *testing.T) {
	rec, up := newUpstream(t)
	p := newTestProxy(t, up.URL, ProxyOptions{})
	for _, ref := range []string{"abc123", ""} {
		front := newFront(t, p, func(r *http.Request) Request { return Request{Path: r.URL.Path, RefID: ref} })
		do(t, "GET", front.URL+"/", map[string][]string{"X-Request-Id": {"client-chosen"}})
		if g := strings.Join(rec.get(t).Header["X-Request-Id"], "|"); g != ref {
			t.Errorf("RefID %q: upstream X-Request-Id = %q, want %q", ref, g, ref)
		}
	}
}

func TestProxyPath(t *testing.T) {
	rec, up := newUpstream(t)
	tests := []struct {
		base, path, escaped, query, want string
	}{
		{"", "/", "/", "", "/"},
		{"", "/a b/c?d/é", "/a%20b/c%3Fd/%C3%A9", "", "/a%20b/c%3Fd/%C3%A9"},
		{"/base", "/a b/c?d/é", "/a%20b/c%3Fd/%C3%A9", "q=1", "/base/a%20b/c%3Fd/%C3%A9?q=1"},
		{"/base/", "/x", "", "", "/base/x"},
		{"/base", "/", "/", "", "/base/"},
		{"", "/~user/", "/%7Euser/", "", "/%7Euser/"},
		{"", "/a;b=c/d", "/a;b=c/d", "", "/a;b=c/d"},
		{"", "/p", "/p", "b=2&a=1&a=3&x=%20y;z&&=", "/p?b=2&a=1&a=3&x=%20y;z&&="},
		{"/sp ace", "/f", "/f", "", "/sp%20ace/f"},
		{"", "/100%", "/100%25", "", "/100%25"},
	}
	for _, tt := range tests {
		t.Run(tt.base+tt.escaped, func(t *testing.T) {
			p := newTestProxy(t, up.URL+tt.base, ProxyOptions{})
			front := newFront(t, p, func(r *http.Request) Request {
				// The client asked for /ignored: only Request counts.
				return Request{Path: tt.path, EscapedPath: tt.escaped}
			})
			u := front.URL + "/ignored"
			if tt.query != "" {
				u += "?" + tt.query
			}
			resp := do(t, "GET", u, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			got := rec.get(t)
			if got.RequestURI != tt.want {
				t.Errorf("upstream request URI for Path %q EscapedPath %q = %q, want %q", tt.path, tt.escaped, got.RequestURI, tt.want)
			}
			if got.RawQuery != tt.query {
				t.Errorf("upstream query = %q, want %q", got.RawQuery, tt.query)
			}
		})
	}
}

func TestProxyInvalidRequest(t *testing.T) {
	rec, up := newUpstream(t)
	tests := []struct {
		name string
		req  Request
	}{
		{"mismatch", Request{Path: "/admin", EscapedPath: "/public"}},
		{"unescaped", Request{Path: "/a b", EscapedPath: "/a b"}},
		{"encoded slash", Request{Path: "/a/b", EscapedPath: "/a%2Fb"}},
		{"encoded backslash", Request{Path: `/a\b`, EscapedPath: "/a%5cb"}},
		{"encoded nul", Request{Path: "/a\x00", EscapedPath: "/a%00"}},
		{"relative", Request{Path: "a", EscapedPath: "a"}},
		{"user newline", Request{Path: "/", User: "a\r\nX-Admin: 1"}},
		{"user blank", Request{Path: "/", User: " alice"}},
		{"group comma", Request{Path: "/", User: "a", Groups: []string{"x,y"}}},
		{"refid newline", Request{Path: "/", RefID: "r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotErr error
			p := newTestProxy(t, up.URL, ProxyOptions{OnError: func(w http.ResponseWriter, r *http.Request, err error) {
				gotErr = err
				w.WriteHeader(599)
			}})
			w := httptest.NewRecorder()
			p.Serve(w, httptest.NewRequest("GET", "/", nil), tt.req)
			if w.Code != 599 || !errors.Is(gotErr, ErrInvalidRequest) {
				t.Errorf("Serve(%+v): status %d, err %v; want OnError with ErrInvalidRequest", tt.req, w.Code, gotErr)
			}
			// The default OnError answers 500.
			p2 := newTestProxy(t, up.URL, ProxyOptions{})
			w = httptest.NewRecorder()
			p2.Serve(w, httptest.NewRequest("GET", "/", nil), tt.req)
			if w.Code != 500 {
				t.Errorf("Serve(%+v) with default OnError: status %d, want 500", tt.req, w.Code)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("upstream received %d requests, want 0", n)
	}
}

// closedPort returns the address of a loopback listener that is closed.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestProxyUnreachable(t *testing.T) {
	var logBuf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	addr := closedPort(t)

	t.Run("default", func(t *testing.T) {
		p := newTestProxy(t, "http://"+addr, ProxyOptions{Logger: logger})
		front := newFront(t, p, nil)
		resp := do(t, "GET", front.URL+"/x", map[string][]string{"Authorization": {"Basic c2VjcmV0LXRva2Vu"}})
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("status = %d, want 502", resp.StatusCode)
		}
	})
	t.Run("OnError", func(t *testing.T) {
		var gotErr error
		var gotPath, gotHost string
		p := newTestProxy(t, "http://"+addr, ProxyOptions{Logger: logger, OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr, gotPath, gotHost = err, r.URL.Path, r.Host
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "custom page")
		}})
		front := newFront(t, p, nil)
		resp := do(t, "GET", front.URL+"/front/path", nil)
		if resp.StatusCode != http.StatusBadGateway || body(t, resp) != "custom page" {
			t.Errorf("status = %d, want 502 from OnError", resp.StatusCode)
		}
		if gotErr == nil || errors.Is(gotErr, ErrInvalidRequest) {
			t.Errorf("OnError err = %v, want a transport error", gotErr)
		}
		// OnError sees the request as the gateway received it.
		if gotPath != "/front/path" || gotHost != strings.TrimPrefix(front.URL, "http://") {
			t.Errorf("OnError request = %q %q, want the inbound request", gotHost, gotPath)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	logged := logBuf.String()
	if !strings.Contains(logged, "upstream unreachable") || !strings.Contains(logged, "ref_id=ref-1") {
		t.Errorf("log = %q, want an upstream unreachable line with the ref id", logged)
	}
	for _, secret := range []string{"c2VjcmV0LXRva2Vu", "Basic"} {
		if strings.Contains(logged, secret) {
			t.Errorf("log contains %q: %s", secret, logged)
		}
	}
}

// lockedWriter serialises writes to a buffer shared by goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestProxyTimeout(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(up.Close)
	tr := NewTransport()
	tr.ResponseHeaderTimeout = 50 * time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	var gotErr error
	p := newTestProxy(t, up.URL, ProxyOptions{Transport: tr, OnError: func(w http.ResponseWriter, r *http.Request, err error) {
		gotErr = err
		w.WriteHeader(http.StatusGatewayTimeout)
	}})
	w := httptest.NewRecorder()
	p.Serve(w, httptest.NewRequest("GET", "/", nil), Request{Path: "/"})
	var ne net.Error
	if w.Code != http.StatusGatewayTimeout || !errors.As(gotErr, &ne) || !ne.Timeout() {
		t.Errorf("status %d, err %v; want OnError with a timeout net.Error", w.Code, gotErr)
	}
}

func TestProxyUpstream401PassesThrough(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="app", error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "app says no")
	}))
	t.Cleanup(up.Close)
	called := false
	p := newTestProxy(t, up.URL, ProxyOptions{OnError: func(w http.ResponseWriter, r *http.Request, err error) { called = true }})
	resp := do(t, "GET", newFront(t, p, nil).URL+"/api", nil)
	got := []string{resp.Status, resp.Header.Get("WWW-Authenticate"), body(t, resp)}
	want := []string{"401 Unauthorized", `Bearer realm="app", error="invalid_token"`, "app says no"}
	if diff := cmp.Diff(want, got); diff != "" || called {
		t.Errorf("upstream 401 through the proxy (-want +got):\n%s (OnError called: %v)", diff, called)
	}
}

func TestProxyHostAndForwarded(t *testing.T) {
	rec, up := newUpstream(t)
	upHost := strings.TrimPrefix(up.URL, "http://")
	for _, preserve := range []bool{false, true} {
		p := newTestProxy(t, up.URL, ProxyOptions{PreserveHost: preserve})
		for _, client := range []netip.Addr{{}, netip.MustParseAddr("203.0.113.7")} {
			front := newFront(t, p, func(r *http.Request) Request { return Request{Path: "/", Client: client} })
			frontHost := strings.TrimPrefix(front.URL, "http://")
			do(t, "GET", front.URL+"/", map[string][]string{"X-Forwarded-For": {"6.6.6.6"}, "X-Forwarded-Host": {"evil"}, "X-Forwarded-Proto": {"https"}})
			got := rec.get(t)
			wantHost, wantIP := upHost, "127.0.0.1"
			if preserve {
				wantHost = frontHost
			}
			if client.IsValid() {
				wantIP = client.String()
			}
			gotV := []string{got.Host, got.Header.Get("X-Forwarded-Host"), got.Header.Get("X-Forwarded-Proto"),
				strings.Join(got.Header["X-Forwarded-For"], "|"), got.Header.Get("X-Real-Ip")}
			wantV := []string{wantHost, frontHost, "http", wantIP, wantIP}
			if diff := cmp.Diff(wantV, gotV); diff != "" {
				t.Errorf("PreserveHost=%v Client=%v: Host, X-Forwarded-Host/Proto/For, X-Real-Ip (-want +got):\n%s", preserve, client, diff)
			}
		}
	}
}

func TestProxyWebSocketUpgrade(t *testing.T) {
	var upUser string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" || !strings.EqualFold(r.Header.Get("Connection"), "upgrade") {
			http.Error(w, "want upgrade", 400)
			return
		}
		upUser = r.Header.Get("Remote-User")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo: " + line)
			brw.Flush()
		}
	}))
	t.Cleanup(up.Close)
	p := newTestProxy(t, up.URL, ProxyOptions{})
	front := newFront(t, p, func(r *http.Request) Request { return Request{Path: "/ws", User: "alice"} })

	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: echo\r\nRemote-User: mallory\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "echo" {
		t.Fatalf("upgrade response = %d %q, want 101 echo", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
	for _, msg := range []string{"hello\n", "second\n"} {
		io.WriteString(conn, msg)
		got, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if want := "echo: " + msg; got != want {
			t.Errorf("echo = %q, want %q", got, want)
		}
	}
	if upUser != "alice" {
		t.Errorf("upstream Remote-User on upgrade = %q, want %q", upUser, "alice")
	}
}

func TestProxyStreaming(t *testing.T) {
	for _, ct := range []string{"text/event-stream", "application/octet-stream"} {
		t.Run(ct, func(t *testing.T) {
			release := make(chan struct{})
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ct)
				io.WriteString(w, "data: one\n\n")
				http.NewResponseController(w).Flush()
				select {
				case <-release:
				case <-time.After(5 * time.Second):
				}
				io.WriteString(w, "data: two\n\n")
			}))
			t.Cleanup(up.Close)
			p := newTestProxy(t, up.URL, ProxyOptions{})
			front := newFront(t, p, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/events", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			start := time.Now()
			br := bufio.NewReader(resp.Body)
			first, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if elapsed := time.Since(start); first != "data: one\n" || elapsed > 4*time.Second {
				t.Errorf("first chunk %q after %v, want %q before the upstream finished", first, elapsed, "data: one\n")
			}
			close(release)
			rest, _ := io.ReadAll(br)
			if string(rest) != "\ndata: two\n\n" {
				t.Errorf("rest = %q, want %q", rest, "\ndata: two\n\n")
			}
		})
	}
}

func TestNewProxyErrors(t *testing.T) {
	tests := []struct {
		target string
		ids    []string
	}{
		{"ftp://host/", nil},
		{"http:///path", nil},
		{"/relative", nil},
		{"http://user:pw@host/", nil},
		{"http://host/?q=1", nil},
		{"http://host/#frag", nil},
		{"http://host/", []string{"Host"}},
		{"http://host/", []string{"authorization"}},
		{"http://host/", []string{"X_Forwarded_For"}},
		{"http://host/", []string{"Bad Name"}},
		{"http://host/", []string{""}},
	}
	for _, tt := range tests {
		if _, err := NewProxy(mustURL(t, tt.target), ProxyOptions{IdentityHeaders: tt.ids}); err == nil {
			t.Errorf("NewProxy(%q, IdentityHeaders %q) = nil error, want an error", tt.target, tt.ids)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("NewProxy(%q) error %q shows the password", tt.target, err)
		}
	}
	if _, err := NewProxy(nil, ProxyOptions{}); err == nil {
		t.Error("NewProxy(nil) = nil error, want an error")
	}
}

func BenchmarkProxyRoundTrip(b *testing.B) {
	payload := strings.Repeat("x", 1024)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, payload)
	}))
	b.Cleanup(up.Close)
	p := newTestProxy(b, up.URL, ProxyOptions{})
	r := httptest.NewRequest("GET", "/file.txt", nil)
	r.Header.Set("Authorization", "Basic YWxpY2U6c2VjcmV0")
	r.Header.Set("Accept", "*/*")
	req := Request{Path: "/file.txt", EscapedPath: "/file.txt", User: "alice", Groups: []string{"staff"}, RefID: "0123456789abcdef"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		p.Serve(w, r, req)
		if w.Code != 200 || w.Body.Len() != 1024 {
			b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
	}
}
