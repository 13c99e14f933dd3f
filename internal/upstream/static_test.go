package upstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// modTime is the modification time of every fixture file.
var modTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// newDocroot builds a docroot fixture next to a directory outside it and
// returns the docroot's path.
func newDocroot(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	files := map[string]string{
		"root/index.html":         "<h1>home</h1>",
		"root/style.css":          "body{color:red}",
		"root/file.txt":           "hello world, this is a text file",
		"root/1k.bin":             strings.Repeat("k", 1024),
		"root/.htpasswd":          "alice:SECRET-HT",
		"root/.htgroup":           "admins: alice SECRET-HT",
		"root/.HtDigest":          "alice:realm:SECRET-HT",
		"root/sub/index.html":     "<h1>sub</h1>",
		"root/sub/.HTACCESS":      "Require all denied SECRET-HT",
		"root/.htsub/file.txt":    "SECRET-HT in a .ht directory",
		"root/noindex/a.txt":      "a",
		"root/noindex/.htsecret":  "SECRET-HT",
		"root/noindex/b:c.txt":    "colon",
		"root/sp ace/é.txt":       "unicode",
		"root/sp ace/index.html":  "space index",
		"outside/secret.txt":      "SECRET-OUTSIDE",
		"outside/dir/secret.html": "SECRET-OUTSIDE",
	}
	for name, content := range files {
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, modTime, modTime); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"root/link":       "file.txt",
		"root/sub/uplink": "../file.txt",
		"root/escape":     "../outside/secret.txt",
		"root/escdir":     "../outside",
		"root/abs":        filepath.Join(base, "outside", "secret.txt"),
		"root/loop":       "loop",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, filepath.FromSlash(name))); err != nil {
			t.Skipf("symlinks not supported: %v", err)
		}
	}
	return root
}

// newTestStatic opens a Static on dir and closes it with the test.
func newTestStatic(t testing.TB, dir string, opts StaticOptions) *Static {
	t.Helper()
	s, err := NewStatic(dir, opts)
	if err != nil {
		t.Fatalf("NewStatic(%q) = %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newStaticFront serves s on a real listener, Request taken from the URL.
func newStaticFront(t testing.TB, s *Static) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Serve(w, r, Request{Path: r.URL.Path, EscapedPath: r.URL.EscapedPath()})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, method, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestStatic(t *testing.T) {
	s := newTestStatic(t, newDocroot(t), StaticOptions{})
	front := newStaticFront(t, s)
	tests := []struct {
		method, path string
		hdr          map[string]string
		status       int
		want         map[string]string // response headers
		body         string            // "" = not checked
	}{
		{"GET", "/file.txt", nil, 200, map[string]string{"Content-Type": "text/plain; charset=utf-8", "Last-Modified": "Wed, 01 May 2024 12:00:00 GMT"}, "hello world, this is a text file"},
		{"GET", "/style.css", nil, 200, map[string]string{"Content-Type": "text/css; charset=utf-8"}, "body{color:red}"},
		{"GET", "/index.html", nil, 200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, "<h1>home</h1>"},
		{"GET", "/", nil, 200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, "<h1>home</h1>"},
		{"GET", "/sub/", nil, 200, nil, "<h1>sub</h1>"},
		{"GET", "/sp%20ace/", nil, 200, nil, "space index"},
		{"GET", "/sp%20ace/%C3%A9.txt", nil, 200, nil, "unicode"},
		{"HEAD", "/file.txt", nil, 200, map[string]string{"Content-Length": "32"}, ""},
		// Range, conditional requests.
		{"GET", "/file.txt", map[string]string{"Range": "bytes=0-4"}, 206, map[string]string{"Content-Range": "bytes 0-4/32"}, "hello"},
		{"GET", "/file.txt", map[string]string{"Range": "bytes=100-"}, 416, nil, ""},
		{"GET", "/file.txt", map[string]string{"If-Modified-Since": "Wed, 01 May 2024 12:00:00 GMT"}, 304, nil, ""},
		{"GET", "/file.txt", map[string]string{"If-Modified-Since": "Tue, 30 Apr 2024 12:00:00 GMT"}, 200, nil, "hello world, this is a text file"},
		{"GET", "/file.txt", map[string]string{"If-None-Match": `"20-` + etagTime() + `"`}, 304, nil, ""},
		// Directories.
		{"GET", "/sub", nil, 301, map[string]string{"Location": "/sub/"}, ""},
		{"GET", "/sub?a=1&b", nil, 301, map[string]string{"Location": "/sub/?a=1&b"}, ""},
		{"HEAD", "/sub", nil, 301, map[string]string{"Location": "/sub/"}, ""},
		{"GET", "/sp%20ace", nil, 301, map[string]string{"Location": "/sp%20ace/"}, ""},
		{"GET", "/noindex/", nil, 404, nil, ""},
		{"GET", "/noindex", nil, 301, map[string]string{"Location": "/noindex/"}, ""},
		{"GET", "/missing", nil, 404, nil, ""},
		{"GET", "/missing/", nil, 404, nil, ""},
		{"GET", "/file.txt/", nil, 404, nil, ""},
		{"GET", "/file.txt/x", nil, 404, nil, ""},
		// .ht* files, any case, any method, existing or not.
		{"GET", "/.htpasswd", nil, 403, nil, ""},
		{"GET", "/sub/.HTACCESS", nil, 403, nil, ""},
		{"GET", "/.htgroup", nil, 403, nil, ""},
		{"GET", "/.HtDigest", nil, 403, nil, ""},
		{"GET", "/.ht", nil, 403, nil, ""},
		{"GET", "/.htsub/file.txt", nil, 403, nil, ""},
		{"GET", "/.htsub/", nil, 403, nil, ""},
		{"GET", "/.htnothere", nil, 403, nil, ""},
		{"GET", "/sub/.htaccess", nil, 403, nil, ""},
		{"HEAD", "/.htpasswd", nil, 403, nil, ""},
		{"POST", "/.htpasswd", nil, 403, nil, ""},
		{"OPTIONS", "/.htpasswd", nil, 403, nil, ""},
		{"GET", "/.%68%74passwd", nil, 403, nil, ""},
		// Symbolic links.
		{"GET", "/link", nil, 200, nil, "hello world, this is a text file"},
		{"GET", "/sub/uplink", nil, 200, nil, "hello world, this is a text file"},
		{"GET", "/escape", nil, 404, nil, ""},
		{"GET", "/escdir/secret.txt", nil, 404, nil, ""},
		{"GET", "/escdir/", nil, 404, nil, ""},
		{"GET", "/escdir", nil, 404, nil, ""},
		{"GET", "/abs", nil, 404, nil, ""},
		{"GET", "/loop", nil, 404, nil, ""},
		// Methods.
		{"POST", "/file.txt", nil, 405, map[string]string{"Allow": "GET, HEAD, OPTIONS"}, ""},
		{"PUT", "/new.txt", nil, 405, map[string]string{"Allow": "GET, HEAD, OPTIONS"}, ""},
		{"DELETE", "/file.txt", nil, 405, map[string]string{"Allow": "GET, HEAD, OPTIONS"}, ""},
		{"OPTIONS", "/file.txt", nil, 200, map[string]string{"Allow": "GET, HEAD, OPTIONS", "Content-Length": "0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			resp, b := get(t, tt.method, front.URL+tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
			}
			for k, want := range tt.want {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, k, got, want)
				}
			}
			if tt.body != "" && b != tt.body {
				t.Errorf("%s %s: body = %q, want %q", tt.method, tt.path, b, tt.body)
			}
			if strings.Contains(b, "SECRET") {
				t.Errorf("%s %s: body leaks a secret: %q", tt.method, tt.path, b)
			}
		})
	}
}

