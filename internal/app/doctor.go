package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/htaccess"
	"github.com/htgate/htgate/internal/passwd"
)

// Severities of doctor findings.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding is one problem doctor found in a configuration.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Where    string `json:"where"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

// Doctor lints cfg without starting anything: it reads the files the
// configuration names and reports every problem it finds, most severe
// first. It never changes a file.
func Doctor(ctx context.Context, cfg *config.Config) []Finding {
	var out []Finding
	add := func(id, sev, where, msg, fix string) {
		out = append(out, Finding{ID: id, Severity: sev, Where: where, Message: msg, Fix: fix})
	}
	for _, err := range cfg.Validate() {
		add("invalid-config", SeverityError, "config", err.Error(), "Correct the configuration; `htgate serve` refuses to start with it.")
	}
	if cfg.Root != "" {
		if fi, err := os.Stat(cfg.Root); err != nil || !fi.IsDir() {
			add("root-unreadable", SeverityError, "root", fmt.Sprintf("the docroot %s is not a readable directory", cfg.Root), "Create the directory or correct `root`.")
		}
	}
	if cfg.HTAccess && cfg.Root != "" {
		if opts, on, err := htaccessOptions(cfg); err == nil && on {
			for _, e := range htaccess.CheckTree(cfg.Root, opts) {
				add("htaccess-error", SeverityError, "htaccess", e.Error()+": that directory answers 500 (as Apache would); nothing there is served",
					"Fix the directive, or remove it if htgate does not support it (see docs/apache-compat.md).")
			}
		}
	}
	checked := map[string]bool{}
	for i, r := range cfg.Rules {
		where := fmt.Sprintf("rules[%d] (%s)", i, r.Path)
		for _, f := range []struct{ kind, path string }{{"htpasswd", r.Htpasswd}, {"group_file", r.GroupFile}} {
			if f.path == "" {
				continue
			}
			if inside(cfg.Root, f.path) {
				add("credentials-in-docroot", SeverityError, where,
					fmt.Sprintf("the %s file %s is inside the docroot %s: anyone may be able to download it (htgate refuses .ht* names, but not other names, and another server in front may serve it)", f.kind, f.path, cfg.Root),
					"Move the file out of the docroot and update the path.")
			}
		}
		users, known := doctorHtpasswd(&out, where, r.Htpasswd, checked)
		if r.GroupFile != "" {
			if _, err := passwd.OpenGroups(r.GroupFile, nil); err != nil {
				add("file-unreadable", SeverityError, where, fmt.Sprintf("group file: %v", err), "Check the path and the permissions (the gateway's user must be able to read it).")
			}
		}
		if known && r.Htpasswd != "" && len(users) == 0 && needsUsers(r) {
			add("nobody-can-enter", SeverityError, where, fmt.Sprintf("%s has no valid user: nobody can enter %s", r.Htpasswd, r.Path), "Add a user: htgate htpasswd -B "+r.Htpasswd+" NAME")
		}
		if known && len(r.Users) > 0 && len(r.Groups) == 0 && len(r.Require) == 0 {
			var missing []string
			for _, u := range r.Users {
				if !slices.Contains(users, u) {
					missing = append(missing, u)
				}
			}
			switch {
			case len(missing) == len(r.Users):
				add("nobody-can-enter", SeverityError, where, fmt.Sprintf("none of the users allowed in (%s) is in %s: nobody can enter %s", strings.Join(r.Users, ", "), r.Htpasswd, r.Path), "Add the users to the file, or allow users who are in it.")
			case len(missing) > 0:
				add("user-not-in-file", SeverityWarning, where, fmt.Sprintf("users %s are allowed in but not in %s", strings.Join(missing, ", "), r.Htpasswd), "Add them to the file or remove them from the rule.")
			}
		}
	}
	if cfg.PlainAuthOnNetwork() {
		add("basic-without-tls", SeverityWarning, "listen", fmt.Sprintf("htgate listens on %s without TLS and protects paths with Basic authentication: passwords cross the network in clear text", cfg.Listen),
			"Put htgate behind a TLS-terminating proxy (nginx, Caddy, Traefik) and listen on 127.0.0.1, or serve TLS yourself (tls: {cert, key}).")
	}
	if cfg.Guard.Disabled {
		add("guard-disabled", SeverityWarning, "guard", "brute-force protection is off: passwords can be guessed at full speed", "Remove `guard: {disabled: true}` (or --guard=false).")
	}
	sortFindings(out)
	return out
}

// doctorHtpasswd checks one credential file once: readable, well formed,
// no weak hash formats. It returns the users with a usable hash.
func doctorHtpasswd(out *[]Finding, where, path string, checked map[string]bool) (users []string, ok bool) {
	if path == "" {
		return nil, false
	}
	add := func(id, sev, msg, fix string) {
		*out = append(*out, Finding{ID: id, Severity: sev, Where: where, Message: msg, Fix: fix})
	}
	f, err := passwd.OpenHtpasswd(path, nil)
	if err != nil {
		if !checked[path] {
			add("file-unreadable", SeverityError, fmt.Sprintf("htpasswd: %v", err), "Check the path and the permissions (the gateway's user must be able to read it).")
		}
		checked[path] = true
		return nil, false
	}
	snap := f.Snapshot()
	first := !checked[path]
	checked[path] = true
	weak := map[passwd.Format][]string{}
	for _, u := range snap.Users() {
		hash, _ := snap.Lookup(u)
		if err := passwd.Check(hash); err != nil {
			if first {
				add("hash-unusable", SeverityError, fmt.Sprintf("%s: user %s: %v: this user can never log in", path, u, err), "Set a new password: htgate htpasswd -B "+path+" "+u)
			}
			continue
		}
		users = append(users, u)
		switch fm := passwd.Identify(hash); fm {
		case passwd.FormatSHA1, passwd.FormatDES, passwd.FormatAPR1, passwd.FormatMD5Crypt:
			weak[fm] = append(weak[fm], u)
		}
	}
	if first {
		for _, le := range snap.LineErrors() {
			add("malformed-line", SeverityWarning, le.Error(), "Fix or remove the line; it never matches.")
		}
		for fm, us := range weak {
			add("weak-hash", SeverityWarning, fmt.Sprintf("%s: %d users have %s hashes, which are fast to crack if the file leaks (%s)", path, len(us), fm, strings.Join(firstN(us, 5), ", ")),
				"Re-set their passwords with bcrypt: htgate htpasswd -B "+path+" USER")
		}
	}
	return users, true
}

func needsUsers(r config.Rule) bool {
	if len(r.Require) == 0 {
		return true
	}
	for _, l := range r.Require {
		f := strings.Fields(strings.ToLower(l))
		if len(f) > 0 && (f[0] == "ip" || f[0] == "all" || f[0] == "method" || f[0] == "not") {
			return false
		}
	}
	return true
}

// inside reports whether path lies under dir (both cleaned, absolute).
func inside(dir, path string) bool {
	if dir == "" || path == "" {
		return false
	}
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err := errors.Join(err1, err2); err != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

func sortFindings(fs []Finding) {
	rank := map[string]int{SeverityError: 0, SeverityWarning: 1, SeverityInfo: 2}
	slices.SortStableFunc(fs, func(a, b Finding) int { return rank[a.Severity] - rank[b.Severity] })
}
