package gateway

import (
	"context"
	"html"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/htaccess"
	"github.com/htgate/htgate/internal/upstream"
)

// apacheAllow is the Allow header Apache's core sends for a static file
// (its default handler allows GET, HEAD, POST and OPTIONS, and TraceEnable
// is on). htgate refuses TRACE itself (see docs/apache-compat.md) but
// sends the same Allow, so that clients see Apache's answers.
const apacheAllow = "GET,HEAD,POST,OPTIONS,TRACE"

// htRequestKey carries the .htaccess configuration of a request to the
// backend's refusal callback (ServeErrorDocument).
type htRequestKey struct{}

type htRequest struct {
	cfg *htaccess.Config
	d   *htgate.Decision
}

// serveHTAccess answers a request in .htaccess mode after decide: a
// refusal through the ErrorDocument in force, else Apache's fixups
// (mod_alias redirects, mod_dir's trailing slash, index files and
// FallbackResource) and default handler (GET, HEAD and POST serve the
// file, OPTIONS lists the methods, other methods are 405 or 501).
func (g *Gateway) serveHTAccess(w http.ResponseWriter, r *http.Request, d *htgate.Decision, fwd upstream.Request) {
	if !d.Reason.Allowed() {
		g.refuseHTAccess(w, r, d, nil)
		return
	}
	d.Status = http.StatusOK
	ctx := r.Context()
	res := g.ht.loader.Lookup(fwd.Path)
	if res.Err != nil {
		// The .htaccess broke between decide and now.
		g.htaccessCheck(ctx, true, r, r.Method, d, res)
		g.refuseHTAccess(w, r, d, nil)
		return
	}
	cfg := res.Config
	if status, loc, where, ok := cfg.Redirect(fwd.Path, r.URL.RawQuery); ok {
		if status >= 300 && status < 400 {
			d.Status = status
			writeRedirect(w, r, status, loc)
			return
		}
		d.Refuse(status, reasonOf(status), "htaccess", "Redirect "+strconv.Itoa(status)+" at "+where)
		g.refuseHTAccess(w, r, d, cfg)
		return
	}
	target, targetCfg := fwd.Path, cfg
	isFile := res.Exists && !res.IsDir && res.PathInfo == ""
	if res.IsDir {
		if !strings.HasSuffix(fwd.Path, "/") {
			if cfg.DirectorySlash() {
				loc := EscapeCanonical(fwd.Path) + "/"
				if strings.HasPrefix(loc, "//") {
					loc = "/" + strings.TrimLeft(loc, "/")
				}
				if r.URL.RawQuery != "" {
					loc += "?" + r.URL.RawQuery
				}
				d.Status = http.StatusMovedPermanently
				writeRedirect(w, r, http.StatusMovedPermanently, loc)
				return
			}
		} else {
			idx, idxCfg, refused := g.htIndex(ctx, r, d, res)
			if refused != nil {
				adopt(d, refused)
				g.refuseHTAccess(w, r, d, nil)
				return
			}
			if idx != "" {
				if status := cfg.DirectoryIndexRedirect(); status != 0 {
					d.Status = status
					writeRedirect(w, r, status, EscapeCanonical(idx))
					return
				}
				target, targetCfg, isFile = idx, idxCfg, true
			}
		}
	} else if res.Exists && res.PathInfo != "" && cfg.AcceptPathInfo() {
		// AcceptPathInfo On: /file.html/extra serves /file.html.
		target, isFile = res.Dir+res.Name, true
	}
	if !isFile && (!res.Exists || res.IsDir && strings.HasSuffix(target, "/")) && cfg.FallbackResource() != "" {
		// mod_dir's FallbackResource: a missing file, or a directory
		// without an index file.
		fallback := cfg.FallbackResource()
		if !strings.HasPrefix(fallback, "/") {
			fallback = res.Dir + fallback
		}
		fb, fbCfg, refused := g.htSubrequest(ctx, r, d, cfg, fallback)
		if refused != nil {
			adopt(d, refused)
			g.refuseHTAccess(w, r, d, nil)
			return
		}
		if fb == "" {
			// Apache redirects internally to the fallback, which is
			// missing too, and so on until it gives up with 500.
			d.Refuse(http.StatusInternalServerError, htgate.ReasonServerError, "htaccess", "FallbackResource "+fallback+" does not exist")
			g.refuseHTAccess(w, r, d, cfg)
			return
		}
		target, targetCfg, isFile = fb, fbCfg, true
	}
	h := w.Header()
	switch m := r.Method; {
	case m == http.MethodGet || m == http.MethodHead:
	case m == http.MethodPost:
		// Apache's default handler sends a static file for POST too.
		r2 := new(http.Request)
		*r2 = *r
		r2.Method = http.MethodGet
		r = r2
	case m == http.MethodOptions:
		h.Set("Allow", apacheAllow)
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	default:
		h.Set("Allow", apacheAllow)
		status, detail := http.StatusMethodNotAllowed, "method "+m+" is not allowed on a static file"
		if !htaccess.KnownMethod(m) {
			status, detail = http.StatusNotImplemented, "method "+m+" is not implemented"
		}
		d.Refuse(status, htgate.ReasonMethodNotAllowed, "htaccess", detail)
		g.refuseHTAccess(w, r, d, targetCfg)
		return
	}
	if !isFile && res.IsDir {
		d.Refuse(http.StatusNotFound, htgate.ReasonNotFound, "htaccess", "directory without an index file (htgate does not list directories)")
		g.refuseHTAccess(w, r, d, targetCfg)
		return
	}
	if ct := targetCfg.ContentType(path.Base(target)); ct != "" {
		h.Set("Content-Type", ct)
	}
	fwd.Path, fwd.EscapedPath = target, EscapeCanonical(target)
	r = r.WithContext(context.WithValue(ctx, htRequestKey{}, &htRequest{cfg: targetCfg, d: d}))
	g.opts.Backend.Serve(w, r, fwd)
}

