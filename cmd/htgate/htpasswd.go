package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/htgate/htgate/internal/passwd"
)

// Exit statuses of Apache's htpasswd (man htpasswd), which this command
// reproduces.
const (
	htpasswdExitFile     = 1 // a file cannot be read, written or created
	htpasswdExitSyntax   = 2 // bad command line (usage printed)
	htpasswdExitMismatch = 3 // passwords differ, or a hash cannot be made
	htpasswdExitOverflow = 5 // a value is too long
	htpasswdExitBadUser  = 6 // bad user name; -v of an unknown user
	htpasswdExitInvalid  = 7 // not a valid htpasswd file
)

// Apache's htpasswd limits (MAX_STRING_LEN 256 and PATH_MAX).
const (
	htpasswdMaxString = 256
	htpasswdMaxPath   = 4096
)

const htpasswdUsage = `Usage:
	htgate htpasswd [-cimB25dpsDvA] [-C cost] [-r rounds] passwordfile username
	htgate htpasswd -b[cmB25dpsDvA] [-C cost] [-r rounds] passwordfile username password

	htgate htpasswd -n[imB25dpsA] [-C cost] [-r rounds] username
	htgate htpasswd -nb[mB25dpsA] [-C cost] [-r rounds] username password
 -c  Create a new file.
 -n  Don't update file; display results on stdout.
 -b  Use the password from the command line rather than prompting for it.
 -i  Read password from stdin without verification (for script usage).
 -m  Force MD5 hashing of the password (default).
 -2  Force SHA-256 hashing of the password (secure).
 -5  Force SHA-512 hashing of the password (secure).
 -B  Force bcrypt hashing of the password (very secure).
 -A  Force argon2id hashing of the password (htgate only; Apache cannot read it).
 -C  Set the computing time used for the bcrypt algorithm
     (higher is more secure but slower, default: 5, valid: 4 to 17).
 -r  Set the number of rounds used for the SHA-256, SHA-512 algorithms
     (higher is more secure but slower, default: 5000).
 -d  Force CRYPT hashing of the password (8 chars max, insecure).
 -s  Force SHA-1 hashing of the password (insecure).
 -p  Do not hash the password (plaintext, insecure).
 -D  Delete the specified user.
 -v  Verify password for the specified user.
On other systems than Windows and NetWare the '-p' flag will probably not work.
The SHA-1 algorithm does not use a salt and is less secure than the MD5 algorithm.
`

func newHtpasswdCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "htpasswd [-cimB25dpsDvA] [-C cost] [-r rounds] passwordfile username [password]",
		Short: "Create and update htpasswd files (drop-in for Apache's htpasswd)",
		Long: `htpasswd creates and updates the flat files that store user names and
passwords for Basic authentication. It takes the same options as Apache's
htpasswd, writes the same formats and exits with the same statuses:
0 success, 1 file access problem, 2 command line syntax, 3 password mismatch
(or a hash that cannot be made), 5 value too long, 6 bad user name or, with
-v, unknown user, 7 not a valid htpasswd file.

` + htpasswdUsage + `
Differences from Apache's tool, all on the safe side:
 - The file is replaced atomically (temporary file, fsync, rename) keeping its
   permissions; every line but the user's is left byte for byte, and a record
   appended to a file without a final newline goes on a line of its own.
 - -A writes argon2id (64 MiB, 3 iterations, 2 lanes), which htgate reads
   but Apache does not.
 - -r must be 1000 to 10000000 (Apache writes an unusable "*0" entry for values
   it cannot use); a user name must not be empty, start with white space or
   '#', or contain CR, LF or NUL (exit status 6).
 - -v checks the entry htgate and Apache httpd would use: the first one.
 - Without -b or -i the password is read from the terminal without echo; when
   standard input is not a terminal, one line of it per prompt.
 - -h and --help print this help.`,
		Example: `  htgate htpasswd -c /etc/htgate/htpasswd alice
  htgate htpasswd -bB -C 10 /etc/htgate/htpasswd bob 'bobs password'
  echo -n 'secret' | htgate htpasswd -i /etc/htgate/htpasswd carol
  htgate htpasswd -vb /etc/htgate/htpasswd bob 'bobs password'
  htgate htpasswd -D /etc/htgate/htpasswd carol`,
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "-h" || a == "--help" {
					return cmd.Help()
				}
				if len(a) < 2 || a[0] != '-' || a[1] == '-' {
					break // options end here, as for getopt
				}
			}
			return runHtpasswd(cmd, args)
		},
	}
}

