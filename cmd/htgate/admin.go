package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/store"
)

func newAdminCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage the accounts of the admin panel and API",
		Long: `Admin accounts sign in to the admin panel and API of htgate serve. They are
not gateway users: an admin cannot enter protected URLs as such. Roles: admin
(everything) and viewer (read only).`,
		Example: `  htgate admin add root                            # asks for the password twice
  echo 's3cret' | htgate admin add auditor --role viewer --password-stdin
  htgate admin ls`,
	}
	addStoreFlags(cmd, &sf)

	var pf passwordFlags
	var role string
	add := &cobra.Command{
		Use:     "add NAME",
		Short:   "Add an admin account",
		Example: "  htgate admin add root\n  echo 's3cret' | htgate admin add auditor --role viewer --password-stdin",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := store.UserName(args[0])
			if err != nil {
				return err
			}
			r, err := store.CheckRole(store.Role(role))
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			hash, err := hashNewPassword(cmd, &sf, pf, name)
			if err != nil {
				return err
			}
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				a, err := st.AddAdmin(ctx, store.Admin{Name: name, Hash: hash, Role: r})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "added admin %s (role %s)\n", a.Name, a.Role)
				return nil
			})
		},
	}
	addPasswordFlags(add, &pf)
	add.Flags().StringVar(&role, "role", "admin", "admin (everything) or viewer (read only)")

	var ppf passwordFlags
	passwd := &cobra.Command{
		Use:     "passwd NAME",
		Short:   "Change an admin account's password",
		Example: "  htgate admin passwd root\n  echo 'n3w' | htgate admin passwd root --password-stdin",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				a, err := st.Admin(ctx, args[0])
				if err != nil {
					return err
				}
				hash, err := hashNewPassword(cmd, &sf, ppf, a.Name)
				if err != nil {
					return err
				}
				if _, err := st.UpdateAdmin(ctx, a.Name, store.AdminUpdate{Hash: &hash}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "changed the password of admin %s\n", a.Name)
				return nil
			})
		},
	}
	addPasswordFlags(passwd, &ppf)

	rm := &cobra.Command{
		Use:     "rm NAME",
		Short:   "Remove an admin account and its API tokens",
		Example: "  htgate admin rm auditor",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				if err := st.RemoveAdmin(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed admin %s\n", canonical(store.UserName, args[0]))
				return nil
			})
		},
	}

	var asJSON bool
	ls := &cobra.Command{
		Use:     "ls",
		Short:   "List admin accounts",
		Example: "  htgate admin ls\n  htgate admin ls --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				admins, err := st.ListAdmins(ctx)
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				if asJSON {
					type adminJSON struct {
						Name    string `json:"name"`
						Role    string `json:"role"`
						Locked  bool   `json:"locked"`
						Created string `json:"created"`
						Changed string `json:"changed"`
					}
					out := make([]adminJSON, 0, len(admins))
					for _, a := range admins {
						out = append(out, adminJSON{a.Name, string(a.Role), a.Locked, a.Created.Format(time.RFC3339), a.Changed.Format(time.RFC3339)})
					}
					return writeJSON(w, out)
				}
				if len(admins) == 0 {
					_, err := fmt.Fprintln(w, "no admin accounts (add one with: htgate admin add NAME)")
					return err
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tSTATUS")
				for _, a := range admins {
					status := "active"
					if a.Locked {
						status = "locked"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Role, status)
				}
				return tw.Flush()
			})
		},
	}
	ls.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(add, passwd, rm, ls)
	return cmd
}
