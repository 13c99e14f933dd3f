package app

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

// spellings reads testdata/spellings.txt.
func spellings(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/spellings.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if len(out) < 40 {
		t.Fatalf("only %d spellings, want at least 40", len(out))
	}
	return out
}

// permissiveUpstream serves protected content for every spelling that a
// lenient server (IIS, Tomcat, a case-insensitive file system) would map to
// /members: it decodes, folds case, drops ;params and trailing dots and
// spaces of segments, and treats backslashes as slashes.
func permissiveUpstream() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		for i := 0; i < 3; i++ { // decode repeatedly, as a double-decoding server would
			if d, err := url.PathUnescape(p); err == nil {
				p = d
			}
		}
		p = strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
		var segs []string
		for _, s := range strings.Split(p, "/") {
			if i := strings.IndexByte(s, ';'); i >= 0 {
				s = s[:i]
			}
			s = strings.TrimRight(s, ". \x00")
			if s != "" {
				segs = append(segs, s)
			}
		}
		if len(segs) > 0 && segs[0] == "members" {
			io.WriteString(w, secretMarker)
			return
		}
		io.WriteString(w, "public")
	}))
}

func TestProtectedPathSpellings(t *testing.T) {
	up := permissiveUpstream()
	defer up.Close()
	backends := map[string]string{
		"static":   "root: {root}\nrules:\n  - path: /members\n    htpasswd: {htpasswd}\n",
		"upstream": "upstream: " + up.URL + "\nrules:\n  - path: /members\n    htpasswd: {htpasswd}\n",
	}
	for name, cfg := range backends {
		t.Run(name, func(t *testing.T) {
			f := start(t, cfg)
			for _, target := range spellings(t) {
				status, body := f.raw(target)
				if strings.Contains(body, secretMarker) {
					t.Errorf("GET %s = %d reached protected content without credentials", target, status)
				}
				if status < 400 && status != 301 && status != 404 {
					t.Logf("GET %s = %d (no secret)", target, status)
				}
			}
		})
	}
}
