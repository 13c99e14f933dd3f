package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/app"
)

type explainFlags struct {
	serveFlags
	url           string
	method        string
	user          string
	passwordStdin bool
	authorization string
	ip            string
	headers       []string
	json          bool
}

func newExplainCmd() *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Show what the gateway would answer to a request, and why",
		Long: `Run the gateway's own decision code on a request, without sending it anywhere,
and print the decision: the canonical path, the client address, the matched
rule, the scheme, each Require clause with pass or fail, the final status and
the reason code. Give the same --config (or --root/--protect/--htpasswd) as to
serve. Passwords are read from stdin (--password-stdin) or a prompt, never
from the command line.`,
		Example: `  htgate explain --config examples/htgate.yaml --url /members/
  echo 'htgate-demo' | htgate explain --config examples/htgate.yaml --url /members/ --user demo --password-stdin
  htgate explain --config htgate.yaml --url https://example.com/admin --ip 203.0.113.7 --json
  htgate explain --config htgate.yaml --url /api --authorization "Basic YWxpY2U6c2VjcmV0"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExplain(cmd.Context(), cmd, f)
		},
	}
	addConfigFlags(cmd, &f.serveFlags)
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "request URL or path (required), e.g. /members/ or https://example.com/admin")
	fl.StringVarP(&f.method, "method", "X", "GET", "request method")
	fl.StringVar(&f.user, "user", "", "sign in as this user (password from --password-stdin or a prompt)")
	fl.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
	fl.StringVar(&f.authorization, "authorization", "", "send this Authorization header value as is")
	fl.StringVar(&f.ip, "ip", "127.0.0.1", "client address the request comes from")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "extra request header 'Name: value' (repeatable)")
	fl.BoolVar(&f.json, "json", false, "print the decision as JSON")
	return cmd
}

func runExplain(ctx context.Context, cmd *cobra.Command, f explainFlags) error {
	if f.url == "" {
		return errors.New("--url is required (a path such as /members/ or a full URL)")
	}
	if f.user != "" && f.authorization != "" {
		return errors.New("--user and --authorization: give only one")
	}
	req, err := explainRequest(cmd, f)
	if err != nil {
		return err
	}
	cfg, err := buildConfig(cmd, f.serveFlags)
	if err != nil {
		return err
	}
	a, err := app.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	d := a.Gateway().Decide(ctx, req)
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(explainJSON(d))
	}
	return writeExplain(out, req, d)
}

// explainRequest builds the request as the gateway's server would see it.
func explainRequest(cmd *cobra.Command, f explainFlags) (*http.Request, error) {
	target := f.url
	if strings.HasPrefix(target, "/") {
		target = "http://127.0.0.1" + target
	}
	req, err := http.NewRequest(f.method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	req.RequestURI = req.URL.RequestURI()
	addr, err := netip.ParseAddr(f.ip)
	if err != nil {
		return nil, fmt.Errorf("--ip: %w", err)
	}
	req.RemoteAddr = net.JoinHostPort(addr.String(), "50000")
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("--header %q: want 'Name: value'", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	switch {
	case f.authorization != "":
		req.Header.Set("Authorization", f.authorization)
	case f.user != "":
		pw, err := readPassword(cmd, "Password for "+f.user+": ")
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(f.user, pw)
	}
	return req, nil
}

// explainOutput is the --json shape: status, reason, rule and trace first.
type explainOutput struct {
	Status     int                `json:"status"`
	Reason     string             `json:"reason"`
	Detail     string             `json:"detail,omitempty"`
	Rule       *htgate.RuleRef    `json:"rule"`
	Method     string             `json:"method"`
	Path       string             `json:"path"`
	Client     string             `json:"client"`
	User       string             `json:"user,omitempty"`
	Challenges []string           `json:"challenges,omitempty"`
	RetryAfter float64            `json:"retry_after_seconds,omitempty"`
	Trace      []htgate.TraceStep `json:"trace"`
}

func explainJSON(d *htgate.Decision) explainOutput {
	reason := string(d.Reason)
	if reason == "" {
		reason = "allowed"
	}
	o := explainOutput{
		Status: d.Status, Reason: reason, Detail: d.Detail, Rule: d.Rule, Method: d.Method,
		Path: d.Path, Client: d.Client.String(), User: d.User, Trace: d.Trace,
		RetryAfter: d.RetryAfter.Seconds(),
	}
	for _, c := range d.Challenges {
		o.Challenges = append(o.Challenges, c.String())
	}
	if o.Trace == nil {
		o.Trace = []htgate.TraceStep{}
	}
	return o
}

func writeExplain(w io.Writer, req *http.Request, d *htgate.Decision) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s from %s\n\n", req.Method, req.URL.String(), d.Client)
	for _, s := range d.Trace {
		fmt.Fprintf(bw, "  %-9s %-4s  %s\n", s.Step, s.Outcome, s.Detail)
	}
	reason := string(d.Reason)
	if reason == "" {
		reason = "allowed"
	}
	fmt.Fprintf(bw, "\ndecision: %d %s (%s)\n", d.Status, http.StatusText(d.Status), reason)
	if d.Rule != nil {
		fmt.Fprintf(bw, "rule:     %s", d.Rule.ID)
		if d.Rule.Origin != "" {
			fmt.Fprintf(bw, " (%s)", d.Rule.Origin)
		}
		fmt.Fprintf(bw, " path %s", d.Rule.Path)
		if d.Rule.Host != "" {
			fmt.Fprintf(bw, " host %s", d.Rule.Host)
		}
		fmt.Fprintf(bw, " realm %q\n", d.Rule.Realm)
	} else {
		fmt.Fprintln(bw, "rule:     none (the path is public)")
	}
	for _, c := range d.Challenges {
		fmt.Fprintf(bw, "answer:   WWW-Authenticate: %s\n", c.String())
	}
	if d.RetryAfter > 0 {
		fmt.Fprintf(bw, "answer:   Retry-After: %.0f\n", d.RetryAfter.Seconds())
	}
	return bw.Flush()
}
