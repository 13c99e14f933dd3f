package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/htgate/htgate/internal/passwd"
)

// Exit statuses of Apache's htdigest, which this command reproduces: 1 for
// every error, 5 for a password that is too long.
const (
	htdigestExitError    = 1
	htdigestExitOverflow = htpasswdExitOverflow
)

const htdigestUsage = `Usage: htgate htdigest [-c] [--sha256] passwordfile realm username
The -c flag creates a new file.
`

func newHtdigestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "htdigest [-c] [--sha256] passwordfile realm username",
		Short: "Create and update htdigest files for Digest authentication (drop-in for Apache's htdigest)",
		Long: `htdigest creates and updates the flat files that store user names, realms
and password hashes for Digest authentication: one line "user:realm:hash"
per user and realm, the hash being MD5(user:realm:password). It takes the
same arguments as Apache's htdigest, prints the same messages and exits
with the same statuses: 0 success, 1 any error (bad command line, missing
file without -c, passwords that differ), 5 a password longer than 255 bytes.

` + htdigestUsage + `
The password is read twice from the terminal without echo or, when standard
input is not a terminal, one line of it per prompt.

--sha256 (htgate only) also writes a line with SHA-256(user:realm:password),
so that htgate can offer Digest with SHA-256 to this user; Apache reads only
the first line of a user and realm, the MD5 one, and keeps working.

Differences from Apache's tool, all on the safe side:
 - The file is replaced atomically (temporary file, fsync, rename) keeping its
   permissions; every other line is kept byte for byte, a last line without a
   line feed included (Apache's tool drops it), and a changed line keeps its
   CRLF. Later duplicate lines of the same user and realm are removed rather
   than left stale.
 - -c replaces the whole file (Apache's tool overwrites it in place without
   truncating it, which can leave the tail of the old file behind).
 - A user name or realm containing ':', CR, LF or NUL, an empty user name, or
   one starting with white space or '#' is refused (Apache's tool writes a
   line no server can match).
 - -h and --help print this help.`,
		Example: `  htgate htdigest -c /etc/htgate/users.htdigest "Members area" alice
  htgate htdigest --sha256 /etc/htgate/users.htdigest "Members area" bob
  printf 'pw\npw\n' | htgate htdigest /etc/htgate/users.htdigest "Members area" carol`,
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "-h" || a == "--help" {
					return cmd.Help()
				}
			}
			return runHtdigest(cmd, args)
		},
	}
}

// htdigestOpts is the parsed command line.
type htdigestOpts struct {
	create, sha256    bool
	file, realm, user string
}

// parseHtdigestArgs reads "[-c] [--sha256] passwordfile realm username";
// anything else prints the usage and exits 1, as Apache's htdigest does.
func parseHtdigestArgs(cmd *cobra.Command, args []string) (*htdigestOpts, error) {
	o := &htdigestOpts{}
	for len(args) > 0 {
		switch args[0] {
		case "-c":
			if o.create {
				return nil, htdigestUsageExit(cmd)
			}
			o.create = true
		case "--sha256":
			if o.sha256 {
				return nil, htdigestUsageExit(cmd)
			}
			o.sha256 = true
		default:
			goto positional
		}
		args = args[1:]
	}
positional:
	if len(args) != 3 {
		return nil, htdigestUsageExit(cmd)
	}
	o.file, o.realm, o.user = args[0], args[1], args[2]
	return o, nil
}

func htdigestUsageExit(cmd *cobra.Command) error {
	fmt.Fprint(cmd.ErrOrStderr(), htdigestUsage)
	return htpasswdExit(htdigestExitError, "")
}

func runHtdigest(cmd *cobra.Command, args []string) error {
	o, err := parseHtdigestArgs(cmd, args)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	// Refuse what would write an unusable line before asking anything.
	if _, _, err := passwd.UpdateHtdigest(nil, o.user, o.realm, passwd.DigestHA1(passwd.DigestMD5, o.user, o.realm, "")); err != nil {
		return htpasswdExit(htdigestExitError, "%v", err)
	}

	var data []byte
	if o.create {
		if err := probeCreate(o.file); err != nil {
			return htpasswdExit(htdigestExitError, "Could not open passwd file %s for writing: %v", o.file, err)
		}
		fmt.Fprintf(stderr, "Adding password for %s in realm %s.\n", o.user, o.realm)
	} else {
		data, err = readHtdigestFile(o.file)
		if err != nil {
			fmt.Fprintf(stderr, "Could not open passwd file %s for reading.\n", o.file)
			fmt.Fprintln(stderr, "Use -c option to create new one.")
			return htpasswdExit(htdigestExitError, "")
		}
		h, _, err := passwd.ParseHtdigest(bytes.NewReader(data), o.file)
		if err != nil {
			return htpasswdExit(htdigestExitError, "%v", err)
		}
		if _, ok := h.Lookup(o.user, o.realm, passwd.DigestMD5); ok || h.Problem(o.user, o.realm) != nil || hasSHA256(h, o) {
			fmt.Fprintf(stderr, "Changing password for user %s in realm %s\n", o.user, o.realm)
		} else {
			fmt.Fprintf(stderr, "Adding user %s in realm %s\n", o.user, o.realm)
		}
	}

	in := &htpasswdInput{cmd: cmd}
	pw, err := in.prompt("New password: ")
	if err != nil {
		return htdigestPromptErr(stderr, err)
	}
	defer clear(pw)
	again, err := in.prompt("Re-type new password: ")
	if err != nil {
		return htdigestPromptErr(stderr, err)
	}
	defer clear(again)
	if !bytes.Equal(pw, again) {
		fmt.Fprintln(stderr, "They don't match, sorry.")
		return htpasswdExit(htdigestExitError, "")
	}

	ha1s := []string{passwd.DigestHA1(passwd.DigestMD5, o.user, o.realm, string(pw))}
	if o.sha256 {
		ha1s = append(ha1s, passwd.DigestHA1(passwd.DigestSHA256, o.user, o.realm, string(pw)))
	}
	out, _, err := passwd.UpdateHtdigest(data, o.user, o.realm, ha1s...)
	if err != nil {
		return htpasswdExit(htdigestExitError, "%v", err)
	}
	if err := passwd.WriteFileAtomic(o.file, out, 0o666); err != nil {
		return htpasswdExit(htdigestExitError, "Could not open passwd file %s for writing: %v", o.file, err)
	}
	return nil
}

// hasSHA256 reports whether the file has a SHA-256 entry of the user.
func hasSHA256(h *passwd.Htdigest, o *htdigestOpts) bool {
	_, ok := h.Lookup(o.user, o.realm, passwd.DigestSHA256)
	return ok
}

// htdigestPromptErr prints a prompt failure the way Apache's htdigest
// does: "password too long" (status 5) without "htgate:" in front.
func htdigestPromptErr(stderr interface{ Write([]byte) (int, error) }, err error) error {
	var ec *exitCodeError
	if errors.As(err, &ec) && ec.code == htdigestExitOverflow {
		fmt.Fprint(stderr, "password too long")
		return htpasswdExit(htdigestExitOverflow, "")
	}
	return err
}

// probeCreate checks that path can be created (or replaced), leaving an
// existing file as it is and a new one not behind.
func probeCreate(path string) error {
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return errors.New("not a regular file")
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(path)
}

// readHtdigestFile reads an existing file that must also be writable.
func readHtdigestFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > passwd.MaxFileSize {
		return nil, errors.New("not a regular file of a reasonable size")
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
