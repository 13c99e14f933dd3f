package respond

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/htgate/htgate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const testRefID = "01JTESTREF00000000000000AB"

var (
	basicChallenge  = htgate.Challenge{Scheme: "Basic", Params: []htgate.Param{{Name: "realm", Value: `Members "only"`}, {Name: "charset", Value: "UTF-8"}}}
	digestChallenge = htgate.Challenge{Scheme: "Digest", Params: []htgate.Param{{Name: "realm", Value: "Members"}, {Name: "qop", Value: "auth"}, {Name: "algorithm", Value: "SHA-256", Token: true}, {Name: "nonce", Value: "abc"}}}
	bearerChallenge = htgate.Challenge{Scheme: "Bearer", Params: []htgate.Param{{Name: "realm", Value: "api"}, {Name: "error", Value: "invalid_token"}}}
)

func newResponder(t testing.TB, opts Options) *Responder {
	t.Helper()
	r, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	return r
}

// decisionFor returns the Decision the gateway would make for reason, with
// the user name "alice" presented (and, for acl_denied, authenticated).
func decisionFor(reason htgate.Reason) *htgate.Decision {
	d := &htgate.Decision{
		RefID:  testRefID,
		Method: http.MethodGet,
		Path:   "/members/",
		Status: StatusFor(reason),
		Reason: reason,
		User:   "alice",
	}
	switch reason {
	case htgate.ReasonCredentialsMissing, htgate.ReasonLogonFailed:
		d.Challenges = []htgate.Challenge{basicChallenge}
	case htgate.ReasonTokenExpired, htgate.ReasonTokenRevoked:
		d.Challenges = []htgate.Challenge{bearerChallenge}
	case htgate.ReasonACLDenied:
		d.Principal = &htgate.Principal{Name: "alice", Scheme: "basic"}
	case htgate.ReasonLockedOut:
		d.RetryAfter = 90 * time.Second
	case htgate.ReasonTooManyRequests:
		d.RetryAfter = 1500 * time.Millisecond
	case "future_reason":
		d.Status = http.StatusForbidden
	}
	return d
}

func refuse(r *Responder, method string, header http.Header, d *htgate.Decision) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://example.com/members/", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	r.Refuse(w, req, d)
	return w
}

var (
	styleRE = regexp.MustCompile(`(?s)<style>.*?</style>`)
	hashRE  = regexp.MustCompile(`'sha256-[A-Za-z0-9+/=]+'`)
)