// ServeErrorDocument answers a backend's refusal (a 404 for a missing
// file, for example) with the ErrorDocument the .htaccess files in force
// give for status, and reports whether it did; when it returns false the
// caller answers as usual. It only acts on requests the gateway passed to
// the backend in .htaccess mode.
func (g *Gateway) ServeErrorDocument(w http.ResponseWriter, r *http.Request, status int) bool {
	hr, ok := r.Context().Value(htRequestKey{}).(*htRequest)
	if !ok || g.ht == nil {
		return false
	}
	d := *hr.d
	d.Status, d.Challenges = status, nil
	return g.errorDocument(w, r, &d, hr.cfg)
}

// refuseHTAccess answers a refusal with the ErrorDocument in force for
// its status, or with the responder's page. cfg is the configuration of
// the request path, nil to look it up (only for refusals of a .htaccess
// area: an earlier refusal, like a malformed target, has none).
func (g *Gateway) refuseHTAccess(w http.ResponseWriter, r *http.Request, d *htgate.Decision, cfg *htaccess.Config) {
	if d.Status == http.StatusBadRequest {
		w.Header().Set("Connection", "close")
	}
	if d.Status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		// TRACE, which htgate refuses everywhere.
		w.Header().Set("Allow", "GET,HEAD,POST,OPTIONS")
	}
	if cfg == nil && d.Rule != nil && d.Rule.ID == htRuleID {
		if res := g.ht.loader.Lookup(d.Path); res.Err == nil {
			cfg = res.Config
		}
	}
	if cfg != nil && g.errorDocument(w, r, d, cfg) {
		return
	}
	g.opts.Responder.Refuse(w, r, d)
}

