package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// lockoutEntry is a lockout as the operations listener reports it.
type lockoutEntry struct {
	Key    string `json:"key"`
	Client string `json:"client,omitempty"`
	User   string `json:"user,omitempty"`
	Until  string `json:"until"`
	Level  int    `json:"level"`
}

func newLockoutCmd() *cobra.Command {
	var addr string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "lockout",
		Short: "List or clear the brute-force lockouts of a running gateway",
		Long: `List or clear the lockouts of a running htgate serve. The gateway must run with
an operations listener (metrics_listen in the config); this command talks to it
from the same machine.`,
	}
	cmd.PersistentFlags().StringVar(&addr, "addr", "127.0.0.1:9090", "the gateway's operations listener (metrics_listen)")
	ls := &cobra.Command{
		Use:     "ls",
		Short:   "List lockouts in force",
		Example: "  htgate lockout ls --addr 127.0.0.1:9090\n  htgate lockout ls --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			entries, err := lockoutCall(cmd, http.MethodGet, "http://"+addr+"/lockouts")
			if err != nil {
				return err
			}
			return printLockouts(cmd.OutOrStdout(), entries, asJSON, "no lockouts in force")
		},
	}
	ls.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var client, user string
	clear := &cobra.Command{
		Use:   "clear",
		Short: "Clear lockouts (of an address, a user, both, or all)",
		Example: `  htgate lockout clear --client 203.0.113.7        # the address and its (address, user) pairs
  htgate lockout clear --user alice                 # the user name and its pairs
  htgate lockout clear --client 203.0.113.7 --user alice
  htgate lockout clear --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, _ := cmd.Flags().GetBool("all")
			if client == "" && user == "" && !all {
				return fmt.Errorf("say what to clear: --client ADDR, --user NAME, both, or --all")
			}
			q := url.Values{}
			if client != "" {
				q.Set("client", client)
			}
			if user != "" {
				q.Set("user", user)
			}
			entries, err := lockoutCall(cmd, http.MethodPost, "http://"+addr+"/lockouts/clear?"+q.Encode())
			if err != nil {
				return err
			}
			return printLockouts(cmd.OutOrStdout(), entries, asJSON, "nothing to clear")
		},
	}
	clear.Flags().StringVar(&client, "client", "", "client address")
	clear.Flags().StringVar(&user, "user", "", "user name")
	clear.Flags().Bool("all", false, "clear every lockout")
	clear.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(ls, clear)
	return cmd
}

func lockoutCall(cmd *cobra.Command, method, u string) ([]lockoutEntry, error) {
	req, err := http.NewRequestWithContext(cmd.Context(), method, u, nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the gateway's operations listener (is metrics_listen set, and --addr right?): %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway answered %s: %s", resp.Status, body)
	}
	var entries []lockoutEntry
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, fmt.Errorf("gateway answer is not a lockout list: %w", err)
	}
	return entries, nil
}

func printLockouts(w io.Writer, entries []lockoutEntry, asJSON bool, empty string) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, empty)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tCLIENT\tUSER\tUNTIL\tLEVEL")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", e.Key, dash(e.Client), dash(e.User), e.Until, e.Level)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
