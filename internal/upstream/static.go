package upstream

import (
	"errors"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// allowStatic is the Allow header of Static.
const allowStatic = "GET, HEAD, OPTIONS"

// StaticOptions configures a Static. The zero value is ready to use.
type StaticOptions struct {
	// Index lists the file names served for a directory request, first
	// found wins. Default (nil or empty): index.html. Names must be plain
	// file names and may not start with ".ht".
	Index []string
	// Listing serves an HTML list of a directory that has no index file.
	// Default false: such a directory is 404 Not Found.
	Listing bool
	// Logger receives a line for unexpected file system errors. Default:
	// discard.
	Logger *slog.Logger
	// OnStatus answers a refusal (403, 404, 405, 500) so that the gateway's
	// responder renders the page. Headers that belong to the answer (Allow
	// with a 405) are already set. Default: a plain http.Error.
	OnStatus func(w http.ResponseWriter, r *http.Request, status int)
}

// Static serves files from a docroot. It is safe for concurrent use.
//
// The file is found from Request.Path only (never r.URL.Path), resolved
// with os.Root: a symbolic link may point anywhere inside the docroot, but
// one that leads outside it, like "..", is 404 Not Found. Caveat: a link
// inside the docroot whose own name is harmless but that points at a .ht*
// file inside the docroot is followed (as Apache does); keep credential
// files out of the docroot.
//
// Behaviour, modelled on Apache's defaults:
//   - any path segment starting with ".ht" in any letter case (.htaccess,
//     .htpasswd, .HTGROUP, .htsub/...) is 403 Forbidden, whatever the method;
//   - GET and HEAD serve the file through http.ServeContent: Content-Type by
//     extension (sniffed when unknown), Last-Modified and If-Modified-Since,
//     Range, and an ETag of size and modification time like Apache's;
//   - OPTIONS is 200 with "Allow: GET, HEAD, OPTIONS" (Apache answers
//     OPTIONS on a static file the same way); other methods are 405 with
//     that Allow header;
//   - a directory without a trailing slash is redirected (301) to the slash
//     form built from Request.EscapedPath, query kept, like mod_dir;
//   - a directory with a trailing slash serves its index file, else a
//     listing when StaticOptions.Listing, else 404;
//   - a file with a trailing slash, a missing file, and anything that is
//     neither a regular file nor a directory (FIFO, socket, device) is 404;
//     a file the server may not read is 403.
type Static struct {
	root     *os.Root
	index    []string
	listing  bool
	log      *slog.Logger
	onStatus func(w http.ResponseWriter, r *http.Request, status int)
}

var _ Backend = (*Static)(nil)

// NewStatic opens the docroot dir and returns a Static serving it. The
// directory stays open until Close; a docroot renamed meanwhile is still
// the one served.
func NewStatic(dir string, opts StaticOptions) (*Static, error) {
	index := slices.Clone(opts.Index)
	if len(index) == 0 {
		index = []string{"index.html"}
	}
	for _, name := range index {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
			return nil, fmt.Errorf("static %s: index %q: not a plain file name", dir, name)
		}
		if isHTName(name) {
			return nil, fmt.Errorf("static %s: index %q: .ht* files are never served", dir, name)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("static %s: %w", dir, err)
	}
	s := &Static{root: root, index: index, listing: opts.Listing, log: opts.Logger, onStatus: opts.OnStatus}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.onStatus == nil {
		s.onStatus = plainStatus
	}
	return s, nil
}

// Close closes the docroot; later requests are answered 500.
func (s *Static) Close() error {
	return s.root.Close()
}

// Serve answers r from the docroot as req says. See Static.
func (s *Static) Serve(w http.ResponseWriter, r *http.Request, req Request) {
	p := req.Path
	if p == "" {
		p = "/"
	}
	if hasHTSegment(p) {
		s.onStatus(w, r, http.StatusForbidden)
		return
	}
	if p[0] != '/' {
		s.onStatus(w, r, http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.Header().Set("Allow", allowStatic)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	default:
		w.Header().Set("Allow", allowStatic)
		s.onStatus(w, r, http.StatusMethodNotAllowed)
		return
	}

	rel, slash := relPath(p)
	if !fs.ValidPath(rel) {
		s.onStatus(w, r, http.StatusNotFound)
		return
	}
	f, err := s.root.OpenFile(rel, openFlags, 0)
	if err != nil {
		s.fail(w, r, req, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, r, req, err)
		return
	}
	switch {
	case fi.IsDir():
		if !slash {
			redirectSlash(w, r, req, p)
			return
		}
		s.serveDir(w, r, req, rel, f)
	case fi.Mode().IsRegular() && !slash:
		serveFile(w, r, f, fi)
	default:
		s.onStatus(w, r, http.StatusNotFound)
	}
}

// serveDir serves the index file of the directory rel, or its listing.
func (s *Static) serveDir(w http.ResponseWriter, r *http.Request, req Request, rel string, dir *os.File) {
	for _, name := range s.index {
		full := name
		if rel != "." {
			full = rel + "/" + name
		}
		f, err := s.root.OpenFile(full, openFlags, 0)
		if err != nil {
			if fileStatus(err) == http.StatusNotFound {
				continue
			}
			s.fail(w, r, req, err)
			return
		}
		fi, err := f.Stat()
		if err == nil && fi.Mode().IsRegular() {
			serveFile(w, r, f, fi)
			f.Close()
			return
		}
		f.Close()
	}
	if !s.listing {
		s.onStatus(w, r, http.StatusNotFound)
		return
	}
	entries, err := dir.ReadDir(-1)
	if err != nil {
		s.fail(w, r, req, err)
		return
	}
	writeListing(w, r, req.Path, entries)
}

// fail answers an error from the file system.
func (s *Static) fail(w http.ResponseWriter, r *http.Request, req Request, err error) {
	status := fileStatus(err)
	level := slog.LevelDebug
	if status == http.StatusInternalServerError {
		level = slog.LevelError
	}
	s.log.LogAttrs(r.Context(), level, "static file refused",
		slog.String("ref_id", req.RefID), slog.String("path", req.Path),
		slog.Int("status", status), slog.String("error", err.Error()))
	s.onStatus(w, r, status)
}

// fileStatus maps an error from os.Root to a status. Errors that are not
// system errors (a path escaping the root, an invalid name) are 404.
func fileStatus(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ELOOP),
		errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EINVAL):
		return http.StatusNotFound
	case errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, fs.ErrClosed):
		return http.StatusInternalServerError
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return http.StatusInternalServerError
	}
	return http.StatusNotFound
}

