package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/htgate/htgate"
)

// Default request limits, as Apache and nginx keep them.
const (
	DefaultMaxFieldBytes  = 8190     // Apache LimitRequestFieldSize
	DefaultMaxFields      = 100      // Apache LimitRequestFields
	DefaultMaxHeaderBytes = 64 << 10 // request line and header block
)

// Limits bounds the request header, as Apache and nginx do, and refuses
// ambiguous message framing. The gateway checks it first of all.
//
// What net/http (Go 1.26, HTTP/1.x) already refuses before any handler
// runs, closing the connection:
//   - a header block over http.Server.MaxHeaderBytes + 4096 bytes: 431
//     (so the server must set MaxHeaderBytes = Limits.MaxHeaderBytes, as
//     Install does; Check refuses what falls into the 4096 bytes of slack);
//   - Content-Length fields that differ ("5" and "6"), a list ("5, 6", even
//     "5, 5"), a sign ("+5"), an empty value: 400;
//   - a Transfer-Encoding other than one field "chunked" (in any letter
//     case): "gzip, chunked", "chunked, chunked", two fields, "xchunked",
//     "identity", an empty value: 501 Not Implemented, not 400;
//   - a malformed chunked body (fails the handler's read, then closes).
//
// What net/http lets through and hides from handlers: a request with both
// Content-Length and Transfer-Encoding: chunked (it deletes both fields,
// reads the chunked body and keeps the connection open, which RFC 9112
// §6.3 forbids: the CL.TE request smuggling of a proxy in front that
// frames by Content-Length); Transfer-Encoding in an HTTP/1.0 request (it
// deletes the field and frames by Content-Length, where RFC 9112 §6.1 calls
// the framing faulty); two identical Content-Length fields (merged; nginx
// refuses them). Only the connection's bytes show them, so Install wraps
// the listener: each connection follows the framing of its byte stream as
// net/http reads it (request line and header block, then a Content-Length
// or chunked body) and remembers the first ambiguity. Check then refuses
// with 400 every request still to be answered on that connection (the
// ambiguous one and any that net/http read ahead of it), and the
// connection ends after that response, as RFC 9112 requires (the gateway
// should say "Connection: close" in it).
//
// With ServeTLS, the wrapper sees ciphertext and stands aside, and Check
// sees only what net/http shows. The attack needs a front proxy that reuses
// connections, which usually speaks plain HTTP to htgate. HTTP/2 has its
// own framing and is not concerned.
type Limits struct {
	// MaxFieldBytes bounds one header field, name + ": " + value.
	// Default (zero) 8190, Apache's LimitRequestFieldSize.
	MaxFieldBytes int
	// MaxFields bounds the number of header field lines (each value line
	// counts, Host included). Default (zero) 100, Apache's LimitRequestFields.
	MaxFields int
	// MaxHeaderBytes bounds the request line and header block together.
	// Default (zero) 64 KiB. Set http.Server.MaxHeaderBytes to the same
	// value (Install does).
	MaxHeaderBytes int
}

// WithDefaults returns l with every zero or negative field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxFieldBytes <= 0 {
		l.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}

