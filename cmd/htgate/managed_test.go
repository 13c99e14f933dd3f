//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/app"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/store"
)

// step is one command of a scripted CLI session.
type step struct {
	stdin string
	args  string // split on spaces; "_" stands for a space inside an argument
}

// fastHashing writes a configuration whose password hashing is cheap
// (argon2id with 8 MiB and one pass, bcrypt cost 4), so that tests run
// quickly under the race detector, and returns its path.
func fastHashing(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fast.yaml")
	yaml := "root: /nonexistent\npasswords: {bcrypt_cost: 4, argon2: {memory_kib: 8192, iterations: 1, threads: 1}}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runSession runs the steps with --data dir (and cheap password hashing)
// and returns a transcript: each command line, its output and, when not 0,
// its exit status.
func runSession(t *testing.T, dir string, steps []step) string {
	t.Helper()
	cfg := fastHashing(t)
	var b strings.Builder
	times := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	for _, s := range steps {
		args := strings.Fields(s.args)
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "_", " ")
		}
		args = append(args, "--data", dir, "--config", cfg)
		var out, errOut bytes.Buffer
		code := run(args, strings.NewReader(s.stdin), &out, &errOut)
		fmt.Fprintf(&b, "$ htgate %s\n", s.args)
		b.WriteString(times.ReplaceAllString(out.String(), "TIME"))
		b.WriteString(strings.ReplaceAll(errOut.String(), dir, "DATA"))
		if code != 0 {
			fmt.Fprintf(&b, "[exit %d]\n", code)
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "managed", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s: transcript differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", name, path, got, want)
	}
}

