package main

import "github.com/spf13/cobra"

// commands lists the subcommands of htgate in the order --help shows them.
func commands() []*cobra.Command {
	return []*cobra.Command{
		newServeCmd(),
		newExplainCmd(),
		newLockoutCmd(),
		newDoctorCmd(),
		newProbeCmd(),
		newHtpasswdCmd(),
		newHtdigestCmd(),
		newUserCmd(),
		newGroupCmd(),
		newURLCmd(),
		newTokenCmd(),
		newImportCmd(),
		newAdminCmd(),
	}
}