// errorDocument writes the ErrorDocument of cfg for d.Status, keeping the
// refusal's challenges, and reports whether there was one it could use.
// A local document is served when the request may read it (checked as an
// internal GET, as Apache's internal redirect does); if it cannot be
// served, the responder's page is used, as Apache then sends its own.
func (g *Gateway) errorDocument(w http.ResponseWriter, r *http.Request, d *htgate.Decision, cfg *htaccess.Config) bool {
	doc, ok := cfg.ErrorDocument(d.Status)
	if !ok {
		return false
	}
	var body io.Reader
	var size int64
	ctype := "text/html; charset=utf-8"
	switch doc.Kind {
	case htaccess.DocText:
		if !utf8.ValidString(doc.Value) {
			ctype = "text/html; charset=iso-8859-1"
		}
		body, size = strings.NewReader(doc.Value), int64(len(doc.Value))
	case htaccess.DocRemote:
		w.Header().Set("Cache-Control", "no-store")
		d.Status = http.StatusFound
		writeRedirect(w, r, http.StatusFound, doc.Value)
		return true
	case htaccess.DocLocal:
		f, fctype, fsize, refused := g.openErrorDocument(r, d, cfg, doc.Value)
		if f == nil {
			if refused != nil && refused.Status == http.StatusUnauthorized && d.Status != http.StatusUnauthorized {
				// Apache's internal redirect to the document asked for
				// credentials: its challenge goes out with the error.
				for _, c := range refused.Challenges {
					w.Header().Add("WWW-Authenticate", c.String())
				}
			}
			return false
		}
		defer f.Close()
		body, size, ctype = f, fsize, fctype
	default:
		return false
	}
	h := w.Header()
	if d.Status == http.StatusUnauthorized {
		h.Del("WWW-Authenticate")
		for _, c := range d.Challenges {
			h.Add("WWW-Authenticate", c.String())
		}
	}
	if d.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(retryAfterSeconds(d), 10))
	}
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if d.RefID != "" {
		h.Set("X-Request-Id", d.RefID)
	}
	w.WriteHeader(d.Status)
	if r.Method != http.MethodHead {
		_, _ = io.CopyN(w, body, size)
	}
	return true
}

func retryAfterSeconds(d *htgate.Decision) int64 {
	s := int64(d.RetryAfter.Seconds())
	if float64(s) < d.RetryAfter.Seconds() {
		s++
	}
	return max(s, 1)
}

// openErrorDocument opens a local ErrorDocument (a file, or a directory's
// index file) if the request may read it, as Apache's internal redirect
// does; refused is the internal request's refusal, if any.
func (g *Gateway) openErrorDocument(r *http.Request, d *htgate.Decision, cfg *htaccess.Config, value string) (f io.ReadCloser, ctype string, size int64, refused *htgate.Decision) {
	value, _, _ = strings.Cut(value, "?")
	p, err := NormalizePath(value)
	if err != nil {
		return nil, "", 0, nil
	}
	res := g.ht.loader.Lookup(p)
	if res.Err == nil && res.IsDir && strings.HasSuffix(p, "/") {
		sd := &htgate.Decision{RefID: d.RefID, Method: http.MethodGet, Path: p, Client: d.Client}
		if res.Config != cfg {
			if _, ok := g.htaccessCheck(r.Context(), true, r, http.MethodGet, sd, res); !ok {
				return nil, "", 0, sd
			}
		}
		idx, _, idxRefused := g.htIndex(r.Context(), r, sd, res)
		if idx == "" {
			return nil, "", 0, idxRefused
		}
		p, cfg = idx, nil
		res = g.ht.loader.Lookup(p)
	}
	if res.Err != nil || !res.Exists || res.IsDir {
		return nil, "", 0, nil
	}
	if cfg != nil && res.Config != cfg {
		sd := &htgate.Decision{RefID: d.RefID, Method: http.MethodGet, Path: p, Client: d.Client}
		if _, ok := g.htaccessCheck(r.Context(), true, r, http.MethodGet, sd, res); !ok {
			return nil, "", 0, sd
		}
	}
	file, err := g.ht.loader.Open(p)
	if err != nil {
		return nil, "", 0, nil
	}
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		file.Close()
		return nil, "", 0, nil
	}
	ctype = res.Config.ContentType(path.Base(p))
	if ctype == "" {
		ctype = mime.TypeByExtension(path.Ext(p))
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return file, ctype, fi.Size(), nil
}

