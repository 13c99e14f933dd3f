package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/htgate/htgate/internal/app"
	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/store"
)

// storeFlags are the flags of every command that works on the managed
// store (user, group, url, import, admin).
type storeFlags struct {
	data     string
	storeURL string
	config   string
}

// addStoreFlags adds --data, --store and --config to cmd and its
// subcommands.
func addStoreFlags(cmd *cobra.Command, f *storeFlags) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.data, "data", "", "managed store directory, created (mode 0700) on first use (default ./"+app.DefaultDataDir+", or data: in --config)")
	fl.StringVar(&f.storeURL, "store", "", "managed store URL instead of --data: sqlite://PATH or postgres://USER@HOST:PORT/DB")
	fl.StringVar(&f.config, "config", "", "YAML configuration to take data, store and passwords from")
}

// loadConfig reads --config, or returns the defaults.
func (f *storeFlags) loadConfig() (*config.Config, error) {
	if f.config == "" {
		c := &config.Config{}
		c.ApplyDefaults()
		return c, nil
	}
	return config.Load(f.config)
}

// open opens the managed store and returns it with a context whose writes
// are audited as done by the OS user running the command.
func (f *storeFlags) open(cmd *cobra.Command) (store.Store, context.Context, error) {
	cfg, err := f.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	loc := app.StoreLocation{Data: cfg.Data, URL: cfg.Store}
	if f.data != "" || f.storeURL != "" {
		loc = app.StoreLocation{Data: f.data, URL: f.storeURL}
	}
	if loc.Data != "" && loc.URL != "" {
		return nil, nil, errors.New("--data and --store: give only one")
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := app.OpenStore(ctx, loc)
	if err != nil {
		return nil, nil, err
	}
	return st, store.WithActor(ctx, store.Actor{Name: osUser(), Client: "cli"}), nil
}

// withStore runs fn on the open store and closes it.
func (f *storeFlags) withStore(cmd *cobra.Command, fn func(ctx context.Context, st store.Store) error) error {
	st, ctx, err := f.open(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, st)
}

// osUser names the actor of CLI changes in the audit log: the OS user, or
// "cli" when it cannot be told.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "cli"
}

// passwordFlags choose where a new password comes from.
type passwordFlags struct {
	stdin    bool
	password string
	bcrypt   bool
}

func addPasswordFlags(cmd *cobra.Command, f *passwordFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&f.stdin, "password-stdin", false, "read the password from the first line of standard input")
	fl.StringVar(&f.password, "password", "", "the password itself (visible to other users in ps and in shell history: prefer --password-stdin)")
	fl.BoolVar(&f.bcrypt, "bcrypt", false, "hash with bcrypt instead of argon2id (passwords.format in --config)")
}

// newPassword reads a new password: --password, the first line of stdin
// (--password-stdin), or a terminal prompt without echo, asked twice.
func newPassword(cmd *cobra.Command, f passwordFlags, who string) ([]byte, error) {
	if cmd.Flags().Changed("password") {
		if f.stdin {
			return nil, errors.New("--password and --password-stdin: give only one")
		}
		fmt.Fprintln(cmd.ErrOrStderr(), "htgate: warning: a password on the command line is visible to other users; prefer --password-stdin")
		if f.password == "" {
			return nil, errors.New("--password: empty password")
		}
		return []byte(f.password), nil
	}
	in := cmd.InOrStdin()
	if f.stdin {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("--password-stdin: standard input is empty")
			}
			return nil, fmt.Errorf("--password-stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return nil, errors.New("--password-stdin: empty password")
		}
		return []byte(pw), nil
	}
	file, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(file.Fd())) {
		return nil, errors.New("no terminal to ask for the password: pipe it in with --password-stdin")
	}
	errOut := cmd.ErrOrStderr()
	fmt.Fprintf(errOut, "New password for %s: ", who)
	pw, err := term.ReadPassword(int(file.Fd()))
	fmt.Fprintln(errOut)
	if err != nil {
		return nil, err
	}
	fmt.Fprint(errOut, "Re-type new password: ")
	again, err := term.ReadPassword(int(file.Fd()))
	fmt.Fprintln(errOut)
	if err != nil {
		return nil, err
	}
	if string(pw) != string(again) {
		return nil, errors.New("the passwords do not match")
	}
	if len(pw) == 0 {
		return nil, errors.New("empty password")
	}
	return pw, nil
}

// hashNewPassword reads and hashes a new password with the parameters of
// --config (argon2id by default).
func hashNewPassword(cmd *cobra.Command, sf *storeFlags, pf passwordFlags, who string) (string, error) {
	cfg, err := sf.loadConfig()
	if err != nil {
		return "", err
	}
	pw, err := newPassword(cmd, pf, who)
	if err != nil {
		return "", err
	}
	return app.HashPassword(cfg.Passwords, pw, pf.bcrypt)
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// allPages collects every page of a listing.
func allPages[T any](ctx context.Context, list func(context.Context, store.Page) ([]T, error), cursor func(T) string) ([]T, error) {
	var out []T
	page := store.Page{Limit: store.MaxPage}
	for {
		items, err := list(ctx, page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) < page.Limit {
			return out, nil
		}
		page.After = cursor(items[len(items)-1])
	}
}
