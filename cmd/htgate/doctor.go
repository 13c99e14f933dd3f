package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/app"
	"github.com/htgate/htgate/internal/config"
)

func newDoctorCmd() *cobra.Command {
	var f serveFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Lint the configuration: areas nobody can enter, exposed or weak credential files",
		Long: `Check a configuration without starting the gateway: invalid settings, protected
areas that nobody can enter, credential files inside the docroot (downloadable),
unreadable files, malformed lines, weak hash formats (SHA1, DES crypt, MD5),
Basic authentication without TLS, and brute-force protection turned off.
Exit status 1 when a finding of severity error is found.`,
		Example: `  htgate doctor --config /etc/htgate/htgate.yaml
  htgate doctor --root ./public --protect /members --htpasswd ./public/.htpasswd --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfigForDoctor(cmd, f)
			if err != nil {
				return err
			}
			findings := app.Doctor(cmd.Context(), cfg)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if findings == nil {
					findings = []app.Finding{}
				}
				if err := enc.Encode(findings); err != nil {
					return err
				}
			} else {
				writeFindings(cmd.OutOrStdout(), findings)
			}
			for _, fd := range findings {
				if fd.Severity == app.SeverityError {
					return &exitCodeError{code: 1}
				}
			}
			return nil
		},
	}
	addConfigFlags(cmd, &f)
	cmd.Flags().StringVar(&f.addr, "addr", "", "listen address to check (as serve's --addr)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the findings as JSON")
	return cmd
}

// loadConfigForDoctor builds the configuration like serve, but keeps an
// invalid one so that doctor can report every problem in it.
func loadConfigForDoctor(cmd *cobra.Command, f serveFlags) (*config.Config, error) {
	cfg, err := buildConfig(cmd, f)
	if err == nil {
		return cfg, nil
	}
	if f.configFile == "" {
		return nil, err
	}
	c, lerr := config.Load(f.configFile)
	if lerr != nil {
		return nil, lerr
	}
	return c, nil
}

func writeFindings(w io.Writer, findings []app.Finding) {
	if len(findings) == 0 {
		fmt.Fprintln(w, "no problems found")
		return
	}
	for _, f := range findings {
		fmt.Fprintf(w, "%-7s %s  %s\n        %s\n        fix: %s\n", f.Severity, f.ID, f.Where, f.Message, f.Fix)
	}
	errs, warns := 0, 0
	for _, f := range findings {
		switch f.Severity {
		case app.SeverityError:
			errs++
		case app.SeverityWarning:
			warns++
		}
	}
	fmt.Fprintf(w, "\n%d errors, %d warnings\n", errs, warns)
}