// TestManagedCLI runs the user, group, url and admin commands as a script
// would and compares the transcript with a golden file.
func TestManagedCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	got := runSession(t, dir, []step{
		{args: "user ls"},
		{stdin: "s3cret\n", args: "user add Alice --password-stdin --bcrypt"},
		{stdin: "pw-bob\n", args: "user add bob --password-stdin --display-name Bob_Builder"},
		{stdin: "x\n", args: "user add alice --password-stdin"},
		{stdin: "x\n", args: "user add bad_name --password-stdin"},
		{args: "user add carol"},
		{stdin: "\n", args: "user add carol --password-stdin"},
		{args: "group add Staff"},
		{args: "group member add staff ALICE"},
		{args: "group member add staff bob"},
		{args: "group member add staff nobody"},
		{args: "group add admins"},
		{args: "group ls"},
		{args: "group ls --json"},
		{args: "url protect /members/ --realm Members_area"},
		{args: "url protect /members"},
		{args: "url protect /admin --host Example.COM --scheme basic,digest"},
		{args: "url protect /a/../b"},
		{args: "url protect /x --scheme ntlm"},
		{args: "url grant /members --group staff"},
		{args: "url grant /members --user alice"},
		{args: "url grant /admin --host example.com --user alice"},
		{args: "url grant /admin --host example.com --valid-user --user bob"},
		{args: "url grant /admin"},
		{args: "url grant /nothing --valid-user"},
		{args: "url ls"},
		{args: "url ls --json"},
		{args: "url edit /members --realm Members_only"},
		{args: "user lock alice"},
		{args: "user ls"},
		{args: "user ls --json"},
		{args: "user unlock alice"},
		{stdin: "n3w\n", args: "user passwd ALICE --password-stdin"},
		{args: "user rm alice"},
		{args: "url revoke /admin --host example.com --user alice"},
		{args: "url revoke /admin --host example.com --user alice"},
		{args: "group member rm staff alice"},
		{args: "user rm alice"},
		{args: "user rm alice --force"},
		{args: "user rm alice"},
		{args: "group rm admins"},
		{args: "url unprotect /admin --host example.com"},
		{args: "url ls"},
		{stdin: "root-pw\n", args: "admin add Root --password-stdin"},
		{stdin: "v\n", args: "admin add viewer --role viewer --password-stdin"},
		{stdin: "v\n", args: "admin add x --role superuser --password-stdin"},
		{args: "admin ls"},
		{args: "admin rm viewer"},
		{args: "admin ls --json"},
	})
	golden(t, "session", got)

	// The store holds what the transcript says, with hashes in the right
	// formats, and every change is in the audit log under the OS user.
	st, err := app.OpenStore(context.Background(), app.StoreLocation{Data: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	bob, err := st.User(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if f := passwd.Identify(bob.Hash); f != passwd.FormatArgon2id {
		t.Errorf("bob's hash is %s, want argon2id", f)
	}
	if ok, _ := passwd.Verify(bob.Hash, []byte("pw-bob")); !ok {
		t.Error("bob's hash does not verify his password")
	}
	events, err := st.AuditEvents(ctx, store.AuditFilter{Action: "user.add"})
	if err != nil || len(events) != 2 || events[0].Actor != osUser() || events[0].Client != "cli" {
		t.Errorf("user.add audit events = %+v, %v", events, err)
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode = %v, %v, want 0700", info.Mode(), err)
	}
}

func TestStoreFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "ls", "--store", "mysql://x"}, "unknown kind"},
		{[]string{"user", "ls", "--store", "sqlite://"}, "no database file"},
		{[]string{"user", "ls", "--store", "sqlite://" + filepath.Join(dir, "x.db"), "--data", dir}, "give only one"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tt.args, strings.NewReader(""), &out, &errOut); code == 0 || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("htgate %v: exit %d, stderr %q, want an error with %q", tt.args, code, errOut.String(), tt.want)
		}
	}
	var out, errOut bytes.Buffer
	db := filepath.Join(dir, "store.db")
	if code := run([]string{"group", "add", "g", "--store", "sqlite://" + db}, nil, &out, &errOut); code != 0 {
		t.Fatalf("--store sqlite://: exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("--store sqlite://%s did not create the file: %v", db, err)
	}
	// --config supplies the data directory and the password parameters.
	cfgPath := filepath.Join(dir, "htgate.yaml")
	if err := os.WriteFile(cfgPath, []byte("root: /srv\ndata: cfgdata\npasswords: {format: bcrypt, bcrypt_cost: 5}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"user", "add", "u", "--password-stdin", "--config", cfgPath}, strings.NewReader("pw\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add --config: exit %d: %s", code, errOut.String())
	}
	st, err := app.OpenStore(context.Background(), app.StoreLocation{Data: filepath.Join(dir, "cfgdata")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(context.Background(), "u")
	if err != nil || !strings.HasPrefix(u.Hash, "$2y$05$") {
		t.Errorf("user added with --config = %q, %v, want a bcrypt hash of cost 5 in cfgdata", u.Hash, err)
	}
}

// apacheTool runs Apache's htpasswd or htdigest in its own session (so
// that it reads passwords from stdin) and returns its stdout.
func apacheTool(t *testing.T, stdin, tool string, args ...string) string {
	t.Helper()
	cmd := exec.Command("/usr/bin/"+tool, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v (Debian's apache2-utils, installed by .ci/run): %v: %s", tool, args, err, errOut.String())
	}
	return out.String()
}

// TestImportCommand imports files written by Apache's htpasswd and
// htdigest and a group file, and checks the summaries.
func TestImportCommand(t *testing.T) {
	needApache(t)
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	users := filepath.Join(tmp, "users")
	apacheTool(t, "", "htpasswd", "-cbB", "-C", "4", users, "alice", "alice-pw")
	apacheTool(t, "", "htpasswd", "-bm", users, "bob", "bob-pw")
	apacheTool(t, "", "htpasswd", "-bs", users, "carol", "carol-pw")
	f, err := os.OpenFile(users, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "broken-line\nmallory:plaintext\n")
	f.Close()
	digest := filepath.Join(tmp, "site.htdigest")
	apacheTool(t, "pw1\npw1\n", "htdigest", "-c", digest, "Members", "alice")
	apacheTool(t, "pw2\npw2\n", "htdigest", digest, "Other", "dave")
	groups := filepath.Join(tmp, "groups")
	if err := os.WriteFile(groups, []byte("staff: alice bob\nadmins: carol nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runSession(t, data, []step{
		{args: "import " + users},
		{args: "import " + users},
		{args: "import " + digest + " --realm Members"},
		{args: "import " + groups},
		{args: "import " + groups + " --format htdigest"},
		{args: "import " + users + " --format pem"},
		{args: "import " + filepath.Join(tmp, "missing")},
		{args: "group ls"},
		{args: "user ls"},
	})
	got = strings.ReplaceAll(got, tmp, "TMP")
	golden(t, "import", got)

	var out, errOut bytes.Buffer
	code := run([]string{"import", users, "--replace", "--json", "--data", data}, nil, &out, &errOut)
	var sum struct {
		Format   string `json:"format"`
		Replaced int    `json:"replaced"`
		Failed   int    `json:"failed"`
		Problems []struct {
			Line   int    `json:"line"`
			Result string `json:"result"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil || code != 1 || sum.Replaced != 3 || sum.Failed != 2 || len(sum.Problems) != 2 || sum.Problems[0].Line != 4 {
		t.Errorf("import --replace --json: exit %d, %+v, %v:\n%s", code, sum, err, out.String())
	}
}

// TestServeEnforcesCLIChanges runs a gateway in process on a data
// directory and changes the store through the CLI while it serves: every
// change is enforced within a second, without a restart, and requests
// keep being answered while the policy changes under them.
func TestServeEnforcesCLIChanges(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	root := filepath.Join(dir, "site")
	if err := os.MkdirAll(filepath.Join(root, "members"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "members", "index.html"), []byte("MEMBERS"), 0o644); err != nil {
		t.Fatal(err)
	}
	fast := fastHashing(t)
	cli := func(stdin string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(append(args, "--data", data, "--config", fast), strings.NewReader(stdin), &out, &errOut); code != 0 {
			t.Fatalf("htgate %v: exit %d: %s", args, code, errOut.String())
		}
	}
	// The store exists before the gateway starts, empty.
	cli("", "group", "add", "staff")
	// No guard: the polling below retries credentials the gateway does not
	// know yet, which the guard would rightly count as failures.
	cfg := &config.Config{Root: root, Listen: "127.0.0.1:0", Data: data, Guard: config.Guard{Disabled: true}}
	cfg.ApplyDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	base := "http://" + a.Addr().String()
	status := func(user, pw string) int {
		req, _ := http.NewRequest("GET", base+"/members/", nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// In-flight traffic all along: no request may fail with a transport
	// error or a 5xx while the policy is swapped.
	stop := make(chan struct{})
	bad := make(chan string, 100)
	go func() {
		for {
			select {
			case <-stop:
				close(bad)
				return
			default:
			}
			time.Sleep(5 * time.Millisecond)
			resp, err := http.Get(base + "/members/")
			if err != nil {
				bad <- err.Error()
				continue
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				bad <- resp.Status
			}
		}
	}()
	within := func(what string, want int, user, pw string) {
		t.Helper()
		start := time.Now()
		for {
			got := status(user, pw)
			if got == want {
				t.Logf("%s: %d after %v", what, want, time.Since(start).Round(time.Millisecond))
				return
			}
			if time.Since(start) > raceSlowdown*time.Second {
				t.Fatalf("%s: status %d %v after the change, want %d", what, got, raceSlowdown*time.Second, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got := status("", ""); got != 200 {
		t.Fatalf("before protect: %d, want 200", got)
	}
	cli("", "url", "protect", "/members")
	within("protect", 401, "", "")
	cli("s3cret\n", "user", "add", "alice", "--password-stdin", "--bcrypt")
	within("no grant yet", 403, "alice", "s3cret")
	cli("", "url", "grant", "/members", "--user", "alice")
	within("grant", 200, "alice", "s3cret")
	if got := status("ALICE", "s3cret"); got != 200 {
		t.Errorf("ALICE (another case): %d, want 200", got)
	}
	cli("", "user", "lock", "alice")
	within("lock", 401, "alice", "s3cret")
	cli("", "user", "unlock", "alice")
	within("unlock", 200, "alice", "s3cret")
	cli("n3w\n", "user", "passwd", "alice", "--password-stdin", "--bcrypt")
	within("new password", 200, "alice", "n3w")
	if got := status("alice", "s3cret"); got != 401 {
		t.Errorf("old password after passwd: %d, want 401", got)
	}
	cli("", "user", "rm", "alice", "--force")
	within("user removed", 401, "alice", "n3w")
	cli("", "url", "unprotect", "/members")
	within("unprotect", 200, "", "")
	close(stop)
	for b := range bad {
		t.Errorf("request in flight failed: %s", b)
	}
}

// TestManagedCommandsHaveExamples: every store command's --help shows an
// example.
func TestManagedCommandsHaveExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example == "" {
			t.Errorf("htgate %s has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range []*cobra.Command{newUserCmd(), newGroupCmd(), newURLCmd(), newImportCmd(), newAdminCmd()} {
		walk(c)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"user", "rm", "--help"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "--force") || !strings.Contains(out.String(), "Examples:") {
		t.Errorf("htgate user rm --help: exit %d:\n%s", code, out.String())
	}
}
