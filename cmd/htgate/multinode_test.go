//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/testsvc"
)

// cluster is several `htgate serve` processes sharing one PostgreSQL schema
// and one Redis prefix.
type cluster struct {
	t      *testing.T
	bin    string
	cfg    string // YAML: cheap hashing, a small lockout threshold
	store  string // postgres URL with the test's search_path
	state  string // redis URL with the test's prefix
	nodes  []*node
	docDir string
}

// node is one serve process.
type node struct {
	addr, ops string
	cmd       *exec.Cmd
	mu        sync.Mutex
	log       strings.Builder
}

func (n *node) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// buildBinary builds htgate once per test into its temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "htgate")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newCluster(t *testing.T, nodes int) *cluster {
	t.Helper()
	pg := testsvc.PostgresSchema(t, testsvc.Postgres(t))
	rd := testsvc.Redis(t)
	c := &cluster{t: t, bin: buildBinary(t), store: pg, state: rd + "?prefix=" + testsvc.RedisPrefix(t, rd), docDir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(c.docDir, "index.html"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"private", "api", "forms"} {
		if err := os.MkdirAll(filepath.Join(c.docDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.docDir, d, "index.html"), []byte("secret\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.cfg = filepath.Join(t.TempDir(), "node.yaml")
	yaml := "root: " + c.docDir + "\n" +
		"passwords: {bcrypt_cost: 4, argon2: {memory_kib: 8192, iterations: 1, threads: 1}}\n" +
		"guard: {max_failures_per_client_user: 3, max_failures_per_client: 1000, max_failures_per_user: 1000}\n"
	if err := os.WriteFile(c.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cli("secret-a\n", "user", "add", "alice", "--password-stdin")
	c.cli("secret-c\n", "user", "add", "carol", "--password-stdin")
	c.cli("", "url", "protect", "/private")
	c.cli("", "url", "grant", "/private", "--valid-user")
	c.cli("", "url", "protect", "/api", "--scheme", "basic,bearer")
	c.cli("", "url", "grant", "/api", "--valid-user")
	c.cli("", "url", "protect", "/forms", "--scheme", "form")
	c.cli("", "url", "grant", "/forms", "--valid-user")
	for range nodes {
		c.start()
	}
	return c
}

// cli runs an htgate store command against the shared store and returns
// its output; it fails the test when the command fails.
func (c *cluster) cli(stdin string, args ...string) string {
	c.t.Helper()
	out, err := c.tryCLI(stdin, args...)
	if err != nil {
		c.t.Fatalf("htgate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cluster) tryCLI(stdin string, args ...string) (string, error) {
	cmd := exec.Command(c.bin, append(args, "--store", c.store, "--config", c.cfg)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start starts one more node and waits until it is ready.
func (c *cluster) start() *node {
	c.t.Helper()
	n := &node{addr: freeAddr(c.t), ops: freeAddr(c.t)}
	n.cmd = exec.Command(c.bin, "serve", "--config", c.cfg, "--addr", n.addr, "--metrics-addr", n.ops,
		"--store", c.store, "--state", c.state, "--access-log=false", "--log-format", "text")
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	n.cmd.Stdout = io.Discard
	if err := n.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			n.mu.Lock()
			n.log.WriteString(sc.Text() + "\n")
			n.mu.Unlock()
		}
	}()
	c.t.Cleanup(func() {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-done
		}
		if c.t.Failed() {
			c.t.Logf("node %s log:\n%s", n.addr, n.logs())
		}
	})
	c.nodes = append(c.nodes, n)
	c.waitReady(n, 20*time.Second)
	return n
}

// ready returns the status and body of the node's /readyz.
func (n *node) ready() (int, string) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + n.ops + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *cluster) waitReady(n *node, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := n.ready()
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %s not ready after %v: %d %s\nlog:\n%s", n.addr, within, code, body, n.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get requests path from the node with Basic credentials (user "" sends
// none) or a Bearer token, and returns the status.
func (n *node) get(t *testing.T, path, user, password, bearer string) int {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+n.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", n.addr, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// eventually polls get until it returns want and returns how long it took,
// failing the test after within.
func eventually(t *testing.T, within time.Duration, what string, want int, get func() int) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := get()
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: status %d after %v, want %d", what, got, within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMultiNode(t *testing.T) {
	c := newCluster(t, 3)
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	for i, n := range c.nodes {
		if got := n.get(t, "/private/", "alice", "secret-a", ""); got != http.StatusOK {
			t.Fatalf("node %d: alice's GET /private/ = %d, want 200", i+1, got)
		}
	}

	t.Run("LockoutSharedAcrossNodes", func(t *testing.T) {
		// Three wrong passwords for carol through node 1 lock the pair out.
		for i := range 3 {
			if got := n1.get(t, "/private/", "carol", "wrong", ""); got != http.StatusUnauthorized {
				t.Fatalf("wrong password %d through node 1 = %d, want 401", i+1, got)
			}
		}
		if got := n1.get(t, "/private/", "carol", "secret-c", ""); got != http.StatusTooManyRequests {
			t.Errorf("node 1 after the lockout, right password = %d, want 429", got)
		}
		for i, n := range []*node{n2, n3} {
			if got := n.get(t, "/private/", "carol", "secret-c", ""); got != http.StatusTooManyRequests {
				t.Errorf("node %d after a lockout earned through node 1, right password = %d, want 429", i+2, got)
			}
			// Other users are not affected.
			if got := n.get(t, "/private/", "alice", "secret-a", ""); got != http.StatusOK {
				t.Errorf("node %d: alice = %d, want 200", i+2, got)
			}
		}
	})

	t.Run("UserAddedVisibleWithin1s", func(t *testing.T) {
		if got := n3.get(t, "/private/", "dave", "secret-d", ""); got != http.StatusUnauthorized {
			t.Fatalf("dave before he exists = %d, want 401", got)
		}
		c.cli("secret-d\n", "user", "add", "dave", "--password-stdin")
		took := eventually(t, time.Second, "dave through node 3 after `user add`", http.StatusOK, func() int {
			return n3.get(t, "/private/", "dave", "secret-d", "")
		})
		t.Logf("user added through the CLI logs in through node 3 after %v", took)
	})

	t.Run("SessionsSharedAcrossNodes", func(t *testing.T) {
		jar, err := cookiejar.New(nil) // cookies ignore the port: one jar for every node
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Jar: jar, Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if got := sessionGet(t, client, n3, "/forms/"); got == http.StatusOK {
			t.Fatalf("/forms/ before signing in = 200")
		}
		got := formPost(t, client, n1, "/.htgate/login?return=/forms/", url.Values{"username": {"alice"}, "password": {"secret-a"}, "return": {"/forms/"}})
		if got != http.StatusSeeOther && got != http.StatusFound {
			t.Fatalf("sign-in through node 1 = %d, want a redirect", got)
		}
		for i, n := range []*node{n1, n2, n3} {
			if got := sessionGet(t, client, n, "/forms/"); got != http.StatusOK {
				t.Errorf("node %d with the session made on node 1 = %d, want 200", i+1, got)
			}
		}
		var session *http.Cookie
		for _, ck := range jar.Cookies(&url.URL{Scheme: "http", Host: n1.addr, Path: "/forms/"}) {
			if ck.Name == "htgate_session" {
				session = ck
			}
		}
		if session == nil {
			t.Fatal("no htgate_session cookie after signing in")
		}
		if got := formPost(t, client, n2, "/.htgate/logout", url.Values{}); got >= 400 {
			t.Fatalf("sign-out through node 2 = %d", got)
		}
		// Send the old cookie again: the session must have ended on the
		// server side, for every node.
		bare := &http.Client{Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for i, n := range []*node{n1, n2, n3} {
			req, err := http.NewRequest("GET", "http://"+n.addr+"/forms/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
			resp, err := bare.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("node %d with the session cookie after signing out through node 2 = 200", i+1)
			}
		}
	})

	t.Run("TokenRevokedEverywhere", func(t *testing.T) {
		out := c.cli("", "token", "issue", "--user", "alice")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		secret := lines[len(lines)-1]
		id := strings.Fields(lines[0])[2]
		eventually(t, time.Second, "token through node 1", http.StatusOK, func() int { return n1.get(t, "/api/", "", "", secret) })
		c.cli("", "token", "revoke", id)
		took := eventually(t, time.Second, "revoked token through node 1", http.StatusUnauthorized, func() int { return n1.get(t, "/api/", "", "", secret) })
		t.Logf("token revoked through the CLI refused by node 1 after %v", took)
	})
}

// csrfField finds the CSRF token in a login or logout page.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formPost gets page from n (for its CSRF token) and posts form to it with
// the token, through client (whose cookie jar holds the session); it
// returns the status of the post.
func formPost(t *testing.T, client *http.Client, n *node, page string, form url.Values) int {
	t.Helper()
	resp, err := client.Get("http://" + n.addr + page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s: no CSRF token in the page (status %d)", page, resp.StatusCode)
	}
	form.Set("csrf", html.UnescapeString(string(m[1])))
	path, _, _ := strings.Cut(page, "?")
	resp, err = client.PostForm("http://"+n.addr+path, form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// sessionGet requests path from n with the client's cookies, without
// following redirects, and returns the status.
func sessionGet(t *testing.T, client *http.Client, n *node, path string) int {
	t.Helper()
	resp, err := client.Get("http://" + n.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// redisPID returns the pid of the Redis server of the tests.
func redisPID(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", "6379", "info", "server").Output()
	if err != nil {
		t.Fatalf("redis-cli info server: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no process_id in redis-cli info server:\n%s", out)
	return 0
}

// startRedis starts Redis as the machines and .ci/run do, and waits for it.
func startRedis() error {
	if exec.Command("redis-cli", "-h", "127.0.0.1", "ping").Run() == nil {
		return nil
	}
	cmd := exec.Command("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
		"--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("redis-server: %v: %s", err, out)
	}
	for range 100 {
		if exec.Command("redis-cli", "-h", "127.0.0.1", "ping").Run() == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis did not answer after start")
}

// TestFaultRedis stops Redis under a running node: logins it must decide
// are refused with 503 and /readyz says why; once Redis is back the node
// recovers by itself.
func TestFaultRedis(t *testing.T) {
	testsvc.Disrupt(t)
	c := newCluster(t, 1)
	n := c.nodes[0]
	if got := n.get(t, "/private/", "alice", "secret-a", ""); got != http.StatusOK {
		t.Fatalf("before the outage: %d, want 200", got)
	}
	pid := redisPID(t)
	t.Cleanup(func() {
		if err := startRedis(); err != nil {
			t.Errorf("restart Redis: %v", err)
		}
	})
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop Redis (pid %d): %v", pid, err)
	}
	for i := 0; exec.Command("redis-cli", "-h", "127.0.0.1", "ping").Run() == nil; i++ {
		if i > 100 {
			t.Fatal("Redis still answers after SIGTERM")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Fail closed: even the right password (cached or not) is refused.
	if got := n.get(t, "/private/", "alice", "secret-a", ""); got != http.StatusServiceUnavailable {
		t.Errorf("during the outage, right password = %d, want 503", got)
	}
	if got := n.get(t, "/private/", "alice", "wrong", ""); got != http.StatusServiceUnavailable {
		t.Errorf("during the outage, wrong password = %d, want 503", got)
	}
	// Public paths need no state.
	if got := n.get(t, "/", "", "", ""); got != http.StatusOK {
		t.Errorf("during the outage, public / = %d, want 200", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := n.ready()
		if code == http.StatusServiceUnavailable && strings.Contains(body, "shared state") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz during the outage = %d %q, want 503 naming the shared state", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := startRedis(); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 10*time.Second, "right password after Redis is back", http.StatusOK, func() int {
		return n.get(t, "/private/", "alice", "secret-a", "")
	})
	t.Logf("logins accepted again %v after Redis answered", took)
	c.waitReady(n, 5*time.Second)
	if !strings.Contains(n.logs(), "shared state unreachable") || !strings.Contains(n.logs(), "shared state reachable again") {
		t.Errorf("the log does not report the outage and the recovery:\n%s", n.logs())
	}
}

// restartPostgres runs pg_ctlcluster ACTION (start, stop, restart) on the
// machine's cluster and, unless stopping, waits until it answers.
func restartPostgres(t *testing.T, action string) error {
	t.Helper()
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		return fmt.Errorf("no /etc/postgresql: %v", err)
	}
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", action).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctlcluster %s: %v: %s", action, err, out)
	}
	if action == "stop" {
		return nil
	}
	for range 200 {
		if exec.Command("pg_isready", "-q", "-h", "127.0.0.1").Run() == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("PostgreSQL not ready after %s", action)
}

// TestFaultPostgres restarts PostgreSQL, then stops and starts it, while
// admin writes go on: every acknowledged write is there afterwards; during
// the outage the nodes answer from their snapshot, /readyz says 503 and
// writes fail; afterwards the nodes take new changes again by themselves.
func TestFaultPostgres(t *testing.T) {
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pg_ctlcluster not found")
		}
		t.Skip("pg_ctlcluster not found")
	}
	testsvc.Disrupt(t)
	c := newCluster(t, 2)
	t.Cleanup(func() {
		if exec.Command("pg_isready", "-q", "-h", "127.0.0.1").Run() != nil {
			if err := restartPostgres(t, "start"); err != nil {
				t.Errorf("start PostgreSQL: %v", err)
			}
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	var acked []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			name := fmt.Sprintf("w%d", i)
			if out, err := c.tryCLI("pw-"+name+"\n", "user", "add", name, "--password-stdin"); err == nil {
				acked = append(acked, name)
			} else if !strings.Contains(out, "connect") && !strings.Contains(out, "terminat") && !strings.Contains(out, "shut") && !strings.Contains(out, "EOF") && !strings.Contains(out, "refused") {
				t.Logf("write %s failed: %s", name, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	time.Sleep(300 * time.Millisecond)
	// First a restart as pg_ctlcluster does it, then a stop long enough to
	// look at the nodes during the outage.
	if err := restartPostgres(t, "restart"); err != nil {
		cancel()
		wg.Wait()
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := restartPostgres(t, "stop"); err != nil && !strings.Contains(err.Error(), "not ready") {
		cancel()
		wg.Wait()
		t.Fatal(err)
	}
	// During the outage the nodes answer from their snapshot and say so.
	for i, n := range c.nodes {
		if got := n.get(t, "/private/", "alice", "secret-a", ""); got != http.StatusOK {
			t.Errorf("node %d: alice while PostgreSQL is down = %d, want 200 (the snapshot stays)", i+1, got)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := n.ready()
			if code == http.StatusServiceUnavailable && strings.Contains(body, "managed store") {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("node %d: /readyz while PostgreSQL is down = %d %q, want 503 naming the managed store", i+1, code, body)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if out, err := c.tryCLI("pw\n", "user", "add", "during-outage", "--password-stdin"); err == nil {
		t.Errorf("user add while PostgreSQL is down succeeded: %s", out)
	}
	if err := restartPostgres(t, "start"); err != nil {
		cancel()
		wg.Wait()
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	out := c.cli("", "user", "ls")
	missing := 0
	for _, name := range acked {
		if !strings.Contains(out, name+" ") && !strings.Contains(out, name+"\n") {
			missing++
			t.Errorf("acknowledged write %s is missing", name)
		}
	}
	t.Logf("%d writes acknowledged around the restart, %d missing", len(acked), missing)
	// The nodes recover by themselves: a user added now logs in everywhere.
	c.cli("secret-e\n", "user", "add", "erin", "--password-stdin")
	for i, n := range c.nodes {
		took := eventually(t, 5*time.Second, fmt.Sprintf("erin through node %d", i+1), http.StatusOK, func() int {
			return n.get(t, "/private/", "erin", "secret-e", "")
		})
		t.Logf("node %d: user added after the restart logs in after %v", i+1, took)
		c.waitReady(n, 5*time.Second)
	}
	last := acked[len(acked)-1]
	if got := c.nodes[1].get(t, "/private/", last, "pw-"+last, ""); got != http.StatusOK {
		t.Errorf("last acknowledged user %s through node 2 = %d, want 200", last, got)
	}
}
