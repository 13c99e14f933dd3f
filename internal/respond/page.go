package respond

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/htgate/htgate"
)

// Page is the data an HTML template receives. All strings are plain text,
// already localised and filled in; html/template escapes them.
type Page struct {
	// Lang is the BCP 47 tag of the page's language, for <html lang>.
	Lang string
	// Dir is the text direction, "ltr" or "rtl", for <html dir>.
	Dir string
	// Status is the HTTP status, e.g. 401.
	Status int
	// StatusLine is the localised status label, e.g. "Error 401".
	StatusLine string
	// Reason is the reason code, e.g. "logon_failed"; empty for a reason
	// this package does not show.
	Reason string
	// CodeLine is the localised reason label, e.g. "Reason code:
	// logon_failed"; empty when Reason is.
	CodeLine string
	// Title is the page heading, e.g. "Sign-in failed".
	Title string
	// WhatHappened and WhatToDo are the localised section headings.
	WhatHappened, WhatToDo string
	// Detail says what happened.
	Detail string
	// Retry says when to try again, e.g. "You can try again in 5 minutes.";
	// empty without a Retry-After.
	Retry string
	// SignedInAs names the authenticated user for acl_denied, e.g. "You are
	// signed in as alice."; empty otherwise.
	SignedInAs string
	// Steps is what to do, in order.
	Steps []string
	// RefID is the reference id; empty if the Decision had none.
	RefID string
	// Reference is the localised sentence quoting RefID; RefBefore and
	// RefAfter are its text before and after the id, for markup around it.
	Reference, RefBefore, RefAfter string
	// Contact is the localised contact line, e.g. "Site owner:
	// webmaster@example.com"; empty without Options.ContactHint.
	Contact string
	// Style is the stylesheet (the only one the page's
	// Content-Security-Policy allows), for a <style> element.
	Style template.CSS
}

// problem is an RFC 9457 problem details body.
type problem struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	Instance   string `json:"instance,omitempty"`
	Reason     string `json:"reason,omitempty"`
	RefID      string `json:"ref_id,omitempty"`
	RetryAfter int64  `json:"retry_after,omitempty"`
}

// TemplateError reports a page template that does not parse or render.
type TemplateError struct {
	File string // the template's path
	Err  error
}

// Error implements error.
func (e *TemplateError) Error() string { return fmt.Sprintf("template %s: %v", e.File, e.Err) }

// Unwrap returns the underlying error.
func (e *TemplateError) Unwrap() error { return e.Err }

// pageTemplate is a parsed page and the file it came from.
type pageTemplate struct {
	t    *template.Template
	file string
}

