package htgate_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/htgate/htgate"

// pkgInfo is what `go list -json` says of a package.
type pkgInfo struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// listPackages lists the module's packages with their direct imports.
func listPackages(t *testing.T) []pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkgInfo
	for {
		var p pkgInfo
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestDependencyDirection checks DESIGN §7: dependencies point inward, and
// drivers are imported only by the composition root.
func TestDependencyDirection(t *testing.T) {
	drivers := []string{
		module + "/internal/store/sqlite", module + "/internal/store/postgres", module + "/internal/state/redis",
		"modernc.org/sqlite", "github.com/jackc/pgx", "github.com/redis/go-redis",
	}
	// Packages allowed to import drivers: the composition root, the drivers
	// themselves (and their own helpers), and the test-service helper.
	driverImporters := []string{module + "/internal/app", module + "/internal/store/sqlite", module + "/internal/store/postgres", module + "/internal/state/redis", module + "/internal/testsvc"}
	rules := []struct {
		pkg    string   // package (prefix match on whole path segments)
		banned []string // import prefixes it must not use
		why    string
	}{
		{module + "/internal/probe", []string{module + "/internal/gateway", module + "/internal/store", module + "/internal/state", module + "/internal/scheme"}, "probe is a client-side tool: it must work against any site without the gateway's code"},
		{module + "/internal/policy", []string{"net/http", module + "/internal/gateway", module + "/internal/store"}, "policy is pure decision logic with no I/O"},
		{module + "/internal/passwd", []string{module + "/internal/gateway", module + "/internal/store", "net/http"}, "credential formats sit below the request path"},
		{module + "/internal/scheme", []string{module + "/internal/gateway", module + "/internal/store"}, "schemes parse credentials; they do not decide"},
		{module + "/internal/respond", []string{module + "/internal/gateway", module + "/internal/store", module + "/internal/policy"}, "the responder only renders a Decision"},
		{module + "/internal/upstream", []string{module + "/internal/gateway", module + "/internal/store", module + "/internal/policy"}, "forwarding knows nothing of rules"},
		{module + "/internal/state", []string{module + "/internal/gateway", module + "/internal/store"}, "ephemeral state is a leaf"},
		{module + "/internal/gateway", []string{module + "/internal/app", module + "/internal/admin", module + "/cmd"}, "dependencies point inward"},
		{module + "/internal/admin", []string{module + "/internal/app", module + "/internal/gateway", module + "/cmd"}, "dependencies point inward"},
	}
	under := func(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }
	for _, p := range listPackages(t) {
		if p.ImportPath == module {
			for _, imp := range p.Imports {
				if strings.HasPrefix(imp, module) || strings.Contains(strings.Split(imp, "/")[0], ".") {
					t.Errorf("root package %s imports %s: it holds domain values only (stdlib)", module, imp)
				}
			}
		}
		allowedDriver := false
		for _, a := range driverImporters {
			if under(p.ImportPath, a) {
				allowedDriver = true
			}
		}
		for _, imp := range p.Imports {
			if !allowedDriver {
				for _, d := range drivers {
					if under(imp, d) {
						t.Errorf("%s imports the driver %s: only internal/app (the composition root) may", p.ImportPath, imp)
					}
				}
			}
			if under(p.ImportPath, module+"/internal") && (under(imp, module+"/cmd") || (under(imp, module+"/internal/app") && !under(p.ImportPath, module+"/internal/app"))) {
				t.Errorf("%s imports %s: internal packages must not depend on the CLI or the composition root", p.ImportPath, imp)
			}
			for _, r := range rules {
				if !under(p.ImportPath, r.pkg) {
					continue
				}
				for _, b := range r.banned {
					if under(imp, b) {
						t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
					}
				}
			}
		}
	}
}
