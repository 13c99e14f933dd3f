package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/passwd"
	"github.com/htgate/htgate/internal/store"
)

func newUserCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the users of the managed store",
		Long: `Add, remove, list, lock and unlock the users that protected URLs of the
managed store admit (see htgate url). Names are case-insensitive: "Alice" and
"alice" are one user (RFC 8265). New passwords are hashed with argon2id
(--bcrypt for bcrypt). A running htgate serve with the same --data enforces
every change within a second.`,
		Example: `  htgate user add alice                      # asks for the password twice
  echo 's3cret' | htgate user add bob --password-stdin
  htgate user ls --json`,
	}
	addStoreFlags(cmd, &sf)
	cmd.AddCommand(newUserAddCmd(&sf), newUserPasswdCmd(&sf), newUserRmCmd(&sf), newUserLsCmd(&sf),
		newUserLockCmd(&sf, true), newUserLockCmd(&sf, false))
	return cmd
}

func newUserAddCmd(sf *storeFlags) *cobra.Command {
	var pf passwordFlags
	var display string
	var locked bool
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a user (password from a prompt or --password-stdin)",
		Example: `  htgate user add alice
  echo 's3cret' | htgate user add alice --password-stdin --display-name "Alice Liddell"
  htgate user add bob --bcrypt --data /var/lib/htgate`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := store.UserName(args[0])
			if err != nil {
				return err
			}
			hash, err := hashNewPassword(cmd, sf, pf, name)
			if err != nil {
				return err
			}
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				u, err := st.AddUser(ctx, store.User{Name: args[0], DisplayName: display, Hash: hash, Locked: locked})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "added user %s\n", u.Name)
				return nil
			})
		},
	}
	addPasswordFlags(cmd, &pf)
	cmd.Flags().StringVar(&display, "display-name", "", "name shown to people, e.g. \"Alice Liddell\"")
	cmd.Flags().BoolVar(&locked, "locked", false, "add the user locked (htgate user unlock lets them in)")
	return cmd
}

func newUserPasswdCmd(sf *storeFlags) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Change a user's password",
		Example: `  htgate user passwd alice
  echo 'n3w-s3cret' | htgate user passwd alice --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				u, err := st.User(ctx, args[0])
				if err != nil {
					return err
				}
				hash, err := hashNewPassword(cmd, sf, pf, u.Name)
				if err != nil {
					return err
				}
				if _, err := st.UpdateUser(ctx, u.Name, store.UserUpdate{Hash: &hash}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "changed the password of %s\n", u.Name)
				return nil
			})
		},
	}
	addPasswordFlags(cmd, &pf)
	return cmd
}

func newUserRmCmd(sf *storeFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a user (--force when they are the only one allowed into a URL)",
		Long: `Remove a user with their group memberships, grants and tokens. When the user
is the only one allowed into some protected URL, nobody could enter it
afterwards: the command names those URLs and refuses unless --force is given.`,
		Example: `  htgate user rm bob
  htgate user rm alice --force`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				urls, err := st.SoleAccess(ctx, args[0])
				if err != nil {
					return err
				}
				name, _ := store.UserName(args[0])
				if len(urls) > 0 && !force {
					list := make([]string, len(urls))
					for i, u := range urls {
						list[i] = u.String()
					}
					return fmt.Errorf("%s is the only user allowed into %s: nobody could enter after the removal; grant someone else first, or remove anyway with --force",
						name, strings.Join(list, ", "))
				}
				if err := st.RemoveUser(ctx, name); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed user %s\n", name)
				for _, u := range urls {
					fmt.Fprintf(cmd.OutOrStdout(), "warning: nobody can enter %s now\n", u.String())
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "remove even when the user is the only one allowed into a protected URL")
	return cmd
}

func newUserLockCmd(sf *storeFlags, lock bool) *cobra.Command {
	use, short, done := "lock NAME", "Lock a user out (401 locked_out) until unlocked", "locked"
	example := "  htgate user lock mallory"
	if !lock {
		use, short, done = "unlock NAME", "Let a locked user in again", "unlocked"
		example = "  htgate user unlock mallory"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				u, err := st.UpdateUser(ctx, args[0], store.UserUpdate{Locked: &lock})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s user %s\n", done, u.Name)
				return nil
			})
		},
	}
}

// userJSON is a user as `htgate user ls --json` prints it (no hash).
type userJSON struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Locked      bool     `json:"locked"`
	HashFormat  string   `json:"hash_format"`
	Groups      []string `json:"groups"`
	Created     string   `json:"created"`
	Changed     string   `json:"changed"`
}

// hashFormat names a stored hash's format for listings ("none" for a user
// without a password, imported from an htdigest file).
func hashFormat(h string) string {
	if h == "" {
		return "none"
	}
	return string(passwd.Identify(h))
}

func newUserLsCmd(sf *storeFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ls",
		Short:   "List users",
		Example: "  htgate user ls\n  htgate user ls --json | jq -r '.[] | select(.locked) | .name'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				users, err := allPages(ctx, st.ListUsers, func(u store.User) string { return u.Name })
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]userJSON, 0, len(users))
					for _, u := range users {
						out = append(out, userJSON{Name: u.Name, DisplayName: u.DisplayName, Locked: u.Locked, HashFormat: hashFormat(u.Hash),
							Groups: u.Groups, Created: u.Created.Format(time.RFC3339), Changed: u.Changed.Format(time.RFC3339)})
					}
					return writeJSON(cmd.OutOrStdout(), out)
				}
				return printUsers(cmd.OutOrStdout(), users)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printUsers(w io.Writer, users []store.User) error {
	if len(users) == 0 {
		_, err := fmt.Fprintln(w, "no users (add one with: htgate user add NAME)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tHASH\tGROUPS\tDISPLAY NAME")
	for _, u := range users {
		status := "active"
		if u.Locked {
			status = "locked"
		}
		groups := strings.Join(u.Groups, ",")
		if groups == "" {
			groups = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, status, hashFormat(u.Hash), groups, u.DisplayName)
	}
	return tw.Flush()
}
