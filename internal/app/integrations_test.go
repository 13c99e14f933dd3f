package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// forwardAuthConfig protects /members (every user) and /admin (group
// admins) and trusts the local proxy in front.
const forwardAuthConfig = `
root: {root}
realm: Members area
trusted_proxies: [127.0.0.1]
rules:
  - path: /members
    htpasswd: {htpasswd}
  - path: /admin
    realm: Admins
    htpasswd: {htpasswd}
    group_file: {groups}
    groups: [admins]
  - path: /app
    realm: App
    schemes: [form, basic]
    htpasswd: {htpasswd}
`

// needTool finds a program the integration tests drive. Outside CI a
// missing program skips the test; in CI (CI=true, where .ci/run installs
// it) it fails the test.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs it): %v", name, err)
		}
		t.Skipf("%s is not installed (apt-get install %s)", name, name)
	}
	return p
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runServer starts a server process until the test ends and waits for its
// port to accept connections.
func runServer(t *testing.T, port int, logFile string, name string, args []string, env ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		out.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logFile)
			t.Fatalf("%s exited before listening on %d:\n%s", name, port, b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("%s does not listen on %d after 15s:\n%s", name, port, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// identityBackend is the application behind the proxy: it echoes the
// identity headers it was given.
func identityBackend(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "APP path=%s user=%q groups=%q", r.URL.Path, r.Header.Get("Remote-User"), r.Header.Get("Remote-Groups"))
	}))
	t.Cleanup(s.Close)
	return s
}

// checkForwardAuth sends the 200, 401 and 403 cases through a proxy.
func checkForwardAuth(t *testing.T, base string, logs *syncBuffer) {
	t.Helper()
	tests := []struct {
		name, path, auth string
		status           int
		body, challenge  string
	}{
		{"public", "/index.html", "", 200, `APP path=/index.html user="" groups=""`, ""},
		{"no credentials", "/members/page.html", "", 401, "", `Basic realm="Members area"`},
		{"wrong password", "/members/page.html", basic("alice", "nope"), 401, "", `Basic realm="Members area"`},
		{"valid", "/members/page.html", basic("alice", "Wonderland-1"), 200, `APP path=/members/page.html user="alice" groups=""`, ""},
		{"group", "/admin/", basic("alice", "Wonderland-1"), 200, `APP path=/admin/ user="alice" groups="admins"`, ""},
		{"not in group", "/admin/", basic("bob", "b0b pass w/ space"), 403, "", ""},
		{"spoofed identity", "/index.html?x=1", "", 200, `APP path=/index.html user="" groups=""`, ""},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			req.Header.Set("Remote-User", "mallory")
			req.Header.Set("Accept", "text/plain")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s = %d, want %d; body %s\nhtgate log:\n%s", tt.path, resp.StatusCode, tt.status, b, logs)
			}
			if tt.body != "" && string(b) != tt.body {
				t.Errorf("GET %s body = %q, want %q", tt.path, b, tt.body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, tt.challenge) || (tt.challenge == "") != (got == "") {
				t.Errorf("GET %s WWW-Authenticate = %q, want %q", tt.path, got, tt.challenge)
			}
		})
	}
}

