package respond

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/htgate/htgate"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// defaultEntry is the catalog key of the message used for a reason the
// package does not know.
const defaultEntry = "default"

// KnownReasons returns every refusal reason that has its own message and
// is shown to the client as a code (see the package doc), in a fixed order.
func KnownReasons() []htgate.Reason {
	return []htgate.Reason{
		htgate.ReasonCredentialsMissing,
		htgate.ReasonLogonFailed,
		htgate.ReasonConfigDenied,
		htgate.ReasonNotFound,
		htgate.ReasonACLDenied,
		htgate.ReasonLockedOut,
		htgate.ReasonTooManyRequests,
		htgate.ReasonTokenExpired,
		htgate.ReasonTokenRevoked,
		htgate.ReasonInsufficientScope,
		htgate.ReasonBadRequest,
		htgate.ReasonHeadersTooLarge,
		htgate.ReasonMethodNotAllowed,
		htgate.ReasonUpstreamUnavailable,
		htgate.ReasonServerError,
	}
}

// known reports whether reason has its own message and may be shown.
func known(reason htgate.Reason) bool {
	_, ok := statusOf(reason)
	return ok
}

// Duration unit keys every catalog defines.
const (
	unitSecond = "second"
	unitMinute = "minute"
	unitHour   = "hour"
	unitDay    = "day"
)

// catalog is one language's messages, as read from messages/<tag>.json.
// Strings are plain text (never HTML); {name} placeholders are filled in.
type catalog struct {
	// Name is the language's name in itself, e.g. "Русский" (informational).
	Name string `json:"name"`
	// Dir is the text direction, "ltr" (default) or "rtl".
	Dir string `json:"dir"`
	// UI holds the labels shared by every page.
	UI uiText `json:"ui"`
	// Units maps "second", "minute", "hour" and "day" to their CLDR plural
	// forms ("one", "few", "many", "other", ...), each containing {n}.
	Units map[string]map[string]string `json:"units"`
	// Reasons maps a reason code (or "default") to its message.
	Reasons map[string]reasonText `json:"reasons"`

	tag  language.Tag // parsed from the file name
	file string       // where it was read, for errors
}

// uiText holds the labels shared by every page of one language.
type uiText struct {
	Status       string `json:"status"`        // "Error {status}"
	WhatHappened string `json:"what_happened"` // heading
	WhatToDo     string `json:"what_to_do"`    // heading
	RetryAfter   string `json:"retry_after"`   // "You can try again in {duration}."
	Reference    string `json:"reference"`     // "If you contact the site owner, quote reference {ref}."
	RefLine      string `json:"ref_line"`      // "Reference: {ref}", the last line of plain text
	Code         string `json:"code"`          // "Reason code: {code}"
	Contact      string `json:"contact"`       // "Site owner: {contact}"
	SignedInAs   string `json:"signed_in_as"`  // "You are signed in as {user}."
	Join         string `json:"join"`          // between duration parts, e.g. " "
}

// reasonText is the message of one reason in one language.
type reasonText struct {
	Title  string   `json:"title"`
	Detail string   `json:"detail"`
	Steps  []string `json:"steps"`
}

// CatalogError reports a message catalog that cannot be used.
type CatalogError struct {
	File string // the catalog's path, e.g. "messages/ru.json" or "/etc/htgate/pages/messages/ru.json"
	Msg  string // what is wrong
	Err  error  // the underlying error, if any
}

// Error implements error.
func (e *CatalogError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("message catalog %s: %s: %v", e.File, e.Msg, e.Err)
	}
	return fmt.Sprintf("message catalog %s: %s", e.File, e.Msg)
}

// Unwrap returns the underlying error.
func (e *CatalogError) Unwrap() error { return e.Err }