// serveFile serves an open regular file.
func serveFile(w http.ResponseWriter, r *http.Request, f *os.File, fi os.FileInfo) {
	h := w.Header()
	if _, ok := h["Etag"]; !ok {
		h["Etag"] = []string{etag(fi)}
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// etag is Apache's default FileETag (MTime Size): "size-mtime" in hex, the
// time in microseconds.
func etag(fi os.FileInfo) string {
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = strconv.AppendInt(b, fi.Size(), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, fi.ModTime().UnixMicro(), 16)
	b = append(b, '"')
	return string(b)
}

// redirectSlash answers a directory request without its trailing slash
// with a 301 to the slash form, built from the escaped canonical path.
func redirectSlash(w http.ResponseWriter, r *http.Request, req Request, p string) {
	escaped := req.EscapedPath
	if escaped == "" {
		escaped = (&url.URL{Path: p}).EscapedPath()
	}
	// Never "//host" or "/\host": a browser reads those as another site.
	loc := "/" + strings.TrimLeft(escaped, "/\\") + "/"
	if loc == "//" {
		loc = "/"
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	h := w.Header()
	h.Set("Location", loc)
	if r.Method == http.MethodGet {
		h.Set("Content-Type", "text/html; charset=utf-8")
	}
	w.WriteHeader(http.StatusMovedPermanently)
	if r.Method == http.MethodGet {
		fmt.Fprintf(w, "<a href=\"%s\">Moved Permanently</a>.\n", html.EscapeString(loc))
	}
}

// writeListing writes an HTML list of entries, .ht* names left out.
func writeListing(w http.ResponseWriter, r *http.Request, dirPath string, entries []os.DirEntry) {
	slices.SortFunc(entries, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	title := html.EscapeString("Index of " + dirPath)
	var b strings.Builder
	b.WriteString("<!doctype html>\n<meta charset=\"utf-8\">\n<title>")
	b.WriteString(title)
	b.WriteString("</title>\n<h1>")
	b.WriteString(title)
	b.WriteString("</h1>\n<ul>\n")
	if dirPath != "/" {
		b.WriteString("<li><a href=\"../\">../</a>\n")
	}
	for _, e := range entries {
		name := e.Name()
		if isHTName(name) {
			continue
		}
		if e.IsDir() {
			name += "/"
		}
		// url.URL.String writes "./a:b" for a name that looks like a scheme.
		href := (&url.URL{Path: name}).String()
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a>\n", html.EscapeString(href), html.EscapeString(name))
	}
	b.WriteString("</ul>\n")
	_, _ = w.Write([]byte(b.String()))
}

// relPath turns a canonical absolute path into a name relative to the
// root ("." for "/") and reports whether it ended in a slash.
func relPath(p string) (rel string, slash bool) {
	rel = p[1:]
	if strings.HasSuffix(rel, "/") {
		slash = true
		rel = rel[:len(rel)-1]
	}
	if rel == "" {
		return ".", true
	}
	return rel, slash
}

// isHTName reports whether a file name starts with ".ht" in any letter case.
func isHTName(name string) bool {
	return len(name) >= 3 && name[0] == '.' && name[1]|0x20 == 'h' && name[2]|0x20 == 't'
}

// hasHTSegment reports whether any segment of the slash-separated path p
// starts with ".ht" in any letter case.
func hasHTSegment(p string) bool {
	for {
		if isHTName(p) {
			return true
		}
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[i+1:]
	}
}

// plainStatus is the default OnStatus.
func plainStatus(w http.ResponseWriter, _ *http.Request, status int) {
	http.Error(w, http.StatusText(status), status)
}
