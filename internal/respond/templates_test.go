package respond

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/htgate/htgate"
)

// writeFiles creates files (path relative to dir -> content) under a new
// temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// germanCatalog returns the embedded English catalog with German titles
// marked, as a complete catalog for a new language.
func germanCatalog(t *testing.T) string {
	t.Helper()
	data, err := embedded.ReadFile("messages/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	c["name"] = "Deutsch"
	reasons := c["reasons"].(map[string]any)
	reasons["logon_failed"].(map[string]any)["title"] = "Anmeldung fehlgeschlagen"
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestTemplatesDir(t *testing.T) {
	const page = `<!DOCTYPE html><html lang="{{.Lang}}"><title>{{.Title}}</title><style>{{.Style}}</style>` +
		`<h1>CUSTOM {{.StatusLine}}: {{.Title}}</h1><p>{{.Detail}}</p><p>{{.RefID}}</p></html>`
	dir := writeFiles(t, map[string]string{
		"page.html":            page,
		"style.css":            "h1{color:#036}",
		"locked_out.html":      `<p>LOCKED {{.Retry}}</p><style>{{.Style}}</style>`,
		"messages/en.json":     `{"reasons": {"logon_failed": {"title": "Wrong login", "detail": "Nope.", "steps": ["Try again."]}}}`,
		"messages/de.json":     germanCatalog(t),
		"messages/README.txt":  "not a catalog",
		"unrelated/file.html":  "{{ broken",
		"messages/sub/ru.json": "{ not read: in a subdirectory",
	})
	r := newResponder(t, Options{TemplatesDir: dir})

	tests := []struct {
		name, lang, accept string
		reason             htgate.Reason
		contains           []string
		contentLanguage    string
	}{
		{"page override", "en", "text/html", htgate.ReasonLogonFailed, []string{"CUSTOM Error 401: Wrong login", "<p>Nope.</p>", "<style>h1{color:#036}</style>", testRefID}, "en"},
		{"catalog overlay keeps other reasons", "en", "text/html", htgate.ReasonACLDenied, []string{"CUSTOM Error 403: Access denied for this account"}, "en"},
		{"overlay does not touch ru", "ru", "text/html", htgate.ReasonLogonFailed, []string{"Не удалось войти"}, "ru"},
		{"overlay in json", "en", "application/json", htgate.ReasonLogonFailed, []string{`"title": "Wrong login"`}, "en"},
		{"added language", "de-DE,de;q=0.9", "text/html", htgate.ReasonLogonFailed, []string{`lang="de"`, "Anmeldung fehlgeschlagen"}, "de"},
		{"added language plain", "de", "", htgate.ReasonLogonFailed, []string{"Anmeldung fehlgeschlagen (logon_failed)"}, "de"},
		{"per-reason page", "en", "text/html", htgate.ReasonLockedOut, []string{"LOCKED You can try again in 2\u00a0minutes."}, "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := refuse(r, http.MethodGet, http.Header{"Accept": {tt.accept}, "Accept-Language": {tt.lang}}, decisionFor(tt.reason))
			for _, s := range tt.contains {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("body does not contain %q:\n%s", s, w.Body)
				}
			}
			if got := w.Result().Header.Get("Content-Language"); got != tt.contentLanguage {
				t.Errorf("Content-Language = %q, want %q", got, tt.contentLanguage)
			}
		})
	}

	sum := sha256.Sum256([]byte("h1{color:#036}"))
	w := refuse(r, http.MethodGet, http.Header{"Accept": {"text/html"}}, decisionFor(htgate.ReasonLogonFailed))
	if want := base64.StdEncoding.EncodeToString(sum[:]); !strings.Contains(w.Result().Header.Get("Content-Security-Policy"), want) {
		t.Errorf("Content-Security-Policy = %q, want the hash of style.css %q", w.Result().Header.Get("Content-Security-Policy"), want)
	}
}

