package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/probe"
)

type probeFlags struct {
	user         string
	token        string
	headers      []string
	method       string
	json         bool
	timeout      time.Duration
	maxRedirects int
	insecure     bool
}

func newProbeCmd() *cobra.Command {
	var f probeFlags
	cmd := &cobra.Command{
		Use:   "probe URL",
		Short: "Diagnose the authentication of any URL, from the client side",
		Long: `Request a URL the way a client would and explain its authentication: the
status, every redirect, each WWW-Authenticate and Proxy-Authenticate challenge
with its parameters, TLS facts, and findings such as a 401 without a challenge,
Basic over plain http, a 401 that browsers will cache, a 200 login page
instead of a 401 ("soft 401") or a redirect loop to the login page. Each
finding has a stable id, a severity (error, warning, info) and a fix.

With --user the password is tried with Digest and Basic, as the server offers
them, after it has answered 401; leave out ":PASSWORD" to be asked for it
(or to read one line from standard input when that is not a terminal).
Credentials are never sent to a host other than the one in the URL.

Exit status: 0 when the URL was reached and nothing of severity error was
found, 1 when something of severity error was found, 2 when the URL could
not be reached or the command line is wrong.`,
		Example: `  htgate probe https://example.com/admin/
  htgate probe https://example.com/admin/ --user alice          # asks for the password
  printf '%s\n' "$PASS" | htgate probe https://example.com/admin/ --user alice
  htgate probe https://api.example.com/v1/items --token "$TOKEN" --json
  htgate probe http://127.0.0.1:8080/members -H 'Accept: application/json' -X HEAD
  htgate probe https://staging.internal/ --insecure --max-redirects 3 --timeout 5s`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProbe(cmd, args, f)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitCodeError{code: 2, err: err}
	})
	fl := cmd.Flags()
	fl.StringVarP(&f.user, "user", "u", "", "USER[:PASSWORD] to try with Basic and Digest (asks for the password when it is left out)")
	fl.StringVar(&f.token, "token", "", "send this Bearer token")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "add a request header 'Name: value' (repeatable)")
	fl.StringVarP(&f.method, "request", "X", "GET", "request method")
	fl.BoolVar(&f.json, "json", false, "print one JSON object instead of text")
	fl.DurationVar(&f.timeout, "timeout", probe.DefaultTimeout, "give up after this long (all requests together)")
	fl.IntVar(&f.maxRedirects, "max-redirects", probe.DefaultMaxRedirects, "follow at most this many redirects (0: none)")
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "do not verify the TLS certificate (the report still says whether it is trusted)")
	return cmd
}

func runProbe(cmd *cobra.Command, args []string, f probeFlags) error {
	usage := func(format string, a ...any) error {
		return &exitCodeError{code: 2, err: fmt.Errorf(format, a...)}
	}
	if len(args) != 1 {
		return usage("probe needs exactly one URL (see htgate probe --help)")
	}
	if f.user != "" && f.token != "" {
		return usage("give either --user or --token, not both")
	}
	if f.timeout <= 0 {
		return usage("--timeout must be positive")
	}
	if f.maxRedirects < 0 {
		return usage("--max-redirects cannot be negative")
	}
	opts := probe.Options{
		Method:       f.method,
		Headers:      http.Header{},
		Token:        f.token,
		Timeout:      f.timeout,
		MaxRedirects: f.maxRedirects,
		Insecure:     f.insecure,
	}
	if f.maxRedirects == 0 {
		opts.MaxRedirects = -1
	}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
			return usage("bad header %q: write it as 'Name: value'", h)
		}
		if strings.ContainsAny(value, "\r\n") {
			return usage("bad header %q: a value cannot contain a line break", name)
		}
		opts.Headers.Add(name, strings.TrimSpace(value))
	}
	if f.user != "" {
		user, pass, has := strings.Cut(f.user, ":")
		if user == "" {
			return usage("--user needs a user name")
		}
		if !has {
			p, err := readPassword(cmd, "Password for "+user+": ")
			if err != nil {
				return usage("read the password: %w", err)
			}
			pass = p
		}
		opts.User, opts.Password, opts.HasPassword = user, pass, true
	}

	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, probeErr := probe.Probe(ctx, args[0], opts)
	if rep != nil {
		if err := writeProbeReport(cmd.OutOrStdout(), rep, f.json); err != nil {
			return &exitCodeError{code: 2, err: err}
		}
	}
	switch {
	case probeErr != nil:
		return &exitCodeError{code: 2, err: probeErr}
	case !rep.OK():
		return &exitCodeError{code: 1}
	}
	return nil
}

func writeProbeReport(w io.Writer, rep *probe.Report, asJSON bool) error {
	if !asJSON {
		return rep.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