// Where the password comes from.
type htpasswdSource int

const (
	htpasswdPrompt       htpasswdSource = iota // twice, "New password:"
	htpasswdPromptVerify                       // once, "Enter password:" (-v)
	htpasswdArg                                // -b
	htpasswdStdin                              // -i
)

// htpasswdOpts is the parsed command line.
type htpasswdOpts struct {
	create, noFile, del, verify bool
	source                      htpasswdSource
	format                      passwd.Format
	cost                        int // -C or -r; 0 when not given
	file, user, password        string
}

// htpasswdExit returns an error that makes run exit with code, printing
// "htgate: msg" when msg is not empty.
func htpasswdExit(code int, format string, args ...any) error {
	if format == "" {
		return &exitCodeError{code: code}
	}
	return &exitCodeError{code: code, err: fmt.Errorf(format, args...)}
}

// htpasswdUsageExit prints an optional message and the usage, exit status 2.
func htpasswdUsageExit(cmd *cobra.Command, format string, args ...any) error {
	if format != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "htgate: "+format+"\n", args...)
	}
	fmt.Fprint(cmd.ErrOrStderr(), htpasswdUsage)
	return htpasswdExit(htpasswdExitSyntax, "")
}

// parseHtpasswdArgs reads the command line as Apache's htpasswd does with
// apr_getopt: options come first and may be combined (-cbB, -nbBC5); the
// first argument that does not start with '-' ends them, and so does one
// that starts with "--" (which is dropped).
func parseHtpasswdArgs(cmd *cobra.Command, args []string) (*htpasswdOpts, error) {
	o := &htpasswdOpts{format: passwd.FormatAPR1}
	stderr := cmd.ErrOrStderr()
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if a[1] == '-' {
			i++
			break
		}
	cluster:
		for j := 1; j < len(a); j++ {
			switch c := a[j]; c {
			case 'c':
				o.create = true
			case 'n':
				o.noFile = true
			case 'D':
				o.del = true
			case 'v':
				o.verify = true
			case 'b':
				o.source = htpasswdArg
			case 'i':
				o.source = htpasswdStdin
			case 'm':
				o.format = passwd.FormatAPR1
			case 's':
				o.format = passwd.FormatSHA1
			case 'd':
				o.format = passwd.FormatDES
			case 'B':
				o.format = passwd.FormatBcrypt
			case '2':
				o.format = passwd.FormatSHA256Crypt
			case '5':
				o.format = passwd.FormatSHA512Crypt
			case 'A':
				o.format = passwd.FormatArgon2id
			case 'p':
				o.format = passwd.FormatPlain
				fmt.Fprintln(stderr, "Warning: storing passwords as plain text might just not work on this platform.")
			case 'C', 'r':
				val := a[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return nil, htpasswdUsageExit(cmd, "option requires an argument -- %c", c)
					}
					i++
					val = args[i]
				}
				n, ok := parsePositive(val)
				if !ok {
					return nil, htpasswdExit(htpasswdExitSyntax, "argument to -C/-r must be a positive integer")
				}
				o.cost = n
				break cluster
			default:
				return nil, htpasswdUsageExit(cmd, "illegal option -- %c", c)
			}
		}
	}
	modes := 0
	for _, m := range []bool{o.create, o.noFile, o.del, o.verify} {
		if m {
			modes++
		}
	}
	if modes > 1 {
		return nil, htpasswdExit(htpasswdExitSyntax, "only one of -c -n -v -D may be specified")
	}
	if o.verify && o.source == htpasswdPrompt {
		o.source = htpasswdPromptVerify
	}
	want := 2
	if o.noFile {
		want--
	}
	if o.source == htpasswdArg {
		want++
	}
	rest := args[i:]
	if len(rest) != want {
		return nil, htpasswdUsageExit(cmd, "")
	}
	if !o.noFile {
		o.file, rest = rest[0], rest[1:]
		if len(o.file) > htpasswdMaxPath-1 {
			return nil, htpasswdExit(htpasswdExitOverflow, "filename too long")
		}
	}
	o.user = rest[0]
	if len(o.user) > htpasswdMaxString-1 {
		return nil, htpasswdExit(htpasswdExitOverflow, "username too long (> %d)", htpasswdMaxString-1)
	}
	if k := strings.IndexAny(o.user, ":\r\n\x00"); k >= 0 {
		return nil, htpasswdExit(htpasswdExitBadUser, "username contains illegal character %q", o.user[k])
	}
	if o.user == "" || strings.ContainsRune("# \t\v\f", rune(o.user[0])) {
		return nil, htpasswdExit(htpasswdExitBadUser, "username must not be empty or start with white space or '#'")
	}
	if o.source == htpasswdArg {
		o.password = rest[1]
		if len(o.password) > htpasswdMaxString-1 {
			return nil, htpasswdExit(htpasswdExitOverflow, "password too long (> %d)", htpasswdMaxString)
		}
	}
	return o, nil
}