func TestLanguagesOption(t *testing.T) {
	r := newResponder(t, Options{Languages: []string{"ru", "en", "ru"}})
	for _, tt := range []struct{ acceptLanguage, want string }{
		{"", "ru"},
		{"fr", "ru"},
		{"en", "en"},
	} {
		w := refuse(r, http.MethodGet, http.Header{"Accept-Language": {tt.acceptLanguage}}, decisionFor(htgate.ReasonLogonFailed))
		if got := w.Result().Header.Get("Content-Language"); got != tt.want {
			t.Errorf("Languages [ru en]: Accept-Language %q answered in %q, want %q", tt.acceptLanguage, got, tt.want)
		}
	}
	if got := len(r.langs); got != 2 {
		t.Errorf("len(langs) = %d, want 2 (duplicate dropped)", got)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		langs []string
		want  []string // substrings of the error
		as    any      // a pointer to the error type errors.As must find
	}{
		{
			name:  "page does not parse",
			files: map[string]string{"page.html": "<h1>{{.Title</h1>"},
			want:  []string{"page.html", "template"},
			as:    new(*TemplateError),
		},
		{
			name:  "page refers to a missing field",
			files: map[string]string{"page.html": "<h1>{{.Titel}}</h1>"},
			want:  []string{"page.html", "Titel"},
			as:    new(*TemplateError),
		},
		{
			name:  "reason page does not parse",
			files: map[string]string{"acl_denied.html": "{{if}}"},
			want:  []string{"acl_denied.html"},
			as:    new(*TemplateError),
		},
		{
			name:  "reason page fails to render",
			files: map[string]string{"acl_denied.html": "{{template \"nope\"}}"},
			want:  []string{"acl_denied.html", "nope"},
			as:    new(*TemplateError),
		},
		{
			name:  "catalog syntax error",
			files: map[string]string{"messages/en.json": "{\n  \"name\": \"x\",\n  oops\n}"},
			want:  []string{filepath.Join("messages", "en.json"), "line 3"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog type error",
			files: map[string]string{"messages/en.json": "{\n\"reasons\": {\"logon_failed\": {\"steps\": \"one\"}}}"},
			want:  []string{"en.json", "line 2"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog unknown field",
			files: map[string]string{"messages/en.json": `{"titel": "x"}`},
			want:  []string{"en.json", "titel"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog unknown reason",
			files: map[string]string{"messages/en.json": `{"reasons": {"logon_fialed": {"title": "a", "detail": "b", "steps": ["c"]}}}`},
			want:  []string{"en.json", "reasons.logon_fialed: unknown reason code"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog incomplete",
			files: map[string]string{"messages/fr.json": `{"ui": {"status": "Erreur {status}"}}`},
			want:  []string{"fr.json", "missing ui.what_happened"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog placeholder missing",
			files: map[string]string{"messages/en.json": `{"ui": {"reference": "Quote the reference."}}`},
			want:  []string{"en.json", "ui.reference must contain {ref}"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog empty steps",
			files: map[string]string{"messages/ru.json": `{"reasons": {"acl_denied": {"title": "a", "detail": "b", "steps": []}}}`},
			want:  []string{"ru.json", "reasons.acl_denied.steps is empty"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog bad plural form",
			files: map[string]string{"messages/en.json": `{"units": {"day": {"one": "{n} day", "lots": "{n} days", "other": "{n} days"}}}`},
			want:  []string{"en.json", "units.day.lots"},
			as:    new(*CatalogError),
		},
		{
			name:  "catalog name not a tag",
			files: map[string]string{"messages/not a language!.json": `{}`},
			want:  []string{"not a language!.json", "BCP 47"},
			as:    new(*CatalogError),
		},
		{
			name:  "language without catalog",
			langs: []string{"en", "fr"},
			want:  []string{`language "fr"`, "fr.json"},
		},
		{
			name:  "language not a tag",
			langs: []string{"!!"},
			want:  []string{`language "!!"`},
		},
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), writeFiles(t, map[string]string{"f": ""}) + "/f"} {
		if _, err := New(Options{TemplatesDir: dir}); err == nil || !strings.Contains(err.Error(), "templates directory") {
			t.Errorf("New(TemplatesDir %q) error = %v, want one about the templates directory", dir, err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := ""
			if tt.files != nil {
				dir = writeFiles(t, tt.files)
			}
			_, err := New(Options{TemplatesDir: dir, Languages: tt.langs})
			if err == nil {
				t.Fatalf("New() error = nil, want one mentioning %q", tt.want)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("New() error = %q, want it to mention %q", err, s)
				}
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("New() error = %#v, want it to wrap %T", err, tt.as)
			}
		})
	}
}

// TestTemplateFailsAtRequest checks that a page template that fails for
// one request only is answered in plain text and logged.
func TestTemplateFailsAtRequest(t *testing.T) {
	dir := writeFiles(t, map[string]string{"page.html": `<p>{{index .Steps 4}}</p>`})
	var logs bytes.Buffer
	r, err := New(Options{TemplatesDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	w := refuse(r, http.MethodGet, http.Header{"Accept": {"text/html"}}, decisionFor(htgate.ReasonBadRequest))
	if got := w.Result().Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want plain text", got)
	}
	if got := w.Result().Header.Get("Content-Security-Policy"); got != "" {
		t.Errorf("Content-Security-Policy = %q on plain text", got)
	}
	if !strings.HasSuffix(w.Body.String(), "Reference: "+testRefID+"\n") {
		t.Errorf("body = %q, want the plain message", w.Body)
	}
	if !strings.Contains(logs.String(), "page.html") {
		t.Errorf("log = %q, want it to name the template", logs.String())
	}
}
