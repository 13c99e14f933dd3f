package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/htgate/htgate"
)

func TestWithDefaults(t *testing.T) {
	got := Limits{MaxFields: 7, MaxHeaderBytes: -1}.WithDefaults()
	want := Limits{MaxFieldBytes: 8190, MaxFields: 7, MaxHeaderBytes: 65536}
	if got != want {
		t.Errorf("WithDefaults() = %+v, want %+v", got, want)
	}
}

// checkResult is what Check returns, for comparing.
type checkResult struct {
	Status int
	Reason htgate.Reason
	Detail string
	OK     bool
}

func check(l Limits, r *http.Request) checkResult {
	s, reason, d, ok := l.Check(r)
	return checkResult{s, reason, d, ok}
}

func TestCheck(t *testing.T) {
	pass := checkResult{OK: true}
	tooLarge := func(detail string) checkResult {
		return checkResult{Status: 431, Reason: htgate.ReasonHeadersTooLarge, Detail: detail}
	}
	bad := func(detail string) checkResult {
		return checkResult{Status: 400, Reason: htgate.ReasonBadRequest, Detail: "ambiguous request framing: " + detail}
	}
	// manyFields returns a request with n header fields, Host included.
	manyFields := func(n int) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		for i := 1; i < n; i++ {
			r.Header.Add("X-F", "v")
		}
		return r
	}
	withHeader := func(kv ...string) *http.Request {
		r := httptest.NewRequest("POST", "/", nil)
		for i := 0; i < len(kv); i += 2 {
			r.Header.Add(kv[i], kv[i+1])
		}
		return r
	}
	http10 := withHeader("Transfer-Encoding", "chunked")
	http10.Proto, http10.ProtoMinor = "HTTP/1.0", 0
	chunked := httptest.NewRequest("POST", "/", nil)
	chunked.TransferEncoding = []string{"chunked"}
	gzipped := httptest.NewRequest("POST", "/", nil)
	gzipped.TransferEncoding = []string{"gzip", "chunked"}

	tests := []struct {
		name string
		l    Limits
		r    *http.Request
		want checkResult
	}{
		{"plain", Limits{}, httptest.NewRequest("GET", "/x?y=1", nil), pass},
		{"field-at-limit", Limits{}, withHeader("X-Big", strings.Repeat("a", 8190-len("X-Big: "))), pass},
		{"field-over-limit", Limits{}, withHeader("X-Big", strings.Repeat("a", 8191-len("X-Big: "))), tooLarge(`header field "X-Big" is 8191 bytes, over the limit of 8190`)},
		{"field-over-reproducible", Limits{MaxFieldBytes: 10}, withHeader("B-Long", "0123456789", "A-Long", "0123456789", "C-Long", "0123456789"), tooLarge(`header field "A-Long" is 18 bytes, over the limit of 10`)},
		{"host-field", Limits{MaxFieldBytes: 10}, httptest.NewRequest("GET", "http://a-long-host.example/", nil), tooLarge(`header field "Host" is 25 bytes, over the limit of 10`)},
		{"long-name-cut", Limits{MaxFieldBytes: 20}, withHeader(strings.Repeat("N", 70), "v"), tooLarge(fmt.Sprintf(`header field %q... is 73 bytes, over the limit of 20`, "N"+strings.Repeat("n", 63)))},
		{"fields-at-limit", Limits{}, manyFields(100), pass},
		{"fields-over-limit", Limits{}, manyFields(101), tooLarge("101 header fields, over the limit of 100")},
		{"fields-custom", Limits{MaxFields: 3}, manyFields(4), tooLarge("4 header fields, over the limit of 3")},
		{"chunked-counts", Limits{MaxFields: 1}, chunked, tooLarge("2 header fields, over the limit of 1")},
		{"block-over-limit", Limits{MaxHeaderBytes: 100}, withHeader("X-A", strings.Repeat("a", 60), "X-B", strings.Repeat("b", 20)), tooLarge("header block is 132 bytes, over the limit of 100")},
		{"block-default", Limits{}, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			for i := 0; i < 9; i++ {
				r.Header.Add(fmt.Sprintf("X-%d", i), strings.Repeat("v", 8000))
			}
			return r
		}(), tooLarge("header block is 72100 bytes, over the limit of 65536")},
		{"chunked", Limits{}, chunked, pass},
		{"cl", Limits{}, withHeader("Content-Length", "5"), pass},
		{"cl-te", Limits{}, withHeader("Content-Length", "5", "Transfer-Encoding", "chunked"), bad(violCLTE)},
		{"cl-chunked", Limits{}, func() *http.Request {
			r := withHeader("Content-Length", "5")
			r.TransferEncoding = []string{"chunked"}
			return r
		}(), bad(violCLTE)},
		{"cl-twice", Limits{}, withHeader("Content-Length", "5", "Content-Length", "5"), bad(violDupCL)},
		{"cl-list", Limits{}, withHeader("Content-Length", "5, 6"), bad(violDupCL)},
		{"te-gzip", Limits{}, withHeader("Transfer-Encoding", "gzip, chunked"), bad(violBadTE)},
		{"te-gzip-field", Limits{}, gzipped, bad(violBadTE)},
		{"te-twice", Limits{}, withHeader("Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked"), bad(violBadTE)},
		{"te-http10", Limits{}, http10, bad(violHTTP10TE)},
		{"te-case", Limits{}, withHeader("Transfer-Encoding", "Chunked"), pass},
		{"framing-first", Limits{MaxFields: 1}, withHeader("Content-Length", "5", "Transfer-Encoding", "chunked"), bad(violCLTE)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, check(tt.l, tt.r)); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckNeverEchoesValues(t *testing.T) {
	const secret = "Basic c2VjcmV0OnBhc3N3b3Jk"
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", secret+strings.Repeat("A", 9000))
	res := check(Limits{}, r)
	if res.OK || strings.Contains(res.Detail, "c2VjcmV0") {
		t.Errorf("Check = %+v, want a 431 that does not quote the value", res)
	}
}