// Check returns ok for a request within the limits. Otherwise it returns
// the status and reason to refuse it with, and a detail for the log and
// the trace that names the limit and the header field but never a value:
// 400 (htgate.ReasonBadRequest) for ambiguous framing, 431
// (htgate.ReasonHeadersTooLarge) for a field over MaxFieldBytes, more than
// MaxFields fields or a header block over MaxHeaderBytes. A 400 means the
// connection must be closed after the response.
//
// Framing that net/http hides from handlers is only seen on connections
// accepted through Install's listener; see Limits.
func (l Limits) Check(r *http.Request) (status int, reason htgate.Reason, detail string, ok bool) {
	if fc, _ := r.Context().Value(framingKey{}).(*framingConn); fc != nil {
		if v := fc.violation(); v != "" {
			return http.StatusBadRequest, htgate.ReasonBadRequest, "ambiguous request framing on this connection: " + v, false
		}
	}
	if v := visibleFraming(r); v != "" {
		return http.StatusBadRequest, htgate.ReasonBadRequest, "ambiguous request framing: " + v, false
	}
	l = l.WithDefaults()

	fields := 0
	total := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2 + 2 // request line, final CRLF
	if r.RequestURI == "" && r.URL != nil {
		total += len(r.URL.Path) + 1 + len(r.URL.RawQuery)
	}
	bigName, bigSize := "", 0
	field := func(name string, n int) {
		fields++
		total += n + 2
		if n > l.MaxFieldBytes && (bigName == "" || name < bigName) {
			bigName, bigSize = name, n // the first name, so that the detail is reproducible
		}
	}
	for name, values := range r.Header {
		for _, v := range values {
			field(name, len(name)+2+len(v))
		}
	}
	// net/http moves Host and Transfer-Encoding out of r.Header.
	if _, in := r.Header["Host"]; !in && r.Host != "" {
		field("Host", len("Host: ")+len(r.Host))
	}
	if _, in := r.Header["Transfer-Encoding"]; !in && len(r.TransferEncoding) > 0 {
		field("Transfer-Encoding", len("Transfer-Encoding: chunked"))
	}
	switch {
	case bigName != "":
		return http.StatusRequestHeaderFieldsTooLarge, htgate.ReasonHeadersTooLarge,
			fmt.Sprintf("header field %s is %d bytes, over the limit of %d", quoteName(bigName), bigSize, l.MaxFieldBytes), false
	case fields > l.MaxFields:
		return http.StatusRequestHeaderFieldsTooLarge, htgate.ReasonHeadersTooLarge,
			fmt.Sprintf("%d header fields, over the limit of %d", fields, l.MaxFields), false
	case total > l.MaxHeaderBytes:
		return http.StatusRequestHeaderFieldsTooLarge, htgate.ReasonHeadersTooLarge,
			fmt.Sprintf("header block is %d bytes, over the limit of %d", total, l.MaxHeaderBytes), false
	}
	return 0, htgate.ReasonNone, "", true
}

// quoteName quotes a header field name for a detail, cut to 64 bytes.
func quoteName(name string) string {
	if len(name) > 64 {
		return fmt.Sprintf("%q...", name[:64])
	}
	return fmt.Sprintf("%q", name)
}

// visibleFraming checks the framing that r shows: what net/http left of it
// for a request it read, or the fields of a request built some other way.
func visibleFraming(r *http.Request) string {
	cl := r.Header["Content-Length"]
	te := r.Header["Transfer-Encoding"]
	chunked := len(r.TransferEncoding) > 0 || len(te) > 0
	switch {
	case len(cl) > 1:
		return violDupCL
	case len(cl) == 1 && strings.Contains(cl[0], ","):
		return violDupCL
	case chunked && len(cl) > 0:
		return violCLTE
	case chunked && !r.ProtoAtLeast(1, 1):
		return violHTTP10TE
	case len(te) > 1, len(r.TransferEncoding) > 1:
		return violBadTE
	case len(te) == 1 && !strings.EqualFold(strings.Trim(te[0], " \t"), "chunked"),
		len(r.TransferEncoding) == 1 && !strings.EqualFold(r.TransferEncoding[0], "chunked"):
		return violBadTE
	}
	return ""
}

// The ambiguities Check refuses, as its detail names them.
const (
	violCLTE     = "both Content-Length and Transfer-Encoding"
	violHTTP10TE = "Transfer-Encoding in an HTTP/1.0 request"
	violDupCL    = "more than one Content-Length"
	violBadTE    = `Transfer-Encoding other than "chunked"`
	violBadCL    = "malformed Content-Length"
	violSyntax   = "malformed request line or header block"
	violTooLong  = "header block too long"
	violChunked  = "malformed chunked body"
)

