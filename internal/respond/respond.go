package respond

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/htgate/htgate"
	"golang.org/x/text/language"
)

// Identifiers used in problem+json bodies (see the package doc).
const (
	// ProblemTypePrefix + reason code is the problem "type" of a known reason.
	ProblemTypePrefix = "urn:htgate:problem:"
	// InstancePrefix + reference id is the problem "instance".
	InstancePrefix = "urn:htgate:ref:"
)

// maxRefID bounds the reference id written to headers and bodies.
const maxRefID = 128

//go:embed messages/*.json templates/page.html templates/style.css
var embedded embed.FS

// Options configures a Responder. The zero value is ready to use: English
// and Russian, the embedded page, no contact hint, origin-server mode.
type Options struct {
	// Logger receives the responder's own problems (a template that fails
	// to render, a 401 without a challenge). Default: discard. Refusals
	// themselves are logged by the caller's access log, not here.
	Logger *slog.Logger

	// TemplatesDir, if set, is a directory of the site owner's overrides,
	// each optional:
	//   page.html        an html/template replacing the embedded page; it
	//                    receives a Page
	//   <reason>.html    a page for one reason code only, e.g. logon_failed.html
	//   style.css        the stylesheet given to templates as Page.Style
	//   messages/<tag>.json  a message catalog: overlays the embedded one of
	//                    the same language (a reason it names is replaced
	//                    as a whole) or adds a language, then must be complete
	// The page's Content-Security-Policy allows exactly one inline style,
	// Page.Style; put it in a <style> element and use no other styles,
	// scripts or external resources. Default: none, the embedded files.
	TemplatesDir string

	// Languages lists the BCP 47 tags of the languages to answer in; the
	// first is the default for visitors whose Accept-Language matches none.
	// Each needs a message catalog. Default: "en", then every other catalog
	// (embedded: "ru"; plus any in TemplatesDir/messages) in tag order.
	Languages []string

	// ContactHint, if set, is shown on every page and in plain-text bodies
	// as how to reach the site owner, e.g. "webmaster@example.com".
	// Plain text, not HTML. Default: none.
	ContactHint string

	// Proxy turns a 401 into a 407 with Proxy-Authenticate instead of
	// WWW-Authenticate, for forward-proxy mode. Default: false.
	Proxy bool
}

// Responder writes refusals. It is safe for concurrent use.
type Responder struct {
	log     *slog.Logger
	contact string
	proxy   bool

	langs     []*catalog // offered languages; langs[0] is the default
	matcher   language.Matcher
	langCache langCache

	page    pageTemplate                   // default page
	pages   map[htgate.Reason]pageTemplate // per-reason overrides
	style   template.CSS
	csp     string
	buffers sync.Pool // *bytes.Buffer
}