// checkFormRedirect: a browser on a form rule is sent to the login page,
// which the proxy serves from htgate; an API client gets the challenge.
func checkFormRedirect(t *testing.T, base string, logs *syncBuffer) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, accept string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, _ := get("/app/x?q=1", "text/html,application/xhtml+xml")
	const want = "/.htgate/login?return=%2Fapp%2Fx%3Fq%3D1"
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), want) {
		t.Fatalf("browser GET /app/x?q=1 = %d Location %q, want 303 to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), want, logs)
	}
	resp, body := get(want, "text/html")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<form") {
		t.Errorf("the login page through the proxy = %d %.200q", resp.StatusCode, body)
	}
	resp, _ = get("/app/x", "application/json")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="App"`) {
		t.Errorf("API GET /app/x = %d WWW-Authenticate %q, want 401 with Basic", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// Sign in through the proxy, then the session cookie lets the browser in.
	jar, _ := cookiejar.New(nil)
	client.Jar = jar
	resp, body = get(want, "text/html")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("login page = %d, no csrf field", resp.StatusCode)
	}
	form := url.Values{"csrf": {m[1]}, "return": {"/app/x?q=1"}, "username": {"alice"}, "password": {"Wonderland-1"}}
	req, _ := http.NewRequest("POST", base+"/.htgate/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Origin", base)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/x?q=1" {
		t.Fatalf("POST /.htgate/login = %d Location %q, want 303 to /app/x?q=1\n%s", resp.StatusCode, resp.Header.Get("Location"), logs)
	}
	resp, body = get("/app/x?q=1", "text/html")
	if resp.StatusCode != http.StatusOK || body != `APP path=/app/x user="alice" groups=""` {
		t.Errorf("signed-in GET /app/x = %d %q", resp.StatusCode, body)
	}
}

// TestNginxAuthRequest puts nginx (auth_request, the docs/integrations.md
// snippet) in front of an application and asks htgate's verify endpoint.
func TestNginxAuthRequest(t *testing.T) {
	nginx := needTool(t, "nginx")
	f := start(t, forwardAuthConfig)
	app := identityBackend(t)
	dir := t.TempDir()
	port, port2, port3 := freePort(t), freePort(t), freePort(t)
	htgate := strings.TrimPrefix(f.base, "http://")
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    server {
        listen 127.0.0.1:%[2]d;
        location / {
            auth_request /.htgate/verify;
            auth_request_set $htgate_user $upstream_http_remote_user;
            auth_request_set $htgate_groups $upstream_http_remote_groups;
            proxy_set_header Remote-User $htgate_user;
            proxy_set_header Remote-Groups $htgate_groups;
            proxy_pass http://%[4]s;
        }
        location = /.htgate/verify {
            internal;
            proxy_pass http://%[3]s;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Host $host;
        }
    }
    # The same with a page of one's own for 401 (docs/integrations.md).
    server {
        listen 127.0.0.1:%[5]d;
        location / {
            auth_request /.htgate/verify;
            auth_request_set $htgate_user $upstream_http_remote_user;
            auth_request_set $htgate_groups $upstream_http_remote_groups;
            auth_request_set $htgate_www $upstream_http_www_authenticate;
            error_page 401 /401.html;
            proxy_set_header Remote-User $htgate_user;
            proxy_set_header Remote-Groups $htgate_groups;
            proxy_pass http://%[4]s;
        }
        location = /401.html {
            internal;
            add_header WWW-Authenticate $htgate_www always;
            root %[1]s/errors;
        }
        location = /.htgate/verify {
            internal;
            proxy_pass http://%[3]s;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Host $host;
        }
    }
    # Form login (docs/integrations.md): browsers are sent to the login page.
    server {
        listen 127.0.0.1:%[6]d;
        location / {
            auth_request /.htgate/verify;
            auth_request_set $htgate_user $upstream_http_remote_user;
            auth_request_set $htgate_groups $upstream_http_remote_groups;
            auth_request_set $htgate_login $upstream_http_x_htgate_login;
            auth_request_set $htgate_www $upstream_http_www_authenticate;
            error_page 401 = @htgate_401;
            proxy_set_header Remote-User $htgate_user;
            proxy_set_header Remote-Groups $htgate_groups;
            proxy_pass http://%[4]s;
        }
        location @htgate_401 {
            if ($htgate_login) { return 303 $htgate_login; }
            add_header WWW-Authenticate $htgate_www always;
            return 401;
        }
        location ~ ^/\.htgate/(login|logout)$ {
            proxy_pass http://%[3]s;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
        location = /.htgate/verify {
            internal;
            proxy_pass http://%[3]s;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Host $host;
        }
    }
}
`, dir, port, htgate, strings.TrimPrefix(app.URL, "http://"), port2, port3)
	if err := os.MkdirAll(filepath.Join(dir, "errors"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "errors", "401.html"), []byte("OWN 401 PAGE"), 0o644); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	runServer(t, port, filepath.Join(dir, "stdout.log"), nginx, []string{"-p", dir + "/", "-e", dir + "/error.log", "-c", confPath})
	checkForwardAuth(t, fmt.Sprintf("http://127.0.0.1:%d", port), f.logs)
	t.Run("own 401 page", func(t *testing.T) {
		checkForwardAuth(t, fmt.Sprintf("http://127.0.0.1:%d", port2), f.logs)
	})
	t.Run("form login", func(t *testing.T) {
		base := fmt.Sprintf("http://127.0.0.1:%d", port3)
		checkForwardAuth(t, base, f.logs)
		checkFormRedirect(t, base, f.logs)
	})
}

// TestCaddyForwardAuth puts Caddy (forward_auth, the docs/integrations.md
// snippet) in front of an application and asks htgate's verify endpoint.
func TestCaddyForwardAuth(t *testing.T) {
	caddy := needTool(t, "caddy")
	f := start(t, forwardAuthConfig)
	app := identityBackend(t)
	dir := t.TempDir()
	port, port2 := freePort(t), freePort(t)
	caddyfile := fmt.Sprintf(`{
	admin off
	auto_https off
}
http://127.0.0.1:%[1]d {
	forward_auth %[2]s {
		uri /.htgate/verify
		copy_headers Remote-User Remote-Groups Remote-Name
	}
	reverse_proxy %[3]s
}
http://127.0.0.1:%[4]d {
	@htgate path /.htgate/login /.htgate/logout
	handle @htgate {
		reverse_proxy %[2]s
	}
	handle {
		forward_auth %[2]s {
			uri /.htgate/verify
			copy_headers Remote-User Remote-Groups Remote-Name
		}
		reverse_proxy %[3]s
	}
}
`, port, strings.TrimPrefix(f.base, "http://"), strings.TrimPrefix(app.URL, "http://"), port2)
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	runServer(t, port, filepath.Join(dir, "stdout.log"), caddy, []string{"run", "--config", path, "--adapter", "caddyfile"},
		"HOME="+dir, "XDG_DATA_HOME="+dir+"/data", "XDG_CONFIG_HOME="+dir+"/config")
	checkForwardAuth(t, fmt.Sprintf("http://127.0.0.1:%d", port), f.logs)
	t.Run("form login", func(t *testing.T) {
		base := fmt.Sprintf("http://127.0.0.1:%d", port2)
		checkForwardAuth(t, base, f.logs)
		checkFormRedirect(t, base, f.logs)
	})
}