// Install prepares srv and its listener ln for Check and returns the
// listener to serve on: srv.MaxHeaderBytes is set to l.MaxHeaderBytes, and
// each accepted connection follows its HTTP/1.x framing so that Check can
// refuse what net/http hides (see Limits). It chains srv.ConnContext and
// srv.ConnState with any hooks already set; a hijacked connection (a
// WebSocket upgrade) is no longer followed.
//
//	srv.Serve(limits.Install(srv, ln))
func (l Limits) Install(srv *http.Server, ln net.Listener) net.Listener {
	l = l.WithDefaults()
	srv.MaxHeaderBytes = l.MaxHeaderBytes
	prevCtx := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prevCtx != nil {
			ctx = prevCtx(ctx, c)
		}
		if fc, ok := c.(*framingConn); ok {
			ctx = context.WithValue(ctx, framingKey{}, fc)
		}
		return ctx
	}
	prevState := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if fc, ok := c.(*framingConn); ok {
			switch s {
			case http.StateHijacked:
				fc.off.Store(true)
			case http.StateIdle:
				// A response is out. After an ambiguity, net/http may
				// answer what it has already read, then sees EOF and
				// closes the connection.
				if fc.violation() != "" {
					fc.eof.Store(true)
				}
			}
		}
		if prevState != nil {
			prevState(c, s)
		}
	}
	// net/http reads at most MaxHeaderBytes+4096 bytes of header; a longer
	// block never reaches a handler.
	return &framingListener{Listener: ln, maxBlock: l.MaxHeaderBytes + 4096 + 1024}
}

// framingKey is the context key of a request's *framingConn.
type framingKey struct{}

// framingListener wraps each accepted connection in a framingConn.
type framingListener struct {
	net.Listener
	maxBlock int
}

// Accept implements net.Listener.
func (l *framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c, f: framer{max: l.maxBlock}}, nil
}

// framingConn follows the HTTP/1.x framing of the bytes read from it.
type framingConn struct {
	net.Conn
	off atomic.Bool            // not following: TLS, HTTP/2, hijacked, or after a violation
	bad atomic.Pointer[string] // the first violation
	eof atomic.Bool            // reads end: a violation was answered

	mu sync.Mutex // guards f (reads are sequential; this is for safety)
	f  framer
}

