package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/scheme"
	"github.com/htgate/htgate/internal/store"
)

func newTokenCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Issue, list and revoke users' Bearer tokens",
		Long: `Bearer tokens (RFC 6750) let scripts and API clients into protected URLs
that accept the bearer scheme (htgate url protect PATH --scheme basic,bearer,
or schemes: [bearer] in a rule). A token acts as its user, limited to the
path prefixes given with --scope. htgate shows a token once, when it is
issued; the store keeps only its SHA-256. A running htgate serve with the
same --data honours a revocation within a second.`,
		Example: `  htgate token issue --user alice --scope /api --ttl 720h
  htgate token ls
  htgate token revoke 3f9a1c2b7d10`,
	}
	addStoreFlags(cmd, &sf)
	cmd.AddCommand(newTokenIssueCmd(&sf), newTokenLsCmd(&sf), newTokenRevokeCmd(&sf))
	return cmd
}

func newTokenIssueCmd(sf *storeFlags) *cobra.Command {
	var user, name string
	var scopes []string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "issue --user NAME [--scope PATH]... [--ttl DURATION]",
		Short: "Issue a token; it is printed once, alone on the last line",
		Example: `  htgate token issue --user alice --scope /api --scope /reports --ttl 720h
  TOKEN=$(htgate token issue --user deploy --name ci | tail -n1)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" {
				return errors.New("--user is required")
			}
			for _, s := range scopes {
				if err := checkScope(s); err != nil {
					return err
				}
			}
			if ttl < 0 {
				return errors.New("--ttl must not be negative (0: the token never expires)")
			}
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				u, err := st.User(ctx, user)
				if err != nil {
					return fmt.Errorf("user %s: %w", user, err)
				}
				secret, err := scheme.NewToken()
				if err != nil {
					return err
				}
				var idb [6]byte
				if _, err := rand.Read(idb[:]); err != nil {
					return err
				}
				t := store.Token{ID: hex.EncodeToString(idb[:]), User: u.Name, Hash: scheme.TokenHash(secret), Name: name, Scopes: scopes}
				if ttl > 0 {
					t.Expires = time.Now().Add(ttl).UTC().Truncate(time.Second)
				}
				t, err = st.AddToken(ctx, t)
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "issued token %s for %s (scopes: %s; expires: %s)\n", t.ID, t.User, scopeList(t.Scopes), expiry(t.Expires))
				fmt.Fprintln(w, "it is shown only now; send it as Authorization: Bearer TOKEN")
				_, err = fmt.Fprintln(w, secret)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user the token acts as (required)")
	cmd.Flags().StringArrayVar(&scopes, "scope", nil, "path prefix the token may reach, whole segments (repeatable; none: every URL the user may enter)")
	cmd.Flags().DurationVar(&ttl, "ttl", 720*time.Hour, "lifetime (0: never expires)")
	cmd.Flags().StringVar(&name, "name", "", "note for people, e.g. \"deploy script\"")
	return cmd
}

// checkScope accepts a path prefix: starts with "/", no dot segments,
// spaces, control characters, "?" or "#".
func checkScope(s string) error {
	if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, " \t?#\\") {
		return fmt.Errorf("--scope %q: want an absolute path such as /api", s)
	}
	for _, seg := range strings.Split(s[1:], "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("--scope %q: dot segments are not allowed", s)
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return fmt.Errorf("--scope %q: control characters are not allowed", s)
		}
	}
	return nil
}

func scopeList(scopes []string) string {
	if len(scopes) == 0 {
		return "any"
	}
	return strings.Join(scopes, " ")
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// tokenJSON is a token as token ls --json prints it (never the hash).
type tokenJSON struct {
	ID      string   `json:"id"`
	User    string   `json:"user"`
	Name    string   `json:"name,omitempty"`
	Scopes  []string `json:"scopes"`
	Status  string   `json:"status"`
	Expires string   `json:"expires,omitempty"`
	Revoked string   `json:"revoked,omitempty"`
	Created string   `json:"created"`
}

func tokenStatus(t store.Token, now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return "revoked"
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return "expired"
	}
	return "active"
}

func newTokenLsCmd(sf *storeFlags) *cobra.Command {
	var asJSON bool
	var user string
	cmd := &cobra.Command{
		Use:     "ls",
		Short:   "List users' tokens (never the tokens themselves)",
		Example: "  htgate token ls\n  htgate token ls --user alice --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				all, err := st.ListTokens(ctx, store.TokenFilter{User: user})
				if err != nil {
					return err
				}
				var toks []store.Token
				for _, t := range all {
					if t.User != "" {
						toks = append(toks, t)
					}
				}
				now := time.Now()
				if asJSON {
					out := make([]tokenJSON, 0, len(toks))
					for _, t := range toks {
						j := tokenJSON{ID: t.ID, User: t.User, Name: t.Name, Scopes: t.Scopes, Status: tokenStatus(t, now), Created: t.Created.UTC().Format(time.RFC3339)}
						if j.Scopes == nil {
							j.Scopes = []string{}
						}
						if !t.Expires.IsZero() {
							j.Expires = t.Expires.UTC().Format(time.RFC3339)
						}
						if !t.Revoked.IsZero() {
							j.Revoked = t.Revoked.UTC().Format(time.RFC3339)
						}
						out = append(out, j)
					}
					return writeJSON(cmd.OutOrStdout(), out)
				}
				return printTokens(cmd.OutOrStdout(), toks, now)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&user, "user", "", "only this user's tokens")
	return cmd
}

func printTokens(w io.Writer, toks []store.Token, now time.Time) error {
	if len(toks) == 0 {
		_, err := fmt.Fprintln(w, "no tokens (issue one with: htgate token issue --user NAME)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tSTATUS\tEXPIRES\tSCOPES\tNAME")
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, tokenStatus(t, now), expiry(t.Expires), scopeList(t.Scopes), t.Name)
	}
	return tw.Flush()
}

func newTokenRevokeCmd(sf *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke a token (a running gateway refuses it within a second)",
		Example: "  htgate token revoke 3f9a1c2b7d10",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				t, err := st.Token(ctx, args[0])
				if err != nil {
					return fmt.Errorf("token %s: %w", args[0], err)
				}
				if t.User == "" {
					return fmt.Errorf("token %s is an admin API token: revoke it with the admin API or panel", args[0])
				}
				if err := st.RevokeToken(ctx, t.ID); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s of %s\n", t.ID, t.User)
				return nil
			})
		},
	}
}