// loadCatalogs reads the embedded catalogs, then overlays or adds those in
// dir/messages when dir is not empty. An override file replaces the keys it
// names; a reason entry it names is replaced as a whole.
func loadCatalogs(embedded fs.FS, dir string) (map[string]*catalog, error) {
	cats := make(map[string]*catalog)
	if err := readCatalogDir(cats, embedded, "messages", "messages"); err != nil {
		return nil, err
	}
	if dir != "" {
		sub := filepath.Join(dir, "messages")
		if _, err := os.Stat(sub); err == nil {
			if err := readCatalogDir(cats, os.DirFS(sub), ".", sub); err != nil {
				return nil, err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("message catalogs %s: %w", sub, err)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(cats)) {
		if err := cats[key].validate(); err != nil {
			return nil, err
		}
	}
	return cats, nil
}

// readCatalogDir decodes every *.json file of fsys/dir into cats, keyed by
// the canonical language tag of its base name. shown is the directory name
// used in errors.
func readCatalogDir(cats map[string]*catalog, fsys fs.FS, dir, shown string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("message catalogs %s: %w", shown, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".json" {
			continue
		}
		file := filepath.Join(shown, name)
		tag, err := language.Parse(strings.TrimSuffix(name, ".json"))
		if err != nil {
			return &CatalogError{File: file, Msg: "file name is not a BCP 47 language tag", Err: err}
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return &CatalogError{File: file, Msg: "read", Err: err}
		}
		key := tag.String()
		c := cats[key]
		if c == nil {
			c = &catalog{tag: tag}
		} else {
			c = c.clone()
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return &CatalogError{File: file, Msg: "decode", Err: jsonErrorWithLine(data, err)}
		}
		c.file = file
		cats[key] = c
	}
	return nil
}

// jsonErrorWithLine adds the line number to a JSON syntax or type error.
func jsonErrorWithLine(data []byte, err error) error {
	var offset int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		offset = se.Offset
	case errors.As(err, &te):
		offset = te.Offset
	default:
		return err
	}
	line := 1 + bytes.Count(data[:min(int(offset), len(data))], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}

// clone returns a copy of c whose maps can be decoded into without
// changing c.
func (c *catalog) clone() *catalog {
	n := *c
	n.Units = make(map[string]map[string]string, len(c.Units))
	for k, v := range c.Units {
		n.Units[k] = v
	}
	n.Reasons = make(map[string]reasonText, len(c.Reasons))
	for k, v := range c.Reasons {
		n.Reasons[k] = v
	}
	return &n
}

// validate reports the first missing or malformed message of c.
func (c *catalog) validate() error {
	bad := func(format string, args ...any) error {
		return &CatalogError{File: c.file, Msg: fmt.Sprintf(format, args...)}
	}
	if c.Dir != "" && c.Dir != "ltr" && c.Dir != "rtl" {
		return bad("dir is %q, want \"ltr\" or \"rtl\"", c.Dir)
	}
	ui := []struct{ key, val, placeholder string }{
		{"ui.status", c.UI.Status, "{status}"},
		{"ui.what_happened", c.UI.WhatHappened, ""},
		{"ui.what_to_do", c.UI.WhatToDo, ""},
		{"ui.retry_after", c.UI.RetryAfter, "{duration}"},
		{"ui.reference", c.UI.Reference, "{ref}"},
		{"ui.ref_line", c.UI.RefLine, "{ref}"},
		{"ui.code", c.UI.Code, "{code}"},
		{"ui.contact", c.UI.Contact, "{contact}"},
		{"ui.signed_in_as", c.UI.SignedInAs, "{user}"},
	}
	for _, u := range ui {
		if strings.TrimSpace(u.val) == "" {
			return bad("missing %s", u.key)
		}
		if u.placeholder != "" && strings.Count(u.val, u.placeholder) != 1 {
			return bad("%s must contain %s exactly once", u.key, u.placeholder)
		}
	}
	for _, unit := range []string{unitSecond, unitMinute, unitHour, unitDay} {
		forms := c.Units[unit]
		if forms["other"] == "" {
			return bad("missing units.%s.other", unit)
		}
		for form, s := range forms {
			if _, ok := pluralForm(form); !ok {
				return bad("units.%s.%s: unknown plural form (want zero, one, two, few, many or other)", unit, form)
			}
			if !strings.Contains(s, "{n}") {
				return bad("units.%s.%s must contain {n}", unit, form)
			}
		}
	}
	keys := []string{defaultEntry}
	for _, r := range KnownReasons() {
		keys = append(keys, string(r))
	}
	for _, key := range keys {
		r, ok := c.Reasons[key]
		switch {
		case !ok:
			return bad("missing reasons.%s", key)
		case strings.TrimSpace(r.Title) == "":
			return bad("missing reasons.%s.title", key)
		case strings.TrimSpace(r.Detail) == "":
			return bad("missing reasons.%s.detail", key)
		case len(r.Steps) == 0:
			return bad("reasons.%s.steps is empty", key)
		}
	}
	for key := range c.Reasons {
		if key != defaultEntry && !known(htgate.Reason(key)) {
			return bad("reasons.%s: unknown reason code", key)
		}
	}
	return nil
}

// pluralForm maps a catalog plural form name to its x/text form.
func pluralForm(name string) (plural.Form, bool) {
	switch name {
	case "other":
		return plural.Other, true
	case "zero":
		return plural.Zero, true
	case "one":
		return plural.One, true
	case "two":
		return plural.Two, true
	case "few":
		return plural.Few, true
	case "many":
		return plural.Many, true
	}
	return plural.Other, false
}

// pluralName is the inverse of pluralForm.
func pluralName(f plural.Form) string {
	switch f {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
}

// message returns the text of reason, or the default entry for a reason
// the package does not know.
func (c *catalog) message(reason htgate.Reason) reasonText {
	if known(reason) {
		return c.Reasons[string(reason)]
	}
	return c.Reasons[defaultEntry]
}

// unit formats n of a duration unit with the language's plural rules.
func (c *catalog) unit(unit string, n int) string {
	forms := c.Units[unit]
	s := forms[pluralName(plural.Cardinal.MatchPlural(c.tag, n, 0, 0, 0, 0))]
	if s == "" {
		s = forms["other"]
	}
	return fill(s, "{n}", strconv.Itoa(n))
}
