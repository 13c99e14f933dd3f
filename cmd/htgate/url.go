package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/store"
)

func newURLCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "url",
		Short: "Protect URLs of the managed store and say who may enter",
		Long: `Protect a path (and everything below it, by whole segments: /members covers
/members/x but not /membership), optionally on one host, and grant access to
users, groups or every valid user. A protected URL without grants admits
nobody. A running htgate serve with the same --data enforces every change
within a second.`,
		Example: `  htgate url protect /members --realm "Members area"
  htgate url grant /members --group staff
  htgate url grant /members --user alice
  htgate url ls`,
	}
	addStoreFlags(cmd, &sf)
	cmd.AddCommand(newURLProtectCmd(&sf), newURLEditCmd(&sf), newURLUnprotectCmd(&sf), newURLLsCmd(&sf),
		newURLGrantCmd(&sf, true), newURLGrantCmd(&sf, false))
	return cmd
}

func newURLProtectCmd(sf *storeFlags) *cobra.Command {
	var host, realm string
	var schemes []string
	cmd := &cobra.Command{
		Use:   "protect PATH",
		Short: "Protect a path (grant access with htgate url grant)",
		Example: `  htgate url protect /members
  htgate url protect /admin --host example.com --realm "Administration" --scheme basic,digest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				u, err := st.Protect(ctx, store.URL{URLKey: store.URLKey{Host: host, Path: args[0]}, Realm: realm, Schemes: schemes})
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "protected %s (schemes %s)\n", u.String(), strings.Join(u.Schemes, ","))
				fmt.Fprintf(w, "nobody may enter yet: grant access with htgate url grant %s --user NAME (or --group NAME, --valid-user)\n", grantHint(u.URLKey))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&host, "host", "", "protect the path on this host only (default: every host)")
	fl.StringVar(&realm, "realm", "", "realm shown in the login dialog (default: the server's realm)")
	fl.StringSliceVar(&schemes, "scheme", nil, "accepted schemes, comma-separated: basic, digest, bearer, form (default basic)")
	return cmd
}

// grantHint is PATH [--host H] as the grant command takes it.
func grantHint(k store.URLKey) string {
	if k.Host == "" {
		return k.Path
	}
	return k.Path + " --host " + k.Host
}

func newURLEditCmd(sf *storeFlags) *cobra.Command {
	var host, realm string
	var schemes []string
	cmd := &cobra.Command{
		Use:     "edit PATH",
		Short:   "Change a protected URL's realm or schemes (its grants stay)",
		Example: "  htgate url edit /members --realm \"Members only\"\n  htgate url edit /api --scheme basic,digest",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var up store.URLUpdate
			if cmd.Flags().Changed("realm") {
				up.Realm = &realm
			}
			if cmd.Flags().Changed("scheme") {
				up.Schemes = schemes
				if up.Schemes == nil {
					up.Schemes = []string{}
				}
			}
			if up.Realm == nil && up.Schemes == nil {
				return errors.New("nothing to change: give --realm or --scheme")
			}
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				u, err := st.UpdateURL(ctx, store.URLKey{Host: host, Path: args[0]}, up)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "changed %s: realm %q, schemes %s\n", u.String(), u.Realm, strings.Join(u.Schemes, ","))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&host, "host", "", "the protected URL's host (default: the one for every host)")
	fl.StringVar(&realm, "realm", "", "new realm (\"\" for the server's)")
	fl.StringSliceVar(&schemes, "scheme", nil, "new accepted schemes: basic, digest, bearer, form")
	return cmd
}

func newURLUnprotectCmd(sf *storeFlags) *cobra.Command {
	var host string
	cmd := &cobra.Command{
		Use:     "unprotect PATH",
		Short:   "Stop protecting a path (its grants go with it)",
		Example: "  htgate url unprotect /members\n  htgate url unprotect /admin --host example.com",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				k := store.URLKey{Host: host, Path: args[0]}
				if err := st.Unprotect(ctx, k); err != nil {
					return err
				}
				k, _ = store.CanonicalURLKey(k)
				fmt.Fprintf(cmd.OutOrStdout(), "unprotected %s\n", k.String())
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&host, "host", "", "the protected URL's host (default: the one for every host)")
	return cmd
}

func newURLGrantCmd(sf *storeFlags, grant bool) *cobra.Command {
	var host, user, group string
	var validUser bool
	use, short, example := "grant PATH", "Let a user, a group or every valid user into a protected URL",
		"  htgate url grant /members --user alice\n  htgate url grant /members --group staff\n  htgate url grant /wiki --valid-user --host wiki.example.com"
	if !grant {
		use, short, example = "revoke PATH", "Take a grant away",
			"  htgate url revoke /members --user alice\n  htgate url revoke /members --group staff\n  htgate url revoke /wiki --valid-user --host wiki.example.com"
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var g store.Grant
			n := 0
			if cmd.Flags().Changed("user") {
				g, n = store.Grant{Kind: store.GrantUser, Name: user}, n+1
			}
			if cmd.Flags().Changed("group") {
				g, n = store.Grant{Kind: store.GrantGroup, Name: group}, n+1
			}
			if validUser {
				g, n = store.Grant{Kind: store.GrantValidUser}, n+1
			}
			if n != 1 {
				return errors.New("give exactly one of --user NAME, --group NAME and --valid-user")
			}
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				k := store.URLKey{Host: host, Path: args[0]}
				var err error
				if grant {
					err = st.Grant(ctx, k, g)
				} else {
					err = st.Revoke(ctx, k, g)
				}
				if err != nil {
					return err
				}
				k, _ = store.CanonicalURLKey(k)
				switch g.Kind {
				case store.GrantUser:
					g.Name = canonical(store.UserName, g.Name)
				case store.GrantGroup:
					g.Name = canonical(store.GroupName, g.Name)
				}
				if grant {
					fmt.Fprintf(cmd.OutOrStdout(), "granted %s access to %s\n", g, k.String())
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "revoked %s from %s\n", g, k.String())
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&host, "host", "", "the protected URL's host (default: the one for every host)")
	fl.StringVar(&user, "user", "", "a user")
	fl.StringVar(&group, "group", "", "the members of a group")
	fl.BoolVar(&validUser, "valid-user", false, "every user who signs in")
	return cmd
}

// urlJSON is a protected URL as `htgate url ls --json` prints it.
type urlJSON struct {
	ID        int64    `json:"id"`
	Host      string   `json:"host"`
	Path      string   `json:"path"`
	Realm     string   `json:"realm"`
	Schemes   []string `json:"schemes"`
	ValidUser bool     `json:"valid_user"`
	Users     []string `json:"users"`
	Groups    []string `json:"groups"`
	Created   string   `json:"created"`
	Changed   string   `json:"changed"`
}

func toURLJSON(u store.URL) urlJSON {
	j := urlJSON{ID: u.ID, Host: u.Host, Path: u.Path, Realm: u.Realm, Schemes: u.Schemes, Users: []string{}, Groups: []string{},
		Created: u.Created.Format(time.RFC3339), Changed: u.Changed.Format(time.RFC3339)}
	for _, g := range u.Grants {
		switch g.Kind {
		case store.GrantValidUser:
			j.ValidUser = true
		case store.GrantUser:
			j.Users = append(j.Users, g.Name)
		case store.GrantGroup:
			j.Groups = append(j.Groups, g.Name)
		}
	}
	return j
}

func newURLLsCmd(sf *storeFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ls",
		Short:   "List protected URLs and who may enter them",
		Example: "  htgate url ls\n  htgate url ls --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				urls, err := allPages(ctx, st.ListURLs, func(u store.URL) string { return u.String() })
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]urlJSON, 0, len(urls))
					for _, u := range urls {
						out = append(out, toURLJSON(u))
					}
					return writeJSON(cmd.OutOrStdout(), out)
				}
				return printURLs(cmd.OutOrStdout(), urls)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printURLs(w io.Writer, urls []store.URL) error {
	if len(urls) == 0 {
		_, err := fmt.Fprintln(w, "no protected URLs (protect one with: htgate url protect PATH)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tPATH\tREALM\tSCHEMES\tWHO MAY ENTER")
	for _, u := range urls {
		host := u.Host
		if host == "" {
			host = "*"
		}
		realm := u.Realm
		if realm == "" {
			realm = "(default)"
		}
		who := make([]string, 0, len(u.Grants))
		for _, g := range u.Grants {
			who = append(who, g.String())
		}
		access := strings.Join(who, ", ")
		if access == "" {
			access = "nobody"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", host, u.Path, realm, strings.Join(u.Schemes, ","), access)
	}
	return tw.Flush()
}