// Read implements net.Conn, feeding what it reads to the framer.
func (c *framingConn) Read(p []byte) (int, error) {
	if c.eof.Load() {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(p)
	if n > 0 && !c.off.Load() {
		c.mu.Lock()
		if !c.off.Load() {
			if v := c.f.feed(p[:n]); v != "" {
				c.bad.Store(&v)
				c.off.Store(true)
			} else if c.f.state == stOff {
				c.off.Store(true)
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

// violation returns the first framing violation seen on c, or "".
func (c *framingConn) violation() string {
	if v := c.bad.Load(); v != nil {
		return *v
	}
	return ""
}

// CloseWrite lets net/http half-close the connection after an error
// response, so that the client reads it instead of a reset.
func (c *framingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps sendfile for responses when the connection has it.
func (c *framingConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// States of a framer.
const (
	stStart     = iota // before a request line (CR and LF are skipped)
	stHeader           // in the request line and header block
	stBody             // in a Content-Length body: remain bytes left
	stChunkLine        // in a chunk-size line
	stChunkData        // in chunk data: remain bytes left
	stChunkCRLF        // in the CRLF after chunk data: crlf bytes seen
	stTrailer          // in the trailer section after the last chunk
	stOff              // not following (TLS, HTTP/2 preface)
)

// maxChunkLine is net/http's limit on a chunk-size line.
const maxChunkLine = 4096

// framer follows HTTP/1.x request framing over a byte stream the way
// net/http's server reads it (net/http/transfer.go readTransfer and
// net/http/internal/chunked.go), to find each request's header block and
// see the Content-Length and Transfer-Encoding fields net/http hides.
// Where net/http refuses a stream (and closes the connection), the framer
// reports a violation too: anything it cannot follow is refused.
type framer struct {
	state     uint8
	started   bool   // the first byte of the connection was seen
	crlf      uint8  // bytes of the CRLF after chunk data seen
	remain    uint64 // bytes left in a Content-Length body or a chunk
	buf       []byte // a header block, chunk line or trailer split across reads
	scan      int    // where to resume scanning buf
	lineStart int    // where the line being scanned in buf starts
	max       int    // longest header block or trailer followed
	cl, te    []byte // the Content-Length and Transfer-Encoding values of a header

	requests int // header blocks seen
}

// feed follows p, the next bytes of the stream. It returns the first
// violation, after which the framer must not be fed again.
func (f *framer) feed(p []byte) string {
	for len(p) > 0 {
		switch f.state {
		case stStart:
			if !f.started {
				f.started = true
				if p[0] == 0x16 { // a TLS handshake record: ciphertext follows
					f.state = stOff
					return ""
				}
			}
			for len(p) > 0 && (p[0] == '\r' || p[0] == '\n') {
				p = p[1:]
			}
			if len(p) > 0 {
				f.state = stHeader
			}
		case stHeader, stTrailer:
			block, rest, done := f.collect(p, blockEnd)
			if !done {
				if len(f.buf) > f.max {
					return violTooLong
				}
				return ""
			}
			p = rest
			if f.state == stTrailer {
				if len(block) > f.max {
					return violTooLong
				}
				f.state = stStart
				continue
			}
			if v := f.header(block); v != "" {
				return v
			}
			if f.state == stOff {
				return ""
			}
		case stBody, stChunkData:
			n := uint64(len(p))
			if n > f.remain {
				n = f.remain
			}
			f.remain -= n
			p = p[n:]
			if f.remain == 0 {
				if f.state == stBody {
					f.state = stStart
				} else {
					f.state, f.crlf = stChunkCRLF, 0
				}
			}
		case stChunkCRLF:
			if p[0] != "\r\n"[f.crlf] {
				return violChunked
			}
			p = p[1:]
			f.crlf++
			if f.crlf == 2 {
				f.state = stChunkLine
			}
		case stChunkLine:
			line, rest, done := f.collect(p, lineEnd)
			if !done {
				if len(f.buf) > maxChunkLine+2 {
					return violChunked
				}
				return ""
			}
			p = rest
			size, ok := chunkSize(line)
			switch {
			case !ok:
				return violChunked
			case size == 0:
				f.state = stTrailer
			default:
				f.state, f.remain = stChunkData, size
			}
		default: // stOff
			return ""
		}
	}
	return ""
}

// collect gathers bytes until end finds the end of the current piece
// (a header block, trailer or chunk line) in buf+p. It returns the piece
// and the rest of p when the piece is complete; otherwise it keeps p in
// f.buf for the next call, with the scan position, so that every byte is
// scanned once however the stream is split.
func (f *framer) collect(p []byte, end func(b []byte, lineStart, pos int) (n, ls, next int)) (piece, rest []byte, done bool) {
	if len(f.buf) == 0 {
		n, ls, next := end(p, 0, 0)
		if n >= 0 {
			return p[:n], p[n:], true
		}
		f.buf = append(f.buf, p...)
		f.lineStart, f.scan = ls, next
		return nil, nil, false
	}
	prev := len(f.buf)
	f.buf = append(f.buf, p...)
	n, ls, next := end(f.buf, f.lineStart, f.scan)
	if n < 0 {
		f.lineStart, f.scan = ls, next
		return nil, nil, false
	}
	piece, rest = f.buf[:n], p[n-prev:]
	// The piece stays valid until the next collect; a large buffer is
	// let go so that idle connections stay small.
	if cap(f.buf) > 4096 {
		f.buf = nil
	} else {
		f.buf = f.buf[:0]
	}
	return piece, rest, true
}

// blockEnd finds the empty line that ends a header block or trailer in b,
// reading from pos, in the line that starts at lineStart. It returns the
// length of the block including that line, or -1 with the line start and
// position to resume from. A line ends at LF, with an optional CR before
// it, as net/textproto reads it.
func blockEnd(b []byte, lineStart, pos int) (n, ls, next int) {
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return -1, lineStart, len(b)
		}
		k := pos + i // the LF
		if k == lineStart || k == lineStart+1 && b[lineStart] == '\r' {
			return k + 1, 0, 0
		}
		lineStart, pos = k+1, k+1
	}
}

// lineEnd finds the end of one line (LF included).
func lineEnd(b []byte, _, pos int) (n, ls, next int) {
	if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
		return pos + i + 1, 0, 0
	}
	return -1, 0, len(b)
}

// chunkSize parses a chunk-size line (CRLF included) as net/http does: it
// must end with CRLF and have no other CR, at most 16 hex digits, then
// optional whitespace and a ";extension".
func chunkSize(line []byte) (uint64, bool) {
	if len(line) < 2 || line[len(line)-2] != '\r' || bytes.IndexByte(line, '\r') != len(line)-2 {
		return 0, false
	}
	line = line[:len(line)-2]
	if len(line) >= maxChunkLine {
		return 0, false
	}
	line = bytes.TrimRight(line, " \t")
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	if len(line) == 0 || len(line) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range line {
		if !isHex(c) {
			return 0, false
		}
		n = n<<4 | uint64(unhex(c))
	}
	return n, true
}

// header reads the request line and fields of a complete header block
// (its final empty line included) and sets the state for the body.
func (f *framer) header(block []byte) string {
	if len(block) > f.max {
		return violTooLong
	}
	f.requests++
	nl := bytes.IndexByte(block, '\n')
	reqLine := trimCR(block[:nl])
	fields := block[nl+1:]
	method, rest, _ := bytes.Cut(reqLine, []byte(" "))
	_, proto, _ := bytes.Cut(rest, []byte(" "))
	major, minor, ok := httpVersion(proto)
	if !ok {
		return violSyntax
	}
	if string(method) == "PRI" && string(rest) == "* HTTP/2.0" && len(trimCR(fields[:len(fields)-1])) == 0 {
		// The HTTP/2 connection preface: net/http either serves HTTP/2 on
		// this connection or answers this one request and closes it.
		f.state = stOff
		return ""
	}

	clCount, teCount := 0, 0
	var cur *[]byte // the field that continuation lines extend
	for len(fields) > 0 {
		i := bytes.IndexByte(fields, '\n')
		line := trimCR(fields[:i])
		fields = fields[i+1:]
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' { // obs-fold, which net/textproto joins with a space
			if cur != nil {
				*cur = append(append(*cur, ' '), bytes.Trim(line, " \t")...)
			}
			continue
		}
		cur = nil
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return violSyntax
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			clCount++
			f.cl = append(f.cl[:0], bytes.Trim(value, " \t")...)
			cur = &f.cl
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			teCount++
			f.te = append(f.te[:0], bytes.Trim(value, " \t")...)
			cur = &f.te
		}
	}

	http11 := major > 1 || major == 1 && minor >= 1
	switch {
	case teCount > 0 && clCount > 0:
		return violCLTE
	case teCount > 0 && !http11:
		return violHTTP10TE
	case clCount > 1:
		return violDupCL
	case teCount > 1:
		return violBadTE
	case teCount == 1:
		if !bytes.EqualFold(bytes.Trim(f.te, " \t"), []byte("chunked")) {
			return violBadTE
		}
		f.state = stChunkLine
		return ""
	case clCount == 1:
		n, ok := contentLength(bytes.Trim(f.cl, " \t"))
		if !ok {
			return violBadCL
		}
		if n > 0 {
			f.state, f.remain = stBody, n
			return ""
		}
	}
	f.state = stStart
	return ""
}

// contentLength parses a Content-Length value as net/http does
// (strconv.ParseUint(s, 10, 63)).
func contentLength(s []byte) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	const limit = 1<<63 - 1
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// httpVersion parses "HTTP/x.y" with one digit each, as
// http.ParseHTTPVersion does.
func httpVersion(p []byte) (major, minor int, ok bool) {
	if len(p) != len("HTTP/1.1") || string(p[:5]) != "HTTP/" || p[6] != '.' {
		return 0, 0, false
	}
	if p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9' {
		return 0, 0, false
	}
	return int(p[5] - '0'), int(p[7] - '0'), true
}

// trimCR removes one trailing CR.
func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