// parsePositive parses like C's strtol(s, &end, 10) with end at the string's
// end and a result > 0: leading white space and a sign are allowed.
func parsePositive(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && !strings.HasPrefix(s, "-") {
			return int(^uint(0) >> 1), true // strtol saturates
		}
		return 0, false
	}
	if n <= 0 {
		return 0, false
	}
	if n > int64(int(^uint(0)>>1)) {
		n = int64(int(^uint(0) >> 1))
	}
	return int(n), true
}

func runHtpasswd(cmd *cobra.Command, args []string) error {
	o, err := parseHtpasswdArgs(cmd, args)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	in := &htpasswdInput{cmd: cmd}

	exists := false
	if !o.noFile {
		if exists, err = checkHtpasswdFile(o); err != nil {
			return err
		}
	}

	var record string
	if !o.del && !o.verify {
		if record, err = makeHtpasswdRecord(o, in); err != nil {
			return err
		}
		if o.noFile {
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n\n", record)
			return nil
		}
	}

	var data []byte
	if exists && !o.create {
		if data, err = readHtpasswdFile(o.file); err != nil {
			return err
		}
	}

	var out []byte
	switch {
	case o.verify:
		return verifyHtpasswd(o, in, data)
	case o.del:
		var found bool
		out, found, err = passwd.DeleteHtpasswdUser(data, o.user)
		if errors.Is(err, passwd.ErrNotHtpasswd) {
			return htpasswdExit(htpasswdExitInvalid, "The file %s does not appear to be a valid htpasswd file.", o.file)
		}
		if err != nil {
			return htpasswdExit(htpasswdExitInvalid, "%s: %v", o.file, err)
		}
		if !found {
			fmt.Fprintf(stderr, "User %s not found\n", o.user)
			return nil
		}
		fmt.Fprintf(stderr, "Deleting password for user %s\n", o.user)
	default:
		user, hash, _ := strings.Cut(record, ":")
		var found bool
		out, found, err = passwd.UpdateHtpasswd(data, user, hash)
		if errors.Is(err, passwd.ErrNotHtpasswd) {
			return htpasswdExit(htpasswdExitInvalid, "The file %s does not appear to be a valid htpasswd file.", o.file)
		}
		if err != nil {
			return htpasswdExit(htpasswdExitBadUser, "%v", err)
		}
		if found {
			fmt.Fprintf(stderr, "Updating password for user %s\n", o.user)
		} else {
			fmt.Fprintf(stderr, "Adding password for user %s\n", o.user)
		}
	}
	if err := passwd.WriteFileAtomic(o.file, out, 0o666); err != nil {
		return htpasswdExit(htpasswdExitFile, "unable to update file %s: %v", o.file, err)
	}
	return nil
}

