package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/htgate/htgate/internal/store"
	"github.com/htgate/htgate/internal/store/fileimport"
)

// maxShownProblems bounds the problem lines of the text summary.
const maxShownProblems = 20

func newImportCmd() *cobra.Command {
	var sf storeFlags
	var format, realm string
	var replace, asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import an htpasswd, htdigest or group file into the managed store",
		Long: `Import Apache credential files into the managed store: htpasswd files (users
with their hashes, copied as they are, in whatever format Apache wrote them),
htdigest files (Digest secrets; --realm picks one realm) and group files
(groups and memberships; import the users first). The format is told from the
file name and its first entry unless --format gives it.

Existing users (and secrets) are skipped unless --replace is given. The summary
lists skipped and failed lines with their numbers; the exit status is 1 when a
line failed. A progress bar is shown when standard output is a terminal.`,
		Example: `  htgate import /etc/apache2/.htpasswd
  htgate import /etc/apache2/.htdigest --realm "Members area"
  htgate import /etc/apache2/groups --format group
  htgate import users.htpasswd --replace --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := fileimport.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("--%w", err)
			}
			if f == "" {
				f = formatFromName(args[0])
			}
			file, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer file.Close()
			fi, err := file.Stat()
			if err != nil {
				return err
			}
			if fi.IsDir() {
				return fmt.Errorf("%s is a directory", args[0])
			}
			out := cmd.OutOrStdout()
			var bar *progressbar.ProgressBar
			if isTerminal(out) {
				bar = progressbar.NewOptions64(fi.Size(),
					progressbar.OptionSetWriter(out),
					progressbar.OptionSetDescription("importing "+filepath.Base(args[0])),
					progressbar.OptionShowBytes(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish(),
				)
			}
			return sf.withStore(cmd, func(ctx context.Context, st store.Store) error {
				sum, err := fileimport.Run(ctx, st, file, fileimport.Options{
					Format: f, Realm: realm, Replace: replace,
					Progress: func(n int64) {
						if bar != nil {
							_ = bar.Set64(n)
						}
					},
				})
				if bar != nil {
					_ = bar.Finish()
				}
				if sum != nil && sum.Format != "" && (err == nil || sum.Lines > 0) {
					if asJSON {
						if werr := writeJSON(out, sum); werr != nil {
							return werr
						}
					} else {
						printImportSummary(out, args[0], sum)
					}
				}
				if err != nil {
					return fmt.Errorf("import %s: %w", args[0], err)
				}
				if sum.Failed > 0 {
					return &exitCodeError{code: 1, err: fmt.Errorf("%d %s of %s failed", sum.Failed, plural(sum.Failed, "entry", "entries"), args[0])}
				}
				return nil
			})
		},
	}
	addStoreFlags(cmd, &sf)
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "", "htpasswd, htdigest or group (default: told from the file)")
	fl.StringVar(&realm, "realm", "", "htdigest files: import only this realm's entries")
	fl.BoolVar(&replace, "replace", false, "overwrite existing users' hashes and secrets instead of skipping them")
	fl.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

// formatFromName guesses the format from a file name ("" when it says
// nothing): *group* is a group file, *digest* an htdigest file.
func formatFromName(path string) fileimport.Format {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(base, "group"):
		return fileimport.Group
	case strings.Contains(base, "digest"):
		return fileimport.Htdigest
	}
	return ""
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func printImportSummary(w io.Writer, name string, s *fileimport.Summary) {
	what := map[fileimport.Format][2]string{
		fileimport.Htpasswd: {"user", "users"},
		fileimport.Htdigest: {"digest secret", "digest secrets"},
		fileimport.Group:    {"membership", "memberships"},
	}[s.Format]
	fmt.Fprintf(w, "%s (%s, %d %s): %d %s imported", name, s.Format, s.Lines, plural(s.Lines, "line", "lines"), s.Imported, plural(s.Imported, what[0], what[1]))
	if s.Replaced > 0 {
		fmt.Fprintf(w, ", %d replaced", s.Replaced)
	}
	fmt.Fprintf(w, ", %d skipped, %d failed\n", s.Skipped, s.Failed)
	for i, p := range s.Problems {
		if i == maxShownProblems {
			fmt.Fprintf(w, "  ... and %d more (--json lists up to %d)\n", s.Skipped+s.Failed-maxShownProblems, fileimport.MaxProblems)
			break
		}
		fmt.Fprintf(w, "  line %d: %s: %s\n", p.Line, p.Kind, p.Msg)
	}
}