// loadTemplates parses the embedded page and stylesheet and the overrides
// in dir.
func (r *Responder) loadTemplates(dir string) error {
	style, err := fs.ReadFile(embedded, "templates/style.css")
	if err != nil {
		return fmt.Errorf("embedded style: %w", err)
	}
	r.page, err = parseTemplate(embedded, "templates/page.html", "templates/page.html")
	if err != nil {
		return err
	}
	if dir != "" {
		local := os.DirFS(dir)
		if data, err := fs.ReadFile(local, "style.css"); err == nil {
			style = data
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("stylesheet %s: %w", filepath.Join(dir, "style.css"), err)
		}
		if t, err := parseTemplate(local, "page.html", filepath.Join(dir, "page.html")); err == nil {
			r.page = t
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, reason := range KnownReasons() {
			name := string(reason) + ".html"
			if t, err := parseTemplate(local, name, filepath.Join(dir, name)); err == nil {
				r.pages[reason] = t
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	r.style = template.CSS(style)
	return nil
}

// parseTemplate parses fsys/name; shown names it in errors. A missing file
// is returned as an error wrapping fs.ErrNotExist.
func parseTemplate(fsys fs.FS, name, shown string) (pageTemplate, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return pageTemplate{}, err
		}
		return pageTemplate{}, &TemplateError{File: shown, Err: err}
	}
	t, err := template.New(filepath.Base(name)).Parse(string(data))
	if err != nil {
		return pageTemplate{}, &TemplateError{File: shown, Err: err}
	}
	return pageTemplate{t: t, file: shown}, nil
}

// dryRun renders every template in every language once, so that a template
// that refers to a missing field fails New instead of a request.
func (r *Responder) dryRun() error {
	var buf bytes.Buffer
	d := &htgate.Decision{RefID: "dry-run", RetryAfter: time.Minute, Principal: &htgate.Principal{Name: "user"}}
	check := func(pt pageTemplate, reason htgate.Reason) error {
		for _, c := range r.langs {
			buf.Reset()
			d.Reason = reason
			if err := pt.t.Execute(&buf, r.pageData(c, StatusFor(reason), d, d.RefID)); err != nil {
				return &TemplateError{File: pt.file, Err: err}
			}
		}
		return nil
	}
	if err := check(r.page, htgate.ReasonLogonFailed); err != nil {
		return err
	}
	for _, reason := range slices.Sorted(maps.Keys(r.pages)) {
		if err := check(r.pages[reason], reason); err != nil {
			return err
		}
	}
	return nil
}

// pageData builds the template data of a refusal.
func (r *Responder) pageData(c *catalog, status int, d *htgate.Decision, refID string) *Page {
	msg := c.message(d.Reason)
	p := &Page{
		Lang:         c.tag.String(),
		Dir:          cmp.Or(c.Dir, "ltr"),
		Status:       status,
		StatusLine:   fill(c.UI.Status, "{status}", strconv.Itoa(status)),
		Title:        msg.Title,
		WhatHappened: c.UI.WhatHappened,
		WhatToDo:     c.UI.WhatToDo,
		Detail:       msg.Detail,
		Steps:        msg.Steps,
		RefID:        refID,
		Style:        r.style,
	}
	if known(d.Reason) {
		p.Reason = string(d.Reason)
		p.CodeLine = fill(c.UI.Code, "{code}", p.Reason)
	}
	if d.RetryAfter > 0 {
		// No-break spaces keep "1 hour 35 minutes" on one line.
		p.Retry = fill(c.UI.RetryAfter, "{duration}", strings.ReplaceAll(c.duration(d.RetryAfter), " ", "\u00a0"))
	}
	if d.Reason == htgate.ReasonACLDenied && d.Principal != nil && d.Principal.Name != "" {
		p.SignedInAs = fill(c.UI.SignedInAs, "{user}", d.Principal.Name)
	}
	if refID != "" {
		p.Reference = fill(c.UI.Reference, "{ref}", refID)
		p.RefBefore, p.RefAfter, _ = strings.Cut(c.UI.Reference, "{ref}")
	}
	if r.contact != "" {
		p.Contact = fill(c.UI.Contact, "{contact}", r.contact)
	}
	return p
}

// render writes the body of a refusal in format f to buf and returns the
// format written: plain text if an HTML template fails.
func (r *Responder) render(ctx context.Context, buf *bytes.Buffer, f format, c *catalog, status int, d *htgate.Decision, refID string) format {
	switch f {
	case formatHTML:
		pt, ok := r.pages[d.Reason]
		if !ok {
			pt = r.page
		}
		if err := pt.t.Execute(buf, r.pageData(c, status, d, refID)); err != nil {
			r.log.LogAttrs(ctx, slog.LevelError, "respond: page template failed, answering in plain text",
				slog.String("template", pt.file), slog.String("ref_id", refID), slog.Any("error", err))
			buf.Reset()
			r.renderPlain(buf, c, status, d, refID)
			return formatPlain
		}
	case formatProblem, formatJSON:
		r.renderProblem(buf, c, status, d, refID)
	default:
		r.renderPlain(buf, c, status, d, refID)
	}
	return f
}

// renderProblem writes an RFC 9457 problem details object.
func (r *Responder) renderProblem(buf *bytes.Buffer, c *catalog, status int, d *htgate.Decision, refID string) {
	msg := c.message(d.Reason)
	p := problem{
		Type:   "about:blank",
		Title:  msg.Title,
		Status: status,
		Detail: msg.Detail,
		RefID:  refID,
	}
	if known(d.Reason) {
		p.Type = ProblemTypePrefix + string(d.Reason)
		p.Reason = string(d.Reason)
	}
	if refID != "" {
		p.Instance = InstancePrefix + refID
	}
	if d.RetryAfter > 0 {
		p.RetryAfter = retrySeconds(d.RetryAfter)
		p.Detail += " " + fill(c.UI.RetryAfter, "{duration}", c.duration(d.RetryAfter))
	}
	enc := json.NewEncoder(buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		// Unreachable: every field is a string or a number.
		panic(fmt.Sprintf("respond: encode problem: %v", err))
	}
}

// renderPlain writes a short plain-text message that ends with the
// reference id.
func (r *Responder) renderPlain(buf *bytes.Buffer, c *catalog, status int, d *htgate.Decision, refID string) {
	msg := c.message(d.Reason)
	buf.WriteString(fill(c.UI.Status, "{status}", strconv.Itoa(status)))
	buf.WriteString(": ")
	buf.WriteString(msg.Title)
	if known(d.Reason) {
		buf.WriteString(" (")
		buf.WriteString(string(d.Reason))
		buf.WriteByte(')')
	}
	buf.WriteByte('\n')
	buf.WriteString(msg.Detail)
	buf.WriteByte('\n')
	if d.RetryAfter > 0 {
		buf.WriteString(fill(c.UI.RetryAfter, "{duration}", c.duration(d.RetryAfter)))
		buf.WriteByte('\n')
	}
	if r.contact != "" {
		buf.WriteString(fill(c.UI.Contact, "{contact}", r.contact))
		buf.WriteByte('\n')
	}
	if refID != "" {
		buf.WriteString(fill(c.UI.RefLine, "{ref}", refID))
		buf.WriteByte('\n')
	}
}

// duration says d in words, rounded up: "45 seconds", "5 minutes",
// "1 hour 30 minutes", "2 days 3 hours".
func (c *catalog) duration(d time.Duration) string {
	secs := retrySeconds(d)
	if secs < 60 {
		return c.unit(unitSecond, int(secs))
	}
	mins := (secs + 59) / 60
	if mins < 60 {
		return c.unit(unitMinute, int(mins))
	}
	if mins < 24*60 {
		h, m := mins/60, mins%60
		if m == 0 {
			return c.unit(unitHour, int(h))
		}
		return c.unit(unitHour, int(h)) + c.UI.Join + c.unit(unitMinute, int(m))
	}
	hours := (mins + 59) / 60
	days, h := hours/24, hours%24
	if h == 0 {
		return c.unit(unitDay, int(days))
	}
	return c.unit(unitDay, int(days)) + c.UI.Join + c.unit(unitHour, int(h))
}

// fill replaces the placeholder in s with value. The value is not scanned
// again, so a value that looks like a placeholder stays as it is.
func fill(s, placeholder, value string) string {
	before, after, ok := strings.Cut(s, placeholder)
	if !ok {
		return s
	}
	return before + value + after
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