// htIndex finds the index file of the directory res names, as mod_dir
// does: each DirectoryIndex name in turn, checked as an internal GET
// subrequest with the request's credentials. It returns the index's path
// and configuration, "" when there is none, or the refusal to answer
// with (a 401 when the only name asked for credentials, or the last
// error other than 404).
func (g *Gateway) htIndex(ctx context.Context, r *http.Request, d *htgate.Decision, res htaccess.Result) (string, *htaccess.Config, *htgate.Decision) {
	names := res.Config.DirectoryIndex()
	var lastErr *htgate.Decision
	for _, name := range names {
		p := name
		if !strings.HasPrefix(p, "/") {
			p = res.Dir + name
		}
		found, cfg, refused := g.htSubrequest(ctx, r, d, res.Config, p)
		switch {
		case found != "":
			return found, cfg, nil
		case refused == nil:
		case refused.Status == http.StatusUnauthorized && len(names) == 1:
			return "", nil, refused
		case refused.Status != http.StatusNotFound:
			lastErr = refused
		}
	}
	return "", nil, lastErr
}

// htSubrequest checks whether the request may read the file at the
// URL-path p, as an internal GET: it returns p and its configuration when
// p is an existing file the request may read, "" when it does not exist,
// or the refusal.
func (g *Gateway) htSubrequest(ctx context.Context, r *http.Request, d *htgate.Decision, parent *htaccess.Config, p string) (string, *htaccess.Config, *htgate.Decision) {
	canonical, err := NormalizePath(EscapeCanonical(path.Clean(p)))
	if err != nil || strings.HasSuffix(canonical, "/") {
		return "", nil, nil
	}
	res := g.ht.loader.Lookup(canonical)
	if res.Err == nil && (!res.Exists || res.IsDir) {
		return "", nil, nil
	}
	if res.Err != nil || res.Config != parent {
		sd := &htgate.Decision{RefID: d.RefID, Method: http.MethodGet, Path: canonical, Client: d.Client, Tracing: d.Tracing}
		_, ok := g.htaccessCheck(ctx, true, r, http.MethodGet, sd, res)
		if d.Tracing {
			for _, s := range sd.Trace {
				s.Step = "subrequest " + s.Step
				d.Trace = append(d.Trace, s)
			}
		}
		if !ok {
			return "", nil, sd
		}
	}
	return canonical, res.Config, nil
}

// adopt makes d answer as the subrequest's refusal sd does.
func adopt(d, sd *htgate.Decision) {
	d.Status, d.Reason, d.Detail = sd.Status, sd.Reason, sd.Detail
	d.Rule, d.Challenges, d.RetryAfter = sd.Rule, sd.Challenges, sd.RetryAfter
	d.Path = sd.Path
	if sd.User != "" {
		d.User = sd.User
	}
}

// reasonOf is the reason code of a status a Redirect directive answers.
func reasonOf(status int) htgate.Reason {
	switch status {
	case http.StatusNotFound, http.StatusGone:
		return htgate.ReasonNotFound
	case http.StatusForbidden:
		return htgate.ReasonConfigDenied
	case http.StatusUnauthorized:
		return htgate.ReasonCredentialsMissing
	case http.StatusMethodNotAllowed:
		return htgate.ReasonMethodNotAllowed
	case http.StatusBadRequest:
		return htgate.ReasonBadRequest
	}
	return htgate.ReasonServerError
}

// writeRedirect answers a 3xx with Location and a short HTML body.
func writeRedirect(w http.ResponseWriter, r *http.Request, status int, loc string) {
	h := w.Header()
	h.Set("Location", loc)
	body := "<!doctype html>\n<title>" + http.StatusText(status) + "</title>\n<p>The document has moved <a href=\"" + html.EscapeString(loc) + "\">here</a>.</p>\n"
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}