func TestCheckAllocs(t *testing.T) {
	r := httptest.NewRequest("GET", "/members/index.html", nil)
	r.Header.Set("User-Agent", "curl/8.0")
	r.Header.Set("Accept", "*/*")
	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	var l Limits
	if n := testing.AllocsPerRun(100, func() { l.Check(r) }); n != 0 {
		t.Errorf("Check allocates %v times, want 0", n)
	}
}

func BenchmarkCheck(b *testing.B) {
	r := httptest.NewRequest("GET", "/members/index.html", nil)
	for _, h := range []string{"User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Authorization", "Cookie", "Referer"} {
		r.Header.Set(h, strings.Repeat("v", 40))
	}
	l := Limits{}.WithDefaults()
	b.ReportAllocs()
	for b.Loop() {
		l.Check(r)
	}
}

// framingServer starts a server that answers through Limits.Check, the way
// the gateway does: a refusal with its status, else
// 200 with the path and the body it read. reached counts 200 answers.
func framingServer(t *testing.T, l Limits) (addr string, reached *atomic.Int64) {
	t.Helper()
	reached = new(atomic.Int64)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status, reason, _, ok := l.Check(r); !ok {
			// No "Connection: close": Install's listener closes the
			// connection after an ambiguity by itself.
			http.Error(w, string(reason), status)
			return
		}
		if r.URL.Path == "/upgrade" {
			// A WebSocket-like upgrade: after 101, echo raw bytes.
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "echo")
			w.WriteHeader(http.StatusSwitchingProtocols)
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			brw.Flush()
			io.Copy(conn, brw)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		reached.Add(1)
		fmt.Fprintf(w, "ok %s %s", r.URL.Path, body)
	}))
	ts.Listener = l.Install(ts.Config, ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String(), reached
}

// exchange sends raw on a new connection (in writes split at "|") and
// returns the status codes and bodies of the responses read until the
// server closes the connection or goes quiet, and whether it closed.
func exchange(t *testing.T, addr, raw string) (got []string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, part := range strings.Split(raw, "|") {
		if _, err := io.WriteString(c, part); err != nil {
			break // the server may close early
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	br := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			return got, !errors.As(err, &ne) || !ne.Timeout()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body))))
	}
}