// etagTime is the hex microsecond part of the fixtures' ETag.
func etagTime() string {
	return strings.TrimSuffix(strings.SplitN(etag(fakeInfo{}), "-", 2)[1], `"`)
}

// fakeInfo is an os.FileInfo with the fixtures' modification time.
type fakeInfo struct{ os.FileInfo }

func (fakeInfo) Size() int64        { return 32 }
func (fakeInfo) ModTime() time.Time { return modTime }

// TestStaticUsesRequestPath checks that Static reads Request, never r.URL.
func TestStaticUsesRequestPath(t *testing.T) {
	s := newTestStatic(t, newDocroot(t), StaticOptions{})
	tests := []struct {
		urlPath string
		req     Request
		status  int
		loc     string
	}{
		{"/.htpasswd", Request{Path: "/file.txt"}, 200, ""},
		{"/file.txt", Request{Path: "/.htpasswd"}, 403, ""},
		{"/SUB", Request{Path: "/sub", EscapedPath: "/sub"}, 301, "/sub/"},
		{"/a%20b", Request{Path: "/sp ace"}, 301, "/sp%20ace/"},
		{"/x", Request{Path: "/sp ace", EscapedPath: "/sp%20ace"}, 301, "/sp%20ace/"},
		{"/x", Request{}, 200, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		s.Serve(w, httptest.NewRequest("GET", tt.urlPath, nil), tt.req)
		if w.Code != tt.status || w.Header().Get("Location") != tt.loc {
			t.Errorf("Serve(URL %q, Path %q) = %d %q, want %d %q", tt.urlPath, tt.req.Path, w.Code, w.Header().Get("Location"), tt.status, tt.loc)
		}
	}
}

func TestRedirectSlashStaysLocal(t *testing.T) {
	tests := []struct{ escaped, query, want string }{
		{"/sub", "", "/sub/"},
		{"//evil.example", "", "/evil.example/"},
		{`/\evil.example`, "", "/evil.example/"},
		{"///x", "q=1", "/x/?q=1"},
		{"/", "", "/"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/?"+tt.query, nil)
		w := httptest.NewRecorder()
		redirectSlash(w, r, Request{EscapedPath: tt.escaped}, tt.escaped)
		if got := w.Header().Get("Location"); got != tt.want {
			t.Errorf("redirectSlash(%q) Location = %q, want %q", tt.escaped, got, tt.want)
		}
	}
}

func TestStaticOnStatus(t *testing.T) {
	type call struct {
		Status int
		Allow  string
	}
	var got []call
	s := newTestStatic(t, newDocroot(t), StaticOptions{OnStatus: func(w http.ResponseWriter, r *http.Request, status int) {
		got = append(got, call{status, w.Header().Get("Allow")})
		w.WriteHeader(status)
	}})
	for _, c := range []struct{ method, path string }{{"GET", "/.htpasswd"}, {"GET", "/missing"}, {"PATCH", "/file.txt"}, {"GET", "/file.txt"}} {
		s.Serve(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil), Request{Path: c.path})
	}
	want := []call{{403, ""}, {404, ""}, {405, "GET, HEAD, OPTIONS"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OnStatus calls (-want +got):\n%s", diff)
	}
}

func TestStaticListing(t *testing.T) {
	s := newTestStatic(t, newDocroot(t), StaticOptions{Listing: true})
	front := newStaticFront(t, s)
	resp, b := get(t, "GET", front.URL+"/noindex/", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /noindex/ = %d, want 200", resp.StatusCode)
	}
	for _, want := range []string{`<a href="a.txt">a.txt</a>`, `<a href="./b:c.txt">b:c.txt</a>`, `<a href="../">`} {
		if !strings.Contains(b, want) {
			t.Errorf("listing lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(b, ".htsecret") {
		t.Errorf("listing shows a .ht file:\n%s", b)
	}
	// A directory with an index still serves the index.
	if _, b := get(t, "GET", front.URL+"/sub/", nil); b != "<h1>sub</h1>" {
		t.Errorf("GET /sub/ with Listing = %q, want the index", b)
	}
}

func TestStaticCustomIndex(t *testing.T) {
	dir := newDocroot(t)
	s := newTestStatic(t, dir, StaticOptions{Index: []string{"missing.html", "a.txt"}})
	w := httptest.NewRecorder()
	s.Serve(w, httptest.NewRequest("GET", "/noindex/", nil), Request{Path: "/noindex/"})
	if w.Code != 200 || w.Body.String() != "a" {
		t.Errorf("GET /noindex/ with Index a.txt = %d %q, want 200 %q", w.Code, w.Body.String(), "a")
	}
	for _, bad := range [][]string{{".htaccess"}, {"../x"}, {"a/b"}, {".."}} {
		if _, err := NewStatic(dir, StaticOptions{Index: bad}); err == nil {
			t.Errorf("NewStatic(Index %q) = nil error, want an error", bad)
		}
	}
	if _, err := NewStatic(filepath.Join(dir, "missing"), StaticOptions{}); err == nil {
		t.Error("NewStatic(missing dir) = nil error, want an error")
	}
}

func TestStaticUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	dir := newDocroot(t)
	if err := os.Chmod(filepath.Join(dir, "file.txt"), 0); err != nil {
		t.Fatal(err)
	}
	s := newTestStatic(t, dir, StaticOptions{})
	w := httptest.NewRecorder()
	s.Serve(w, httptest.NewRequest("GET", "/file.txt", nil), Request{Path: "/file.txt"})
	if w.Code != 403 {
		t.Errorf("GET unreadable file = %d, want 403", w.Code)
	}
}

func TestStaticClosed(t *testing.T) {
	s, err := NewStatic(newDocroot(t), StaticOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	w := httptest.NewRecorder()
	s.Serve(w, httptest.NewRequest("GET", "/file.txt", nil), Request{Path: "/file.txt"})
	if w.Code != 500 {
		t.Errorf("GET after Close = %d, want 500", w.Code)
	}
}

func TestHasHTSegment(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"/", false}, {"/.ht", true}, {"/.htpasswd", true}, {"/a/.HTACCESS", true}, {"/.hT/x", true},
		{"/a/.htsub/", true}, {"/a.htpasswd", false}, {"/ht", false}, {"/.h", false}, {"/x/.h/t", false},
		{"/_htpasswd", false}, {"/..htpasswd", false}, {"/a/b/.HtGroup", true},
	}
	for _, tt := range tests {
		if got := hasHTSegment(tt.in); got != tt.want {
			t.Errorf("hasHTSegment(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func BenchmarkStatic1KiB(b *testing.B) {
	s := newTestStatic(b, newDocroot(b), StaticOptions{})
	r := httptest.NewRequest("GET", "/1k.bin", nil)
	req := Request{Path: "/1k.bin", EscapedPath: "/1k.bin"}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.Serve(w, r, req)
		if w.Code != 200 || w.Body.Len() != 1024 {
			b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
	}
}
