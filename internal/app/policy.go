package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/gateway"
	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/policy"
	"github.com/htgate/htgate/internal/state"
	"github.com/htgate/htgate/internal/state/memory"
)

// watchInterval is how often credential files are checked for changes.
const watchInterval = time.Second

// loadedPolicy is a policy generation together with the files it watches.
type loadedPolicy struct {
	policy *gateway.Policy
	files  []interface {
		Watch(context.Context, time.Duration)
	}
	// rules and tableOpts rebuild the table with managed rules (managed.go).
	rules     []policy.Rule
	tableOpts policy.TableOptions
}

// buildPolicy opens every credential and group file the rules name and
// builds the rule table. Every problem is returned, not only the first.
func buildPolicy(cfg *config.Config, logger *slog.Logger) (*loadedPolicy, error) {
	lp := &loadedPolicy{policy: &gateway.Policy{
		Credentials: map[string]gateway.CredentialSource{},
		Groups:      map[string]gateway.GroupSource{},
		Digests:     map[string]gateway.DigestSource{},
	}}
	var errs []error
	rules := make([]policy.Rule, 0, len(cfg.Rules))
	for i, rc := range cfg.Rules {
		origin := fmt.Sprintf("rules[%d]", i)
		if rc.Htpasswd != "" {
			if _, done := lp.policy.Credentials[rc.Htpasswd]; !done {
				f, err := passwd.OpenHtpasswd(rc.Htpasswd, logger)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.htpasswd: %w", origin, err))
				} else {
					lp.policy.Credentials[rc.Htpasswd] = gateway.HtpasswdSource{File: f}
					lp.files = append(lp.files, f)
				}
			}
		}
		if rc.Htdigest != "" {
			if _, done := lp.policy.Digests[rc.Htdigest]; !done {
				f, err := passwd.OpenHtdigest(rc.Htdigest, logger)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.htdigest: %w", origin, err))
				} else {
					lp.policy.Digests[rc.Htdigest] = gateway.HtdigestSource{File: f}
					lp.files = append(lp.files, f)
				}
			}
		}
		if rc.GroupFile != "" {
			if _, done := lp.policy.Groups[rc.GroupFile]; !done {
				f, err := passwd.OpenGroups(rc.GroupFile, logger)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.group_file: %w", origin, err))
				} else {
					lp.policy.Groups[rc.GroupFile] = gateway.GroupFileSource{File: f}
					lp.files = append(lp.files, f)
				}
			}
		}
		req, err := requireExpr(rc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.require: %w", origin, err))
			continue
		}
		rules = append(rules, policy.Rule{
			ID:                fmt.Sprintf("r%d", i+1),
			Origin:            origin,
			Host:              rc.Host,
			Path:              rc.Path,
			Realm:             rc.Realm,
			Schemes:           schemesOf(rc),
			Source:            rc.Htpasswd,
			DigestSource:      rc.Htdigest,
			DigestAlgorithms:  digestAlgorithms(rc.DigestAlgorithms),
			NonceLifetime:     rc.NonceLifetime,
			GroupSource:       rc.GroupFile,
			Require:           req,
			PassAuthorization: rc.PassAuthorization,
		})
	}
	table, err := policy.NewTableWith(rules, policy.TableOptions{CaseSensitive: cfg.CaseSensitivePaths})
	if err != nil {
		errs = append(errs, fmt.Errorf("rules: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	lp.policy.Rules = table
	lp.rules, lp.tableOpts = rules, policy.TableOptions{CaseSensitive: cfg.CaseSensitivePaths}
	return lp, nil
}

// schemesOf returns the rule's schemes, lower-case: [basic] by default.
func schemesOf(rc config.Rule) []string {
	if len(rc.Schemes) == 0 {
		return []string{"basic"}
	}
	out := make([]string, len(rc.Schemes))
	for i, s := range rc.Schemes {
		out[i] = strings.ToLower(s)
	}
	return out
}

// digestAlgorithms spells the configured algorithms canonically (the
// configuration has been validated).
func digestAlgorithms(names []string) []string {
	var out []string
	for _, n := range names {
		if a, ok := policy.CanonicalDigestAlgorithm(n); ok {
			out = append(out, a)
		}
	}
	return out
}

// newNonces returns the store of Digest nonce counts: in memory, bounded,
// for the life of the process (it survives configuration reloads).
func newNonces() state.Nonces {
	return memory.NewNonces(memory.Options{})
}

// requireExpr turns a rule's users, groups and Require lines into one
// expression: any of them grants, as Apache's implicit <RequireAny>; with
// none of them, every valid user may enter.
func requireExpr(rc config.Rule) (policy.Expr, error) {
	var any []policy.Expr
	if len(rc.Users) > 0 {
		any = append(any, policy.Expr{Kind: policy.User, Args: rc.Users})
	}
	if len(rc.Groups) > 0 {
		any = append(any, policy.Expr{Kind: policy.Group, Args: rc.Groups})
	}
	for _, line := range rc.Require {
		e, err := policy.ParseRequire(line)
		if err != nil {
			return policy.Expr{}, fmt.Errorf("%q: %w", line, err)
		}
		any = append(any, e)
	}
	switch len(any) {
	case 0:
		return policy.Expr{Kind: policy.ValidUser}, nil
	case 1:
		return any[0], nil
	}
	return policy.Expr{Kind: policy.Any, Sub: any}, nil
}