// framingCases is the experiment of what net/http does with ambiguous
// framing, as the final behaviour with Install and Check: want lists the
// responses in order ("400 bad_request" from Check, "400 Bad Request" or
// "501 Not Implemented" from net/http itself).
var framingCases = []struct {
	name   string
	raw    string
	want   []string
	closed bool // the server must close the connection after them
}{
	// Accepted framing.
	{"get", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", []string{"200 ok /a"}, false},
	{"pipelined", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: x\r\n\r\n",
		[]string{"200 ok /a", "200 ok /b xyz", "200 ok /c"}, false},
	{"chunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6 \r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		[]string{"200 ok /a hello world", "200 ok /b"}, false},
	{"chunked-uppercase", "POST /a HTTP/1.1\r\nHost: x\r\ntransfer-encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", []string{"200 ok /a 0123456789"}, false},
	{"split-writes", "POST /a HTTP/1.1\r|\nHost: x\r\nContent-Le|ngth: 2\r\n\r|\nab|GET /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r|\nab\r|\n0\r\n|\r\n",
		[]string{"200 ok /a ab", "200 ok /b ab"}, false},
	{"http10-keepalive", "POST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nabGET /b HTTP/1.0\r\n\r\n", []string{"200 ok /a ab", "200 ok /b"}, true},
	{"crlf-after-post", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", []string{"200 ok /a ab", "200 ok /b"}, false},
	{"body-looks-like-attack", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 59\r\n\r\nGET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: x\r\n\r\n",
		[]string{"200 ok /a GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: x"}, false},
	{"h2-preface-without-h2c", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []string{"200 ok *"}, true},

	// Refused by Check: net/http would have served these.
	{"cl-te", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []string{"400 bad_request"}, true},
	{"te-cl", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []string{"400 bad_request"}, true},
	{"cl0-te", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"400 bad_request"}, true},
	{"cl-te-lowercase", "POST /a HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\nTRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n", []string{"400 bad_request"}, true},
	{"cl-te-folded", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", []string{"400 bad_request"}, true},
	{"cl-te-smuggle", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", []string{"400 bad_request"}, true},
	{"te-http10", "POST /a HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", []string{"400 bad_request"}, true},
	{"te-cl-http10", "POST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabcGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", []string{"400 bad_request"}, true},
	{"cl-twice-same", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", []string{"400 bad_request"}, true},
	{"good-then-cl-te", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n|POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n",
		[]string{"200 ok /a", "400 bad_request"}, true},

	// Refused by net/http before any handler.
	{"cl-twice-different", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", []string{"400 400 Bad Request"}, true},
	{"cl-list", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", []string{"400 400 Bad Request"}, true},
	{"cl-list-same", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", []string{"400 400 Bad Request"}, true},
	{"cl-plus", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", []string{"400 400 Bad Request"}, true},
	{"cl-bad-te", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"400 400 Bad Request"}, true},
	{"te-gzip-chunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", []string{"501 Unsupported transfer encoding"}, true},
	{"te-chunked-twice", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"501 Unsupported transfer encoding"}, true},
	{"te-chunked-chunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", []string{"501 Unsupported transfer encoding"}, true},
	{"te-xchunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", []string{"501 Unsupported transfer encoding"}, true},
	{"te-identity", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", []string{"501 Unsupported transfer encoding"}, true},
	{"cl-space-before-colon", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello", []string{"400 400 Bad Request: invalid header name"}, true},
	{"chunk-bare-lf", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n",
		[]string{"400 bad_request"}, true},
	{"chunk-bad-crlf", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n",
		[]string{"400 bad_request"}, true},

	// Header limits.
	{"field-too-large", "GET /a HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8200) + "\r\n\r\n", []string{"431 headers_too_large"}, false},
	{"too-many-fields", "GET /a HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-F: v\r\n", 100) + "\r\n", []string{"431 headers_too_large"}, false},
	{"block-in-slack", "GET /a HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-F: "+strings.Repeat("v", 8000)+"\r\n", 8) + "X-G: " + strings.Repeat("v", 2000) + "\r\n\r\n",
		[]string{"431 headers_too_large"}, false},
	{"block-too-large", "GET /a HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-F: "+strings.Repeat("v", 8000)+"\r\n", 9) + "\r\n", []string{"431 431 Request Header Fields Too Large"}, true},
}

// TestFraming runs framingCases against a real server: nothing ambiguous
// reaches the handler's 200 path, and nothing after it on the connection.
func TestFraming(t *testing.T) {
	for _, tt := range framingCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, reached := framingServer(t, Limits{})
			got, closed := exchange(t, addr, tt.raw)
			// After an ambiguity, net/http may also answer what it had
			// read ahead (the smuggled request) before the connection
			// ends: with the same 400.
			for len(got) > 1 && got[len(got)-1] == "400 bad_request" && got[len(got)-2] == "400 bad_request" {
				got = got[:len(got)-1]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("responses mismatch (-want +got):\n%s", diff)
			}
			if closed != tt.closed {
				t.Errorf("connection closed = %v, want %v", closed, tt.closed)
			}
			oks := 0
			for _, g := range got {
				if strings.HasPrefix(g, "200 ") {
					oks++
				}
			}
			if n := reached.Load(); n != int64(oks) {
				t.Errorf("handler served %d requests, %d answered 200", n, oks)
			}
		})
	}
}

// TestFramingWithoutInstall documents net/http's own behaviour: without
// Install, a request with Content-Length and Transfer-Encoding is served,
// and so is the request smuggled after it.
func TestFramingWithoutInstall(t *testing.T) {
	var l Limits
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status, reason, _, ok := l.Check(r); !ok {
			http.Error(w, string(reason), status)
			return
		}
		fmt.Fprintf(w, "ok %s", r.URL.Path)
	}))
	defer ts.Close()
	got, _ := exchange(t, ts.Listener.Addr().String(),
		"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
	if want := []string{"200 ok /a", "200 ok /admin"}; !cmp.Equal(got, want) {
		t.Errorf("net/http without Install: %q, want %q (has net/http changed? then revisit limits.go)", got, want)
	}
}

func TestFramingExpectContinue(t *testing.T) {
	addr, _ := framingServer(t, Limits{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("got %q, %v; want 100 Continue", line, err)
	}
	br.ReadString('\n') // the empty line
	io.WriteString(c, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "ok /a hello" {
		t.Errorf("body %q, want %q", body, "ok /a hello")
	}
}

// TestFramingUpgrade checks that a hijacked connection is not followed:
// bytes after the upgrade that look like ambiguous HTTP pass untouched.
func TestFramingUpgrade(t *testing.T) {
	addr, _ := framingServer(t, Limits{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	const frames = "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n\x81\x00\xff"
	io.WriteString(c, frames)
	got := make([]byte, len(frames))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != frames {
		t.Errorf("echo = %q, %v; want %q", got, err, frames)
	}
}

// framerStreams are byte streams for the framer tests; want is the
// violation, and requests the header blocks seen.
var framerStreams = []struct {
	stream   string
	want     string
	requests int
}{
	{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "", 1},
	{"GET / HTTP/1.1\nHost: x\n\nGET / HTTP/1.0\n\n", "", 2},
	{"\r\n\r\nGET / HTTP/1.1\r\n\r\n", "", 1},
	{"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\n\r\n", "", 2},
	{"POST / HTTP/1.1\r\nContent-Length:\r\n 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n", "", 2},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"b;c\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\nU: 2\r\n\r\nGET / HTTP/1.1\r\n\r\n", "", 2},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "", 2},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET / HTTP/1.1\r\n\r\n", "", 2},
	{"GET / HTTP/1.1\r\nX: a\r\n  \r\n\r\nGET / HTTP/1.1\r\n\r\n", "", 2},
	{"GET / HTTP/1.1\r\nX: a\r\n Content-Length: 5\r\n\r\nGET / HTTP/1.1\r\n\r\n", "", 2},
	{"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "", 2},
	{"GET / HTTP/1.1\r\nContent-Length: 00000000000000000005\r\n\r\n12345", "", 1},
	{"GET / HTTP/1.1\r\nContent-Length: 0000000000000000005\r\n\r\n12345", "", 1},
	{"GET / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", violBadCL, 1},
	{"GET / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", "", 1},
	{"\x16\x03\x01\x02\x00\x01", "", 0},
	{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04", "", 1},
	{"PRI * HTTP/2.0\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", violCLTE, 1},
	{"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", violCLTE, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", violCLTE, 1},
	{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", violHTTP10TE, 1},
	{"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", violDupCL, 1},
	{"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", violBadCL, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", violBadTE, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", violBadTE, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", violChunked, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", violChunked, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n12345678901234567\r\n", violChunked, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", violChunked, 1},
	{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("0", 4100), violChunked, 1},
	{"GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 70*1024), violTooLong, 0},
	{"GET / HTTP\r\n\r\n", violSyntax, 1},
	{"GET / HTTP/1.1\r\nNo colon\r\n\r\n", violSyntax, 1},
}

// feedSplit feeds s to a new framer in pieces of at most n bytes.
func feedSplit(s string, n int) (*framer, string) {
	f := &framer{max: DefaultMaxHeaderBytes + 4096 + 1024}
	for len(s) > 0 {
		k := min(n, len(s))
		if v := f.feed([]byte(s[:k])); v != "" {
			return f, v
		}
		s = s[k:]
	}
	return f, ""
}

func TestFramer(t *testing.T) {
	for _, tt := range framerStreams {
		for _, n := range []int{1, 2, 3, 7, 64, 1 << 20} {
			f, v := feedSplit(tt.stream, n)
			if v != tt.want || f.requests != tt.requests {
				t.Errorf("feed(%.60q) in pieces of %d = %q after %d requests, want %q after %d", tt.stream, n, v, f.requests, tt.want, tt.requests)
			}
		}
	}
}

func TestFramerAllocs(t *testing.T) {
	stream := []byte("GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: y\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
	f := &framer{max: 1 << 16}
	f.feed(stream) // grow f.cl once
	if n := testing.AllocsPerRun(100, func() {
		if v := f.feed(stream); v != "" {
			t.Fatal(v)
		}
	}); n != 0 {
		t.Errorf("feed allocates %v times, want 0", n)
	}
}

// goRequests reads stream with net/http's own request parser, as the
// server does, and returns how many requests it read completely, and
// whether it reached the end of the stream cleanly.
func goRequests(stream []byte) (n int, clean bool) {
	br := bufio.NewReader(bytes.NewReader(stream))
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return n, true
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return n, false
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return n, false
		}
		n++
		if req.Method == "PRI" || req.Method == "CONNECT" || req.Header.Get("Upgrade") != "" {
			return n, false // the connection is handed over
		}
	}
}

// FuzzFramer checks the framer against net/http's parser: where net/http
// reads a stream cleanly, the framer sees the same requests and refuses
// nothing but the ambiguities net/http lets through; and how the stream
// is split into reads never changes the outcome.
func FuzzFramer(f *testing.F) {
	for _, tt := range framerStreams {
		f.Add([]byte(tt.stream), uint8(3))
	}
	for _, tt := range framingCases {
		f.Add([]byte(strings.ReplaceAll(tt.raw, "|", "")), uint8(5))
	}
	f.Fuzz(func(t *testing.T, stream []byte, split uint8) {
		if len(stream) > 1<<14 {
			return // the long seeds are TestFramer's; keep the fuzzer quick
		}
		whole, v := feedSplit(string(stream), len(stream)+1)
		pieces, v2 := feedSplit(string(stream), int(split)+1)
		if v != v2 || whole.requests != pieces.requests || whole.state != pieces.state {
			t.Fatalf("whole: %q after %d requests (state %d); in pieces of %d: %q after %d (state %d)",
				v, whole.requests, whole.state, int(split)+1, v2, pieces.requests, pieces.state)
		}
		n, clean := goRequests(stream)
		if !clean || whole.state == stOff && v == "" {
			return
		}
		switch v {
		case "":
			if whole.requests != n || whole.state != stStart {
				t.Fatalf("net/http read %d requests cleanly, framer saw %d and is in state %d", n, whole.requests, whole.state)
			}
		case violCLTE, violHTTP10TE, violDupCL:
		case violTooLong:
			// http.ReadRequest has no header limit; the server answers 431.
		default:
			t.Fatalf("net/http read %d requests cleanly, framer refused: %s", n, v)
		}
	})
}

func BenchmarkFramer(b *testing.B) {
	stream := []byte("GET /members/index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
		"Accept: text/html\r\nAccept-Language: en\r\nAuthorization: Basic dXNlcjpwYXNzd29yZA==\r\n\r\n")
	f := &framer{max: 1 << 16}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		f.feed(stream)
	}
}

// TestInstallTLS checks that Install stands aside under ServeTLS: TLS and
// HTTP/2 negotiation still work, and Check passes ordinary requests.
func TestInstallTLS(t *testing.T) {
	var l Limits
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status, reason, _, ok := l.Check(r); !ok {
			http.Error(w, string(reason), status)
			return
		}
		fmt.Fprintf(w, "%s tls=%v", r.Proto, r.TLS != nil)
	}))
	ts.EnableHTTP2 = true
	ts.Listener = l.Install(ts.Config, ts.Listener)
	ts.StartTLS()
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := "HTTP/2.0 tls=true"; resp.StatusCode != 200 || string(body) != want {
		t.Errorf("GET over TLS = %d %q, want 200 %q", resp.StatusCode, body, want)
	}
}

// TestInstallChainsHooks checks that Install keeps the server's own
// ConnContext and ConnState hooks.
func TestInstallChainsHooks(t *testing.T) {
	type key struct{}
	var states atomic.Int64
	var l Limits
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, _, ok := l.Check(r)
		fmt.Fprintf(w, "%v %v", r.Context().Value(key{}), ok)
	}))
	ts.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, key{}, "mine")
	}
	ts.Config.ConnState = func(net.Conn, http.ConnState) { states.Add(1) }
	ts.Listener = l.Install(ts.Config, ts.Listener)
	ts.Start()
	defer ts.Close()
	if ts.Config.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes = %d, want %d", ts.Config.MaxHeaderBytes, DefaultMaxHeaderBytes)
	}
	got, _ := exchange(t, ts.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if want := []string{"200 mine true"}; !cmp.Equal(got, want) {
		t.Errorf("responses %q, want %q", got, want)
	}
	if states.Load() == 0 {
		t.Error("the server's ConnState hook was not called")
	}
}
