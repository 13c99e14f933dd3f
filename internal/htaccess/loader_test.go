package htaccess

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/htgate/htgate/internal/policy"
)

// TestLookupGolden walks testdata/tree (nested .htaccess files, a broken
// one, <Files> and <Limit>) and compares each path's effective
// configuration with testdata/tree.golden.
func TestLookupGolden(t *testing.T) {
	l, err := NewLoader("testdata/tree", LoaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	paths := []string{
		"/", "/index.html", "/missing.html", "/members/page.html", "/members", "/members/missing/deeper.html",
		"/members/staff/", "/members/staff/admins/x.html", "/members/staff/admins/audit.log",
		"/members/open/page.html", "/members/open/closed/page.html", "/public/page.html",
		"/broken/page.html", "/broken/sub/page.html", "/files/x.bak", "/files/x.html", "/files/.htaccess",
	}
	var b strings.Builder
	for _, p := range paths {
		res := l.Lookup(p)
		fmt.Fprintf(&b, "== %s\ndir=%s name=%q isdir=%v exists=%v pathinfo=%q\n", p, res.Dir, res.Name, res.IsDir, res.Exists, res.PathInfo)
		if res.Err != nil {
			fmt.Fprintf(&b, "error: %v\n", res.Err)
			continue
		}
		b.WriteString(res.Config.Describe())
	}
	got := strings.ReplaceAll(b.String(), "testdata/tree", "TREE")
	const golden = "testdata/tree.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestMergeSemantics checks the Apache merge rules on the tree, request
// by request: deeper Require lines replace the outer ones, AuthMerging
// And combines them, <Files> and <Limit> apply as in Apache.
func TestMergeSemantics(t *testing.T) {
	l, err := NewLoader("testdata/tree", LoaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type who struct {
		user   string
		groups []string
	}
	tests := []struct {
		path, method string
		who          *who // nil: no user yet
		want         policy.Result
		realm        string
	}{
		{"/members/page.html", "GET", nil, policy.DeniedNoUser, "Members"},
		{"/members/page.html", "GET", &who{user: "carol"}, policy.Granted, "Members"},
		{"/members/staff/x.html", "GET", &who{user: "carol"}, policy.Denied, "Members"},
		{"/members/staff/x.html", "GET", &who{user: "bob", groups: []string{"staff"}}, policy.Granted, "Members"},
		{"/members/staff/admins/x.html", "GET", &who{user: "bob", groups: []string{"staff"}}, policy.Denied, "Admins"},
		{"/members/staff/admins/x.html", "GET", &who{user: "root"}, policy.Granted, "Admins"},
		{"/members/open/page.html", "GET", nil, policy.Granted, "Members"},
		{"/members/open/closed/page.html", "GET", &who{user: "carol"}, policy.Denied, "Members"},
		{"/members/open/closed/page.html", "GET", &who{user: "bob"}, policy.Granted, "Members"},
		{"/files/x.bak", "GET", nil, policy.Denied, ""},
		{"/files/x.html", "GET", nil, policy.Granted, ""},
		{"/files/x.html", "POST", nil, policy.Denied, ""},
		{"/files/x.html", "HEAD", nil, policy.Granted, ""},
		{"/public/.htaccess", "GET", nil, policy.Denied, ""},
		{"/public/.htpasswd", "GET", nil, policy.Denied, ""},
	}
	for _, tt := range tests {
		res := l.Lookup(tt.path)
		if res.Err != nil {
			t.Errorf("Lookup(%q): %v", tt.path, res.Err)
			continue
		}
		f := policy.Facts{Method: CanonicalMethod(tt.method)}
		if tt.who != nil {
			f.Authenticated, f.User, f.Groups = true, tt.who.user, tt.who.groups
		}
		if got := res.Config.Require(tt.method).Evaluate(f, nil); got != tt.want {
			t.Errorf("%s %s as %+v: %v, want %v (%s)", tt.method, tt.path, tt.who, got, tt.want, res.Config.Require(tt.method))
		}
		if realm, _ := res.Config.Realm(); realm != tt.realm {
			t.Errorf("%s realm = %q, want %q", tt.path, realm, tt.realm)
		}
	}
	if res := l.Lookup("/broken/sub/page.html"); res.Err == nil {
		t.Error("a broken .htaccess above must make its subdirectories unusable")
	} else if se := (*SyntaxError)(nil); !errors.As(res.Err, &se) || se.Line != 1 || !strings.HasSuffix(se.File, "broken/.htaccess") {
		t.Errorf("broken: %v, want a *SyntaxError at broken/.htaccess:1", res.Err)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoaderReload checks that a changed .htaccess is read again, but not
// before Recheck has passed, and that a broken file recovers once fixed.
func TestLoaderReload(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	write(t, filepath.Join(dir, "a/.htaccess"), "Require all denied\n")
	l, err := NewLoader(dir, LoaderOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	req := func() string {
		res := l.Lookup("/a/x.html")
		if res.Err != nil {
			return "error"
		}
		return res.Config.Require("GET").String()
	}
	if got := req(); got != "RequireAny(all denied)" {
		t.Fatalf("first = %q", got)
	}
	// An atomic replacement (new inode, same size and maybe same mtime).
	write(t, filepath.Join(dir, "a/.htaccess.tmp"), "Require all granted\n")
	if err := os.Rename(filepath.Join(dir, "a/.htaccess.tmp"), filepath.Join(dir, "a/.htaccess")); err != nil {
		t.Fatal(err)
	}
	if got := req(); got != "RequireAny(all denied)" {
		t.Errorf("within Recheck = %q, want the cached file", got)
	}
	clock.Add(time.Second)
	if got := req(); got != "RequireAny(all granted)" {
		t.Errorf("after Recheck = %q, want the new file", got)
	}
	write(t, filepath.Join(dir, "a/.htaccess"), "Frobnicate\n")
	clock.Add(time.Second)
	if got := req(); got != "error" {
		t.Errorf("broken = %q, want an error", got)
	}
	write(t, filepath.Join(dir, "a/.htaccess"), "Require user alice\n")
	clock.Add(time.Second)
	if got := req(); got != "RequireAny(user alice)" {
		t.Errorf("fixed = %q", got)
	}
	if err := os.Remove(filepath.Join(dir, "a/.htaccess")); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Second)
	if got := req(); got != "RequireAny(all granted)" {
		t.Errorf("removed = %q, want the server's default", got)
	}
	// A new directory appears: it is found after Recheck.
	write(t, filepath.Join(dir, "b/c/.htaccess"), "Require all denied\n")
	clock.Add(time.Second)
	if res := l.Lookup("/b/c/x"); res.Err != nil || res.Config.Require("GET").String() != "RequireAny(all denied)" {
		t.Errorf("new directory: %+v", res)
	}
}

func TestLoaderUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a/.htaccess"), "Require all granted\n")
	if err := os.Chmod(filepath.Join(dir, "a/.htaccess"), 0); err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(dir, LoaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if res := l.Lookup("/a/x"); !errors.Is(res.Err, fs.ErrPermission) {
		t.Errorf("unreadable .htaccess: %v, want a permission error (Apache answers 403)", res.Err)
	}
}

func TestLoaderBounded(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLoader(dir, LoaderOptions{MaxEntries: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 1000 {
		l.Lookup(fmt.Sprintf("/missing-%d/x", i))
	}
	l.mu.Lock()
	n := len(l.entries)
	l.mu.Unlock()
	if n > 50 {
		t.Errorf("cache holds %d entries, want at most 50", n)
	}
}

func TestLookupSpellings(t *testing.T) {
	l, err := NewLoader("testdata/tree", LoaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tests := []struct {
		path            string
		dir, name, info string
		isDir, exists   bool
	}{
		{"/", "/", "", "", true, true},
		{"/members", "/members/", "", "", true, true},
		{"/members/", "/members/", "", "", true, true},
		{"/members/page.html", "/members/", "page.html", "", false, true},
		{"/members/page.html/extra/x", "/members/", "page.html", "/extra/x", false, true},
		{"/members/nope/x.html", "/members/", "nope", "/x.html", false, false},
		{"/MEMBERS/page.html", "/", "MEMBERS", "/page.html", false, false},
	}
	for _, tt := range tests {
		r := l.Lookup(tt.path)
		if r.Dir != tt.dir || r.Name != tt.name || r.PathInfo != tt.info || r.IsDir != tt.isDir || r.Exists != tt.exists {
			t.Errorf("Lookup(%q) = dir %q name %q info %q dir %v exists %v, want %q %q %q %v %v",
				tt.path, r.Dir, r.Name, r.PathInfo, r.IsDir, r.Exists, tt.dir, tt.name, tt.info, tt.isDir, tt.exists)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	l, err := NewLoader("testdata/tree", LoaderOptions{Recheck: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		res := l.Lookup("/members/staff/admins/x.html")
		_ = res.Config.Require("GET")
	}
}

func TestCheckTree(t *testing.T) {
	errs := CheckTree("testdata/tree", Options{})
	if len(errs) != 1 {
		t.Fatalf("CheckTree = %v, want the one broken file", errs)
	}
	var se *SyntaxError
	if !errors.As(errs[0], &se) || se.Line != 1 || !strings.HasSuffix(se.File, "broken/.htaccess") {
		t.Errorf("CheckTree = %v, want broken/.htaccess:1", errs[0])
	}
}