// dump writes a response as a status line, sorted header lines and the
// body, with the stylesheet and its hash elided.
func dump(w *httptest.ResponseRecorder) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP %d\n", w.Code)
	h := w.Result().Header
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range h[k] {
			if k == "Content-Length" {
				v = "(set)"
			}
			fmt.Fprintf(&b, "%s: %s\n", k, hashRE.ReplaceAllString(v, "'sha256-…'"))
		}
	}
	b.WriteByte('\n')
	b.Write(styleRE.ReplaceAll(w.Body.Bytes(), []byte("<style>…</style>")))
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	r := newResponder(t, Options{ContactHint: "webmaster@example.com"})
	reasons := append(KnownReasons(), "future_reason")
	formats := []struct{ ext, accept string }{
		{"html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		{"json", "application/problem+json"},
		{"txt", "*/*"},
	}
	for _, reason := range reasons {
		for _, lang := range []string{"en", "ru"} {
			for _, f := range formats {
				name := fmt.Sprintf("%s.%s.%s", reason, lang, f.ext)
				t.Run(name, func(t *testing.T) {
					w := refuse(r, http.MethodGet, http.Header{"Accept": {f.accept}, "Accept-Language": {lang}}, decisionFor(reason))
					got := dump(w)
					file := filepath.Join("testdata", "golden", name)
					if *update {
						if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(file, got, 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(file)
					if err != nil {
						t.Fatalf("%v (run go test -update)", err)
					}
					if diff := cmp.Diff(string(want), string(got)); diff != "" {
						t.Errorf("Refuse(%s) mismatch (-want +got):\n%s", name, diff)
					}
				})
			}
		}
	}
}

// TestNoUserNames checks that no response tells which user name was
// presented: only an authenticated user sees their own name (acl_denied).
func TestNoUserNames(t *testing.T) {
	r := newResponder(t, Options{})
	for _, reason := range append(KnownReasons(), "future_reason") {
		for _, accept := range []string{"text/html", "application/json", ""} {
			for _, lang := range []string{"en", "ru"} {
				w := refuse(r, http.MethodGet, http.Header{"Accept": {accept}, "Accept-Language": {lang}}, decisionFor(reason))
				out := string(dump(w))
				mentions := strings.Contains(out, "alice")
				want := reason == htgate.ReasonACLDenied && accept == "text/html"
				if mentions != want {
					t.Errorf("Refuse(%s, %q, %s) mentions the user = %v, want %v:\n%s", reason, accept, lang, mentions, want, out)
				}
			}
		}
	}
}

// TestSameForUnknownAndWrong checks that the answers to an unknown user
// and to a wrong password are byte for byte the same.
func TestSameForUnknownAndWrong(t *testing.T) {
	r := newResponder(t, Options{})
	unknown := decisionFor(htgate.ReasonLogonFailed)
	unknown.User = "nobody"
	unknown.Record("authn", htgate.OutcomeFail, "unknown user")
	wrong := decisionFor(htgate.ReasonLogonFailed)
	wrong.Record("authn", htgate.OutcomeFail, "wrong password")
	for _, accept := range []string{"text/html", "application/json", ""} {
		h := http.Header{"Accept": {accept}}
		a, b := dump(refuse(r, http.MethodGet, h, unknown)), dump(refuse(r, http.MethodGet, h, wrong))
		if diff := cmp.Diff(string(a), string(b)); diff != "" {
			t.Errorf("Accept %q: unknown user and wrong password differ (-unknown +wrong):\n%s", accept, diff)
		}
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name      string
		proxy     bool
		d         htgate.Decision
		accept    string
		status    int
		www       []string // WWW-Authenticate lines
		proxyAuth []string // Proxy-Authenticate lines
		retry     string   // Retry-After, "" = absent
	}{
		{
			name:   "401 two challenges",
			d:      htgate.Decision{Status: 401, Reason: htgate.ReasonCredentialsMissing, Challenges: []htgate.Challenge{basicChallenge, digestChallenge}},
			status: 401,
			www: []string{
				`Basic realm="Members \"only\"", charset="UTF-8"`,
				`Digest realm="Members", qop="auth", algorithm=SHA-256, nonce="abc"`,
			},
		},
		{
			name:   "401 no challenge",
			d:      htgate.Decision{Status: 401, Reason: htgate.ReasonLogonFailed},
			status: 401,
		},
		{
			name:   "403 ignores challenges",
			d:      htgate.Decision{Status: 403, Reason: htgate.ReasonACLDenied, Challenges: []htgate.Challenge{basicChallenge}},
			status: 403,
		},
		{
			name:      "proxy 401 becomes 407",
			proxy:     true,
			d:         htgate.Decision{Status: 401, Reason: htgate.ReasonLogonFailed, Challenges: []htgate.Challenge{basicChallenge}},
			status:    407,
			proxyAuth: []string{`Basic realm="Members \"only\"", charset="UTF-8"`},
		},
		{
			name:      "explicit 407",
			d:         htgate.Decision{Status: 407, Reason: htgate.ReasonCredentialsMissing, Challenges: []htgate.Challenge{basicChallenge}},
			status:    407,
			proxyAuth: []string{`Basic realm="Members \"only\"", charset="UTF-8"`},
		},
		{
			name:   "challenge with a newline is dropped",
			d:      htgate.Decision{Status: 401, Reason: htgate.ReasonLogonFailed, Challenges: []htgate.Challenge{{Scheme: "Basic\r\nSet-Cookie: x=y"}, basicChallenge}},
			status: 401,
			www:    []string{`Basic realm="Members \"only\"", charset="UTF-8"`},
		},
		{
			name:   "retry rounds up",
			d:      htgate.Decision{Status: 429, Reason: htgate.ReasonLockedOut, RetryAfter: 1500 * time.Millisecond},
			status: 429,
			retry:  "2",
		},
		{
			name:   "retry at least 1",
			d:      htgate.Decision{Status: 429, Reason: htgate.ReasonTooManyRequests, RetryAfter: time.Nanosecond},
			status: 429,
			retry:  "1",
		},
		{
			name:   "retry whole seconds",
			d:      htgate.Decision{Status: 503, Reason: htgate.ReasonUpstreamUnavailable, RetryAfter: 3 * time.Second},
			status: 503,
			retry:  "3",
		},
		{
			name:   "retry hours",
			d:      htgate.Decision{Status: 429, Reason: htgate.ReasonLockedOut, RetryAfter: 2*time.Hour + time.Millisecond},
			status: 429,
			retry:  "7201",
		},
		{
			name:   "retry huge",
			d:      htgate.Decision{Status: 429, Reason: htgate.ReasonLockedOut, RetryAfter: time.Duration(1<<63 - 1)},
			status: 429,
			retry:  "9223372037",
		},
		{
			name:   "status from reason",
			d:      htgate.Decision{Reason: htgate.ReasonHeadersTooLarge},
			status: 431,
		},
		{
			name:   "non-error status answered 500",
			d:      htgate.Decision{Status: 200, Reason: htgate.ReasonACLDenied},
			status: 500,
		},
	}
	for _, tt := range tests {
		for _, accept := range []string{"text/html", "application/json", ""} {
			t.Run(tt.name+"/"+accept, func(t *testing.T) {
				r := newResponder(t, Options{Proxy: tt.proxy})
				d := tt.d
				d.RefID = testRefID
				w := refuse(r, http.MethodGet, http.Header{"Accept": {accept}}, &d)
				h := w.Result().Header
				if w.Code != tt.status {
					t.Errorf("status = %d, want %d", w.Code, tt.status)
				}
				if diff := cmp.Diff(tt.www, h.Values("WWW-Authenticate")); diff != "" {
					t.Errorf("WWW-Authenticate (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.proxyAuth, h.Values("Proxy-Authenticate")); diff != "" {
					t.Errorf("Proxy-Authenticate (-want +got):\n%s", diff)
				}
				if got := h.Get("Retry-After"); got != tt.retry {
					t.Errorf("Retry-After = %q, want %q", got, tt.retry)
				}
				for k, want := range map[string]string{
					"Cache-Control":          "no-store",
					"Vary":                   "Accept, Accept-Language",
					"X-Request-Id":           testRefID,
					"X-Content-Type-Options": "nosniff",
					"Content-Language":       "en",
				} {
					if got := h.Values(k); len(got) != 1 || got[0] != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				csp := h.Get("Content-Security-Policy")
				if (csp != "") != (accept == "text/html") {
					t.Errorf("Content-Security-Policy = %q for Accept %q", csp, accept)
				}
				if got, want := h.Get("Content-Length"), fmt.Sprint(w.Body.Len()); got != want {
					t.Errorf("Content-Length = %q, want %q", got, want)
				}
			})
		}
	}
}

func TestRetryInBody(t *testing.T) {
	r := newResponder(t, Options{})
	d := decisionFor(htgate.ReasonLockedOut)
	d.RetryAfter = 2*time.Hour + 30*time.Minute
	w := refuse(r, http.MethodGet, http.Header{"Accept": {"application/problem+json"}, "Accept-Language": {"ru"}}, d)
	var p map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if got, want := p["retry_after"], float64(9000); got != want {
		t.Errorf("retry_after = %v, want %v", got, want)
	}
	if got, want := p["detail"].(string), "через 2 часа 30 минут."; !strings.HasSuffix(got, want) {
		t.Errorf("detail = %q, want suffix %q", got, want)
	}
}

func TestHEAD(t *testing.T) {
	r := newResponder(t, Options{})
	for _, reason := range []htgate.Reason{htgate.ReasonLogonFailed, htgate.ReasonLockedOut, htgate.ReasonUpstreamUnavailable} {
		for _, accept := range []string{"text/html", "application/json", "*/*"} {
			h := http.Header{"Accept": {accept}, "Accept-Language": {"ru"}}
			get := refuse(r, http.MethodGet, h, decisionFor(reason))
			head := refuse(r, http.MethodHead, h, decisionFor(reason))
			if head.Body.Len() != 0 {
				t.Errorf("HEAD %s %q: body of %d bytes, want none", reason, accept, head.Body.Len())
			}
			if head.Code != get.Code {
				t.Errorf("HEAD %s %q: status %d, GET %d", reason, accept, head.Code, get.Code)
			}
			if diff := cmp.Diff(get.Result().Header, head.Result().Header); diff != "" {
				t.Errorf("HEAD %s %q: headers differ from GET (-get +head):\n%s", reason, accept, diff)
			}
		}
	}
}

func TestUnknownReason(t *testing.T) {
	r := newResponder(t, Options{})
	d := decisionFor("secret_internal_detail")
	d.Status = 403
	w := refuse(r, http.MethodGet, http.Header{"Accept": {"application/json"}}, d)
	var p map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p["type"] != "about:blank" || p["reason"] != nil {
		t.Errorf("problem for an unknown reason = %v, want type about:blank and no reason", p)
	}
	for _, accept := range []string{"text/html", "application/json", ""} {
		w := refuse(r, http.MethodGet, http.Header{"Accept": {accept}}, d)
		if strings.Contains(w.Body.String(), "secret_internal_detail") {
			t.Errorf("Accept %q: unknown reason code leaked:\n%s", accept, w.Body)
		}
	}
}

func TestRefIDSanitised(t *testing.T) {
	r := newResponder(t, Options{})
	d := decisionFor(htgate.ReasonLogonFailed)
	d.RefID = "abc\r\nX-Evil: x=<y>\"" + strings.Repeat("z", 300)
	for _, accept := range []string{"text/html", "application/json", ""} {
		w := refuse(r, http.MethodGet, http.Header{"Accept": {accept}}, d)
		got := w.Result().Header.Get("X-Request-Id")
		if want := "abcX-Evil:xy" + strings.Repeat("z", 128-12); got != want {
			t.Errorf("X-Request-Id = %q, want %q", got, want)
		}
		if body := w.Body.String(); strings.Contains(body, "<y>") || strings.Contains(body, "\r\nX-Evil") || strings.Contains(body, "x=") {
			t.Errorf("Accept %q: raw ref id in body:\n%s", accept, body)
		}
	}
	d.RefID = ""
	w := refuse(r, http.MethodGet, nil, d)
	if _, ok := w.Result().Header["X-Request-Id"]; ok {
		t.Errorf("X-Request-Id set for an empty ref id")
	}
}

func TestKeepsCallerHeaders(t *testing.T) {
	r := newResponder(t, Options{})
	req := httptest.NewRequest(http.MethodTrace, "/", nil)
	w := httptest.NewRecorder()
	w.Header().Set("Allow", "GET, HEAD, POST")
	w.Header().Set("WWW-Authenticate", "Stale")
	w.Header().Set("Content-Encoding", "gzip")
	r.Refuse(w, req, &htgate.Decision{Status: 405, Reason: htgate.ReasonMethodNotAllowed})
	h := w.Result().Header
	if got := h.Get("Allow"); got != "GET, HEAD, POST" {
		t.Errorf("Allow = %q, want it kept", got)
	}
	if got := h.Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding = %q, want removed", got)
	}
}

func TestError(t *testing.T) {
	r := newResponder(t, Options{})
	req := httptest.NewRequest(http.MethodGet, "/app/", nil)
	w := httptest.NewRecorder()
	r.Error(w, req, http.StatusBadGateway, htgate.ReasonUpstreamUnavailable, "ref1")
	if w.Code != 502 || w.Result().Header.Get("X-Request-Id") != "ref1" {
		t.Errorf("Error(502) = %d %v", w.Code, w.Result().Header)
	}
	if !strings.HasSuffix(w.Body.String(), "Reference: ref1\n") {
		t.Errorf("Error(502) body = %q, want it to end with the reference", w.Body)
	}
}

func TestNilRequestAndDecision(t *testing.T) {
	r := newResponder(t, Options{})
	w := httptest.NewRecorder()
	r.Refuse(w, nil, nil)
	if w.Code != 500 {
		t.Errorf("Refuse(nil, nil) status = %d, want 500", w.Code)
	}
}

// TestCSPMatchesStyle checks that the page's one <style> element is the one
// the Content-Security-Policy allows.
func TestCSPMatchesStyle(t *testing.T) {
	r := newResponder(t, Options{})
	w := refuse(r, http.MethodGet, http.Header{"Accept": {"text/html"}}, decisionFor(htgate.ReasonLogonFailed))
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllSubmatch(w.Body.Bytes(), -1)
	if len(m) != 1 {
		t.Fatalf("page has %d <style> elements, want 1", len(m))
	}
	sum := sha256.Sum256(m[0][1])
	want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if csp := w.Result().Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) || !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'none' and %q", csp, want)
	}
	for _, bad := range []string{"<script", "http://", "https://", " style="} {
		if strings.Contains(w.Body.String(), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		reason htgate.Reason
		want   int
	}{
		{htgate.ReasonNone, 200},
		{htgate.ReasonCredentialsMissing, 401},
		{htgate.ReasonLogonFailed, 401},
		{htgate.ReasonConfigDenied, 403},
		{htgate.ReasonACLDenied, 403},
		{htgate.ReasonLockedOut, 429},
		{htgate.ReasonTooManyRequests, 429},
		{htgate.ReasonTokenExpired, 401},
		{htgate.ReasonTokenRevoked, 401},
		{htgate.ReasonInsufficientScope, 403},
		{htgate.ReasonBadRequest, 400},
		{htgate.ReasonHeadersTooLarge, 431},
		{htgate.ReasonMethodNotAllowed, 405},
		{htgate.ReasonUpstreamUnavailable, 502},
		{htgate.ReasonServerError, 500},
		{htgate.ReasonNotFound, 404},
		{"no_such_reason", 500},
	}
	for _, tt := range tests {
		if got := StatusFor(tt.reason); got != tt.want {
			t.Errorf("StatusFor(%q) = %d, want %d", tt.reason, got, tt.want)
		}
	}
	if got, want := len(KnownReasons()), len(tests)-2; got != want {
		t.Errorf("len(KnownReasons()) = %d, want %d", got, want)
	}
}

func TestDuration(t *testing.T) {
	r := newResponder(t, Options{})
	tests := []struct {
		d      time.Duration
		en, ru string
	}{
		{time.Millisecond, "1 second", "1 секунду"},
		{2 * time.Second, "2 seconds", "2 секунды"},
		{5 * time.Second, "5 seconds", "5 секунд"},
		{21 * time.Second, "21 seconds", "21 секунду"},
		{59 * time.Second, "59 seconds", "59 секунд"},
		{60 * time.Second, "1 minute", "1 минуту"},
		{61 * time.Second, "2 minutes", "2 минуты"},
		{22 * time.Minute, "22 minutes", "22 минуты"},
		{59*time.Minute + time.Second, "1 hour", "1 час"},
		{90 * time.Minute, "1 hour 30 minutes", "1 час 30 минут"},
		{5 * time.Hour, "5 hours", "5 часов"},
		{24 * time.Hour, "1 day", "1 день"},
		{49 * time.Hour, "2 days 1 hour", "2 дня 1 час"},
		{25 * 24 * time.Hour, "25 days", "25 дней"},
	}
	for _, tt := range tests {
		for i, want := range []string{tt.en, tt.ru} {
			if got := r.langs[i].duration(tt.d); got != want {
				t.Errorf("duration(%v) in %s = %q, want %q", tt.d, r.langs[i].tag, got, want)
			}
		}
	}
}

func TestLogsNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	r := newResponder(t, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth("alice", "s3cret-pass")
	d := decisionFor(htgate.ReasonLogonFailed)
	d.Challenges = nil // makes the responder log a warning
	w := httptest.NewRecorder()
	r.Refuse(w, req, d)
	if logs.Len() == 0 {
		t.Fatal("no warning logged for a 401 without a challenge")
	}
	for _, secret := range []string{"alice", "s3cret", "Authorization", "YWxpY2"} {
		if strings.Contains(logs.String()+w.Body.String(), secret) {
			t.Errorf("log or body contains %q:\n%s\n%s", secret, logs.String(), w.Body)
		}
	}
}