// New parses the templates and message catalogs once and returns a
// Responder. Its error names the file that is broken: a template that does
// not parse or does not render, or a catalog that is malformed or
// incomplete.
func New(opts Options) (*Responder, error) {
	r := &Responder{
		log:     opts.Logger,
		contact: opts.ContactHint,
		proxy:   opts.Proxy,
		pages:   make(map[htgate.Reason]pageTemplate),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.buffers.New = func() any { return new(bytes.Buffer) }

	if dir := opts.TemplatesDir; dir != "" {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("respond: templates directory: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("respond: templates directory %s is not a directory", dir)
		}
	}
	cats, err := loadCatalogs(embedded, opts.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("respond: %w", err)
	}
	if err := r.chooseLanguages(cats, opts.Languages); err != nil {
		return nil, fmt.Errorf("respond: %w", err)
	}
	if err := r.loadTemplates(opts.TemplatesDir); err != nil {
		return nil, fmt.Errorf("respond: %w", err)
	}
	sum := sha256.Sum256([]byte(r.style))
	r.csp = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	if err := r.dryRun(); err != nil {
		return nil, fmt.Errorf("respond: %w", err)
	}
	return r, nil
}

// chooseLanguages sets r.langs and r.matcher from the catalogs and the
// configured list.
func (r *Responder) chooseLanguages(cats map[string]*catalog, want []string) error {
	if len(want) == 0 {
		want = []string{"en"}
		for _, key := range sortedKeys(cats) {
			if key != "en" {
				want = append(want, key)
			}
		}
	}
	seen := make(map[string]bool)
	var tags []language.Tag
	for _, s := range want {
		tag, err := language.Parse(s)
		if err != nil {
			return fmt.Errorf("language %q: %w", s, err)
		}
		c := cats[tag.String()]
		if c == nil {
			return fmt.Errorf("language %q: no message catalog messages/%s.json", s, tag)
		}
		if seen[tag.String()] {
			continue
		}
		seen[tag.String()] = true
		r.langs = append(r.langs, c)
		tags = append(tags, tag)
	}
	r.matcher = language.NewMatcher(tags)
	return nil
}

// Refuse answers req with the refusal d describes: status, challenges,
// headers and a body in the negotiated format and language (see the
// package doc). Headers already set on w that Refuse does not set itself,
// such as Allow for a 405, are kept. A HEAD request gets the same headers
// and no body.
//
// The status is d.Status, or StatusFor(d.Reason) when it is zero; a status
// outside 400-599 is a caller bug and is answered as 500 so that a refusal
// can never look like a success.
func (r *Responder) Refuse(w http.ResponseWriter, req *http.Request, d *htgate.Decision) {
	if d == nil {
		d = &htgate.Decision{Status: http.StatusInternalServerError, Reason: htgate.ReasonServerError}
	}
	ctx := context.Background()
	var accept, acceptLang []string
	head := false
	if req != nil {
		ctx = req.Context()
		accept = req.Header.Values("Accept")
		acceptLang = req.Header.Values("Accept-Language")
		head = req.Method == http.MethodHead
	}
	refID := sanitizeRefID(d.RefID)

	status := d.Status
	if status == 0 {
		status = StatusFor(d.Reason)
	}
	if status < 400 || status > 599 {
		r.log.LogAttrs(ctx, slog.LevelError, "respond: refusal with a non-error status, answering 500",
			slog.Int("status", status), slog.String("reason", string(d.Reason)), slog.String("ref_id", refID))
		status = http.StatusInternalServerError
	}

	h := w.Header()
	if status == http.StatusUnauthorized || status == http.StatusProxyAuthRequired {
		field := "WWW-Authenticate"
		if r.proxy || status == http.StatusProxyAuthRequired {
			status, field = http.StatusProxyAuthRequired, "Proxy-Authenticate"
		}
		h.Del(field)
		for _, c := range d.Challenges {
			v := c.String()
			if !validFieldValue(v) {
				r.log.LogAttrs(ctx, slog.LevelError, "respond: dropped a challenge that cannot be a header value",
					slog.String("scheme", c.Scheme), slog.String("ref_id", refID))
				continue
			}
			h.Add(field, v)
		}
		if len(h.Values(field)) == 0 {
			r.log.LogAttrs(ctx, slog.LevelWarn, "respond: "+strconv.Itoa(status)+" without a challenge",
				slog.String("reason", string(d.Reason)), slog.String("ref_id", refID))
		}
	}
	if status == http.StatusForbidden && d.Reason == htgate.ReasonInsufficientScope {
		// RFC 6750 §3.1: insufficient_scope is a 403 with a Bearer challenge.
		h.Del("WWW-Authenticate")
		for _, c := range d.Challenges {
			if v := c.String(); validFieldValue(v) {
				h.Add("WWW-Authenticate", v)
			}
		}
	}
	if d.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(retrySeconds(d.RetryAfter), 10))
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept, Accept-Language")
	h.Set("X-Content-Type-Options", "nosniff")
	if refID != "" {
		h.Set("X-Request-Id", refID)
	}
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Del("Last-Modified")

	f := negotiate(accept)
	c := r.langs[r.langCache.match(r.matcher, acceptLang)]
	buf := r.buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer r.buffers.Put(buf)
	f = r.render(ctx, buf, f, c, status, d, refID)

	h.Set("Content-Type", f.contentType())
	h.Set("Content-Language", c.tag.String())
	if f == formatHTML {
		h.Set("Content-Security-Policy", r.csp)
	} else {
		h.Del("Content-Security-Policy")
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if !head {
		_, _ = w.Write(buf.Bytes())
	}
}

// Error answers req with status and reason outside the request path, for
// example a 502 from the reverse proxy's error handler. It is Refuse with a
// Decision holding only those values.
func (r *Responder) Error(w http.ResponseWriter, req *http.Request, status int, reason htgate.Reason, refID string) {
	d := htgate.Decision{RefID: refID, Status: status, Reason: reason}
	if req != nil {
		d.Method, d.Path = req.Method, req.URL.Path
	}
	r.Refuse(w, req, &d)
}

// retrySeconds returns d in whole seconds, rounded up, at least 1.
func retrySeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return max(s, 1)
}

// sanitizeRefID keeps the characters a reference id may have (letters,
// digits and -._~:) so that it is safe in a header, a URN and a body,
// and bounds its length.
func sanitizeRefID(id string) string {
	clean := true
	for i := 0; i < len(id); i++ {
		if !refIDByte(id[i]) {
			clean = false
			break
		}
	}
	if clean && len(id) <= maxRefID {
		return id
	}
	b := make([]byte, 0, min(len(id), maxRefID))
	for i := 0; i < len(id) && len(b) < maxRefID; i++ {
		if refIDByte(id[i]) {
			b = append(b, id[i])
		}
	}
	return string(b)
}

func refIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == ':'
}

// validFieldValue reports whether v can be a header field value: no
// control characters other than HTAB.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return v != ""
}