// checkHtpasswdFile makes Apache's checks before any prompt: an existing
// file must be readable (and writable unless -v); a missing one needs -c
// and a directory it can be created in. It reports whether the file exists.
func checkHtpasswdFile(o *htpasswdOpts) (bool, error) {
	fi, err := os.Stat(o.file)
	if err == nil && fi.Mode().IsRegular() {
		if o.verify {
			f, err := os.Open(o.file)
			if err != nil {
				return true, htpasswdExit(htpasswdExitFile, "cannot open file %s for read access", o.file)
			}
			f.Close()
			return true, nil
		}
		f, err := os.OpenFile(o.file, os.O_RDWR, 0)
		if err != nil {
			return true, htpasswdExit(htpasswdExitFile, "cannot open file %s for read/write access", o.file)
		}
		f.Close()
		return true, nil
	}
	if !o.create {
		return false, htpasswdExit(htpasswdExitFile, "cannot modify file %s; use '-c' to create it", o.file)
	}
	// Probe that the file can be created, without leaving it behind.
	f, err := os.OpenFile(o.file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, htpasswdExit(htpasswdExitFile, "cannot create file %s", o.file)
	}
	f.Close()
	os.Remove(o.file)
	return false, nil
}

// readHtpasswdFile reads the file, up to passwd.MaxFileSize bytes.
func readHtpasswdFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, htpasswdExit(htpasswdExitFile, "unable to read file %s", path)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, passwd.MaxFileSize+1))
	if err != nil {
		return nil, htpasswdExit(htpasswdExitFile, "unable to read file %s: %v", path, err)
	}
	if len(data) > passwd.MaxFileSize {
		return nil, htpasswdExit(htpasswdExitFile, "unable to read file %s: larger than %d bytes", path, passwd.MaxFileSize)
	}
	return data, nil
}

// makeHtpasswdRecord gets the password and returns "user:hash".
func makeHtpasswdRecord(o *htpasswdOpts, in *htpasswdInput) (string, error) {
	stderr := in.cmd.ErrOrStderr()
	costUsed := o.format == passwd.FormatBcrypt || o.format == passwd.FormatSHA256Crypt || o.format == passwd.FormatSHA512Crypt
	if o.cost != 0 && !costUsed {
		fmt.Fprintln(stderr, "Warning: Ignoring -C/-r argument for this algorithm.")
	}
	pw, err := in.password(o)
	if err != nil {
		return "", err
	}
	var opts passwd.HashOptions
	switch o.format {
	case passwd.FormatBcrypt:
		opts.BcryptCost = 5 // Apache's default
		if o.cost != 0 {
			opts.BcryptCost = o.cost
		}
		if opts.BcryptCost < passwd.MinBcryptCost || opts.BcryptCost > passwd.MaxBcryptCost {
			return "", htpasswdExit(htpasswdExitMismatch, "Unable to encode with bcrypt: Invalid argument")
		}
	case passwd.FormatSHA256Crypt, passwd.FormatSHA512Crypt:
		opts.SHACryptRounds = o.cost
		if o.cost != 0 && (o.cost < passwd.MinSHACryptRounds || o.cost > passwd.MaxSHACryptRounds) {
			return "", htpasswdExit(htpasswdExitMismatch, "Unable to encode with SHA-crypt: rounds must be %d to %d",
				passwd.MinSHACryptRounds, passwd.MaxSHACryptRounds)
		}
	}
	hash, err := passwd.Hash(o.format, pw, opts)
	clear(pw)
	if err != nil {
		return "", htpasswdExit(htpasswdExitMismatch, "could not encode password: %v", err)
	}
	if o.format == passwd.FormatDES && len(pw) > 8 {
		fmt.Fprintln(stderr, "Warning: Password truncated to 8 characters by CRYPT algorithm.")
	}
	record := o.user + ":" + hash
	if len(record)+1 >= htpasswdMaxString {
		return "", htpasswdExit(htpasswdExitOverflow, "resultant record too long")
	}
	return record, nil
}

