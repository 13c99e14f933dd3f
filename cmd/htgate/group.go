package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/store"
)

func newGroupCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Manage the groups of the managed store",
		Long: `Add, remove and list groups, and put users into them. A protected URL can
admit a whole group (htgate url grant PATH --group NAME).`,
		Example: `  htgate group add staff
  htgate group member add staff alice
  htgate group ls --json`,
	}
	addStoreFlags(cmd, &sf)
	member := &cobra.Command{
		Use:     "member",
		Short:   "Add users to a group or take them out",
		Example: "  htgate group member add staff alice\n  htgate group member rm staff alice",
	}
	member.AddCommand(
		&cobra.Command{
			Use:     "add GROUP USER",
			Short:   "Put a user into a group",
			Example: "  htgate group member add staff alice",
			Args:    cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
					if err := st.AddMember(ctx, args[0], args[1]); err != nil {
						return err
					}
					g, u := canonical(store.GroupName, args[0]), canonical(store.UserName, args[1])
					fmt.Fprintf(cmd.OutOrStdout(), "added %s to group %s\n", u, g)
					return nil
				})
			},
		},
		&cobra.Command{
			Use:     "rm GROUP USER",
			Short:   "Take a user out of a group",
			Example: "  htgate group member rm staff alice",
			Args:    cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
					if err := st.RemoveMember(ctx, args[0], args[1]); err != nil {
						return err
					}
					g, u := canonical(store.GroupName, args[0]), canonical(store.UserName, args[1])
					fmt.Fprintf(cmd.OutOrStdout(), "removed %s from group %s\n", u, g)
					return nil
				})
			},
		},
	)
	var asJSON bool
	ls := &cobra.Command{
		Use:     "ls",
		Short:   "List groups and their members",
		Example: "  htgate group ls\n  htgate group ls --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				groups, err := allPages(ctx, st.ListGroups, func(g store.Group) string { return g.Name })
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				if asJSON {
					type groupJSON struct {
						Name    string   `json:"name"`
						Members []string `json:"members"`
						Created string   `json:"created"`
						Changed string   `json:"changed"`
					}
					out := make([]groupJSON, 0, len(groups))
					for _, g := range groups {
						out = append(out, groupJSON{g.Name, g.Members, g.Created.Format(time.RFC3339), g.Changed.Format(time.RFC3339)})
					}
					return writeJSON(w, out)
				}
				if len(groups) == 0 {
					_, err := fmt.Fprintln(w, "no groups (add one with: htgate group add NAME)")
					return err
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "GROUP\tMEMBERS")
				for _, g := range groups {
					members := strings.Join(g.Members, " ")
					if members == "" {
						members = "-"
					}
					fmt.Fprintf(tw, "%s\t%s\n", g.Name, members)
				}
				return tw.Flush()
			})
		},
	}
	ls.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(
		&cobra.Command{
			Use:     "add NAME",
			Short:   "Add an empty group",
			Example: "  htgate group add staff",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
					g, err := st.AddGroup(ctx, args[0])
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "added group %s\n", g.Name)
					return nil
				})
			},
		},
		&cobra.Command{
			Use:     "rm NAME",
			Short:   "Remove a group (its members stay users)",
			Example: "  htgate group rm staff",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
					if err := st.RemoveGroup(ctx, args[0]); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "removed group %s\n", canonical(store.GroupName, args[0]))
					return nil
				})
			},
		},
		ls, member,
	)
	return cmd
}

// canonical returns the canonical form of a name the store accepted.
func canonical(f func(string) (string, error), s string) string {
	if n, err := f(s); err == nil {
		return n
	}
	return s
}