// verifyHtpasswd implements -v against the entry htgate would use.
func verifyHtpasswd(o *htpasswdOpts, in *htpasswdInput, data []byte) error {
	stderr := in.cmd.ErrOrStderr()
	h, lineErrs, err := passwd.ParseHtpasswd(bytes.NewReader(data), o.file)
	if err != nil {
		return htpasswdExit(htpasswdExitFile, "%v", err)
	}
	for _, le := range lineErrs {
		if errors.Is(le, passwd.ErrMissingColon) {
			return htpasswdExit(htpasswdExitInvalid, "The file %s does not appear to be a valid htpasswd file.", o.file)
		}
	}
	hash, ok := h.Lookup(o.user)
	problem := h.Problem(o.user)
	switch {
	case !ok && problem == nil:
		fmt.Fprintf(stderr, "User %s not found\n", o.user)
		return htpasswdExit(htpasswdExitBadUser, "")
	case problem != nil && errors.Is(problem, passwd.ErrEmptyHash):
		fmt.Fprintf(stderr, "Empty hash for user %s\n", o.user)
		return htpasswdExit(htpasswdExitInvalid, "")
	}
	pw, err := in.password(o)
	if err != nil {
		return err
	}
	defer clear(pw)
	if problem != nil {
		fmt.Fprintf(stderr, "htgate: warning: %v\n", problem)
		fmt.Fprintln(stderr, "password verification failed")
		return htpasswdExit(htpasswdExitMismatch, "")
	}
	match, err := passwd.Verify(hash, pw)
	if !match || err != nil {
		fmt.Fprintln(stderr, "password verification failed")
		return htpasswdExit(htpasswdExitMismatch, "")
	}
	fmt.Fprintf(stderr, "Password for user %s correct.\n", o.user)
	return nil
}

// htpasswdInput reads passwords from the command's standard input.
type htpasswdInput struct {
	cmd *cobra.Command
}

// password returns the password from the source o names.
func (in *htpasswdInput) password(o *htpasswdOpts) ([]byte, error) {
	switch o.source {
	case htpasswdArg:
		return []byte(o.password), nil
	case htpasswdStdin:
		return in.stdin()
	case htpasswdPromptVerify:
		return in.prompt("Enter password: ")
	}
	pw, err := in.prompt("New password: ")
	if err != nil {
		return nil, err
	}
	again, err := in.prompt("Re-type new password: ")
	if err != nil {
		return nil, err
	}
	defer clear(again)
	if !bytes.Equal(pw, again) {
		clear(pw)
		return nil, htpasswdExit(htpasswdExitMismatch, "password verification error")
	}
	return pw, nil
}

// stdin reads the whole of standard input (-i) as Apache does: at most 255
// bytes, one final LF or CRLF removed.
func (in *htpasswdInput) stdin() ([]byte, error) {
	buf := make([]byte, htpasswdMaxString)
	n, err := io.ReadFull(in.cmd.InOrStdin(), buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, htpasswdExit(htpasswdExitFile, "Unable to read from stdin: %v", err)
	}
	if n >= htpasswdMaxString {
		return nil, htpasswdExit(htpasswdExitOverflow, "password too long (>%d)", htpasswdMaxString-1)
	}
	pw := buf[:n]
	if p, ok := bytes.CutSuffix(pw, []byte("\n")); ok {
		pw = bytes.TrimSuffix(p, []byte("\r"))
	}
	return pw, nil
}

// prompt asks on the terminal without echo or, when standard input is not a
// terminal, prints the prompt to standard error and reads one line (its LF
// removed, as glibc's getpass does; end of input gives an empty password).
func (in *htpasswdInput) prompt(label string) ([]byte, error) {
	stderr := in.cmd.ErrOrStderr()
	fmt.Fprint(stderr, label)
	r := in.cmd.InOrStdin()
	var pw []byte
	if f, ok := r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, htpasswdExit(htpasswdExitFile, "cannot read password: %v", err)
		}
		pw = b
	} else {
		// Byte by byte, so the second prompt reads the next line.
		var one [1]byte
		for {
			n, err := r.Read(one[:])
			if n == 1 {
				if one[0] == '\n' {
					break
				}
				if len(pw) <= htpasswdMaxString {
					pw = append(pw, one[0])
				}
				continue
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, htpasswdExit(htpasswdExitFile, "cannot read password: %v", err)
			}
		}
	}
	if len(pw) > htpasswdMaxString-1 {
		clear(pw)
		return nil, htpasswdExit(htpasswdExitOverflow, "password too long (>%d)", htpasswdMaxString-1)
	}
	return pw, nil
}
